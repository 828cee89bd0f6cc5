package queue

import (
	"testing"
	"time"

	"guichet/hub/api"
)

// callSite is testSite with a blended counter, 3, taking visits and calls.
func callSite() Site {
	s := testSite()
	s.Policy.IgnoreHours = true
	s.Counters = append(s.Counters, Counter{ID: "3", Name: "Guichet 3", Channels: []Channel{Visit, Phone}})
	return s
}

func (h *harness) join(id, call, service string, joined time.Time) {
	h.t.Helper()
	h.must(func(b By) ([]Event, error) {
		return h.e.JoinCall(b, CallJoin{ID: id, Call: call, Service: service, JoinedAt: joined})
	})
}

func (h *harness) held(counter string) Ticket {
	h.t.Helper()
	cs, _ := h.e.CounterState(counter)
	t, ok := h.e.Ticket(cs.Ticket)
	if !ok {
		h.t.Fatalf("counter %s holds no ticket", counter)
	}
	return t
}

func TestACallJoinedTwiceHasOneTicketAtTheTimeItJoined(t *testing.T) {
	h := newHarness(t, callSite())
	joined := h.now.Add(-40 * time.Second)
	h.join("p1", "1795335017.0", "A", joined)
	h.tick(time.Second)
	evs, err := h.e.JoinCall(h.by(), CallJoin{ID: "p2", Call: "1795335017.0", Service: "A", JoinedAt: joined})
	if err != nil || len(evs) != 0 {
		t.Fatalf("the same call joined again: %v, %v; want nothing", evs, err)
	}
	if got := h.e.Tickets(Waiting, ""); len(got) != 1 {
		t.Fatalf("%d tickets waiting, want 1", len(got))
	}
	p := h.ticket("p1")
	if p.Channel != Phone || p.Call != "1795335017.0" || !p.IssuedAt.Equal(joined) || p.Display() != "A001" {
		t.Fatalf("ticket %+v", p)
	}
	if _, ok := h.e.LiveCall("1795335017.0"); !ok {
		t.Fatal("the call has no live ticket")
	}
}

func TestACallInAServiceWithoutPhoneIsRefused(t *testing.T) {
	h := newHarness(t, callSite())
	err := h.do(func(b By) ([]Event, error) { return h.e.JoinCall(b, CallJoin{ID: "p1", Call: "c1", Service: "B"}) })
	wantCode(t, err, api.CodeChannelNotTaken)
	err = h.do(func(b By) ([]Event, error) { return h.e.JoinCall(b, CallJoin{ID: "p1", Call: "c\n1", Service: "A"}) })
	wantCode(t, err, api.CodeInvalid)
}

