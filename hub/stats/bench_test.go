package stats

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/hub/store"
)

// benchSite: four services, fourteen desks and a phone position, fifteen
// agents: enough for 840 tickets a day.
func benchSite() queue.Site {
	s := testSite()
	s.Services = append(s.Services,
		queue.Service{ID: "P", Names: map[string]string{"fr": "Passeports et CNI"}, SLA: 20 * time.Minute, Channels: []queue.Channel{queue.Visit}, ServiceTime: 12 * time.Minute},
		queue.Service{ID: "U", Names: map[string]string{"fr": "Urbanisme"}, SLA: 30 * time.Minute, Channels: []queue.Channel{queue.Visit, queue.Phone}, ServiceTime: 15 * time.Minute},
	)
	s.Counters = nil
	s.Agents = nil
	for i := 1; i <= 14; i++ {
		id := fmt.Sprint(i)
		s.Counters = append(s.Counters, queue.Counter{ID: id, Name: "Guichet " + id})
		s.Agents = append(s.Agents, queue.Agent{ID: "agent" + id, Name: "Agent " + id, Skills: map[string]int{"A": 1, "E": 1 + i%2, "P": 1 + i%3, "U": 1}})
	}
	s.Counters = append(s.Counters, queue.Counter{ID: "T", Name: "Téléphone", Channels: []queue.Channel{queue.Phone}})
	s.Agents = append(s.Agents, queue.Agent{ID: "phone", Name: "Standard", Skills: map[string]int{"A": 1, "U": 1}})
	return s
}

// yearData is a data directory holding a year of the site's log, made once
// per test binary: about 250,000 tickets.
//
// GUICHET_STATS_BENCH_DIR keeps it in that directory, to be reused by the
// next run (generating it takes about a minute).
var yearData = sync.OnceValues(func() (string, error) {
	dir := os.Getenv("GUICHET_STATS_BENCH_DIR")
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
			return dir, nil
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", err
		}
	} else {
		var err error
		if dir, err = os.MkdirTemp("", "guichet-stats-bench-"); err != nil {
			return "", err
		}
		removeYear = dir
	}
	start := time.Now()
	n, evs, err := generateYear(dir, 2026, 840)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "stats bench: a year of %d tickets, %d events, generated in %s in %s\n", n, evs, time.Since(start).Round(time.Second), dir)
	return dir, os.WriteFile(filepath.Join(dir, "done"), nil, 0o600)
})

var removeYear string // the year's directory, when made for this run only

func TestMain(m *testing.M) {
	code := m.Run()
	if removeYear != "" {
		os.RemoveAll(removeYear)
	}
	os.Exit(code)
}

// generateYear plays every working day of year into a new store in dir.
func generateYear(dir string, year, perDay int) (tickets, events int, err error) {
	site := benchSite()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.OpenDir(dir, store.DirOptions{Site: site.ID, Create: true, Log: log})
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	from := time.Date(year, 1, 1, 0, 0, 0, 0, paris)
	return generate(st, site, from, from.AddDate(1, 0, 0), perDay, uint64(year))
}

