package calls

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/telephony"
)

var agentEC = crm.Viewer{ID: "efournier", Role: crm.RoleAgent, Sectors: []crm.Sector{crm.SectorAccueil, crm.SectorEtatCivil}, Addr: "10.0.0.8"}

// actions returns what was asked of the fake PBX since mark.
func actions(f *telephony.Fake, mark int) []string {
	var out []string
	for _, a := range f.Actions()[mark:] {
		s := a.Op + " " + a.Agent
		if a.Reason != "" {
			s += " (" + a.Reason + ")"
		}
		out = append(out, s)
	}
	return out
}

func connectedFake(e *env, f *telephony.Fake) {
	e.t.Helper()
	e.start()
	e.step(telephony.Resync{})
}

// A call waiting is one phone ticket in its queue's service, however often
// the PBX says it joined; its number is in the calls store and nowhere in
// the event log the screens and the central CRM read.
func TestACallWaitingIsOnePhoneTicketWithItsNumberKeptApart(t *testing.T) {
	f := telephony.NewFake(testMapping())
	e := newEnv(t, f, nil)
	connectedFake(e, f)
	c := call("1795335017.0", "etat-civil", "06 12 34 56 78", e.clock.now().Add(-20*time.Second))
	e.step(telephony.CallWaiting{Call: c})
	e.step(telephony.CallWaiting{Call: c}) // said again
	e.step(telephony.Resync{Snapshot: telephony.Snapshot{Calls: []telephony.Call{c}}})
	var waiting []queue.Ticket
	e.engine(func(en *queue.Engine) { waiting = en.Tickets(queue.Waiting, "") })
	if len(waiting) != 1 {
		t.Fatalf("%d tickets waiting, want 1", len(waiting))
	}
	tk := waiting[0]
	if tk.Service != "E" || tk.Channel != queue.Phone || tk.Call != string(c.ID) || !tk.IssuedAt.Equal(c.JoinedAt) {
		t.Fatalf("ticket %+v", tk)
	}
	rec, err := e.crm.CallRecord(e.ctx, system, tk.ID)
	if err != nil || rec.Number != "06 12 34 56 78" || rec.E164 != "+33612345678" || rec.Queue != "etat-civil" {
		t.Fatalf("record %+v %v", rec, err)
	}
	evs, err := e.st.Events(e.ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		for _, digits := range []string{"0612345678", "612345678", "12 34 56"} {
			if bytes.Contains(b, []byte(digits)) {
				t.Fatalf("event %s holds the caller's number: %s", ev.Type, b)
			}
		}
	}
}

// Call next at a phone position picks the call by the policy; that agent's
// line alone opens (recorded first, then unpaused at the PBX); connected,
// the call starts at their counter and the line closes; ended, the ticket
// is served and the call is filed in the caller's timeline.
func TestCallNextOpensThatAgentsLineAloneAndTheCallIsFiledWhenItEnds(t *testing.T) {
	f := telephony.NewFake(testMapping())
	e := newEnv(t, f, nil)
	cit, _, err := e.crm.CreateCitizen(e.ctx, agentEC, crm.Citizen{FamilyName: "Dupont", FirstNames: "Jean", Phones: []string{"+33 6 12 34 56 78"}})
	if err != nil {
		t.Fatal(err)
	}
	connectedFake(e, f)
	if got, want := actions(f, 0), []string{"pause efournier (hors ligne)", "pause mlefebvre (hors ligne)", "pause tnguyen (hors ligne)"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after the first resync the PBX was asked %v, want %v", got, want)
	}
	mark := len(f.Actions())
	e.open("8", "efournier")
	e.open("1", "mlefebvre")
	c := call("c1", "accueil", "0612345678", e.clock.now())
	e.step(telephony.CallWaiting{Call: c})
	e.clock.add(30 * time.Second)
	e.must(e.op(api.OpCallNext, "8", nil))
	tk, _ := e.live("c1")
	if tk.State != queue.Called || tk.Counter != "8" {
		t.Fatalf("call next gave %+v", tk)
	}
	var st queue.AgentStatus
	e.engine(func(en *queue.Engine) { st, _ = en.AgentStatus("efournier") })
	if !st.Line {
		t.Fatal("the line is not recorded open")
	}
	if got, want := actions(f, mark), []string{"pause efournier (en attente)", "pause mlefebvre (en attente)", "unpause efournier"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the PBX was asked %v, want %v", got, want)
	}
	mark = len(f.Actions())
	e.step(telephony.CallOffered{ID: "c1", Agent: "efournier", Member: "PJSIP/108"},
		telephony.CallConnected{ID: "c1", Agent: "efournier", Member: "PJSIP/108", Wait: 35 * time.Second, At: e.clock.now()})
	if tk, _ := e.live("c1"); tk.State != queue.Serving || tk.Counter != "8" {
		t.Fatalf("connected call %+v", tk)
	}
	if got, want := actions(f, mark), []string{"pause efournier (en communication)"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the PBX was asked %v, want %v", got, want)
	}
	e.engine(func(en *queue.Engine) { st, _ = en.AgentStatus("efournier") })
	if st.Line {
		t.Fatal("the line is still recorded open once the call is connected")
	}
	e.clock.add(3 * time.Minute)
	e.step(telephony.CallEnded{ID: "c1", Agent: "efournier", Member: "PJSIP/108", Wait: 35 * time.Second, Talk: 3 * time.Minute, By: telephony.EndedByCaller})
	if got := e.ticket(tk.ID); got.State != queue.Done {
		t.Fatalf("ended call is %s", got.State)
	}
	tl, err := e.crm.Timeline(e.ctx, agentEC, cit.ID, 10)
	if err != nil || len(tl) != 1 || tl[0].Kind != crm.EntryCall || tl[0].Agent != "efournier" || tl[0].Call.Talk != 3*time.Minute || tl[0].Call.Number != "A001" {
		t.Fatalf("timeline %+v %v", tl, err)
	}
}