func TestCallNextGivesACallAndTheConnectionStartsItAtTheCounter(t *testing.T) {
	h := newHarness(t, callSite())
	h.open("9", "pat")
	h.join("p1", "c1", "A", time.Time{})
	if got := h.next("9"); got != "p1" {
		t.Fatalf("call next at the phone position called %s", got)
	}
	h.must(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c1", "pat") })
	p := h.ticket("p1")
	if p.State != Serving || p.Counter != "9" || p.Agent != "pat" {
		t.Fatalf("connected call: %+v", p)
	}
	h.tick(3 * time.Minute)
	h.must(func(b By) ([]Event, error) { return h.e.EndCall(b, "c1", "pat", "caller") })
	if p := h.ticket("p1"); p.State != Done {
		t.Fatalf("ended call is %s", p.State)
	}
	if _, ok := h.e.LiveCall("c1"); ok {
		t.Fatal("an ended call still has a live ticket")
	}
}

// The PBX connected a call to an agent who is not signed in: the engine
// refuses to seat it (and changes nothing); the bridge then takes it
// outside any counter, so that nobody calls a caller already talking, and
// the agent, once signed in, gets nothing until the call is over.
func TestACallConnectedToAnAgentNotSignedInIsTakenOutsideAnyCounter(t *testing.T) {
	h := newHarness(t, callSite())
	h.join("p1", "c1", "A", time.Time{})
	h.issue(issueReq{ID: "v1", Service: "A"})
	err := h.do(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c1", "carl") })
	wantCode(t, err, api.CodeAgentOffline)
	err = h.do(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c1", "nobody") })
	wantCode(t, err, api.CodeUnknownAgent)
	h.must(func(b By) ([]Event, error) { return h.e.TakeCallOutside(b, "c1", "carl") })
	if p := h.ticket("p1"); p.State != Serving || p.Counter != "" || p.Agent != "carl" {
		t.Fatalf("call taken outside: %+v", p)
	}
	if n := len(h.e.Tickets(Waiting, "")); n != 1 {
		t.Fatalf("%d waiting, want the visitor alone", n)
	}
	h.open("1", "carl")
	err = h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
	wantCode(t, err, api.CodeAgentBusy)
	h.must(func(b By) ([]Event, error) { return h.e.EndCall(b, "c1", "carl", "caller") })
	if got := h.next("1"); got != "v1" {
		t.Fatalf("after the call, call next gave %s", got)
	}
}

// An agent in a call is given no visitor: not at a blended counter holding
// the call, not when the call rings their phone, not when they took it
// outside their counter.
func TestCallNextNeverGivesAVisitorToAnAgentInACall(t *testing.T) {
	h := newHarness(t, callSite())
	h.open("3", "carl")
	h.join("p1", "c1", "A", h.now.Add(-time.Minute))
	h.issue(issueReq{ID: "v1", Service: "A"})
	if got := h.next("3"); got != "p1" {
		t.Fatalf("call next gave %s, want the call that waited longest", got)
	}
	err := h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "3") })
	wantCode(t, err, api.CodeAgentBusy) // ringing
	h.must(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c1", "carl") })
	err = h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "3") })
	wantCode(t, err, api.CodeAgentBusy) // talking
	for name, op := range map[string]func(By) ([]Event, error){
		"finish":   func(b By) ([]Event, error) { return h.e.Finish(b, "3") },
		"no-show":  func(b By) ([]Event, error) { return h.e.NoShow(b, "3") },
		"transfer": func(b By) ([]Event, error) { return h.e.Transfer(b, "3", api.TransferArgs{Service: "C"}) },
		"pause":    func(b By) ([]Event, error) { return h.e.Pause(b, "3", api.PauseArgs{Reason: "café"}) },
		"close":    func(b By) ([]Event, error) { return h.e.CloseCounter(b, "3") },
	} {
		if err := h.do(op); err == nil {
			t.Errorf("%s of a live call was accepted", name)
		}
	}
	h.must(func(b By) ([]Event, error) { return h.e.EndCall(b, "c1", "carl", "agent") })
	if got := h.next("3"); got != "v1" {
		t.Fatalf("after the call, call next gave %s", got)
	}
}

// While an agent's phone line is recorded open, the PBX may offer them a
// call: call next gives them a call if one waits, and nothing else.
func TestCallNextGivesAnAgentWhoseLineIsOpenNothingButACall(t *testing.T) {
	h := newHarness(t, callSite())
	h.open("3", "carl")
	h.must(func(b By) ([]Event, error) { return h.e.OpenLine(b, "carl") })
	h.issue(issueReq{ID: "v1", Service: "A"})
	err := h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "3") })
	wantCode(t, err, api.CodeAgentBusy)
	h.tick(time.Second)
	h.join("p1", "c1", "A", time.Time{})
	h.tick(10 * time.Minute)
	err = h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "3") })
	wantCode(t, err, api.CodeAgentBusy) // the policy's pick is the visitor, which the open line forbids
	h.must(func(b By) ([]Event, error) { return h.e.CloseLine(b, "carl", "visiteur") })
	if got := h.next("3"); got != "v1" {
		t.Fatalf("line closed: call next gave %s", got)
	}
	if st, _ := h.e.AgentStatus("carl"); st.Line {
		t.Fatal("line still open")
	}
}

func TestAnUnansweredCallGoesBackToTheQueueAtItsPlace(t *testing.T) {
	h := newHarness(t, callSite())
	h.open("9", "pat")
	joined := h.now.Add(-2 * time.Minute)
	h.join("p1", "c1", "A", joined)
	h.issue(issueReq{ID: "v1", Service: "A"})
	h.next("9")
	h.tick(30 * time.Second)
	h.must(func(b By) ([]Event, error) { return h.e.ReturnCall(b, "c1") })
	p := h.ticket("p1")
	if p.State != Waiting || p.Counter != "" || !p.IssuedAt.Equal(joined) {
		t.Fatalf("returned call: %+v", p)
	}
	if cs, _ := h.e.CounterState("9"); cs.Ticket != "" {
		t.Fatal("the counter still holds the call")
	}
	if st, _ := h.e.AgentStatus("pat"); st.State != AgentAvailable {
		t.Fatalf("agent is %s", st.State)
	}
	h.open("3", "carl")
	if got := h.next("3"); got != "p1" {
		t.Fatalf("the returned call lost its place: %s called first", got)
	}
}