// generate plays every working day (Monday to Saturday, 08:30 to 17:00)
// from from to until (excluded) through the real engine, perDay tickets a
// day on average, and appends the events to st, one transaction a day.
// Citizens arrive at random; each open counter calls the next ticket when
// its service ends; 5 % do not come (two recalls, then no-show), 3 % are
// transferred, a phone caller hangs up after 15 minutes' wait.
func generate(st *store.Store, site queue.Site, from, until time.Time, perDay int, seed uint64) (tickets, events int, err error) {
	eng, err := queue.New(site)
	if err != nil {
		return 0, 0, err
	}
	if _, err := st.Load(eng); err != nil {
		return 0, 0, err
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	services := []string{"A", "A", "E", "E", "P", "U"}
	var day []queue.Event
	do := func(at time.Time, evs []queue.Event, err error) {
		if err == nil {
			day = append(day, evs...)
		}
	}
	for d := from; d.Before(until); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Sunday {
			continue
		}
		open := time.Date(d.Year(), d.Month(), d.Day(), 8, 30, 0, 0, paris)
		closeAt := open.Add(510 * time.Minute)
		by := func(t time.Time) queue.By { return queue.By{At: t, Actor: "api"} }
		for _, c := range site.Counters {
			agent := "phone"
			if c.ID != "T" {
				agent = "agent" + c.ID
			}
			evs, err := eng.OpenCounter(by(open), c.ID, api.OpenArgs{Agent: agent})
			do(open, evs, err)
		}
		busyUntil := map[string]time.Time{}
		perMin := float64(perDay) / 510
		waitingPhone := map[string]time.Time{}
		for m := 0; m < 570; m++ {
			now := open.Add(time.Duration(m)*time.Minute + time.Duration(rng.IntN(60))*time.Second)
			if m < 510 {
				for k := poisson(rng, perMin); k > 0; k-- {
					tickets++
					sv := services[rng.IntN(len(services))]
					ch := queue.Visit
					if (sv == "A" || sv == "U") && rng.Float64() < 0.2 {
						ch = queue.Phone
					}
					id := fmt.Sprintf("%s-%06d", d.Format("20060102"), tickets)
					evs, err := eng.Issue(by(now), queue.IssueRequest{ID: id, Args: api.IssueArgs{Service: sv, Channel: string(ch)}, Device: "kiosk-1"})
					do(now, evs, err)
					if ch == queue.Phone {
						waitingPhone[id] = now
					}
				}
			}
			for id, since := range waitingPhone {
				if t, ok := eng.Ticket(id); !ok || t.State != queue.Waiting {
					delete(waitingPhone, id)
				} else if now.Sub(since) > 15*time.Minute {
					evs, err := eng.Cancel(by(now), api.CancelArgs{Ticket: id, Reason: "hung up"})
					do(now, evs, err)
					delete(waitingPhone, id)
				}
			}
			for _, c := range site.Counters {
				if busyUntil[c.ID].After(now) {
					continue
				}
				cs, _ := eng.CounterState(c.ID)
				if cs.Ticket != "" && rng.Float64() < 0.03 {
					if t, ok := eng.Ticket(cs.Ticket); ok && t.Transfers == 0 {
						to := services[rng.IntN(len(services))]
						evs, err := eng.Transfer(by(now), c.ID, api.TransferArgs{Service: to})
						do(now, evs, err)
					}
				}
				evs, err := eng.CallNext(by(now), c.ID)
				do(now, evs, err)
				if err != nil {
					continue
				}
				if rng.Float64() < 0.05 {
					for r := 1; r <= 3; r++ {
						evs, err := eng.Recall(by(now.Add(time.Duration(r)*time.Minute)), c.ID)
						do(now, evs, err)
					}
					busyUntil[c.ID] = now.Add(4 * time.Minute)
					continue
				}
				evs, err = eng.Start(by(now.Add(time.Minute)), c.ID)
				do(now, evs, err)
				busyUntil[c.ID] = now.Add(time.Duration(2+rng.IntN(12)) * time.Minute)
			}
		}
		// Closing: the tickets at the counters are finished, the others cancelled.
		end := closeAt.Add(2 * time.Hour)
		for _, c := range site.Counters {
			evs, err := eng.Finish(by(end), c.ID)
			do(end, evs, err)
		}
		for _, t := range eng.Tickets(queue.Waiting, "") {
			evs, err := eng.Cancel(by(end), api.CancelArgs{Ticket: t.ID, Reason: "closing"})
			do(end, evs, err)
		}
		for _, c := range site.Counters {
			evs, err := eng.CloseCounter(by(end), c.ID)
			do(end, evs, err)
		}
		if err := st.Append([]*store.Record{{Events: day}}); err != nil {
			return 0, 0, err
		}
		events += len(day)
		day = day[:0]
	}
	return tickets, events, nil
}

func poisson(rng *rand.Rand, mean float64) int {
	// Knuth's method: fine for small means.
	l, k, p := mathExp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p < l {
			return k
		}
		k++
	}
}