// pausing gates a fake PBX's pauses once armed: each then waits until
// released, as a PBX far away answers.
type pausing struct {
	*telephony.Fake
	armed   atomic.Bool
	asked   chan string
	release chan struct{}
}

func (p *pausing) Pause(ctx context.Context, agent, reason string) error {
	if p.armed.Load() {
		p.asked <- agent
		select {
		case <-p.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return p.Fake.Pause(ctx, agent, reason)
}

// The caller hangs up while the call rings the agent it was picked for;
// the agent at once presses call next with a visitor waiting. Until the
// PBX has said the agent's line is closed, the engine refuses to call them
// the visitor: the PBX could still offer them a call. Once it has, the
// visitor is called.
func TestTheLineClosesAtThePBXBeforeTheAgentIsCalledAVisitor(t *testing.T) {
	slow := &pausing{Fake: telephony.NewFake(testMapping()), asked: make(chan string, 16), release: make(chan struct{})}
	e := newEnv(t, slow, func(o *Options) { o.ActionTimeout = time.Minute })
	e.start()
	e.step(telephony.Resync{})
	e.open("2", "efournier")
	e.step(telephony.CallWaiting{Call: call("c1", "accueil", "0611111111", e.clock.now())})
	e.clock.add(time.Minute)
	e.must(e.op(api.OpCallNext, "2", nil)) // the call; the line opens
	visitor := e.walkIn("A")
	slow.armed.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.step(telephony.CallAbandoned{ID: "c1", Wait: 20 * time.Second, Reason: telephony.AbandonHungUp})
	}()
	if a := <-slow.asked; a != "efournier" {
		t.Fatalf("pause asked for %s", a)
	}
	// The pause is on its way to the PBX: the agent presses call next.
	act, _ := hub.CounterAction(api.OpCallNext, "2", nil)
	err := e.do(act)
	var qe *queue.Error
	if !errors.As(err, &qe) || qe.Code != api.CodeAgentBusy || !strings.Contains(qe.Message, "line is still open") {
		t.Fatalf("call next while the line closes: %v, want agent_busy (line open)", err)
	}
	slow.release <- struct{}{}
	<-done
	slow.armed.Store(false)
	e.must(e.op(api.OpCallNext, "2", nil))
	if got := e.counter("2").Ticket; got != visitor {
		t.Fatalf("counter 2 holds %s, want the visitor %s", got, visitor)
	}
	if last := actions(slow.Fake, 0); last[len(last)-1] != "pause efournier (accueil)" {
		t.Fatalf("the PBX was asked %v", last)
	}
}

// A call the PBX connected to an agent who is not signed in, or to a
// member the mapping does not name, is taken outside any counter; its end
// serves it.
func TestACallConnectedToAnAgentNotSignedInIsTakenOutside(t *testing.T) {
	f := telephony.NewFake(testMapping())
	e := newEnv(t, f, nil)
	connectedFake(e, f)
	e.step(telephony.CallWaiting{Call: call("c1", "accueil", "0611111111", e.clock.now())},
		telephony.CallWaiting{Call: call("c2", "accueil", "0622222222", e.clock.now())})
	e.step(telephony.CallConnected{ID: "c1", Agent: "tnguyen", Member: "PJSIP/102", At: e.clock.now()},
		telephony.CallConnected{ID: "c2", Member: "PJSIP/199", At: e.clock.now()})
	for _, id := range []string{"c1", "c2"} {
		tk, ok := e.live(id)
		if !ok || tk.State != queue.Serving || tk.Counter != "" {
			t.Fatalf("call %s: %+v %v", id, tk, ok)
		}
	}
	if !strings.Contains(e.logs.String(), "taken outside any counter") {
		t.Fatal("no warning")
	}
	e.step(telephony.CallEnded{ID: "c1", Agent: "tnguyen", By: telephony.EndedByAgent})
	if _, ok := e.live("c1"); ok {
		t.Fatal("ended call still live")
	}
}

// A caller who hangs up past the threshold, with a number, gets one
// callback ticket however often the hang-up is said; the agent who calls
// next gets it and calls back from their phone (click-to-call).
func TestAnAbandonedCallPastTheThresholdIsCalledBackOnce(t *testing.T) {
	f := telephony.NewFake(testMapping())
	e := newEnv(t, f, nil)
	connectedFake(e, f)
	t0 := e.clock.now()
	e.step(telephony.CallWaiting{Call: call("c1", "accueil", "06 12 34 56 78", t0)},
		telephony.CallWaiting{Call: call("c2", "accueil", "0622222222", t0)},
		telephony.CallWaiting{Call: call("c3", "accueil", "", t0)})
	p1, _ := e.live("c1")
	e.clock.add(2 * time.Minute)
	e.step(telephony.CallAbandoned{ID: "c1", Wait: 2 * time.Minute, Reason: telephony.AbandonHungUp},
		telephony.CallAbandoned{ID: "c1", Wait: 2 * time.Minute, Reason: telephony.AbandonHungUp},
		telephony.CallAbandoned{ID: "c2", Wait: 30 * time.Second, Reason: telephony.AbandonHungUp},
		telephony.CallAbandoned{ID: "c3", Wait: 5 * time.Minute, Reason: telephony.AbandonHungUp})
	var callbacks []queue.Ticket
	e.engine(func(en *queue.Engine) {
		for _, tk := range en.Tickets("", "") {
			if tk.Callback != "" {
				callbacks = append(callbacks, tk)
			}
		}
	})
	if len(callbacks) != 1 || callbacks[0].Callback != p1.ID || callbacks[0].State != queue.Waiting {
		t.Fatalf("callbacks %+v, want one for c1's ticket %s", callbacks, p1.ID)
	}
	rec, _ := e.crm.CallRecord(e.ctx, system, p1.ID)
	if rec.Outcome != "abandoned" || rec.Callback != callbacks[0].ID {
		t.Fatalf("record %+v", rec)
	}
	e.open("8", "efournier")
	e.must(e.op(api.OpCallNext, "8", nil))
	if got := e.counter("8").Ticket; got != callbacks[0].ID {
		t.Fatalf("call next gave %s, want the callback", got)
	}
	ref, err := e.b.CallBack(e.ctx, agentEC, "8")
	if err != nil {
		t.Fatal(err)
	}
	got := f.Actions()[len(f.Actions())-1]
	if got.Op != "originate" || got.Agent != "efournier" || got.Number != "06 12 34 56 78" || got.Ref != ref {
		t.Fatalf("click-to-call %+v", got)
	}
	e.step(telephony.OriginateResult{Ref: ref, OK: true, CallID: "o1"})
	if r, ok := e.b.CallBackResult(ref); !ok || !r.OK {
		t.Fatalf("outcome %+v %v", r, ok)
	}
	if _, err := e.b.CallBack(e.ctx, agentEC, "1"); !errors.Is(err, ErrNotACall) {
		t.Fatalf("click-to-call at a counter without callback: %v", err)
	}
}

// The screen pop: a call from a number written any way opens the file of
// the citizen whose number it is, however the file wrote it.
func TestTheCallersFileOpensWhateverWayTheNumberIsWritten(t *testing.T) {
	f := telephony.NewFake(testMapping())
	e := newEnv(t, f, nil)
	connectedFake(e, f)
	jean, _, err := e.crm.CreateCitizen(e.ctx, agentEC, crm.Citizen{FamilyName: "Dupont", FirstNames: "Jean", Phones: []string{"06.12.34.56.78"}})
	if err != nil {
		t.Fatal(err)
	}
	rose, _, err := e.crm.CreateCitizen(e.ctx, agentEC, crm.Citizen{FamilyName: "Lambert", FirstNames: "Rose", Phones: []string{"0690 12 34 56"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		number string
		want   string
	}{
		{"06 12 34 56 78", jean.ID},
		{"+33612345678", jean.ID},
		{"0033 6 12 34 56 78", jean.ID},
		{"0612345678", jean.ID},
		{"06-12-34-56-78", jean.ID},
		{"+590 690 12 34 56", rose.ID},
		{"0690123456", rose.ID},
		{"0698765432", ""},
		{"", ""},
	}
	for i, c := range cases {
		id := telephony.CallID("pop-" + string(rune('a'+i)))
		e.step(telephony.CallWaiting{Call: call(string(id), "accueil", c.number, e.clock.now())})
		tk, _ := e.live(string(id))
		got, err := e.b.Caller(e.ctx, agentEC, tk.ID)
		if err != nil {
			t.Fatalf("%q: %v", c.number, err)
		}
		if got.Number != c.number {
			t.Fatalf("%q: number %q", c.number, got.Number)
		}
		switch {
		case c.want == "" && len(got.Citizens) != 0:
			t.Errorf("%q opened %v, want numéro inconnu", c.number, got.Citizens)
		case c.want != "" && (len(got.Citizens) != 1 || got.Citizens[0].Citizen.ID != c.want):
			t.Errorf("%q opened %+v, want %s", c.number, got.Citizens, c.want)
		}
	}
}
