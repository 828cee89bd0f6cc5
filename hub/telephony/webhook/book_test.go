package webhook

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	tel "guichet/hub/telephony"
)

// Over random sequences of what a provider may post — in order, twice,
// out of order, contradicting itself, with snapshots now and then — a
// consumer that applies the events (and Reconcile at each Resync) holds
// exactly the book's calls after every message, and every call it was
// told of ends exactly once per announcement by the last, empty snapshot.
func TestRandomProviderSequencesEndEveryAnnouncedCallExactlyOnce(t *testing.T) {
	agents := []string{"agent-101", "agent-102", "agent-999"}
	queues := []string{"accueil", "etat-civil", "not-mapped"}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		b := newBook(testMapping())
		cons := newConsumer()
		now := t0
		apply := func(ch change, err error) {
			if err != nil || ch.commit == nil {
				return
			}
			ch.commit()
			for _, e := range ch.events {
				cons.emit(e)
			}
		}
		for step := range 60 {
			now = now.Add(time.Duration(r.IntN(30)) * time.Second)
			id := fmt.Sprintf("c%d", r.IntN(6))
			ag := agents[r.IntN(len(agents))]
			switch k := r.IntN(20); {
			case k < 5:
				apply(b.waiting(Call{CallID: id, Queue: queues[r.IntN(len(queues))], Number: "0612345678"}, now))
			case k < 8:
				apply(b.call(TypeCallOffered, Call{CallID: id, Agent: ag}, now))
			case k < 9:
				apply(b.call(TypeOfferEnded, Call{CallID: id, Agent: ag, Reason: "no_answer"}, now))
			case k < 12:
				apply(b.call(TypeCallConnected, Call{CallID: id, Agent: ag}, now))
			case k < 15:
				apply(b.call(TypeCallAbandoned, Call{CallID: id}, now))
			case k < 18:
				apply(b.call(TypeCallEnded, Call{CallID: id, By: "caller"}, now))
			default:
				var s Snapshot
				for i := range 6 {
					if r.IntN(3) == 0 {
						c := Call{CallID: fmt.Sprintf("c%d", i), Queue: queues[r.IntN(2)]}
						if r.IntN(2) == 0 {
							c.State, c.Agent = "connected", agents[r.IntN(len(agents))]
						}
						s.Calls = append(s.Calls, c)
					}
				}
				apply(b.replace(s, now))
			}
			if got, want := cons.view.Snapshot().Calls, b.snapshot().Calls; !reflect.DeepEqual(norm(got), norm(want)) {
				t.Fatalf("seed %d step %d: the consumer holds\n%+v\nthe book\n%+v", seed, step, got, want)
			}
		}
		apply(b.replace(Snapshot{}, now.Add(time.Minute)))
		for id, n := range cons.announced {
			if cons.ended[id] != n {
				t.Fatalf("seed %d: call %s announced %d times, ended %d times", seed, id, n, cons.ended[id])
			}
		}
	}
}

// norm drops what Reconcile estimates (times) to compare calls.
func norm(cs []tel.Call) []tel.Call {
	out := make([]tel.Call, 0, len(cs))
	for _, c := range cs {
		c.JoinedAt, c.ConnectedAt = time.Time{}, time.Time{}
		if len(c.Offers) == 0 {
			c.Offers = nil
		}
		out = append(out, c)
	}
	tel.SortCalls(out)
	return out
}