func TestAnAbandonedCallGivesOneCallbackHoweverOftenItsEndIsSaid(t *testing.T) {
	h := newHarness(t, callSite())
	h.join("p1", "c1", "A", time.Time{})
	h.tick(3 * time.Minute)
	h.must(func(b By) ([]Event, error) {
		return h.e.AbandonCall(b, CallAbandon{Call: "c1", Reason: "hung_up", Callback: "cb1"})
	})
	err := h.do(func(b By) ([]Event, error) {
		return h.e.AbandonCall(b, CallAbandon{Call: "c1", Reason: "hung_up", Callback: "cb2"})
	})
	wantCode(t, err, api.CodeUnknownTicket)
	if p := h.ticket("p1"); p.State != Cancelled {
		t.Fatalf("abandoned call is %s", p.State)
	}
	cb := h.ticket("cb1")
	if cb.Callback != "p1" || cb.Channel != Phone || cb.Service != "A" || cb.Call != "" || cb.State != Waiting {
		t.Fatalf("callback %+v", cb)
	}
	if _, ok := h.e.Ticket("cb2"); ok {
		t.Fatal("a second callback")
	}
	// A callback is an ordinary ticket at the counter: the agent calls back.
	h.open("9", "pat")
	if got := h.next("9"); got != "cb1" {
		t.Fatalf("call next gave %s", got)
	}
	h.must(func(b By) ([]Event, error) { return h.e.Finish(b, "9") })
}

