package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/internal/measure"
	"guichet/internal/sitetest"
	"guichet/internal/stdwebhook"
)

// clockReceiver verifies each request and notes when each event arrived,
// by sequence.
type clockReceiver struct {
	secret stdwebhook.Secret
	mu     sync.Mutex
	at     map[int64]time.Time
	done   chan struct{}
	want   int
}

func (c *clockReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	if _, err := (stdwebhook.Verifier{Secrets: []stdwebhook.Secret{c.secret}}).Verify(r.Header, body); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var evs []api.CloudEvent
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/cloudevents-batch+json") {
		json.Unmarshal(body, &evs)
	} else {
		var ce api.CloudEvent
		json.Unmarshal(body, &ce)
		evs = append(evs, ce)
	}
	c.mu.Lock()
	for _, ce := range evs {
		seq, _ := strconv.ParseInt(ce.Sequence, 10, 64)
		if _, ok := c.at[seq]; !ok {
			c.at[seq] = now
		}
	}
	if c.want > 0 && len(c.at) >= c.want {
		select {
		case <-c.done:
		default:
			close(c.done)
		}
	}
	c.mu.Unlock()
	w.WriteHeader(204)
}

func benchSite(b *testing.B, mode string) (*sitetest.Site, *clockReceiver, string) {
	c := &clockReceiver{secret: stdwebhook.NewSecret(), at: map[int64]time.Time{}, done: make(chan struct{})}
	addr := fmt.Sprintf("127.0.0.1:%d", sitetest.FreePort(b))
	b.Setenv("TEST_WEBHOOK_SECRET", c.secret.String())
	cfg := sitetest.Config + fmt.Sprintf("destinations:\n  - { name: crm, type: webhook, url: \"http://%s/hook\", secret_env: TEST_WEBHOOK_SECRET, mode: %s, max_backoff: 200ms }\n", addr, mode)
	return sitetest.Start(b, sitetest.Options{Config: cfg, OpenHours: true}), c, addr
}

func serveOn(b *testing.B, addr string, h http.Handler) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
}

func issue(ctx context.Context, h *hub.Hub) (int64, time.Time, error) {
	rep, err := h.Do(ctx, "", "bench", hub.IssueTicket(api.IssueArgs{Service: "A"}, "bench"), func(hub.Outcome, json.RawMessage) []byte { return nil })
	if err != nil || len(rep.Events) == 0 {
		return 0, time.Time{}, fmt.Errorf("issue: %v %s", err, rep.Message)
	}
	return rep.Events[0].Seq, time.Now(), nil
}

// BenchmarkWebhookLatency: an event committed (the hub's Do returned: it
// is durable) → received by a webhook on loopback, its signature
// verified, with a steady 200 events/s for 10 s; structured mode.
func BenchmarkWebhookLatency(b *testing.B) {
	for range b.N {
		s, c, addr := benchSite(b, "structured")
		serveOn(b, addr, c)
		const rate, secs = 200, 10
		committed := map[int64]time.Time{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		for range rate * secs { // a steady rate: each issue on its own, as callers do
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				seq, at, err := issue(b.Context(), s.Hub)
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				committed[seq] = at
				mu.Unlock()
			}()
		}
		tick.Stop()
		wg.Wait()
		sitetest.Eventually(b, 10*time.Second, "every event received", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			for seq := range committed {
				if _, ok := c.at[seq]; !ok {
					return false
				}
			}
			return true
		})
		var l measure.Latencies
		c.mu.Lock()
		for seq, at := range committed {
			l = append(l, max(0, c.at[seq].Sub(at)))
		}
		c.mu.Unlock()
		l.Report(b, "commit-to-webhook-")
		b.ReportMetric(float64(len(l)), "events")
	}
}

// BenchmarkBacklogDrain: a busy site's day of events (20,000) waits while
// the webhook is down; it comes up: the time to deliver them all, and
// call next's latency (call next + finish at one counter, in the hub)
// meanwhile — in structured and batched mode.
func BenchmarkBacklogDrain(b *testing.B) {
	for _, mode := range []string{"structured", "batched"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				s, c, addr := benchSite(b, mode)
				const n = 20_000
				first := int64(0)
				for i := range n {
					seq, _, err := issue(b.Context(), s.Hub)
					if err != nil {
						b.Fatal(err)
					}
					if i == 0 {
						first = seq
					}
				}
				c.want = int(s.Store.LastSeq()-first) + 1
				// Call next before the drain: the baseline.
				callNext := func(d time.Duration) measure.Latencies {
					var l measure.Latencies
					end := time.Now().Add(d)
					for time.Now().Before(end) {
						start := time.Now()
						act, _ := hub.CounterAction("call_next", "1", nil)
						if _, err := s.Hub.Do(b.Context(), "", "bench", act, func(hub.Outcome, json.RawMessage) []byte { return nil }); err != nil {
							b.Fatal(err)
						}
						l = append(l, time.Since(start))
						act, _ = hub.CounterAction("finish", "1", nil)
						s.Hub.Do(b.Context(), "", "bench", act, func(hub.Outcome, json.RawMessage) []byte { return nil })
						time.Sleep(10 * time.Millisecond)
					}
					return l
				}
				act, _ := hub.CounterAction("open", "1", &api.OpenArgs{Agent: "ana"})
				s.Hub.Do(b.Context(), "", "bench", act, func(hub.Outcome, json.RawMessage) []byte { return nil })
				callNext(2*time.Second).Report(b, "call-next-idle-")
				start := time.Now()
				serveOn(b, addr, c)
				var during measure.Latencies
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						during = append(during, callNext(200*time.Millisecond)...)
					}
				}()
				select {
				case <-c.done:
				case <-time.After(120 * time.Second):
					b.Fatal("the backlog did not drain in 120 s")
				}
				drain := time.Since(start)
				close(stop)
				wg.Wait()
				b.ReportMetric(drain.Seconds(), "drain-s")
				b.ReportMetric(float64(c.want)/drain.Seconds(), "events/s")
				during.Report(b, "call-next-draining-")
			}
		})
	}
}
