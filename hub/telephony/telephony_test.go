package telephony

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMappingValidateReportsEveryProblem(t *testing.T) {
	m := Mapping{
		Queues: map[string]string{"reception": "A", " etat-civil": "E", "urbanisme": ""},
		Members: map[string]string{
			"PJSIP/100":          "alice",
			"PJSIP/101":          "alice",
			"PJSIP/102\r\nEvil:": "bob",
			"PJSIP/103":          "",
		},
	}
	err := m.Validate()
	if err == nil {
		t.Fatal("a mapping with five problems was accepted")
	}
	for _, want := range []string{
		`queue " etat-civil" starts or ends with a space`,
		`service of queue "urbanisme" is empty`,
		`agent "alice" is mapped from two members, "PJSIP/100" and "PJSIP/101"`,
		`member "PJSIP/102\r\nEvil:" holds a control character`,
		`agent of member "PJSIP/103" is empty`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err := (Mapping{}).Validate(); err == nil || !strings.Contains(err.Error(), "no PBX queue") {
		t.Errorf("empty mapping: %v", err)
	}
	good := Mapping{Queues: map[string]string{"reception": "A"}, Members: map[string]string{"PJSIP/100": "alice"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good mapping refused: %v", err)
	}
	if mem, ok := good.Member("alice"); !ok || mem != "PJSIP/100" {
		t.Errorf("Member(alice) = %q, %v", mem, ok)
	}
	if good.Agent("PJSIP/999") != "" {
		t.Error("an unmapped member has an agent")
	}
}

var t0 = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// randomSnapshot draws a few calls out of a small pool of ids, members and
// queues, so that two snapshots share calls in every combination of states.
func randomSnapshot(r *rand.Rand) Snapshot {
	var s Snapshot
	members := []string{"PJSIP/100", "PJSIP/101", "PJSIP/102"}
	for i := range 6 {
		if r.IntN(2) == 0 {
			continue
		}
		c := Call{
			ID: CallID(fmt.Sprintf("1795.%d", i)), Linkedid: fmt.Sprintf("1795.%d", i), Number: "0612345678",
			Queue: []string{"reception", "social"}[r.IntN(2)], JoinedAt: t0.Add(time.Duration(i) * time.Second), State: Waiting,
		}
		c.Service = map[string]string{"reception": "A", "social": "S"}[c.Queue]
		if r.IntN(3) == 0 {
			m := members[r.IntN(len(members))]
			c.State, c.Member, c.Agent, c.ConnectedAt = Connected, m, "agent-"+m[6:], c.JoinedAt.Add(20*time.Second)
		} else {
			for _, m := range members {
				if r.IntN(3) == 0 {
					c.Offers = append(c.Offers, Offer{Agent: "agent-" + m[6:], Member: m})
				}
			}
		}
		s.Calls = append(s.Calls, c)
	}
	for _, m := range members {
		s.Agents = append(s.Agents, AgentState{Agent: "agent-" + m[6:], Member: m, LoggedIn: true, Paused: r.IntN(2) == 0, Device: DeviceIdle})
	}
	return s
}

func viewOf(s Snapshot) *View {
	v := NewView()
	for _, e := range Reconcile(Snapshot{}, s, t0) {
		v.Apply(e)
	}
	return v
}

// After a reconnect, the consumer's view holds exactly the calls present,
// each once, whatever it believed: the property over random pairs.
func TestReconcileMakesTheViewEqualTheSnapshot(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		believed, now := randomSnapshot(r), randomSnapshot(r)
		v := viewOf(believed)
		if got := v.Snapshot(); !reflect.DeepEqual(norm(got.Calls), norm(believed.Calls)) {
			t.Fatalf("case %d: building the believed view from nothing gave\n%+v\nwant\n%+v", i, got.Calls, believed.Calls)
		}
		events := Reconcile(v.Snapshot(), now, t0.Add(time.Minute))
		ended := map[CallID]int{}
		for _, e := range events {
			v.Apply(e)
			switch e := e.(type) {
			case CallEnded:
				ended[e.ID]++
			case CallAbandoned:
				ended[e.ID]++
			}
		}
		got := v.Snapshot()
		if !reflect.DeepEqual(norm(got.Calls), norm(now.Calls)) {
			t.Fatalf("case %d: after reconcile the view has\n%+v\nwant\n%+v\nevents %+v", i, got.Calls, now.Calls, events)
		}
		if !reflect.DeepEqual(got.Agents, now.Agents) {
			t.Fatalf("case %d: agents %+v, want %+v", i, got.Agents, now.Agents)
		}
		for id, n := range ended {
			if n != 1 {
				t.Fatalf("case %d: call %s ended %d times", i, id, n)
			}
		}
		// Reconciling what is already right changes nothing.
		if again := Reconcile(got, now, t0); len(again) != 0 {
			t.Fatalf("case %d: reconciling an exact view gave %+v", i, again)
		}
	}
}

func norm(calls []Call) []Call {
	out := make([]Call, 0, len(calls))
	for _, c := range calls {
		if len(c.Offers) == 0 {
			c.Offers = nil
		}
		out = append(out, c)
	}
	return out
}

func TestReconcileEndsCallsGoneDuringTheOutage(t *testing.T) {
	waiting := Call{ID: "1", Queue: "reception", Service: "A", JoinedAt: t0, State: Waiting}
	connected := Call{ID: "2", Queue: "reception", Service: "A", JoinedAt: t0, State: Connected, Agent: "alice", Member: "PJSIP/100", ConnectedAt: t0.Add(30 * time.Second)}
	at := t0.Add(2 * time.Minute)
	got := Reconcile(Snapshot{Calls: []Call{waiting, connected}}, Snapshot{}, at)
	want := []Event{
		CallAbandoned{ID: "1", Wait: 2 * time.Minute, Reason: AbandonUnknown, Inferred: true},
		CallEnded{ID: "2", Agent: "alice", Member: "PJSIP/100", Wait: 30 * time.Second, Talk: 90 * time.Second, By: EndedByUnknown, Inferred: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestFakeRecordsActionsAndRefusesUnknownAgents(t *testing.T) {
	f := NewFake(Mapping{Queues: map[string]string{"q": "A"}, Members: map[string]string{"PJSIP/100": "alice"}})
	ctx := context.Background()
	if err := f.Pause(ctx, "alice", "visiteur"); err != nil {
		t.Fatal(err)
	}
	if err := f.Pause(ctx, "bob", "x"); !errors.Is(err, ErrUnknownAgent) {
		t.Errorf("pause of an unmapped agent: %v", err)
	}
	f.SetDown(true)
	if err := f.Unpause(ctx, "alice"); !errors.Is(err, ErrNotConnected) {
		t.Errorf("unpause while down: %v", err)
	}
	f.SetDown(false)
	if err := f.Originate(ctx, OriginateRequest{Ref: "cb-1", Agent: "alice", Number: "0612345678"}); err != nil {
		t.Fatal(err)
	}
	want := []FakeAction{
		{Op: "pause", Agent: "alice", Member: "PJSIP/100", Reason: "visiteur"},
		{Op: "originate", Agent: "alice", Member: "PJSIP/100", Ref: "cb-1", Number: "0612345678"},
	}
	if got := f.Actions(); !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %+v, want %+v", got, want)
	}
	ctx, cancel := context.WithCancel(ctx)
	f.Send(CallWaiting{Call: Call{ID: "1"}}, LinkDown{Err: "x"})
	var got []Event
	done := make(chan error)
	go func() {
		done <- f.Run(ctx, func(e Event) {
			got = append(got, e)
			if len(got) == 2 {
				cancel()
			}
		})
	}()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("delivered %+v", got)
	}
}

func TestAgentAvailableOnlyWhenLoggedInUnpausedAndIdle(t *testing.T) {
	base := AgentState{Agent: "a", LoggedIn: true, Device: DeviceIdle}
	if !base.Available() {
		t.Error("idle logged-in agent not available")
	}
	for name, s := range map[string]AgentState{
		"paused":     {Agent: "a", LoggedIn: true, Paused: true, Device: DeviceIdle},
		"in call":    {Agent: "a", LoggedIn: true, InCall: true, Device: DeviceIdle},
		"logged out": {Agent: "a", Device: DeviceIdle},
		"in use":     {Agent: "a", LoggedIn: true, Device: DeviceInUse},
		"ringing":    {Agent: "a", LoggedIn: true, Device: DeviceRinging},
	} {
		if s.Available() {
			t.Errorf("%s: available", name)
		}
	}
}