// The PBX connected the call offered at one agent's counter to another
// agent, whose phone was offered another call: each call moves to the
// counter it reached, and the offer that lost goes back at its place.
func TestACallConnectedElsewhereMovesToThatCounter(t *testing.T) {
	h := newHarness(t, callSite())
	h.open("9", "pat")
	h.open("3", "carl")
	h.join("p1", "c1", "A", h.now.Add(-2*time.Minute))
	h.join("p2", "c2", "A", h.now.Add(-time.Minute))
	if h.next("9") != "p1" || h.next("3") != "p2" {
		t.Fatal("calls not offered in order")
	}
	h.must(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c1", "carl") })
	if got := h.held("3"); got.ID != "p1" || got.State != Serving {
		t.Fatalf("counter 3 holds %+v", got)
	}
	if cs, _ := h.e.CounterState("9"); cs.Ticket != "" {
		t.Fatalf("counter 9 still holds %s", cs.Ticket)
	}
	if p := h.ticket("p2"); p.State != Waiting {
		t.Fatalf("the call that lost its offer is %s", p.State)
	}
	h.must(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c2", "pat") })
	if got := h.held("9"); got.ID != "p2" || got.State != Serving {
		t.Fatalf("counter 9 holds %+v", got)
	}
	// A call connected to an agent holding a visitor, or at a counter
	// that takes no calls, is refused there.
	h.must(func(b By) ([]Event, error) { return h.e.EndCall(b, "c1", "carl", "caller") })
	h.issue(issueReq{ID: "v1", Service: "A"})
	h.tick(time.Second)
	h.join("p3", "c3", "A", time.Time{})
	if got := h.next("3"); got != "v1" {
		t.Fatalf("call next gave %s", got)
	}
	err := h.do(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c3", "carl") })
	wantCode(t, err, api.CodeAgentBusy)
	h.open("1", "ana")
	err = h.do(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c3", "ana") })
	wantCode(t, err, api.CodeChannelNotTaken)
}

// Calls the PBX hands out itself wait in the queue, counted in its
// summary, and call next never picks them; connected, they are served at
// the agent's counter like the others.
func TestCallsThePBXHandsOutAreCountedButNeverPicked(t *testing.T) {
	h := newHarness(t, callSite())
	h.open("9", "pat")
	h.must(func(b By) ([]Event, error) {
		return h.e.JoinCall(b, CallJoin{ID: "p1", Call: "c1", Service: "A", ByPBX: true})
	})
	err := h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "9") })
	wantCode(t, err, api.CodeQueueEmpty)
	sum := h.e.Summary(h.now)
	if sum[0].Service != "A" || sum[0].WaitingPhone != 1 {
		t.Fatalf("summary %+v", sum[0])
	}
	h.must(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c1", "pat") })
	if got := h.held("9"); got.ID != "p1" || got.State != Serving {
		t.Fatalf("counter 9 holds %+v", got)
	}
	if h.e.WaitingCount() != 0 {
		t.Fatal("the connected call still waits")
	}
}

// Live calls, and who is on the phone, come back from a snapshot.
func TestLiveCallsSurviveASnapshot(t *testing.T) {
	h := newHarness(t, callSite())
	h.open("9", "pat")
	h.join("p1", "c1", "A", time.Time{})
	h.join("p2", "c2", "C", time.Time{})
	h.next("9")
	h.must(func(b By) ([]Event, error) { return h.e.OpenLine(b, "pat") })
	h.must(func(b By) ([]Event, error) { return h.e.ConnectCall(b, "c1", "pat") })
	e2, err := New(callSite())
	if err != nil {
		t.Fatal(err)
	}
	e2.Restore(h.e.Snapshot())
	if got := len(e2.LiveCalls()); got != 2 {
		t.Fatalf("%d live calls after restore, want 2", got)
	}
	if tk, ok := e2.InCall("pat"); !ok || tk.ID != "p1" {
		t.Fatalf("pat's call after restore: %+v %v", tk, ok)
	}
	if st, _ := e2.AgentStatus("pat"); !st.Line {
		t.Fatal("the open line was lost")
	}
	evs, err := e2.JoinCall(By{At: h.now, Actor: "t"}, CallJoin{ID: "p3", Call: "c2", Service: "C"})
	if err != nil || len(evs) != 0 {
		t.Fatalf("a restored live call joined again: %v %v", evs, err)
	}
}

func TestAttachingACitizenAndErasingTheirFile(t *testing.T) {
	h := newHarness(t, callSite())
	h.issue(issueReq{ID: "v1", Service: "A"})
	h.must(func(b By) ([]Event, error) { return h.e.AttachCitizen(b, "v1", "c-abcdefghijklmnop") })
	if got := h.ticket("v1").Citizen; got != "c-abcdefghijklmnop" {
		t.Fatalf("citizen %q", got)
	}
	evs, err := h.e.AttachCitizen(h.by(), "v1", "c-abcdefghijklmnop")
	if err != nil || len(evs) != 0 {
		t.Fatalf("attached again: %v %v", evs, err)
	}
	err = h.do(func(b By) ([]Event, error) { return h.e.AttachCitizen(b, "nope", "c-abcdefghijklmnop") })
	wantCode(t, err, api.CodeUnknownTicket)
	err = h.do(func(b By) ([]Event, error) { return h.e.AttachCitizen(b, "v1", "Jean\nDupont") })
	wantCode(t, err, api.CodeInvalid)
	h.must(func(b By) ([]Event, error) { return h.e.EraseCitizen(b, "c-abcdefghijklmnop") })
	if got := h.ticket("v1").Citizen; got != "" {
		t.Fatalf("erased citizen still on the ticket: %q", got)
	}
	last := h.log[len(h.log)-1]
	if last.Type != CitizenErased || last.Citizen != "c-abcdefghijklmnop" || last.Ticket != "" {
		t.Fatalf("tombstone %+v", last)
	}
}

// A ticket's citizen holds a file's id only when an agent attached it:
// issued or booked with a citizen of that form (a kiosk, a connector), it
// is refused, so that the two kinds of value are never mistaken; free
// text of any other form is taken, and an attachment takes a file's id
// only.
func TestACitizenShapedLikeAFileIDIsRefusedAtIssueAndBooking(t *testing.T) {
	h := newHarness(t, callSite())
	const file = "c-abcdefghijklmnop"
	wantCode(t, h.do(func(b By) ([]Event, error) {
		return h.e.Issue(b, issueReq{ID: "v1", Service: "A", Citizen: file}.request())
	}), api.CodeInvalid)
	if _, ok := h.e.Ticket("v1"); ok {
		t.Fatal("a ticket was issued with a file's id as its citizen")
	}
	wantCode(t, h.do(func(b By) ([]Event, error) {
		return h.e.BookAppointment(b, api.AppointmentArgs{Code: "RDV-1234", Service: "A", At: h.now.Add(time.Hour), Citizen: file})
	}), api.CodeInvalid)
	for _, text := range []string{"Jean Dupont, " + file, "C-ABCDEFGHIJKLMNOP", "c-abcdefghijklmno", "c-abcdefghijklmnop1"} {
		h.issue(issueReq{Service: "A", Citizen: text})
	}
	h.issue(issueReq{ID: "v2", Service: "A"})
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.AttachCitizen(b, "v2", "Jean Dupont") }), api.CodeInvalid)
	h.must(func(b By) ([]Event, error) { return h.e.AttachCitizen(b, "v2", file) })
}
