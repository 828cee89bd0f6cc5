package queue

import (
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
)

// transferToCarl: ana at 1 and carl at 2 (both skilled for A); ana calls the
// A ticket and transfers it to carl with a note.
func transferToCarl(t *testing.T) (*harness, string) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "2", api.OpenArgs{Agent: "carl"}) })
	h.must(func(b By) ([]Event, error) { return h.e.Pause(b, "2", api.PauseArgs{Reason: "Réunion"}) })
	id := h.issue(issueReq{Service: "A"})
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
	h.tick(time.Minute)
	h.must(func(b By) ([]Event, error) {
		return h.e.Transfer(b, "1", api.TransferArgs{Agent: "carl", Note: "<script>alert(1)</script> a vu le dossier"})
	})
	return h, id
}

func TestTransferToAnAgentIsCalledOnlyByThatAgentWhileHeld(t *testing.T) {
	h, id := transferToCarl(t)
	tk := h.ticket(id)
	if tk.State != Waiting || tk.ForAgent != "carl" || tk.Service != "A" || tk.Note != "<script>alert(1)</script> a vu le dossier" {
		t.Fatalf("transferred ticket: %+v", tk)
	}
	// ana may not call it: it is held for carl.
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") }), api.CodeQueueEmpty)
	d, err := h.e.Explain(h.now, "2")
	if err != nil || d.Next == nil || d.Next.TicketID != id || !strings.Contains(d.Next.Why, "transferred to carl, held for them until 09:16") {
		t.Fatalf("explain for carl: %+v %v", d.Next, err)
	}
	h.must(func(b By) ([]Event, error) { return h.e.Resume(b, "2") })
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "2") })
	if tk := h.ticket(id); tk.State != Called || tk.Counter != "2" {
		t.Fatalf("carl's call: %+v", tk)
	}
	checkReplayAndSnapshot(t, h)
}

func TestTransferToAnAgentFallsBackToTheServiceAfterTheHold(t *testing.T) {
	h, id := transferToCarl(t)
	h.tick(DefaultTransferHold - time.Second)
	if got := h.e.HeldFor(h.ticket(id), h.now); got != "carl" {
		t.Fatalf("held for %q a second before the hold ends, want carl", got)
	}
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") }), api.CodeQueueEmpty)
	h.tick(time.Second)
	if got := h.e.HeldFor(h.ticket(id), h.now); got != "" {
		t.Fatalf("still held for %q once the hold ended (the ticket keeps ForAgent %q)", got, h.ticket(id).ForAgent)
	}
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
	if got := h.e.HeldFor(h.ticket(id), h.now); got != "" {
		t.Fatalf("a called ticket held for %q", got)
	}
	if tk := h.ticket(id); tk.State != Called || tk.Counter != "1" {
		t.Fatalf("after the hold ana's call: %+v", tk)
	}
	checkReplayAndSnapshot(t, h)
}

func TestTransferToAnAgentFallsBackToTheServiceWhenTheyAreSignedOut(t *testing.T) {
	h, id := transferToCarl(t)
	h.must(func(b By) ([]Event, error) { return h.e.SignOut(b, "carl") })
	if tk := h.ticket(id); tk.ForAgent != "" {
		t.Fatalf("still held for carl after sign-out: %+v", tk)
	}
	// Signed in again, carl does not get it back: it is the service's.
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "2", api.OpenArgs{Agent: "carl"}) })
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
	if tk := h.ticket(id); tk.Counter != "1" {
		t.Fatalf("ana's call after carl signed out: %+v", tk)
	}
	checkReplayAndSnapshot(t, h)
}

