package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
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
)

const benchUsage = `Usage:
  guichet bench e2e     [--counters 50] [--calls 20] [--gap 1s-3s]
        counter buttons → MQTT → hub → display device → the board page's DOM
        in headless Chromium: p50, p99, max
  guichet bench display [--hours 1] [--speed 60] [--every 5m]
        the board page in headless Chromium over a simulated day: JS heap,
        DOM nodes, listeners and main-thread CPU, sampled as the day goes
`

func runBench(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(benchUsage)
	}
	switch args[0] {
	case "e2e":
		return runBenchE2E(ctx, args[1:], out)
	case "display":
		return runBenchDisplay(ctx, args[1:], out)
	}
	return fmt.Errorf("bench %q: unknown\n%s", args[0], benchUsage)
}

// benchSite runs a demo site on the configuration conf, its services open
// around the clock, in data (a temporary directory if empty, removed when
// closed); its display makes WAVE files of its announcements if wav.
func benchSite(ctx context.Context, log *slog.Logger, data, name string, conf []byte, wav bool) (*demoSite, func(), error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cleanup := func() {}
	if data == "" {
		dir, err := os.MkdirTemp("", "guichet-bench-")
		if err != nil {
			return nil, nil, err
		}
		data, cleanup = dir, func() { os.RemoveAll(dir) }
	}
	cfg, site, err := config.Parse(name, conf)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	site.Policy.IgnoreHours = true
	sf := soundFlags{voice: "espeak-ng", langs: "fr", volume: 80}
	// A bench's hub is not administered: its admin token (kept in the data
	// directory all the same) is not shown.
	ds, err := openDemo(ctx, log, cfg, site, hubFlags{data: data, http: "127.0.0.1:0", mqtt: "127.0.0.1:0", out: io.Discard}, &sf, wav)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return ds, func() { ds.close(); cleanup() }, nil
}

// e2eOptions set the end-to-end latency bench up.
type e2eOptions struct {
	Counters    int           // counter terminals, each with its agent
	Calls       int           // presses of "next" per counter
	MinGap, Gap time.Duration // each counter waits MinGap + rand(Gap) between presses
	Data        string        // data directory; a temporary one if empty
	Seed        uint64
	Log         *slog.Logger
	Announce    bool // the display also synthesises its announcements (WAVE files)
}

// e2eResult is what the bench measured.
type e2eResult struct {
	Latencies measure.Latencies // press → DOM updated, one per call seen
	Missing   []string          // calls never seen on the page
	Failed    int               // presses that called nobody
	Elapsed   time.Duration     // from the first press to the last
	Skew      time.Duration     // browser clock minus Go clock, at most
}

