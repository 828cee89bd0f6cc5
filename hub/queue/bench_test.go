package queue

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/measure"
)

// bigSite: 20 services, 500 counters (50 of them phone positions), one agent
// per counter with 1 to 4 skills.
func bigSite(r *rand.Rand) Site {
	s := Site{ID: "big", Location: paris, Policy: DefaultPolicy()}
	s.Policy.IgnoreHours = true
	for i := 0; i < 20; i++ {
		s.Services = append(s.Services, Service{ID: fmt.Sprintf("S%02d", i), SLA: time.Duration(10+r.IntN(20)) * time.Minute,
			Weight: 1, Channels: []Channel{Visit, Phone}, ServiceTime: 8 * time.Minute})
	}
	for i := 0; i < 500; i++ {
		c := Counter{ID: fmt.Sprint(i)}
		if i%10 == 0 {
			c.Channels = []Channel{Phone}
		}
		s.Counters = append(s.Counters, c)
		a := Agent{ID: fmt.Sprintf("a%d", i), Skills: map[string]int{}}
		for k := 0; k < 1+r.IntN(4); k++ {
			a.Skills[s.Services[r.IntN(20)].ID] = 1 + r.IntN(3)
		}
		s.Agents = append(s.Agents, a)
	}
	return s
}

// fill issues n waiting tickets over the last hour, mixed classes and channels.
func fill(b testing.TB, e *Engine, r *rand.Rand, now time.Time, n int) {
	for i := 0; i < n; i++ {
		req := issueReq{ID: fmt.Sprintf("t%07d", i), Service: e.site.Services[r.IntN(20)].ID}
		if r.IntN(5) == 0 {
			req.Channel = Phone
		}
		switch r.IntN(10) {
		case 0:
			req.Priority = PriorityPublic
		case 1:
			req.Priority = PriorityAppointment
			req.AppointmentAt = now.Add(time.Duration(r.IntN(120)-60) * time.Minute)
		}
		at := now.Add(-time.Hour + time.Duration(i)*time.Hour/time.Duration(n))
		if _, err := e.Issue(By{At: at}, req.request()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallNextDecision: the policy's choice for one counter with 10,000
// tickets waiting across 20 services and 500 counters open (target p99 ≤ 2 ms).
func BenchmarkCallNextDecision(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	e, err := New(bigSite(r))
	if err != nil {
		b.Fatal(err)
	}
	now := day0.Add(2 * time.Hour)
	for _, c := range e.site.Counters {
		if _, err := e.OpenCounter(By{At: now}, c.ID, api.OpenArgs{Agent: "a" + c.ID}); err != nil {
			b.Fatal(err)
		}
	}
	fill(b, e, r, now, 10_000)
	var lat measure.Latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat = lat[:0]
		for k := 0; k < 20_000; k++ {
			c := &e.site.Counters[k%500]
			a := e.agents["a"+c.ID]
			start := time.Now()
			if e.pick(now, c, a, nil) == nil && len(e.servable(c, a)) > 0 && c.Takes(Visit) {
				b.Fatal("no pick with 10,000 waiting")
			}
			lat = append(lat, time.Since(start))
		}
	}
	lat.Report(b, "decision-")
}

// BenchmarkMemory100kWaiting: heap held by the engine with 100,000 tickets
// waiting (target < 200 MB).
func BenchmarkMemory100kWaiting(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r := rand.New(rand.NewPCG(3, 4))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e, _ := New(bigSite(r))
		fill(b, e, r, day0.Add(2*time.Hour), 100_000)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
		runtime.KeepAlive(e)
	}
}

// BenchmarkIssueChecked: one ticket issued, every bound of the request
// checked, with 10,000 tickets waiting.
func BenchmarkIssueChecked(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	e, err := New(bigSite(r))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 17, 10, 0, 0, 0, paris)
	fill(b, e, r, now, 10_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := IssueRequest{ID: fmt.Sprintf("b%08d", i), Token: fmt.Sprintf("tok%019d", i), Device: "kiosk-hall",
			Args: api.IssueArgs{Service: "S07", Priority: "priority", Citizen: "crm-0042-7781", Lang: "pt-BR"}}
		if _, err := e.Issue(By{At: now}, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSiteChangeOnABusyEngine: an administrator's change of a service
// (checked, applied: the site copied and indexed again) with 10,000 tickets
// waiting across 20 services and 500 counters.
func BenchmarkSiteChangeOnABusyEngine(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	e, err := New(bigSite(r))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 17, 11, 0, 0, 0, paris)
	fill(b, e, r, now, 10_000)
	sv := Service{ID: "Z", Names: map[string]string{"fr": "Élections"}, Channels: []Channel{Visit}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sv.SLA = time.Duration(1+i%60) * time.Minute
		if _, err := e.SaveService(By{At: now}, sv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallNextDecisionWithHeldTickets: BenchmarkCallNextDecision
// when the first five tickets of every lane (600 in all) are held for one
// agent (transferred to them): every other counter looks past them.
func BenchmarkCallNextDecisionWithHeldTickets(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	e, err := New(bigSite(r))
	if err != nil {
		b.Fatal(err)
	}
	now := day0.Add(2 * time.Hour)
	for _, c := range e.site.Counters {
		if _, err := e.OpenCounter(By{At: now}, c.ID, api.OpenArgs{Agent: "a" + c.ID}); err != nil {
			b.Fatal(err)
		}
	}
	fill(b, e, r, now, 10_000)
	held := 0
	for _, l := range e.lanes {
		for _, t := range l.tickets[:min(len(l.tickets), 5)] {
			t.ForAgent, t.HoldUntil = "a1", now.Add(time.Hour)
			held++
		}
	}
	var lat measure.Latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat = lat[:0]
		for k := 0; k < 20_000; k++ {
			c := &e.site.Counters[k%500]
			a := e.agents["a"+c.ID]
			start := time.Now()
			e.pick(now, c, a, nil)
			lat = append(lat, time.Since(start))
		}
	}
	lat.Report(b, "decision-")
	b.ReportMetric(float64(held), "held")
}
