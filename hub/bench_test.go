package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/hub/store"
	"guichet/internal/measure"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchSite: 6 services, 20 counters, one agent per counter with every skill.
func benchSite() queue.Site {
	s := queue.Site{ID: "bench", Location: time.UTC, Policy: queue.DefaultPolicy()}
	s.Policy.IgnoreHours = true
	for _, id := range []string{"A", "B", "C", "D", "E", "F"} {
		s.Services = append(s.Services, queue.Service{ID: id, SLA: 20 * time.Minute, Channels: []queue.Channel{queue.Visit, queue.Phone}, ServiceTime: 5 * time.Minute})
	}
	for i := 1; i <= 20; i++ {
		s.Counters = append(s.Counters, queue.Counter{ID: fmt.Sprint(i)})
		s.Agents = append(s.Agents, queue.Agent{ID: fmt.Sprintf("a%d", i), Skills: map[string]int{"A": 1, "B": 2, "C": 1, "D": 3, "E": 1, "F": 2}})
	}
	return s
}

func openHub(b testing.TB, dir string, site queue.Site) (*Hub, *store.Store) {
	st, err := store.Open(filepath.Join(dir, "guichet.db"), quiet)
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(Options{Site: site, Store: st, Log: quiet})
	if err != nil {
		b.Fatal(err)
	}
	return h, st
}

func discard(Outcome, json.RawMessage) []byte { return nil }

