// Package bench measures a whole site as a citizen and an agent see it:
// counter buttons to the board page's DOM in headless Chromium (E2E), and
// the board page's heap, DOM and CPU over a simulated day (Display). The
// site itself is wired by the caller (cmd/guichet's demo site) and given
// through an Opener.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"guichet/firmware/counter"
	"guichet/hub/config"
	"guichet/internal/chromium"
	"guichet/internal/measure"
	"guichet/internal/sim"
)

// Site is a running site as the benches drive it: a hub, a counter
// terminal on virtual pins at every counter, opened for its agent, and the
// waiting-room screen's page.
type Site struct {
	HubURL    string                      // the hub's HTTP address
	Token     string                      // its admin token
	ScreenURL string                      // the board page of the site's screen
	Desks     map[string]*counter.Virtual // by counter
	// Simulate sets a simulated day up on the site, speed times faster
	// than real time.
	Simulate func(speed float64, seed uint64) (*sim.Sim, error)
	Close    func()
}

// Opener starts a site on the configuration conf (its file's name, for
// errors), every service open around the clock; the screen also
// synthesises its announcements if announce.
type Opener func(ctx context.Context, log *slog.Logger, name string, conf []byte, announce bool) (*Site, error)

// E2EOptions set the end-to-end latency bench up.
type E2EOptions struct {
	Open        Opener
	Counters    int           // counter terminals, each with its agent
	Calls       int           // presses of "next" per counter
	MinGap, Gap time.Duration // each counter waits MinGap + rand(Gap) between presses
	Seed        uint64
	Log         *slog.Logger
	Announce    bool // the display also synthesises its announcements (WAVE files)
}

// E2EResult is what the end-to-end bench measured.
type E2EResult struct {
	Latencies measure.Latencies // press → DOM updated, one per call seen
	Missing   []string          // calls never seen on the page
	Failed    int               // presses that called nobody
	Elapsed   time.Duration     // from the first press to the last
	Skew      time.Duration     // browser clock minus Go clock, at most
}

// E2EConfig is a site with n counters, n agents able to serve the four
// services, every service open all day and night.
func E2EConfig(n int) []byte {
	var b strings.Builder
	b.WriteString(`site: { id: bench, name: "Mairie — banc d'essai", timezone: Europe/Paris, languages: [fr, en] }
policy: { close_when_full: false, board_size: 10 }
services:
  - { id: A, name: { fr: "Accueil général" }, sla: 10m, service_time: 4m, channels: [visit] }
  - { id: E, name: { fr: "État civil" }, sla: 15m, service_time: 8m, channels: [visit] }
  - { id: P, name: { fr: "Passeports" }, sla: 20m, service_time: 15m, channels: [visit] }
  - { id: U, name: { fr: "Urbanisme" }, sla: 20m, service_time: 20m, channels: [visit] }
counters:
`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - { id: \"%d\", name: \"Guichet %d\" }\n", i, i)
	}
	b.WriteString("agents:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - { id: agent%d, name: \"Agent %d\", skills: { A: 1, E: 1, P: 1, U: 1 } }\n", i, i)
	}
	return []byte(b.String())
}

// seenScript records, in window.__seen, when each ticket number first
// appears on the board: the browser's wall clock (Date.now, the system's
// clock as Go's time.Now reads it, to the millisecond), taken in a
// MutationObserver, so as soon as the page's script has changed the DOM.
// performance.timeOrigin + performance.now() was finer but is the
// browser's monotonic clock, which drifted from the system's by 8 ms within
// a run: a call was seen "before" its press.
const seenScript = `(() => {
  window.__seen = {};
  const note = () => {
    const t = Date.now();
    for (const e of document.querySelectorAll("#calls .ticket")) {
      const n = e.firstChild && e.firstChild.nodeValue;
      if (n && !(n in window.__seen)) window.__seen[n] = t;
    }
  };
  new MutationObserver(note).observe(document.body, {childList: true, subtree: true, characterData: true});
  note();
  return true;
})()`

