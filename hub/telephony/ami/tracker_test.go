package ami

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	tel "guichet/hub/telephony"
)

var t0 = time.Date(2026, 11, 22, 8, 10, 0, 0, time.UTC)

func fixtureMapping() tel.Mapping {
	return tel.Mapping{
		Queues:  map[string]string{"reception": "A"},
		Members: map[string]string{"Local/100@agents/n": "agent-100", "Local/101@agents/n": "agent-101"},
	}
}

func newTestAdapter(t *testing.T, m tel.Mapping, now func() time.Time) *Adapter {
	t.Helper()
	a, err := New(Config{Addr: "127.0.0.1:5038", Username: "hub", Mapping: m, OriginateContext: "from-internal", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// listItems returns the items of a recorded list action.
func listItems(ps []Packet, id string) []Packet {
	var items []Packet
	for _, p := range ps {
		if p.IsEvent() && p.Get("ActionID") == id && !strings.EqualFold(p.Get("EventList"), "Complete") {
			items = append(items, p)
		}
	}
	return items
}

// The adapter over the whole recorded session: from the snapshot the
// QueueStatus before the first call gives, the recorded events produce the
// three calls' events in order, with the caller's number, the queue's
// service, the members rung, who took each call, waits and talk times; the
// ringall loser's offer ends once (its DialEnd comes twice); the
// OriginateResponses, one before its call's join and one after, give their
// results; pauses and unpauses give the agents' states.
func TestAdapterTranslatesTheRecordedSession(t *testing.T) {
	lines := loadFixture(t)
	ps := asteriskPackets(t, lines)
	a := newTestAdapter(t, fixtureMapping(), func() time.Time { return t0 })
	a.originates["probe-4"] = origination{ref: "cb-1"}
	a.originates["probe-9"] = origination{ref: "cb-2"}
	a.originates["probe-11"] = origination{ref: "cb-3"}
	a.tracker.reset(listItems(ps, "probe-3"), nil)
	snap := a.tracker.snapshot()
	wantAgents := []tel.AgentState{
		{Agent: "agent-100", Member: "Local/100@agents/n", Name: "Agent 100", LoggedIn: true, Device: tel.DeviceIdle},
		{Agent: "agent-101", Member: "Local/101@agents/n", Name: "Agent 101", LoggedIn: true, Device: tel.DeviceIdle},
	}
	if len(snap.Calls) != 0 || !reflect.DeepEqual(snap.Agents, wantAgents) {
		t.Fatalf("snapshot before the calls: %+v", snap)
	}
	var got []tel.Event
	view := tel.NewView()
	for _, e := range tel.Reconcile(tel.Snapshot{}, snap, t0) {
		view.Apply(e)
	}
	emit := func(e tel.Event) {
		got = append(got, e)
		view.Apply(e)
	}
	started := false
	for _, p := range ps {
		if p.Get("ActionID") == "probe-3" && p.Event() == "QueueStatusComplete" {
			started = true
			continue
		}
		if started && p.IsEvent() && !listActionIDs[p.Get("ActionID")] {
			a.handle(p, emit)
			// What a consumer applying the events believes is what the
			// adapter holds, after every event.
			if v, s := view.Snapshot(), a.tracker.snapshot(); !reflect.DeepEqual(norm(v), norm(s)) {
				t.Fatalf("after %s the consumer's view is\n%+v\nthe adapter's\n%+v", p.Event(), v, s)
			}
		}
	}
	const (
		c1 = tel.CallID("1795335017.0")
		c2 = tel.CallID("1795335028.6")
		c3 = tel.CallID("1795335038.10")
	)
	call := func(id tel.CallID) tel.Call {
		return tel.Call{ID: id, Linkedid: string(id), Number: "0612345678", Name: "Jean Dupont", Queue: "reception", Service: "A", JoinedAt: t0, State: tel.Waiting}
	}
	agent := func(n string, paused bool, reason string, inCall bool, dev tel.Device) tel.AgentStateChanged {
		return tel.AgentStateChanged{State: tel.AgentState{Agent: "agent-" + n, Member: "Local/" + n + "@agents/n", Name: "Agent " + n,
			LoggedIn: true, Paused: paused, Reason: reason, InCall: inCall, Device: dev}}
	}
	want := []tel.Event{
		// Call 1: ringall, 101 answers; OriginateResponse before the join.
		tel.OriginateResult{Ref: "cb-1", OK: true, CallID: c1},
		tel.CallWaiting{Call: call(c1)},
		tel.CallOffered{ID: c1, Agent: "agent-100", Member: "Local/100@agents/n"},
		tel.CallOffered{ID: c1, Agent: "agent-101", Member: "Local/101@agents/n"},
		tel.OfferEnded{ID: c1, Agent: "agent-100", Member: "Local/100@agents/n", Reason: tel.OfferAnsweredElsewhere},
		tel.CallConnected{ID: c1, Agent: "agent-101", Member: "Local/101@agents/n", Wait: 2 * time.Second, At: t0},
		agent("101", false, "", true, tel.DeviceInUse),
		agent("101", false, "", false, tel.DeviceIdle),
		tel.CallEnded{ID: c1, Agent: "agent-101", Member: "Local/101@agents/n", Wait: 2 * time.Second, Talk: 7 * time.Second, By: tel.EndedByAgent},
		// 100 paused for lunch.
		agent("100", true, "lunch", false, tel.DeviceIdle),
		// Call 2: only 101 rings.
		tel.OriginateResult{Ref: "cb-2", OK: true, CallID: c2},
		tel.CallWaiting{Call: call(c2)},
		tel.CallOffered{ID: c2, Agent: "agent-101", Member: "Local/101@agents/n"},
		tel.CallConnected{ID: c2, Agent: "agent-101", Member: "Local/101@agents/n", Wait: 2 * time.Second, At: t0},
		agent("101", false, "", true, tel.DeviceInUse),
		agent("101", false, "", false, tel.DeviceIdle),
		tel.CallEnded{ID: c2, Agent: "agent-101", Member: "Local/101@agents/n", Wait: 2 * time.Second, Talk: 6 * time.Second, By: tel.EndedByAgent},
		// Call 3: both paused, the caller hangs up after 3 s;
		// OriginateResponse after the join.
		agent("101", true, "", false, tel.DeviceIdle),
		tel.CallWaiting{Call: call(c3)},
		tel.OriginateResult{Ref: "cb-3", OK: true, CallID: c3},
		tel.CallAbandoned{ID: c3, Wait: 3 * time.Second, Reason: tel.AbandonHungUp},
		// Both unpaused.
		agent("100", false, "", false, tel.DeviceIdle),
		agent("101", false, "", false, tel.DeviceIdle),
	}
	if len(got) != len(want) {
		t.Errorf("%d events, want %d", len(got), len(want))
	}
	for i := range max(len(got), len(want)) {
		var g, w tel.Event
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("event %d:\n got %s\nwant %s", i, show(g), show(w))
		}
	}
	if s := a.tracker.snapshot(); len(s.Calls) != 0 {
		t.Errorf("calls left at the end: %+v", s.Calls)
	}
}

func show(e tel.Event) string { return fmt.Sprintf("%T%+v", e, e) }

// norm makes empty slices nil, for comparisons.
func norm(s tel.Snapshot) tel.Snapshot {
	var out tel.Snapshot
	for _, c := range s.Calls {
		if len(c.Offers) == 0 {
			c.Offers = nil
		}
		out.Calls = append(out.Calls, c)
	}
	out.Agents = append(out.Agents, s.Agents...)
	return out
}
