package queue

import (
	"fmt"
	"testing"
	"time"

	"guichet/hub/api"
)

// BenchmarkCostAtQueueSize: what the hub does for a ticket (issue it and
// answer its position and estimate; then the citizen leaves), an agent's call next (and a new
// arrival, so the line keeps its length), and the queue summary, with 30
// and with 30,000 tickets waiting for one service at ten counters: issue 14
// asks that they cost the same. PlayLimit waiting is the dearest: the most
// the estimate plays (rule 7); beyond, it is estimated at the agents' pace.
//
//	go test -run '^$' -bench CostAtQueueSize -benchmem ./hub/queue/
func BenchmarkCostAtQueueSize(b *testing.B) {
	for _, n := range []int{30, PlayLimit, 30_000} {
		setup := func(b *testing.B) (*Engine, time.Time) {
			s := Site{ID: "one", Location: paris, Policy: DefaultPolicy()}
			s.Policy.IgnoreHours = true
			s.Services = []Service{{ID: "A", SLA: 20 * time.Minute, Channels: []Channel{Visit, Phone}, ServiceTime: 6 * time.Minute}}
			for i := range 10 {
				s.Counters = append(s.Counters, Counter{ID: fmt.Sprint(i)})
				s.Agents = append(s.Agents, Agent{ID: fmt.Sprintf("a%d", i), Skills: map[string]int{"A": 1}})
			}
			e, err := New(s)
			if err != nil {
				b.Fatal(err)
			}
			now := time.Date(2026, 11, 17, 9, 0, 0, 0, paris)
			for i := range 10 {
				if _, err := e.OpenCounter(By{At: now}, fmt.Sprint(i), api.OpenArgs{Agent: fmt.Sprintf("a%d", i)}); err != nil {
					b.Fatal(err)
				}
			}
			for i := range n {
				if _, err := e.Issue(By{At: now.Add(time.Duration(i) * time.Millisecond)}, IssueRequest{ID: fmt.Sprintf("w%06d", i), Args: api.IssueArgs{Service: "A"}}); err != nil {
					b.Fatal(err)
				}
			}
			return e, now.Add(time.Hour)
		}
		b.Run(fmt.Sprintf("issue/waiting=%d", n), func(b *testing.B) {
			e, now := setup(b)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				id := fmt.Sprintf("b%08d", i)
				if _, err := e.Issue(By{At: now}, IssueRequest{ID: id, Args: api.IssueArgs{Service: "A"}}); err != nil {
					b.Fatal(err)
				}
				if _, est, ok := e.Estimate(now, id); !ok || !est.Known {
					b.Fatal("no estimate")
				}
				// The citizen leaves, so that the line keeps its length.
				if _, err := e.Cancel(By{At: now}, api.CancelArgs{Ticket: id}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("callnext/waiting=%d", n), func(b *testing.B) {
			e, now := setup(b)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				c := fmt.Sprint(i % 10)
				if _, err := e.CallNext(By{At: now}, c); err != nil {
					b.Fatal(err)
				}
				if _, err := e.Issue(By{At: now}, IssueRequest{ID: fmt.Sprintf("c%08d", i), Args: api.IssueArgs{Service: "A"}}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("summary/waiting=%d", n), func(b *testing.B) {
			e, now := setup(b)
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(SummaryFresh) // made again each time, not shared
				if len(e.Summary(now)) != 1 {
					b.Fatal("no summary")
				}
			}
		})
	}
}
