package queue

import (
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
)

// Check finds each kind of broken state; the property tests rely on it.
func TestCheckFindsABrokenQueue(t *testing.T) {
	build := func(t *testing.T) *harness {
		h := newHarness(t, testSite())
		h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
		for i := 0; i < 3; i++ {
			h.tick(time.Minute)
			h.issue(issueReq{Service: "A", Channel: Visit})
		}
		h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
		if err := h.e.Check(); err != nil {
			t.Fatalf("a sound queue: %v", err)
		}
		return h
	}
	for name, tc := range map[string]struct {
		breakIt func(e *Engine)
		want    string
	}{
		"a waiting ticket in another lane": {func(e *Engine) {
			ts := e.Tickets(Waiting, "")
			e.lanes[laneKey{"A", Visit, PriorityPublic}] = &lane{tickets: []*Ticket{e.tickets[ts[0].ID]}}
		}, "belongs in"},
		"a waiting ticket twice in its lane": {func(e *Engine) {
			for _, l := range e.lanes {
				l.tickets = append([]*Ticket{l.tickets[0]}, l.tickets...)
			}
		}, "in 2 lanes"},
		"a called ticket back in its lane": {func(e *Engine) {
			cs := e.counterSt["1"]
			e.enlane(e.tickets[cs.Ticket])
		}, "in 1 lanes"},
		"a ticket held by two counters": {func(e *Engine) {
			e.counterSt["2"].Open, e.counterSt["2"].Agent, e.counterSt["2"].Ticket = true, "bob", e.counterSt["1"].Ticket
			e.agentSt["bob"].Counter, e.agentSt["bob"].State = "2", AgentServing
		}, "held by counters"},
		"a number given twice": {func(e *Engine) {
			ts := e.Tickets(Waiting, "")
			e.tickets[ts[1].ID].Number = ts[0].Number
		}, "given to tickets"},
		"a lane out of order": {func(e *Engine) {
			for _, l := range e.lanes {
				l.tickets[0], l.tickets[1] = l.tickets[1], l.tickets[0]
			}
		}, "out of order"},
		"an agent serving nothing": {func(e *Engine) {
			e.counterSt["1"].Ticket = ""
		}, "holds no ticket"},
	} {
		t.Run(name, func(t *testing.T) {
			h := build(t)
			tc.breakIt(h.e)
			if err := h.e.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check() = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// The log holds the accounts' events beside the queue's; the hub writes
// them without the engine, so the engine must not count them, nor roll
// over to a new day on one: rebuilt from the log at a restart, it was not
// the live engine (one more event applied, yesterday's finished tickets
// dropped before the day's first ticket).
func TestAnEventOfAnotherKindChangesNothing(t *testing.T) {
	h := newHarness(t, testSite())
	h.issue(issueReq{Service: "A", Channel: Visit})
	before := h.state()
	h.e.Apply(Event{At: day0.Add(36 * time.Hour), Type: "account.signed_in", Account: "ana", Address: "10.0.0.1"})
	if after := h.state(); after != before {
		t.Fatalf("an account event changed the engine:\n%s\n%s", before, after)
	}
}