// E2E measures counter button → board page DOM with o.Counters counters
// pressing "next" at random.
func E2E(ctx context.Context, o E2EOptions) (E2EResult, error) {
	var res E2EResult
	if o.Counters < 1 || o.Counters > 500 || o.Calls < 1 {
		return res, fmt.Errorf("bench e2e: --counters from 1 to 500, --calls at least 1")
	}
	if o.Open == nil {
		return res, errors.New("bench e2e: no site to open")
	}
	if o.MinGap < 750*time.Millisecond {
		return res, fmt.Errorf("bench e2e: --gap from at least 750ms (a terminal takes one press of a button per 700 ms)")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	site, err := o.Open(ctx, o.Log, "bench.yaml", E2EConfig(o.Counters), o.Announce)
	if err != nil {
		return res, err
	}
	defer site.Close()

	// Enough citizens waiting for every press, spread over the services.
	if err := issueMany(ctx, site, o.Counters*(o.Calls+1), []string{"A", "E", "P", "U"}); err != nil {
		return res, err
	}
	// Every terminal has opened its counter for its agent.
	for id, d := range site.Desks {
		if _, ok := d.Await(ctx, 30*time.Second, func(st counter.State) bool { return st.Online && st.Counter.Open }); !ok {
			return res, fmt.Errorf("bench e2e: counter %s did not open", id)
		}
	}

	tab, stop, err := openScreen(site)
	if err != nil {
		return res, err
	}
	defer stop()
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](seenScript)); err != nil {
		return res, err
	}
	// The two clocks are the machine's; check it, as the figures rest on it.
	for range 5 {
		before := time.Now()
		ms, err := chromedp.Run(tab, chromedp.Evaluate[float64]("Date.now()"))
		after := time.Now()
		if err != nil {
			return res, err
		}
		at := time.UnixMicro(int64(ms * 1000))
		skew := max(before.Sub(at), at.Sub(after), 0)
		res.Skew = max(res.Skew, skew)
	}

	var (
		mu      sync.Mutex
		presses []press
		wg      sync.WaitGroup
	)
	start := time.Now()
	for i, id := range slices.Sorted(maps.Keys(site.Desks)) {
		d := site.Desks[id]
		rng := rand.New(rand.NewPCG(o.Seed, uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range o.Calls {
				select {
				case <-ctx.Done():
					return
				case <-time.After(o.MinGap + time.Duration(rng.Int64N(int64(o.Gap)+1))):
				}
				before := number(d.State())
				at := time.Now()
				if err := d.Tap(counter.Next); err != nil {
					o.Log.Warn("bench: press", "counter", id, "err", err)
				}
				st, _ := d.Await(ctx, 5*time.Second, func(st counter.State) bool { return number(st) != "" && number(st) != before })
				now := number(st)
				mu.Lock()
				if now == "" || now == before {
					res.Failed++
				} else {
					presses = append(presses, press{now, at})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	seen, err := seenAll(ctx, tab, presses, 5*time.Second)
	if err != nil {
		return res, err
	}
	for _, p := range presses {
		ms, ok := seen[p.number]
		if !ok {
			res.Missing = append(res.Missing, p.number)
			continue
		}
		res.Latencies = append(res.Latencies, time.UnixMicro(int64(ms*1000)).Sub(p.at))
	}
	return res, nil
}

// press is a call a counter's press made, and when.
type press struct {
	number string
	at     time.Time
}

// seenAll reads when the page first showed each ticket, waiting (at most
// timeout) for the last calls to reach it.
func seenAll(ctx context.Context, tab context.Context, presses []press, timeout time.Duration) (map[string]float64, error) {
	deadline := time.Now().Add(timeout)
	for {
		raw, err := chromedp.Run(tab, chromedp.Evaluate[string]("JSON.stringify(window.__seen)"))
		if err != nil {
			return nil, err
		}
		seen := map[string]float64{}
		if err := json.Unmarshal([]byte(raw), &seen); err != nil {
			return nil, err
		}
		all := true
		for _, p := range presses {
			if _, ok := seen[p.number]; !ok {
				all = false
				break
			}
		}
		if all || time.Now().After(deadline) {
			return seen, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// openScreen opens the site's screen page in a headless Chromium, full HD.
func openScreen(site *Site) (tab context.Context, stop func(), err error) {
	tab, stop, err = chromium.Start(1920, 1080, "")
	if err != nil {
		return nil, nil, err
	}
	if err := chromedp.Do(tab, chromedp.Navigate(site.ScreenURL), chromedp.WaitVisible(chromedp.CSS("#calls"))); err != nil {
		stop()
		return nil, nil, fmt.Errorf("the screen page: %w", err)
	}
	return tab, stop, nil
}

func number(st counter.State) string {
	if st.Counter.Ticket == nil {
		return ""
	}
	return st.Counter.Ticket.Number
}

// issueMany issues n visit tickets through the HTTP API, round the
// services, eight at a time; it returns the first error.
func issueMany(ctx context.Context, site *Site, n int, services []string) error {
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		mu    sync.Mutex
		first error
	)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				if err := post(ctx, site, "/api/v1/tickets", map[string]string{"service": services[i%len(services)]}); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return cmp.Or(first, ctx.Err())
}

// ParseGap reads the time between two presses of a counter: "1s-3s" is
// from 1 to 3 s, "2s" exactly 2 s.
func ParseGap(s string) (lo, spread time.Duration, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		b = a
	}
	if lo, err = time.ParseDuration(a); err == nil {
		var hi time.Duration
		if hi, err = time.ParseDuration(b); err == nil && hi >= lo {
			return lo, hi - lo, nil
		}
	}
	return 0, 0, fmt.Errorf("--gap %q: write MIN-MAX, as 1s-3s", s)
}

// post sends body as JSON to the hub's API, as its administrator.
func post(ctx context.Context, site *Site, path string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", site.HubURL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+site.Token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s: %d %s", path, res.StatusCode, msg)
	}
	return nil
}

// DisplaySample is the board page's state at one moment.
type DisplaySample struct {
	Sim       string        // simulated time
	Heap      float64       // JS heap used after a garbage collection, bytes
	Nodes     float64       // DOM nodes
	Listeners float64       // JS event listeners
	Task      time.Duration // main-thread busy time since the page loaded
	Calls     int64         // calls made in the simulation so far
	At        time.Duration // real time since the first sample
}

// DisplayOptions set the display page bench up.
type DisplayOptions struct {
	Open         Opener
	Hours, Speed float64
	Every        time.Duration // simulated time between samples
	Seed         uint64
	Log          *slog.Logger
	Sample       func(DisplaySample) // called at each sample
}

// Display plays o.Hours of a simulated day on the sample site and samples
// the board page in Chromium: after a garbage collection, a page that does
// not leak keeps its heap and DOM flat however many calls it shows.
func Display(ctx context.Context, o DisplayOptions) ([]DisplaySample, error) {
	if o.Hours <= 0 || o.Speed < 1 || o.Every <= 0 {
		return nil, errors.New("bench display: --hours > 0, --speed ≥ 1, --every > 0")
	}
	if o.Open == nil {
		return nil, errors.New("bench display: no site to open")
	}
	site, err := o.Open(ctx, o.Log, "sample.yaml", config.Sample, false)
	if err != nil {
		return nil, err
	}
	defer site.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the simulation stops before the site closes
	tab, stop, err := openScreen(site)
	if err != nil {
		return nil, err
	}
	defer stop()
	if _, err := chromedp.Call(tab, performance.Enable, performance.EnableParams{}); err != nil {
		return nil, err
	}
	sm, err := site.Simulate(o.Speed, o.Seed)
	if err != nil {
		return nil, err
	}
	go sm.Run(ctx)

	var out []DisplaySample
	start := time.Now()
	every := time.Duration(float64(o.Every) / o.Speed)
	end := time.Duration(o.Hours * float64(time.Hour) / o.Speed)
	for at := time.Duration(0); at <= end; at += every {
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(time.Until(start.Add(at))):
		}
		if _, err := chromedp.Call(tab, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
			return out, err
		}
		m, err := chromedp.Call(tab, performance.GetMetrics, cdp.Empty{})
		if err != nil {
			return out, err
		}
		s := DisplaySample{Sim: sm.Now().Format("15:04"), Calls: sm.Stats.Calls.Load(), At: time.Since(start)}
		for _, x := range m.Metrics {
			switch x.Name {
			case "JSHeapUsedSize":
				s.Heap = x.Value
			case "Nodes":
				s.Nodes = x.Value
			case "JSEventListeners":
				s.Listeners = x.Value
			case "TaskDuration":
				s.Task = time.Duration(x.Value * float64(time.Second))
			}
		}
		out = append(out, s)
		if o.Sample != nil {
			o.Sample(s)
		}
	}
	return out, nil
}