// benchProjection opens the year's statistics, caught up.
func benchProjection(b *testing.B) *Projection {
	b.Helper()
	dir, err := yearData()
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.OpenDir(dir, store.DirOptions{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	site := benchSite()
	p, err := Open(context.Background(), Options{Store: st, Site: &site})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	if _, err := p.CatchUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	return p
}

var yearQuery = Query{From: "2026-01-01", To: "2026-12-31"}

// BenchmarkCatchUpYear folds the year's log into an empty projection.
func BenchmarkCatchUpYear(b *testing.B) {
	dir, err := yearData()
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.OpenDir(dir, store.DirOptions{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	site := benchSite()
	var n, i int
	measure(b, nil, func() {
		i++
		path := filepath.Join(b.TempDir(), fmt.Sprintf("stats-%d.db", i))
		p, err := Open(context.Background(), Options{Store: st, Site: &site, Path: path})
		if err != nil {
			b.Fatal(err)
		}
		if n, err = p.CatchUp(context.Background()); err != nil {
			b.Fatal(err)
		}
		p.Close()
	})
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// cpuTime is the CPU time the process has used, user and system: on a
// machine shared with other work, wall time says more of the others.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn b.N times and reports its CPU time per run beside the
// wall time; before runs outside the timer before each.
func measure(b *testing.B, before, fn func()) {
	var cpu time.Duration
	for b.Loop() {
		if before != nil {
			b.StopTimer()
			before()
			b.StartTimer()
		}
		c := cpuTime()
		fn()
		cpu += cpuTime() - c
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

func report(b *testing.B, p *Projection, q Query) *Report {
	r, err := p.Report(context.Background(), q)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkReportYear computes the statistics of the whole year, the
// projection's rows in memory (as in a hub that has shown them once).
func BenchmarkReportYear(b *testing.B) {
	p := benchProjection(b)
	r := report(b, p, yearQuery)
	measure(b, nil, func() { r = report(b, p, yearQuery) })
	b.ReportMetric(float64(r.Total.Tickets), "tickets")
}

// BenchmarkReportYearCold computes the statistics of the whole year,
// reading the projection's rows from its file (the first report after a
// start, guichet stats).
func BenchmarkReportYearCold(b *testing.B) {
	p := benchProjection(b)
	var r *Report
	measure(b, func() { p.cache.drop(nil) }, func() { r = report(b, p, yearQuery) })
	b.ReportMetric(float64(r.Total.Tickets), "tickets")
}

// BenchmarkReportDay computes the statistics of one busy day.
func BenchmarkReportDay(b *testing.B) {
	p := benchProjection(b)
	q := Query{From: "2026-11-05", To: "2026-11-05"}
	r := report(b, p, q)
	measure(b, nil, func() { r = report(b, p, q) })
	b.ReportMetric(float64(r.Total.Tickets), "tickets")
}

// BenchmarkPageYear is what the statistics page of a year costs the hub:
// the report and its three charts, warm.
func BenchmarkPageYear(b *testing.B) {
	p := benchProjection(b)
	report(b, p, yearQuery)
	measure(b, nil, func() {
		r := report(b, p, yearQuery)
		for _, c := range Charts(r, &p.site, "fr") {
			if len(c.SVG) == 0 {
				b.Fatal("no chart")
			}
		}
	})
}

// BenchmarkCSVYear exports the year: the detail (one row per ticket) and
// the summary (one row per service and day), warm.
func BenchmarkCSVYear(b *testing.B) {
	for _, kind := range []string{KindDetail, KindSummary} {
		b.Run(kind, func(b *testing.B) {
			p := benchProjection(b)
			report(b, p, yearQuery)
			var n int64
			measure(b, nil, func() {
				w := &countWriter{}
				if err := p.WriteCSV(context.Background(), w, yearQuery, kind, "fr"); err != nil {
					b.Fatal(err)
				}
				n = w.n
			})
			b.ReportMetric(float64(n)/1e6, "MB")
		})
	}
}

// BenchmarkMemoryYear is the memory the year's rows take in the cache.
func BenchmarkMemoryYear(b *testing.B) {
	p := benchProjection(b)
	for b.Loop() {
		p.cache.drop(nil)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		report(b, p, yearQuery)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "cache-MB")
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(b []byte) (int, error) { w.n += int64(len(b)); return len(b), nil }
