package console_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/internal/browsertest"
	"guichet/internal/measure"
	"guichet/internal/sitetest"
)

// benchConfig is a site of n counters and n agents: agent1 alone serves Z
// (the measured agent's own tickets), the others share A, E, P and U.
func benchConfig(n int) string {
	var b strings.Builder
	b.WriteString(`site: { id: bench, name: "Mairie — banc d'essai", timezone: Europe/Paris }
policy: { close_when_full: false }
services:
  - { id: A, name: { fr: "Accueil" }, sla: 10m, service_time: 4m }
  - { id: E, name: { fr: "État civil" }, sla: 15m, service_time: 8m }
  - { id: P, name: { fr: "Passeports" }, sla: 20m, service_time: 15m }
  - { id: U, name: { fr: "Urbanisme" }, sla: 20m, service_time: 20m }
  - { id: Z, name: { fr: "Service mesuré" }, sla: 20m, service_time: 5m }
counters:
`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - { id: \"%d\", name: \"Guichet %d\" }\n", i, i)
	}
	b.WriteString("agents:\n  - { id: agent1, name: \"Agent 1\", skills: { Z: 1 } }\n")
	for i := 2; i <= n; i++ {
		fmt.Fprintf(&b, "  - { id: agent%d, name: \"Agent %d\", skills: { A: 1, E: 1, P: 1, U: 1 } }\n", i, i)
	}
	return b.String()
}

// watchScript arms a page to time its own update: __arm(cond) makes the
// next DOM change that makes cond true write its time in __hit (the
// browser's wall clock, ms, taken in a MutationObserver: as soon as the
// page's script has changed the DOM).
const watchScript = `(() => {
  window.__vis = (e) => !!e && e.getClientRects().length > 0;
  window.__arm = (cond) => { window.__hit = 0; window.__cond = cond; window.__try(); };
  window.__try = () => { if (!window.__hit && window.__cond && window.__cond()) window.__hit = performance.timeOrigin + performance.now(); };
  const f = window.fetch;
  window.__fetched = 0;
  window.fetch = (...a) => f(...a).then((r) => { if (a[1] && a[1].method === "POST") window.__fetched = performance.timeOrigin + performance.now(); return r; });
  new MutationObserver(window.__try).observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true});
  return true;
})()`

