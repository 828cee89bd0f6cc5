package console_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/queue"
	"guichet/hub/telephony/webhook"
	"guichet/internal/browsertest"
	"guichet/internal/measure"
)

// BenchmarkCallJoinsToConsole measures issue 13's "a call joins → phone
// ticket in the queue and the agent's console updated in Chromium",
// through a real hub with the signed-webhook telephony (the adapter a
// hosted telephony uses; the AMI adapter hands the hub the same event).
// dan's console is open at the phone position in Chromium. Each of b.N
// rounds posts a signed call.waiting (t0, the system clock, just before
// the POST), and times:
//   - webhook-answered: the hub's 204 to the provider;
//   - queued: the phone ticket in the queue engine (seen on the hub's
//     change notification);
//   - agent-page: the call in the console's waits per service, timed in
//     the page by a MutationObserver with the browser's wall clock (the
//     same machine's system clock).
//
// The call is then abandoned and the page seen empty again, untimed.
//
//	go test -run '^$' -bench BenchmarkCallJoinsToConsole -benchtime 200x ./hub/console/
func BenchmarkCallJoinsToConsole(b *testing.B) {
	s, send := phoneSite(b)

	ctx := browsertest.Browser(b, 1366, 768)
	browsertest.Do(b, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/agent"))
	signInB(b, ctx, "dan")
	browsertest.WaitText(b, ctx, "#choices-phone", "Ouvrir Téléphone", 20*time.Second)
	browsertest.Do(b, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#choices-phone button")].find(b => b.textContent === "Ouvrir Téléphone").click()`))
	browsertest.WaitText(b, ctx, "#where", "Téléphone", 10*time.Second)
	browsertest.Get(b, ctx, 5*time.Second, chromedp.Evaluate[bool](watchScript))
	// With blending by the PBX, a waiting call is not the phone position's
	// to call next: the console shows it in "Attente dans vos services",
	// as "1 (dont téléphone 1)".
	const shown = `() => document.getElementById("waits").textContent.includes("(")`
	waitEmpty := func() {
		end := time.Now().Add(10 * time.Second)
		for browsertest.Get(b, ctx, 5*time.Second, chromedp.Evaluate[bool](`(`+shown+`)()`)) {
			if time.Now().After(end) {
				b.Fatal("the console's waits keep a call")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	var answered, queued, page measure.Latencies
	n := 0
	round := func(record bool) {
		n++
		id := fmt.Sprint("bench-", n)
		waitEmpty()
		browsertest.Get(b, ctx, 5*time.Second, chromedp.Evaluate[bool](`__arm(`+shown+`), true`))
		ch, cancel := s.Hub.Watch()
		var tq time.Time
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the ticket in the queue, on the hub's notification
			defer wg.Done()
			end := time.After(10 * time.Second)
			for {
				found := false
				s.Hub.Read(func(e *queue.Engine) {
					for _, tk := range e.LiveCalls() {
						found = found || tk.Call == id
					}
				})
				if found {
					tq = time.Now()
					return
				}
				select {
				case <-ch:
				case <-end:
					return
				}
			}
		}()
		t0 := time.Now()
		send(webhook.TypeCallWaiting, webhook.Call{CallID: id, Queue: "accueil", Number: "06 12 34 56 78"})
		tw := time.Now()
		var hit float64
		end := time.Now().Add(10 * time.Second)
		for hit == 0 {
			if time.Now().After(end) {
				b.Fatalf("call %s: the console did not show it", id)
			}
			time.Sleep(2 * time.Millisecond)
			hit = browsertest.Get(b, ctx, 5*time.Second, chromedp.Evaluate[float64](`__hit`))
		}
		wg.Wait()
		cancel()
		if tq.IsZero() {
			b.Fatalf("call %s: no ticket in the queue", id)
		}
		if record {
			ms := float64(t0.UnixNano()) / 1e6
			answered = append(answered, tw.Sub(t0))
			queued = append(queued, tq.Sub(t0))
			page = append(page, time.Duration((hit-ms)*float64(time.Millisecond)))
		}
		send(webhook.TypeCallAbandoned, webhook.Call{CallID: id, Reason: "hung_up"})
	}
	for range 3 {
		round(false) // warm up
	}
	b.ResetTimer()
	for range b.N {
		round(true)
	}
	b.StopTimer()
	answered.Report(b, "webhook-answered-")
	queued.Report(b, "queued-")
	page.Report(b, "agent-page-")
}