// e2eConfig is a site with n counters, n agents able to serve the four
// services, every service open all day and night.
func e2eConfig(n int) []byte {
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
// appears on the board: the browser's wall clock, in milliseconds since the
// epoch, taken in a MutationObserver, so as soon as the page's script has
// changed the DOM.
const seenScript = `(() => {
  window.__seen = {};
  const note = () => {
    const t = performance.timeOrigin + performance.now();
    for (const e of document.querySelectorAll("#calls .ticket")) {
      const n = e.firstChild && e.firstChild.nodeValue;
      if (n && !(n in window.__seen)) window.__seen[n] = t;
    }
  };
  new MutationObserver(note).observe(document.body, {childList: true, subtree: true, characterData: true});
  note();
  return true;
})()`

// benchE2E measures counter button → board page DOM with o.Counters
// counters pressing "next" at random.
func benchE2E(ctx context.Context, o e2eOptions) (e2eResult, error) {
	var res e2eResult
	if o.Counters < 1 || o.Counters > 500 || o.Calls < 1 {
		return res, fmt.Errorf("bench e2e: --counters from 1 to 500, --calls at least 1")
	}
	if o.MinGap < 750*time.Millisecond {
		return res, fmt.Errorf("bench e2e: --gap from at least 750ms (a terminal takes one press of a button per 700 ms)")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ds, closeSite, err := benchSite(ctx, o.Log, o.Data, "bench.yaml", e2eConfig(o.Counters), o.Announce)
	if err != nil {
		return res, err
	}
	defer closeSite()

	// Enough citizens waiting for every press, spread over the services.
	c := console{base: ds.s.HTTPURL, token: ds.s.Token}
	if err := issueMany(ctx, c, o.Counters*(o.Calls+1), []string{"A", "E", "P", "U"}); err != nil {
		return res, err
	}
	// Every terminal has opened its counter for its agent.
	for id, d := range ds.desks {
		if _, ok := d.Await(ctx, 30*time.Second, func(st counter.State) bool { return st.Online && st.Counter.Open }); !ok {
			return res, fmt.Errorf("bench e2e: counter %s did not open", id)
		}
	}

	tab, stop, err := openScreen(ds)
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
		ms, err := chromedp.Run(tab, chromedp.Evaluate[float64]("performance.timeOrigin + performance.now()"))
		after := time.Now()
		if err != nil {
			return res, err
		}
		at := time.UnixMicro(int64(ms * 1000))
		skew := max(before.Sub(at), at.Sub(after), 0)
		res.Skew = max(res.Skew, skew)
	}

	type press struct {
		number string
		at     time.Time
	}
	var (
		mu      sync.Mutex
		presses []press
		wg      sync.WaitGroup
	)
	start := time.Now()
	for i, id := range slices.Sorted(maps.Keys(ds.desks)) {
		d := ds.desks[id]
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
	time.Sleep(500 * time.Millisecond) // the last calls reach the page
	raw, err := chromedp.Run(tab, chromedp.Evaluate[string]("JSON.stringify(window.__seen)"))
	if err != nil {
		return res, err
	}
	seen := map[string]float64{}
	if err := json.Unmarshal([]byte(raw), &seen); err != nil {
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

// openScreen opens the demo's screen page in a headless Chromium, full HD.
func openScreen(ds *demoSite) (tab context.Context, stop func(), err error) {
	tab, stop, err = chromium.Start(1920, 1080, "")
	if err != nil {
		return nil, nil, err
	}
	if err := chromedp.Do(tab, chromedp.Navigate(ds.s.HTTPURL+"/screen/"), chromedp.WaitVisible(chromedp.CSS("#calls"))); err != nil {
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
func issueMany(ctx context.Context, c console, n int, services []string) error {
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		mu    sync.Mutex
		first error
	)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				if err := c.post(ctx, "/api/v1/tickets", map[string]string{"service": services[i%len(services)]}); err != nil {
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

func parseGap(s string) (lo, spread time.Duration, err error) {
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

func runBenchE2E(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench e2e", flag.ContinueOnError)
	o := e2eOptions{}
	fs.IntVar(&o.Counters, "counters", 50, "counter terminals, each pressing \"next\" at random")
	fs.IntVar(&o.Calls, "calls", 20, "presses per counter")
	gap := fs.String("gap", "1s-3s", "time between two presses of a counter, drawn uniformly in MIN-MAX")
	fs.StringVar(&o.Data, "data", "", "data directory (default: a temporary one)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	fs.BoolVar(&o.Announce, "announce", false, "the display also synthesises each announcement (espeak-ng, WAVE files), sharing the CPU")
	logLevel := fs.String("log-level", "error", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.MinGap, o.Gap, err = parseGap(*gap); err != nil {
		return err
	}
	if o.Log, err = newLogger(os.Stderr, *logLevel); err != nil {
		return err
	}
	fmt.Fprintf(out, "bench e2e: %d counters × %d presses of \"next\", every %s, through the embedded broker…\n", o.Counters, o.Calls, *gap)
	r, err := benchE2E(ctx, o)
	if err != nil {
		return err
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	n := len(r.Latencies)
	fmt.Fprintf(out, "counter button → board page DOM: %d calls in %s (%.1f calls/s)\n", n, r.Elapsed.Round(time.Millisecond), float64(n)/r.Elapsed.Seconds())
	fmt.Fprintf(out, "  p50 %s   p99 %s   max %s\n", ms(r.Latencies.Percentile(50)), ms(r.Latencies.Percentile(99)), ms(r.Latencies.Percentile(100)))
	fmt.Fprintf(out, "  presses that called nobody: %d; calls never shown: %d; clock check: within %s\n", r.Failed, len(r.Missing), ms(r.Skew))
	if r.Failed > 0 || len(r.Missing) > 0 {
		return fmt.Errorf("bench e2e: %d presses called nobody, %d calls never shown %v", r.Failed, len(r.Missing), r.Missing)
	}
	return nil
}

// displaySample is the board page's state at one moment.
type displaySample struct {
	Sim       string        // simulated time
	Heap      float64       // JS heap used after a garbage collection, bytes
	Nodes     float64       // DOM nodes
	Listeners float64       // JS event listeners
	Task      time.Duration // main-thread busy time since the page loaded
	Calls     int64         // calls made in the simulation so far
	At        time.Duration // real time since the first sample
}

// displayOptions set the display page bench up.
type displayOptions struct {
	Hours, Speed float64
	Every        time.Duration // simulated time between samples
	Data         string
	Seed         uint64
	Log          *slog.Logger
	Sample       func(displaySample) // called at each sample
}

// benchDisplay plays o.Hours of a simulated day on the demo site and samples
// the board page in Chromium: after a garbage collection, a page that does
// not leak keeps its heap and DOM flat however many calls it shows.
func benchDisplay(ctx context.Context, o displayOptions) ([]displaySample, error) {
	if o.Hours <= 0 || o.Speed < 1 || o.Every <= 0 {
		return nil, errors.New("bench display: --hours > 0, --speed ≥ 1, --every > 0")
	}
	ds, closeSite, err := benchSite(ctx, o.Log, o.Data, "sample.yaml", config.Sample, false)
	if err != nil {
		return nil, err
	}
	defer closeSite()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the simulation stops before the site closes
	tab, stop, err := openScreen(ds)
	if err != nil {
		return nil, err
	}
	defer stop()
	if _, err := chromedp.Call(tab, performance.Enable, performance.EnableParams{}); err != nil {
		return nil, err
	}
	sm, err := ds.simulation(o.Speed, nil, o.Seed)
	if err != nil {
		return nil, err
	}
	go sm.Run(ctx)

	var out []displaySample
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
		s := displaySample{Sim: sm.Now().Format("15:04"), Calls: sm.Stats.Calls.Load(), At: time.Since(start)}
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

func runBenchDisplay(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench display", flag.ContinueOnError)
	o := displayOptions{}
	fs.Float64Var(&o.Hours, "hours", 1, "simulated hours to play")
	fs.Float64Var(&o.Speed, "speed", 60, "times faster than real time")
	fs.DurationVar(&o.Every, "every", 5*time.Minute, "simulated time between two samples")
	fs.StringVar(&o.Data, "data", "", "data directory (default: a temporary one)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed of the simulated day")
	logLevel := fs.String("log-level", "error", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.Log, err = newLogger(os.Stderr, *logLevel); err != nil {
		return err
	}
	fmt.Fprintf(out, "bench display: %g simulated hours at ×%g, the board page in headless Chromium\n", o.Hours, o.Speed)
	fmt.Fprintf(out, "%8s %8s %6s %10s %6s %9s %8s\n", "real", "sim", "calls", "heap", "nodes", "listeners", "cpu")
	var prev *displaySample
	o.Sample = func(s displaySample) {
		cpu := "—"
		if prev != nil && s.At > prev.At {
			cpu = fmt.Sprintf("%.2f%%", 100*float64(s.Task-prev.Task)/float64(s.At-prev.At))
		}
		fmt.Fprintf(out, "%8s %8s %6d %8.2fMB %6.0f %9.0f %8s\n", s.At.Round(time.Second), s.Sim, s.Calls, s.Heap/1e6, s.Nodes, s.Listeners, cpu)
		prev = &s
	}
	samples, err := benchDisplay(ctx, o)
	if err != nil {
		return err
	}
	if len(samples) < 2 {
		return errors.New("bench display: too short to compare")
	}
	first, last := samples[0], samples[len(samples)-1]
	fmt.Fprintf(out, "over %s (%d calls): heap %.2f → %.2f MB, DOM nodes %.0f → %.0f, main thread busy %.2f%% of the time\n",
		last.At.Round(time.Second), last.Calls-first.Calls, first.Heap/1e6, last.Heap/1e6, first.Nodes, last.Nodes,
		100*float64(last.Task-first.Task)/float64(last.At-first.At))
	return nil
}
