package calls

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"guichet/hub/queue"
	"guichet/hub/telephony"
)

// run starts the bridge's owner goroutine until the test ends.
func (e *env) run() {
	e.t.Helper()
	e.running = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.b.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			e.t.Errorf("Run: %v", err)
		}
	})
}

// await waits until cond holds, told by the queue's changes and the
// bridge's, within 20 s.
func (e *env) await(what string, cond func() bool) {
	e.t.Helper()
	ch, cancel := e.h.Watch()
	defer cancel()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline:
			e.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (e *env) resyncs() int { return e.b.State().Resyncs }

// liveCalls describes the queue's live calls: "call state counter".
func (e *env) liveCalls() []string {
	var out []string
	e.engine(func(en *queue.Engine) {
		for _, t := range en.LiveCalls() {
			out = append(out, fmt.Sprintf("%s %s %s", t.Call, t.State, t.Counter))
		}
	})
	sort.Strings(out)
	return out
}

// phoneTickets counts the phone tickets issued for each call.
func (e *env) phoneTickets() map[string]int {
	out := map[string]int{}
	e.engine(func(en *queue.Engine) {
		for _, t := range en.Tickets("", "") {
			if t.Call != "" {
				out[t.Call]++
			}
		}
	})
	return out
}

func connectedCall(c telephony.Call, agent, member string, at time.Time) telephony.Call {
	c.State, c.Agent, c.Member, c.ConnectedAt = telephony.Connected, agent, member, at
	return c
}

// The connection drops with two calls waiting and one connected; after the
// resynchronisation the queue holds exactly those calls, once.
func TestAfterAReconnectionTheQueueHoldsExactlyThePresentCallsOnce(t *testing.T) {
	f := telephony.NewFake(testMapping())
	e := newEnv(t, f, nil)
	e.run()
	e.open("8", "efournier")
	t0 := e.clock.now()
	c1, c2, c3 := call("c1", "accueil", "0611111111", t0), call("c2", "etat-civil", "0622222222", t0), call("c3", "accueil", "0633333333", t0)
	f.Send(telephony.Resync{}, telephony.CallWaiting{Call: c1}, telephony.CallWaiting{Call: c2}, telephony.CallWaiting{Call: c3},
		telephony.CallConnected{ID: "c3", Agent: "efournier", Member: "PJSIP/108", At: t0.Add(time.Minute)})
	want := []string{"c1 waiting ", "c2 waiting ", "c3 serving 8"}
	e.await("three calls, one connected", func() bool { return reflect.DeepEqual(e.liveCalls(), want) })
	e.clock.add(2 * time.Minute)
	f.Send(telephony.LinkDown{Err: "EOF"}, telephony.Resync{Snapshot: telephony.Snapshot{Calls: []telephony.Call{
		c1, c2, connectedCall(c3, "efournier", "PJSIP/108", t0.Add(time.Minute))}}})
	e.await("the second resynchronisation", func() bool { return e.resyncs() == 2 })
	if got := e.liveCalls(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the reconnection the queue holds %v, want %v", got, want)
	}
	if got := e.phoneTickets(); !reflect.DeepEqual(got, map[string]int{"c1": 1, "c2": 1, "c3": 1}) {
		t.Fatalf("tickets per call %v", got)
	}
	open, err := e.crm.OpenCalls(e.ctx, system)
	if err != nil || len(open) != 3 {
		t.Fatalf("%d open call records, want 3 (%v)", len(open), err)
	}
}

// While the link was down a waiting call was given up, the connected one
// ended, and another joined: after the resynchronisation the queue holds
// what the PBX has, the calls gone are ended once each, the new one has
// its ticket.
func TestAReconnectionEndsTheCallsGoneAndQueuesTheNewOnes(t *testing.T) {
	f := telephony.NewFake(testMapping())
	e := newEnv(t, f, nil)
	e.run()
	e.open("8", "efournier")
	t0 := e.clock.now()
	c1, c2, c3 := call("c1", "accueil", "0611111111", t0), call("c2", "accueil", "0622222222", t0), call("c3", "accueil", "0633333333", t0)
	f.Send(telephony.Resync{}, telephony.CallWaiting{Call: c1}, telephony.CallWaiting{Call: c2}, telephony.CallWaiting{Call: c3},
		telephony.CallConnected{ID: "c3", Agent: "efournier", Member: "PJSIP/108", At: t0})
	e.await("three calls", func() bool { return len(e.liveCalls()) == 3 && e.counter("8").Ticket != "" })
	p2, _ := e.live("c2")
	p3, _ := e.live("c3")
	e.clock.add(30 * time.Second)
	c4 := call("c4", "etat-civil", "0644444444", e.clock.now())
	f.Send(telephony.LinkDown{Err: "EOF"}, telephony.Resync{Snapshot: telephony.Snapshot{Calls: []telephony.Call{c1, c4}}})
	e.await("the resynchronisation", func() bool { return e.resyncs() == 2 })
	if got, want := e.liveCalls(), []string{"c1 waiting ", "c4 waiting "}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the queue holds %v, want %v", got, want)
	}
	if got := e.ticket(p2.ID).State; got != queue.Cancelled {
		t.Fatalf("the call given up is %s", got)
	}
	if got := e.ticket(p3.ID).State; got != queue.Done {
		t.Fatalf("the call that ended is %s", got)
	}
	for _, id := range []string{p2.ID, p3.ID} {
		rec, err := e.crm.CallRecord(e.ctx, system, id)
		if err != nil || rec.EndedAt.IsZero() || !rec.Inferred {
			t.Fatalf("record of %s: %+v %v", id, rec, err)
		}
	}
	if got := e.phoneTickets(); !reflect.DeepEqual(got, map[string]int{"c1": 1, "c2": 1, "c3": 1, "c4": 1}) {
		t.Fatalf("tickets per call %v", got)
	}
}