// BenchmarkDurableOperations: issue + call next + finish from 64 concurrent
// callers, each operation durable in SQLite before it returns (target ≥ 5,000/s).
func BenchmarkDurableOperations(b *testing.B) {
	for i := 0; i < b.N; i++ {
		h, st := openHub(b, b.TempDir(), benchSite())
		ctx := context.Background()
		for c := 1; c <= 20; c++ {
			act, _ := CounterAction("open", fmt.Sprint(c), &api.OpenArgs{Agent: fmt.Sprintf("a%d", c)})
			h.Do(ctx, "", "bench", act, discard)
		}
		const issuers, perIssuer = 44, 1000
		var durable atomic.Int64
		var lat measure.Latencies
		var mu sync.Mutex
		done := make(chan struct{})
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < issuers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine measure.Latencies
				for n := 0; n < perIssuer; n++ {
					t0 := time.Now()
					rep, err := h.Do(ctx, "", "bench", IssueTicket(api.IssueArgs{Service: string(rune('A' + n%6))}, ""), discard)
					mine = append(mine, time.Since(t0))
					if err == nil && len(rep.Events) > 0 {
						durable.Add(1)
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		var cw sync.WaitGroup
		for c := 1; c <= 20; c++ {
			cw.Add(1)
			go func() {
				defer cw.Done()
				for n := 0; ; n++ {
					select {
					case <-done:
						return
					default:
					}
					op := "call_next"
					if n%2 == 1 {
						op = "finish"
					}
					act, _ := CounterAction(op, fmt.Sprint(c), nil)
					if rep, err := h.Do(ctx, "", "bench", act, discard); err == nil && len(rep.Events) > 0 {
						durable.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		close(done)
		cw.Wait()
		elapsed := time.Since(start)
		b.ReportMetric(float64(durable.Load())/elapsed.Seconds(), "durable-ops/s")
		lat.Report(b, "issue-")
		h.Close()
		st.Close()
	}
}

// BenchmarkStartup1MEvents: time for a hub to rebuild its queue from a log of
// 1,000,000 events (100 days of about 3,300 tickets), with the snapshots the
// hub writes as it runs, and without any (a full replay).
func BenchmarkStartup1MEvents(b *testing.B) {
	dir := b.TempDir()
	site := benchSite()
	st, err := store.Open(filepath.Join(dir, "guichet.db"), quiet)
	if err != nil {
		b.Fatal(err)
	}
	e, _ := queue.New(site)
	day := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	var batch []*store.Record
	var total int64
	var snapSeq int64
	for c := 1; c <= 20; c++ {
		evs, _ := e.OpenCounter(queue.By{At: day}, fmt.Sprint(c), api.OpenArgs{Agent: fmt.Sprintf("a%d", c)})
		batch = append(batch, &store.Record{Events: evs})
		total += int64(len(evs))
	}
	for n := 0; total < 1_000_000; n++ {
		at := day.Add(time.Duration(n/3300)*24*time.Hour + time.Duration(n%3300)*8*time.Second)
		evs, err := e.Issue(queue.By{At: at}, queue.IssueRequest{ID: fmt.Sprintf("t%07d", n), Args: api.IssueArgs{Service: string(rune('A' + n%6))}})
		if err != nil {
			b.Fatal(err)
		}
		if next, err := e.CallNext(queue.By{At: at}, fmt.Sprint(1+n%20)); err == nil {
			evs = append(evs, next...)
		}
		batch = append(batch, &store.Record{Events: evs})
		total += int64(len(evs))
		if len(batch) >= 5000 {
			if err := st.Append(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
			if st.LastSeq()-snapSeq >= 20_000 && total < 990_000 {
				snap := e.Snapshot()
				if err := st.SaveSnapshot(st.LastSeq(), &snap); err != nil {
					b.Fatal(err)
				}
				snapSeq = st.LastSeq()
			}
		}
	}
	if err := st.Append(batch); err != nil {
		b.Fatal(err)
	}
	st.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		h, st := openHub(b, dir, site)
		took := time.Since(start)
		var applied int64
		h.Read(func(e *queue.Engine) { applied = e.Applied() })
		if applied < 1_000_000 {
			b.Fatalf("rebuilt %d events", applied)
		}
		b.ReportMetric(took.Seconds(), "startup-s")
		h.Close() // writes a snapshot at the end: the next start replays nothing
		st.Close()
	}
	b.StopTimer()
	st, _ = store.Open(filepath.Join(dir, "guichet.db"), quiet)
	e2, _ := queue.New(site)
	start := time.Now()
	if _, err := st.Load(e2); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "startup-s-after-clean-stop")
	if e2.Applied() < 1_000_000 {
		b.Fatalf("after a clean stop: rebuilt %d events", e2.Applied())
	}
	b.Logf("tickets held after rebuild: %d", len(e2.Tickets("", "")))
	st.Close()
	start = time.Now()
	st, err = store.OpenDir(dir, store.DirOptions{Site: site.ID, Log: quiet}) // what a hub's start adds: PRAGMA quick_check
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "open-dir-quick-check-s")
	st.Close()
	if fi, err := os.Stat(filepath.Join(dir, "guichet.db")); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "db-MB")
	}
	st, _ = store.Open(filepath.Join(dir, "guichet.db"), quiet)
	st.DropSnapshots()
	e3, _ := queue.New(site)
	start = time.Now()
	if _, err := st.Load(e3); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "full-replay-s")
	st.Close()
}

// BenchmarkRollback15kEvents: what a failed commit costs the writer with
// 15,000 events committed since its checkpoint (the most a hub holds with
// SnapshotEvery at 15,000): the engine restored and the events applied
// again in memory (rollback-ms), against the rebuild from the store that
// it replaces (store-rebuild-ms: the snapshot and events read and decoded).
func BenchmarkRollback15kEvents(b *testing.B) {
	dir := b.TempDir()
	h, st := openHub(b, dir, benchSite())
	h.every = 1 << 40 // the checkpoint stays the empty start: all 15,000 events are reapplied
	ctx := context.Background()
	open, _ := CounterAction("open", "1", &api.OpenArgs{Agent: "a1"})
	h.Do(ctx, "", "bench", open, discard)
	for st.LastSeq() < 15_000 {
		h.Do(ctx, "", "bench", IssueTicket(api.IssueArgs{Service: "A"}, ""), discard)
		next, _ := CounterAction("call_next", "1", nil)
		h.Do(ctx, "", "bench", next, discard)
		finish, _ := CounterAction("finish", "1", nil)
		h.Do(ctx, "", "bench", finish, discard)
	}
	var roll, rebuild measure.Latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		h.rollback()
		roll = append(roll, time.Since(t0))
		t0 = time.Now()
		e, _ := queue.New(benchSite())
		if _, err := st.Load(e); err != nil {
			b.Fatal(err)
		}
		rebuild = append(rebuild, time.Since(t0))
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(roll.Percentile(50)), "rollback-ms")
	b.ReportMetric(ms(rebuild.Percentile(50)), "store-rebuild-ms")
	b.ReportMetric(float64(len(h.since)), "events-reapplied")
	h.Close()
	st.Close()
}