func TestTransferRefusals(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
	id := h.issue(issueReq{Service: "A"})
	for _, c := range []struct {
		name string
		args api.TicketTransferArgs
		code string
	}{
		{"nowhere", api.TicketTransferArgs{Ticket: id}, api.CodeInvalid},
		{"same service", api.TicketTransferArgs{Ticket: id, TransferArgs: api.TransferArgs{Service: "A"}}, api.CodeInvalid},
		{"agent without the skill", api.TicketTransferArgs{Ticket: id, TransferArgs: api.TransferArgs{Agent: "bob"}}, api.CodeLacksSkill},
		{"agent signed out", api.TicketTransferArgs{Ticket: id, TransferArgs: api.TransferArgs{Agent: "carl"}}, api.CodeAgentOffline},
		{"unknown agent", api.TicketTransferArgs{Ticket: id, TransferArgs: api.TransferArgs{Agent: "zoe"}}, api.CodeUnknownAgent},
		{"note too long", api.TicketTransferArgs{Ticket: id, TransferArgs: api.TransferArgs{Service: "C", Note: strings.Repeat("é", MaxNoteLen)}}, api.CodeInvalid},
		{"note with a line break", api.TicketTransferArgs{Ticket: id, TransferArgs: api.TransferArgs{Service: "C", Note: "a\nb"}}, api.CodeInvalid},
		{"note not UTF-8", api.TicketTransferArgs{Ticket: id, TransferArgs: api.TransferArgs{Service: "C", Note: "\xff"}}, api.CodeInvalid},
		{"unknown ticket", api.TicketTransferArgs{Ticket: "nope", TransferArgs: api.TransferArgs{Service: "C"}}, api.CodeUnknownTicket},
	} {
		err := h.do(func(b By) ([]Event, error) { return h.e.TransferTicket(b, c.args) })
		if err == nil || err.(*Error).Code != c.code {
			t.Fatalf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	// A supervisor transfers a waiting ticket to another service: it keeps its place.
	issued := h.ticket(id).IssuedAt
	h.must(func(b By) ([]Event, error) {
		return h.e.TransferTicket(b, api.TicketTransferArgs{Ticket: id, TransferArgs: api.TransferArgs{Service: "C", Note: "social"}})
	})
	if tk := h.ticket(id); tk.Service != "C" || tk.State != Waiting || !tk.IssuedAt.Equal(issued) || tk.Transfers != 1 {
		t.Fatalf("supervisor's transfer: %+v", tk)
	}
}

func TestSignOutReturnsACalledTicketAndFinishesAServedOne(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "2", api.OpenArgs{Agent: "carl"}) })
	first := h.issue(issueReq{Service: "A"})
	h.tick(time.Second)
	second := h.issue(issueReq{Service: "A"})
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") }) // ana: first
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "2") }) // carl: second
	h.must(func(b By) ([]Event, error) { return h.e.Start(b, "2") })
	h.tick(time.Minute)

	// ana had called and not started: the ticket goes back, at its place.
	h.must(func(b By) ([]Event, error) { return h.e.SignOut(b, "ana") })
	if tk := h.ticket(first); tk.State != Waiting || tk.Counter != "" {
		t.Fatalf("ana's called ticket after sign-out: %+v", tk)
	}
	if cs, _ := h.e.CounterState("1"); cs.Open {
		t.Fatal("counter 1 still open")
	}
	// carl was serving: finished as served.
	h.must(func(b By) ([]Event, error) { return h.e.SignOut(b, "carl") })
	if tk := h.ticket(second); tk.State != Done {
		t.Fatalf("carl's served ticket after sign-out: %+v", tk)
	}
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.SignOut(b, "carl") }), api.CodeAgentOffline)
	// The first ticket is the next called, before anyone later.
	h.issue(issueReq{Service: "A"})
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "2", api.OpenArgs{Agent: "carl"}) })
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "2") })
	if h.ticket(first).State != Called {
		t.Fatal("the returned ticket lost its place")
	}
	checkReplayAndSnapshot(t, h)
}

func TestSupervisorPausesAnAgentWithoutATicket(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
	h.issue(issueReq{Service: "A"})
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.PauseAgent(b, "ana", api.AgentPauseArgs{Reason: "Réunion"}) }), api.CodeAgentBusy)
	h.must(func(b By) ([]Event, error) { return h.e.Finish(b, "1") })
	h.must(func(b By) ([]Event, error) { return h.e.PauseAgent(b, "ana", api.AgentPauseArgs{Reason: "Réunion"}) })
	if st, _ := h.e.AgentStatus("ana"); st.State != AgentPaused || st.PauseReason != "Réunion" {
		t.Fatalf("ana: %+v", st)
	}
	h.must(func(b By) ([]Event, error) { return h.e.ResumeAgent(b, "ana") })
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.PauseAgent(b, "bob", api.AgentPauseArgs{Reason: "x"}) }), api.CodeAgentOffline)
}
