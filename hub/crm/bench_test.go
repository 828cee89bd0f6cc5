package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/audit"
	"guichet/hub/queue"
	"guichet/hub/store"
	"guichet/internal/measure"
)

// The benchmarks run their own loops (make bench runs each once, -benchtime 1x)
// and report percentiles.

// BenchmarkSearch200k searches names, phones and e-mails among 200,000
// citizens, as an agent does at the counter (each search audited).
func BenchmarkSearch200k(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	generate(b, f.s, 200_000, 11)
	rng := rand.New(rand.NewPCG(3, 4))
	queries := make([]string, 0, 64)
	for range 48 {
		queries = append(queries, genFamily[rng.IntN(len(genFamily))]+" "+genFirst[rng.IntN(len(genFirst))])
	}
	queries = append(queries, "lefeb", "Jean Pierre", "N'Diaye", "dartagnan", "06 12 34 56 78", "nobody@example.fr", "Müller", "le gall théo")
	b.ResetTimer()
	for b.Loop() {
		var lat measure.Latencies
		cpu := cpuTime()
		for i := range 2000 {
			q := queries[i%len(queries)]
			t0 := time.Now()
			if _, err := f.s.Search(ctx, etatCivil, q, 20); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/2000, "search-cpu-ms")
		lat.Report(b, "search-")
		real := f.s.audit
		f.s.audit = nopAuditor{}
		lat = lat[:0]
		for i := range 2000 {
			t0 := time.Now()
			if _, err := f.s.Search(ctx, etatCivil, queries[i%len(queries)], 20); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		lat.Report(b, "search-without-audit-")
		f.s.audit = real
	}
}

// BenchmarkTimeline1000 reads the whole timeline of a citizen with 1,000
// entries (audited).
func BenchmarkTimeline1000(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	c := f.citizen(b, Citizen{FamilyName: "Fidèle", FirstNames: "Usager"})
	var cn int64
	f.s.db.R.QueryRow(`SELECT n FROM citizens WHERE id = ?`, c.ID).Scan(&cn)
	err := f.s.write(ctx, "fill", func(tx *sql.Tx) error {
		for i := range 1000 {
			e := Entry{Kind: EntryVisit, Sector: SectorAccueil, At: f.clock.now().Add(time.Duration(i) * time.Hour),
				Visit: &Visit{TicketID: fmt.Sprint("t", i), Number: fmt.Sprintf("A%03d", i%1000), Service: "A"}}
			if i%3 == 1 {
				e = Entry{Kind: EntryNote, Sector: SectorEtatCivil, At: e.At, Note: &Note{Text: "Note de suivi numéro " + fmt.Sprint(i)}}
			}
			if _, err := insertEntry(tx, cn, e, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		var lat measure.Latencies
		cpu := cpuTime()
		for range 300 {
			t0 := time.Now()
			tl, err := f.s.Timeline(ctx, etatCivil, c.ID, 1000)
			if err != nil || len(tl) != 1000 {
				b.Fatal(len(tl), err)
			}
			lat = append(lat, time.Since(t0))
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/300, "timeline-cpu-ms")
		lat.Report(b, "timeline-")
		// The file's own part: the same reads with an audit log that
		// writes nothing, so the fsync of audit.db is left out.
		real := f.s.audit
		f.s.audit = nopAuditor{}
		lat = lat[:0]
		for range 300 {
			t0 := time.Now()
			if _, err := f.s.Timeline(ctx, etatCivil, c.ID, 1000); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		lat.Report(b, "timeline-without-audit-")
		f.s.audit = real
	}
}

// cpuTime is the CPU time the process used, user and system: on a shared
// machine it says what an operation costs when wall-clock percentiles
// mostly say how busy the machine was.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type nopAuditor struct{}

func (nopAuditor) Append(context.Context, audit.Entry) error { return nil }

// BenchmarkImport pushes 5,120 requests from 64 concurrent callers, each
// durable (and audited) before it is answered.
func BenchmarkImport(b *testing.B) {
	for b.Loop() {
		f := newFixture(b)
		ctx := context.Background()
		for i := range 500 {
			f.citizen(b, Citizen{FamilyName: "Import", FirstNames: fmt.Sprint("N", i), Email: fmt.Sprintf("n%d@example.fr", i)})
		}
		const callers, each = 64, 80
		var lat measure.Latencies
		var mu sync.Mutex
		var wg sync.WaitGroup
		start, cpu := time.Now(), cpuTime()
		for w := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine measure.Latencies
				for i := range each {
					body := fmt.Appendf(nil, `{"reference": "R-%d-%d", "kind": "acte_etat_civil", "status": "en_cours",
						"citizen": {"family_name": "Import", "email": "n%d@example.fr"}}`, w, i, (w*each+i)%500)
					t0 := time.Now()
					if _, err := f.s.Import(ctx, system, "bench", body); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.ReportMetric(float64(callers*each)/elapsed.Seconds(), "imports/s")
		b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(callers*each), "import-cpu-ms")
		lat.Report(b, "import-")
	}
}

// BenchmarkPurgeYear200k purges, on 200,000 citizens, the data a year
// older than its retention: a visit and a call two years old for every
// citizen, a note four years old for one in four, and a tenth of the files
// untouched for four years.
func BenchmarkPurgeYear200k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b)
		ctx := context.Background()
		now := f.clock.now()
		f.clock.set(now.Add(-4 * 365 * Day))
		generate(b, f.s, 200_000, 5)
		f.clock.set(now)
		err := f.s.write(ctx, "ages", func(tx *sql.Tx) error {
			rng := rand.New(rand.NewPCG(9, 9))
			for n := int64(1); n <= 200_000; n++ {
				if n%10 == 0 {
					continue // untouched for four years
				}
				at := now.Add(-time.Duration(365+rng.IntN(365)) * Day)
				if _, err := insertEntry(tx, n, Entry{Kind: EntryVisit, Sector: SectorAccueil, At: at, Visit: &Visit{TicketID: "t", Number: "A001", Service: "A"}}, "t"); err != nil {
					return err
				}
				if _, err := insertEntry(tx, n, Entry{Kind: EntryCall, Sector: SectorAccueil, At: at, Call: &Call{Outcome: "answered"}}, ""); err != nil {
					return err
				}
				if _, err := insertEntry(tx, n, Entry{Kind: EntryVisit, Sector: SectorAccueil, At: now.Add(-time.Duration(rng.IntN(300)) * Day),
					Visit: &Visit{TicketID: "t2", Number: "B001", Service: "B"}}, "t2"); err != nil {
					return err
				}
				if n%4 == 0 {
					if _, err := insertEntry(tx, n, Entry{Kind: EntryNote, Sector: SectorEtatCivil, At: now.Add(-4 * 365 * Day), Note: &Note{Text: "ancienne note"}}, ""); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		c := f.citizen(b, Citizen{FamilyName: "Présent", FirstNames: "Agent"})
		desk := newBenchDesk(b, f.dir)
		b.StartTimer()
		// An agent keeps writing notes meanwhile, and another keeps calling
		// the next citizen at the counter (the hub's own database, beside
		// crm.db on the same disk): how long do they wait?
		done := make(chan struct{})
		var lat, calls measure.Latencies
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			calls = desk.callEvery(ctx, b, 20*time.Millisecond, done)
		}()
		go func() {
			defer wg.Done()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				t0 := time.Now()
				if _, err := f.s.AddNote(ctx, etatCivil, c.ID, SectorEtatCivil, "pendant la purge"); err != nil {
					b.Error(err)
					return
				}
				lat = append(lat, time.Since(t0))
			}
		}()
		t0 := time.Now()
		plan, err := f.s.Purge(ctx, system, false)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "purge-s")
		close(done)
		wg.Wait()
		lat.Report(b, "note-during-purge-")
		calls.Report(b, "call-next-during-purge-")
		removed := 0
		for _, it := range plan.Items {
			removed += it.Count + it.Entries
		}
		b.ReportMetric(float64(removed), "rows-removed")
	}
}

// benchDesk is a hub with its own database and one counter, to measure what
// call next costs while the citizen file works.
type benchDesk struct{ h *hub.Hub }

func newBenchDesk(b *testing.B, dir string) *benchDesk {
	b.Helper()
	st, err := store.Open(filepath.Join(dir, "guichet.db"), quiet)
	if err != nil {
		b.Fatal(err)
	}
	site := queue.Site{ID: "bench", Location: time.UTC, Policy: queue.DefaultPolicy(),
		Services: []queue.Service{{ID: "A", SLA: 20 * time.Minute, Channels: []queue.Channel{queue.Visit}, ServiceTime: 5 * time.Minute}},
		Counters: []queue.Counter{{ID: "1"}}, Agents: []queue.Agent{{ID: "a1", Skills: map[string]int{"A": 1}}}}
	site.Policy.IgnoreHours = true
	h, err := hub.New(hub.Options{Site: site, Store: st, Log: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(); st.Close() })
	d := &benchDesk{h: h}
	open, _ := hub.CounterAction("open", "1", &api.OpenArgs{Agent: "a1"})
	d.do(b, open)
	return d
}

func (d *benchDesk) do(b *testing.B, act hub.Action) {
	rep, err := d.h.Do(context.Background(), "", "bench", act, func(hub.Outcome, json.RawMessage) []byte { return nil })
	if err != nil {
		b.Fatal(err)
	}
	if !rep.Done() {
		b.Fatalf("the desk's operation was refused: %s %s", rep.Code, rep.Message)
	}
}

// callEvery issues a ticket, calls it and finishes it every period until
// done, and returns how long each call next took to be durable.
func (d *benchDesk) callEvery(ctx context.Context, b *testing.B, period time.Duration, done <-chan struct{}) measure.Latencies {
	var lat measure.Latencies
	tick := time.NewTicker(period)
	defer tick.Stop()
	next, _ := hub.CounterAction("call_next", "1", nil)
	finish, _ := hub.CounterAction("finish", "1", nil)
	for {
		select {
		case <-done:
			return lat
		case <-tick.C:
		}
		d.do(b, hub.IssueTicket(api.IssueArgs{Service: "A"}, ""))
		t0 := time.Now()
		d.do(b, next)
		lat = append(lat, time.Since(t0))
		d.do(b, finish)
	}
}