// The hub restarts with calls in its queue; the PBX has, when the new link
// connects, one of them still waiting, the connected one, and not the
// third: the queue holds those two, with their first tickets, and the
// third is ended.
func TestAfterAHubRestartTheFirstResynchronisationRepairsTheQueue(t *testing.T) {
	f := telephony.NewFake(testMapping())
	e := newEnv(t, f, nil)
	e.start()
	e.step(telephony.Resync{})
	e.open("8", "efournier")
	t0 := e.clock.now()
	c1, c2, c3 := call("c1", "accueil", "0611111111", t0), call("c2", "accueil", "0622222222", t0), call("c3", "accueil", "0633333333", t0)
	e.step(telephony.CallWaiting{Call: c1}, telephony.CallWaiting{Call: c2}, telephony.CallWaiting{Call: c3},
		telephony.CallConnected{ID: "c3", Agent: "efournier", Member: "PJSIP/108", At: t0})
	p1, _ := e.live("c1")
	p2, _ := e.live("c2")
	p3, _ := e.live("c3")
	e.close()

	f2 := telephony.NewFake(testMapping())
	e2 := openEnv(t, e.dir, f2, nil)
	e2.run()
	f2.Send(telephony.Resync{Snapshot: telephony.Snapshot{Calls: []telephony.Call{c1, connectedCall(c3, "efournier", "PJSIP/108", t0)}}})
	e2.await("the resynchronisation", func() bool { return e2.resyncs() == 1 })
	if got, want := e2.liveCalls(), []string{"c1 waiting ", "c3 serving 8"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the queue holds %v, want %v", got, want)
	}
	if t1, _ := e2.live("c1"); t1.ID != p1.ID {
		t.Fatal("c1 got a new ticket")
	}
	if t3, _ := e2.live("c3"); t3.ID != p3.ID {
		t.Fatal("c3 got a new ticket")
	}
	if got := e2.ticket(p2.ID).State; got != queue.Cancelled {
		t.Fatalf("the vanished call is %s", got)
	}
	if got := e2.phoneTickets(); !reflect.DeepEqual(got, map[string]int{"c1": 1, "c2": 1, "c3": 1}) {
		t.Fatalf("tickets per call %v", got)
	}
}
