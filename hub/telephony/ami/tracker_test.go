package ami

import (
	"fmt"
	"math/rand/v2"
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

// Events the adapter has no use for are ignored quietly: no event, no log.
func TestUnknownEventsAreIgnoredQuietly(t *testing.T) {
	log, buf := testLog()
	a, err := New(Config{Addr: "x:5038", Username: "hub", Mapping: scriptMapping(), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	var got []tel.Event
	for _, raw := range []string{
		"Event: NewAgeOfAsterisk\nPrivilege: call,all\nUniqueid: 9.1\nQueue: accueil\n\n",
		"Event: QueueCallerJoin\nQueue: not-mapped\nUniqueid: 9.2\nCallerIDNum: 0612345678\n\n",
		"Event: AgentCalled\nQueue: accueil\nUniqueid: 9.3\n\n", // no DestUniqueid: nothing to ring
		"Event: Hangup\nUniqueid: 9.4\nCause: 16\n\n",
	} {
		p, err := NewReader(strings.NewReader(raw), 0, 0, nil).Next()
		if err != nil {
			t.Fatal(err)
		}
		a.handle(p, func(e tel.Event) { got = append(got, e) })
	}
	// The AgentCalled for an unseen call of a mapped queue announces it
	// (its join was between a reconnect and the snapshot), nothing more.
	if len(got) != 1 {
		t.Fatalf("events %+v", got)
	}
	if w, ok := got[0].(tel.CallWaiting); !ok || w.Call.ID != "9.3" {
		t.Fatalf("event %+v", got[0])
	}
	if buf.String() != "" {
		t.Errorf("logged:\n%s", buf.String())
	}
}

// callScript is one call's events, in Asterisk's order, and how it must
// end.
type callScript struct {
	id      tel.CallID
	packets []Packet
	end     string // "abandoned hung_up", "abandoned left_queue", "ended caller", "ended transfer"
}

func parsePackets(t *testing.T, text string) []Packet {
	r := NewReader(strings.NewReader(strings.ReplaceAll(text, "\n", "\r\n")), 0, 0, nil)
	var ps []Packet
	for {
		p, err := r.Next()
		if err != nil {
			return ps
		}
		ps = append(ps, p)
	}
}

func randomCall(t *testing.T, r *rand.Rand, i int) callScript {
	uid := fmt.Sprintf("7.%d", i)
	leg := func(n int) string { return fmt.Sprintf("7.%d%d", i, n) }
	ms := []string{"PJSIP/100", "Local/101@agents/n"}
	r.Shuffle(len(ms), func(a, b int) { ms[a], ms[b] = ms[b], ms[a] })
	q := "accueil"
	var b strings.Builder
	b.WriteString(joinEv(uid, "06000000"+fmt.Sprint(10+i), q))
	s := callScript{id: tel.CallID(uid)}
	switch r.IntN(4) {
	case 0: // rings one member who does not answer, then the caller hangs up
		b.WriteString(calledEv(uid, leg(1), ms[0], q) + dialEndEv(uid, leg(1), "NOANSWER"))
		fmt.Fprintf(&b, "Event: AgentRingNoAnswer\nUniqueid: %s\nDestUniqueid: %s\nQueue: %s\nInterface: %s\nRingTime: 15\n\n", uid, leg(1), q, ms[0])
		b.WriteString(hangupEv(leg(1), "19"))
		fmt.Fprintf(&b, "Event: QueueCallerAbandon\nUniqueid: %s\nQueue: %s\nPosition: 1\nOriginalPosition: 1\nHoldTime: 20\n\n", uid, q)
		b.WriteString(leaveEv(uid, q) + hangupEv(uid, "16"))
		s.end = "abandoned hung_up"
	case 1: // ringall: both ring, the first answers
		b.WriteString(calledEv(uid, leg(1), ms[0], q) + calledEv(uid, leg(2), ms[1], q))
		b.WriteString(dialEndEv(uid, leg(1), "ANSWER") + dialEndEv(uid, leg(2), "CANCEL") + dialEndEv(uid, leg(2), "CANCEL"))
		b.WriteString(hangupEv(leg(2), "26") + leaveEv(uid, q) + connectEv(uid, leg(1), ms[0], q, 3))
		fmt.Fprintf(&b, "Event: AgentComplete\nUniqueid: %s\nQueue: %s\nInterface: %s\nHoldTime: 3\nTalkTime: 42\nReason: caller\n\n", uid, q, ms[0])
		b.WriteString(hangupEv(uid, "16") + hangupEv(leg(1), "16"))
		s.end = "ended caller"
	case 2: // nobody answers before the queue's timeout
		b.WriteString(calledEv(uid, leg(1), ms[0], q))
		fmt.Fprintf(&b, "Event: AgentRingNoAnswer\nUniqueid: %s\nDestUniqueid: %s\nQueue: %s\nInterface: %s\nRingTime: 15\n\n", uid, leg(1), q, ms[0])
		b.WriteString(leaveEv(uid, q) + hangupEv(uid, "16"))
		s.end = "abandoned left_queue"
	case 3: // answered, then transferred by the agent
		b.WriteString(calledEv(uid, leg(1), ms[1], q) + dialEndEv(uid, leg(1), "ANSWER") + leaveEv(uid, q) + connectEv(uid, leg(1), ms[1], q, 8))
		fmt.Fprintf(&b, "Event: AgentComplete\nUniqueid: %s\nQueue: %s\nInterface: %s\nHoldTime: 8\nTalkTime: 30\nReason: transfer\n\n", uid, q, ms[1])
		b.WriteString(hangupEv(leg(1), "16") + hangupEv(uid, "16"))
		s.end = "ended transfer"
	}
	s.packets = parsePackets(t, b.String())
	return s
}

// Over random interleavings of calls that abandon, ring out, are answered
// after a ringall or transferred, every call is announced once and ends
// once, the way it really ended, and what a consumer applying the events
// believes is what the adapter holds after every event.
func TestRandomInterleavingsEndEveryCallOnceAsItEnded(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 7))
	for round := range 300 {
		a := newTestAdapter(t, scriptMapping(), func() time.Time { return t0 })
		a.tracker.reset(parsePackets(t, members[0]+"\n\n"+members[1]+"\n\n"), nil)
		view := tel.NewView()
		for _, e := range tel.Reconcile(tel.Snapshot{}, a.tracker.snapshot(), t0) {
			view.Apply(e)
		}
		var scripts []callScript
		for i := range 1 + r.IntN(6) {
			scripts = append(scripts, randomCall(t, r, i))
		}
		announced, ended := map[tel.CallID]int{}, map[tel.CallID]string{}
		emit := func(e tel.Event) {
			view.Apply(e)
			switch e := e.(type) {
			case tel.CallWaiting:
				announced[e.Call.ID]++
			case tel.CallAbandoned:
				if ended[e.ID] != "" {
					t.Fatalf("round %d: %s ended twice", round, e.ID)
				}
				ended[e.ID] = "abandoned " + string(e.Reason)
			case tel.CallEnded:
				if ended[e.ID] != "" {
					t.Fatalf("round %d: %s ended twice", round, e.ID)
				}
				ended[e.ID] = "ended " + string(e.By)
			}
		}
		next := make([]int, len(scripts))
		for left := true; left; {
			left = false
			var open []int
			for i, s := range scripts {
				if next[i] < len(s.packets) {
					open = append(open, i)
				}
			}
			if len(open) == 0 {
				break
			}
			left = true
			i := open[r.IntN(len(open))]
			p := scripts[i].packets[next[i]]
			next[i]++
			a.handle(p, emit)
			if v, s := view.Snapshot(), a.tracker.snapshot(); !reflect.DeepEqual(norm(v), norm(s)) {
				t.Fatalf("round %d, after %s of %s: view\n%+v\nadapter\n%+v", round, p.Event(), scripts[i].id, v, s)
			}
		}
		for _, s := range scripts {
			if announced[s.id] != 1 || ended[s.id] != s.end {
				t.Fatalf("round %d: call %s announced %d times, ended %q, want once and %q", round, s.id, announced[s.id], ended[s.id], s.end)
			}
		}
		if len(a.tracker.calls) != 0 || len(a.tracker.legs) != 0 {
			t.Fatalf("round %d: the adapter still holds %d calls and %d legs", round, len(a.tracker.calls), len(a.tracker.legs))
		}
	}
}