// BenchmarkConsoleActionToPages measures a console action (call next, then
// finish) → the agent's own page and the supervision page updated, in
// Chromium, with 50 agents signed in and active: agent1 in a Chromium tab,
// the supervisor in another tab, and 49 agents as HTTP clients, each with
// its console's stream open (/agent/events) and calling, finishing and
// issuing tickets every second or two. Each of b.N rounds is a call next
// and a finish pressed in agent1's tab; both pages time their update in the
// page (MutationObserver), from the press.
func BenchmarkConsoleActionToPages(b *testing.B) {
	const n = 50
	s := sitetest.Start(b, sitetest.Options{Config: benchConfig(n), OpenHours: true})
	s.AddAccount("sup", auth.RoleSupervisor, "")
	var wg sync.WaitGroup
	sessions := make([]*sitetest.Session, n+1)
	for i := 1; i <= n; i++ {
		s.AddAccount(fmt.Sprint("agent", i), auth.RoleAgent, "")
	}
	for i := 2; i <= n; i++ {
		sessions[i] = s.SignIn(fmt.Sprint("agent", i), sitetest.Password)
		if st, body, _ := sessions[i].Do("POST", fmt.Sprintf("/api/v1/counters/%d/open", i), ""); st != 200 {
			b.Fatalf("open counter %d: %d %s", i, st, body)
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	defer func() { stop(); wg.Wait() }()
	var events, actions atomic.Int64
	for i := 2; i <= n; i++ {
		se := sessions[i]
		wg.Add(2)
		go func() { // the console's stream, read as a browser would
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", s.HTTPURL+"/agent/events", nil)
			res, err := se.Client.Do(req)
			if err != nil {
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") {
					events.Add(1)
				}
			}
		}()
		go func() { // the agent at work
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			svc := []string{"A", "E", "P", "U"}[i%4]
			for ctx.Err() == nil {
				for _, step := range []struct{ method, path, body string }{
					{"POST", "/api/v1/tickets", fmt.Sprintf(`{"service":%q}`, svc)},
					{"POST", fmt.Sprintf("/api/v1/counters/%d/next", i), ""},
					{"POST", fmt.Sprintf("/api/v1/counters/%d/finish", i), ""},
				} {
					select {
					case <-ctx.Done():
						return
					case <-time.After(time.Duration(500+rng.IntN(1500)) * time.Millisecond):
					}
					req, _ := http.NewRequestWithContext(ctx, step.method, s.HTTPURL+step.path, strings.NewReader(step.body))
					req.Header.Set(auth.CSRFHeader, se.CSRF)
					req.Header.Set("Content-Type", "application/json")
					if res, err := se.Client.Do(req); err == nil {
						res.Body.Close()
						actions.Add(1)
					}
				}
			}
		}()
	}

	// agent1's console and the supervision page, in two tabs of one
	// Chromium (two host names: two cookie jars).
	agent := browsertest.Browser(b, 1366, 768)
	sup, closeSup := chromedp.NewContext(agent)
	defer closeSup()
	if err := chromedp.Do(sup); err != nil { // opens the tab, without a timeout: the tab lives as long as its context
		b.Fatal(err)
	}
	browsertest.Do(b, agent, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/agent"))
	signInB(b, agent, "agent1")
	browsertest.WaitText(b, agent, "#choices-visit", "Ouvrir Guichet 1", 10*time.Second)
	browsertest.Do(b, agent, 5*time.Second, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#choices-visit button")].find(b => b.textContent === "Ouvrir Guichet 1").click()`))
	browsertest.WaitText(b, agent, "#where", "Guichet 1", 10*time.Second)
	browsertest.Do(b, sup, 10*time.Second, chromedp.Navigate(strings.Replace(s.HTTPURL, "127.0.0.1", "localhost", 1)+"/supervision"))
	signInB(b, sup, "sup")
	browsertest.WaitText(b, sup, "#counters", "Agent 1", 10*time.Second)
	for _, tab := range []context.Context{agent, sup} {
		browsertest.Get(b, tab, 5*time.Second, chromedp.Evaluate[bool](watchScript))
	}

	var toAgent, toSup, fetched measure.Latencies
	round := func(record bool) {
		var tk api.Ticket
		s.Must("POST", "/api/v1/tickets", `{"service":"Z"}`, 201, &tk)
		browsertest.WaitText(b, agent, "#next", tk.Number, 10*time.Second)
		browsertest.WaitText(b, sup, "#tickets", tk.Number, 10*time.Second)
		for _, step := range []struct{ button, agentCond, supCond string }{
			{"call_next", fmt.Sprintf(`() => __vis(document.getElementById("ticket-number")) && document.getElementById("ticket-number").textContent === %q`, tk.Number),
				fmt.Sprintf(`() => document.querySelector("#counters tr").textContent.includes(%q)`, tk.Number)},
			{"finish", `() => __vis(document.getElementById("no-ticket"))`,
				fmt.Sprintf(`() => !document.querySelector("#counters tr").textContent.includes(%q)`, tk.Number)},
		} {
			browsertest.Get(b, agent, 5*time.Second, chromedp.Evaluate[bool](`__arm(`+step.agentCond+`), true`))
			browsertest.Get(b, sup, 5*time.Second, chromedp.Evaluate[bool](`__arm(`+step.supCond+`), true`))
			t0 := browsertest.Get(b, agent, 5*time.Second, chromedp.Evaluate[float64](
				`(() => { const t = performance.timeOrigin + performance.now(); document.getElementById("b-`+step.button+`").click(); return t; })()`))
			var ta, ts float64
			deadline := time.Now().Add(10 * time.Second)
			for ta == 0 || ts == 0 {
				if time.Now().After(deadline) {
					b.Fatalf("%s of %s: the pages did not change (agent %v, supervision %v)", step.button, tk.Number, ta, ts)
				}
				time.Sleep(5 * time.Millisecond)
				ta = browsertest.Get(b, agent, 5*time.Second, chromedp.Evaluate[float64](`__hit`))
				ts = browsertest.Get(b, sup, 5*time.Second, chromedp.Evaluate[float64](`__hit`))
			}
			if record {
				ms := func(v float64) time.Duration { return time.Duration((v - t0) * float64(time.Millisecond)) }
				toAgent, toSup = append(toAgent, ms(ta)), append(toSup, ms(ts))
				tf := browsertest.Get(b, agent, 5*time.Second, chromedp.Evaluate[float64](`__fetched`))
				fetched = append(fetched, ms(tf))
			}
		}
	}
	for range 3 {
		round(false) // warm up
	}
	start, ev0, act0, cpu0 := time.Now(), events.Load(), actions.Load(), cpuTime()
	b.ResetTimer()
	for range b.N {
		round(true)
	}
	b.StopTimer()
	secs := time.Since(start).Seconds()
	toAgent.Report(b, "agent-page-")
	toSup.Report(b, "supervision-page-")
	fetched.Report(b, "action-answered-")
	b.ReportMetric(float64(actions.Load()-act0)/secs, "background-actions/s")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/secs, "hub-cpu-s/s")
	b.ReportMetric(float64(events.Load()-ev0)/secs, "stream-events/s")
}

// cpuTime is the CPU time this process (the hub and the 49 agents' HTTP
// clients) has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// signInB signs in at the sign-in page the browser is on.
func signInB(b *testing.B, ctx context.Context, login string) {
	b.Helper()
	browsertest.WaitText(b, ctx, "h1", "Connexion", 10*time.Second)
	browsertest.Do(b, ctx, 10*time.Second, chromedp.Focus("#login"), keys(login), chromedp.Focus("#password"), keys(sitetest.Password), keys("\r"))
}
