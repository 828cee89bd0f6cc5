package queue

import (
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
)

// reach brings one ticket of service A to state at counter 1 (open with ana).
func reach(h *harness, state State) string {
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
	id := h.issue(issueReq{Service: "A"})
	h.tick(time.Minute)
	switch state {
	case Waiting:
	case Cancelled:
		h.must(func(b By) ([]Event, error) { return h.e.Cancel(b, api.CancelArgs{Ticket: id, Reason: "left"}) })
	default:
		h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
		switch state {
		case Serving:
			h.must(func(b By) ([]Event, error) { return h.e.Start(b, "1") })
		case Done:
			h.must(func(b By) ([]Event, error) { return h.e.Finish(b, "1") })
		case NoShow:
			h.must(func(b By) ([]Event, error) { return h.e.NoShow(b, "1") })
		}
	}
	if got := h.ticket(id).State; got != state {
		h.t.Fatalf("setup reached %s, want %s", got, state)
	}
	return id
}

func TestTicketTransitions(t *testing.T) {
	type op struct {
		name string
		run  func(e *Engine, b By, id string) ([]Event, error)
	}
	ops := map[string]op{
		"call next": {"call next", func(e *Engine, b By, _ string) ([]Event, error) { return e.CallNext(b, "1") }},
		"recall":    {"recall", func(e *Engine, b By, _ string) ([]Event, error) { return e.Recall(b, "1") }},
		"start":     {"start", func(e *Engine, b By, _ string) ([]Event, error) { return e.Start(b, "1") }},
		"finish":    {"finish", func(e *Engine, b By, _ string) ([]Event, error) { return e.Finish(b, "1") }},
		"no-show":   {"no-show", func(e *Engine, b By, _ string) ([]Event, error) { return e.NoShow(b, "1") }},
		"transfer": {"transfer", func(e *Engine, b By, _ string) ([]Event, error) {
			return e.Transfer(b, "1", api.TransferArgs{Service: "B"})
		}},
		"cancel": {"cancel", func(e *Engine, b By, id string) ([]Event, error) {
			return e.Cancel(b, api.CancelArgs{Ticket: id, Reason: ""})
		}},
	}
	type want struct {
		code  string // refusal code, "" when legal
		state State  // the ticket's state after a legal op
	}
	// One row per starting state, one column per operation.
	table := map[State]map[string]want{
		Waiting: {
			"call next": {"", Called}, "recall": {"no_current_ticket", ""}, "start": {"no_current_ticket", ""},
			"finish": {"no_current_ticket", ""}, "no-show": {"no_current_ticket", ""}, "transfer": {"no_current_ticket", ""},
			"cancel": {"", Cancelled},
		},
		Called: {
			"call next": {"queue_empty", ""}, "recall": {"", Called}, "start": {"", Serving},
			"finish": {"", Done}, "no-show": {"", NoShow}, "transfer": {"", Waiting}, "cancel": {"", Cancelled},
		},
		Serving: {
			"call next": {"queue_empty", ""}, "recall": {"invalid_transition", ""}, "start": {"invalid_transition", ""},
			"finish": {"", Done}, "no-show": {"invalid_transition", ""}, "transfer": {"", Waiting},
			"cancel": {"invalid_transition", ""},
		},
	}
	for _, terminal := range []State{Done, NoShow, Cancelled} {
		table[terminal] = map[string]want{
			"call next": {"queue_empty", ""}, "recall": {"no_current_ticket", ""}, "start": {"no_current_ticket", ""},
			"finish": {"no_current_ticket", ""}, "no-show": {"no_current_ticket", ""}, "transfer": {"no_current_ticket", ""},
			"cancel": {"invalid_transition", ""},
		}
	}
	for from, row := range table {
		for name, w := range row {
			t.Run(string(from)+"/"+name, func(t *testing.T) {
				h := newHarness(t, testSite())
				id := reach(h, from)
				err := h.do(func(b By) ([]Event, error) { return ops[name].run(h.e, b, id) })
				wantCode(t, err, w.code)
				got := h.ticket(id)
				if w.code != "" {
					if got.State != from {
						t.Fatalf("refused %s moved ticket from %s to %s", name, from, got.State)
					}
					return
				}
				if got.State != w.state {
					t.Fatalf("%s from %s: state %s, want %s", name, from, got.State, w.state)
				}
				cs, _ := h.e.CounterState("1")
				holds := cs.Ticket == id
				if held := w.state == Called || w.state == Serving; holds != held {
					t.Fatalf("%s from %s: counter holds ticket = %v, want %v", name, from, holds, held)
				}
				ag, _ := h.e.AgentStatus("ana")
				if w.state.Terminal() || w.state == Waiting {
					if from != Waiting && ag.State != AgentWrapUp {
						t.Fatalf("agent state %s after %s, want wrapup", ag.State, name)
					}
				} else if ag.State != AgentServing {
					t.Fatalf("agent state %s while holding a ticket", ag.State)
				}
			})
		}
	}
}

func TestCounterTransitions(t *testing.T) {
	cases := []struct {
		name  string
		setup func(h *harness)
		op    func(e *Engine, b By) ([]Event, error)
		code  string
	}{
		{"open", nil, func(e *Engine, b By) ([]Event, error) { return e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) }, ""},
		{"open unknown counter", nil, func(e *Engine, b By) ([]Event, error) { return e.OpenCounter(b, "7", api.OpenArgs{Agent: "ana"}) }, "unknown_counter"},
		{"open unknown agent", nil, func(e *Engine, b By) ([]Event, error) { return e.OpenCounter(b, "1", api.OpenArgs{Agent: "zoe"}) }, "unknown_agent"},
		{"open phone position with no phone service", nil, func(e *Engine, b By) ([]Event, error) { return e.OpenCounter(b, "9", api.OpenArgs{Agent: "bob"}) }, "agent_lacks_skill"},
		{"open again, same agent", openAna, func(e *Engine, b By) ([]Event, error) { return e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) }, ""},
		{"open taken by another agent", openAna, func(e *Engine, b By) ([]Event, error) { return e.OpenCounter(b, "1", api.OpenArgs{Agent: "bob"}) }, "counter_busy"},
		{"agent already elsewhere", openAna, func(e *Engine, b By) ([]Event, error) { return e.OpenCounter(b, "2", api.OpenArgs{Agent: "ana"}) }, "agent_busy"},
		{"close", openAna, func(e *Engine, b By) ([]Event, error) { return e.CloseCounter(b, "1") }, ""},
		{"close closed", nil, func(e *Engine, b By) ([]Event, error) { return e.CloseCounter(b, "1") }, "counter_closed"},
		{"close holding a ticket", holdTicket, func(e *Engine, b By) ([]Event, error) { return e.CloseCounter(b, "1") }, "counter_busy"},
		{"pause", openAna, func(e *Engine, b By) ([]Event, error) { return e.Pause(b, "1", api.PauseArgs{Reason: "déjeuner"}) }, ""},
		{"pause without reason", openAna, func(e *Engine, b By) ([]Event, error) { return e.Pause(b, "1", api.PauseArgs{Reason: "  "}) }, "invalid_argument"},
		{"pause closed counter", nil, func(e *Engine, b By) ([]Event, error) { return e.Pause(b, "1", api.PauseArgs{Reason: "café"}) }, "counter_closed"},
		{"pause holding a ticket", holdTicket, func(e *Engine, b By) ([]Event, error) { return e.Pause(b, "1", api.PauseArgs{Reason: "café"}) }, "agent_busy"},
		{"pause twice", pauseAna, func(e *Engine, b By) ([]Event, error) { return e.Pause(b, "1", api.PauseArgs{Reason: "café"}) }, "agent_paused"},
		{"call next while paused", pauseAna, func(e *Engine, b By) ([]Event, error) { return e.CallNext(b, "1") }, "agent_paused"},
		{"resume", pauseAna, func(e *Engine, b By) ([]Event, error) { return e.Resume(b, "1") }, ""},
		{"resume not paused", openAna, func(e *Engine, b By) ([]Event, error) { return e.Resume(b, "1") }, "agent_not_paused"},
		{"call next closed counter", nil, func(e *Engine, b By) ([]Event, error) { return e.CallNext(b, "1") }, "counter_closed"},
		{"call next empty queue", openAna, func(e *Engine, b By) ([]Event, error) { return e.CallNext(b, "1") }, "queue_empty"},
		{"transfer to unknown service", holdTicket, func(e *Engine, b By) ([]Event, error) { return e.Transfer(b, "1", api.TransferArgs{Service: "Z"}) }, "unknown_service"},
		{"transfer to same service", holdTicket, func(e *Engine, b By) ([]Event, error) { return e.Transfer(b, "1", api.TransferArgs{Service: "A"}) }, "invalid_argument"},
		{"cancel unknown ticket", nil, func(e *Engine, b By) ([]Event, error) { return e.Cancel(b, api.CancelArgs{Ticket: "nope", Reason: ""}) }, "unknown_ticket"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, testSite())
			if c.setup != nil {
				c.setup(h)
			}
			err := h.do(func(b By) ([]Event, error) { return c.op(h.e, b) })
			wantCode(t, err, c.code)
		})
	}
}

func openAna(h *harness) {
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
}

func pauseAna(h *harness) {
	openAna(h)
	h.must(func(b By) ([]Event, error) { return h.e.Pause(b, "1", api.PauseArgs{Reason: "déjeuner"}) })
}

func holdTicket(h *harness) { reach(h, Called) }

func TestOpenCounterRefusesAgentWithoutSkillThere(t *testing.T) {
	site := testSite()
	site.Counters[1].Services = []string{"C"}
	h := newHarness(t, site)
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "2", api.OpenArgs{Agent: "bob"}) }), "agent_lacks_skill")
}

func TestIssueRefusals(t *testing.T) {
	cases := []struct {
		name string
		req  issueReq
		code string
	}{
		{"unknown service", issueReq{ID: "x", Service: "Z"}, "unknown_service"},
		{"channel not taken", issueReq{ID: "x", Service: "B", Channel: Phone}, "channel_not_taken"},
		{"unknown channel", issueReq{ID: "x", Service: "A", Channel: "fax"}, "invalid_argument"},
		{"unknown priority", issueReq{ID: "x", Service: "A", Priority: "vip"}, "invalid_argument"},
		{"appointment without slot", issueReq{ID: "x", Service: "A", Priority: PriorityAppointment}, "invalid_argument"},
		{"empty id", issueReq{Service: "A"}, "invalid_argument"},
		{"long citizen", issueReq{ID: "x", Service: "A", Citizen: string(make([]byte, 300))}, "invalid_argument"},
		{"bad utf-8", issueReq{ID: "x", Service: "A", Citizen: "\xff"}, "invalid_argument"},
		{"offline without lease", issueReq{ID: "x", Service: "A", Device: "k1", OfflineNumber: 5, IssuedAt: day0}, "invalid_lease"},
		// Values that would pass a type check and break what comes after.
		{"slot in year 9999", issueReq{ID: "x", Service: "A", Priority: PriorityAppointment, AppointmentAt: time.Date(9999, 12, 31, 23, 30, 0, 0, time.UTC)}, "invalid_argument"},
		{"slot in year 1", issueReq{ID: "x", Service: "A", Priority: PriorityAppointment, AppointmentAt: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)}, "invalid_argument"},
		{"slot two days ahead", issueReq{ID: "x", Service: "A", Priority: PriorityAppointment, AppointmentAt: day0.Add(48 * time.Hour)}, "invalid_argument"},
		{"slot without appointment", issueReq{ID: "x", Service: "A", AppointmentAt: day0}, "invalid_argument"},
		{"NUL in citizen", issueReq{ID: "x", Service: "A", Citizen: "cit\x00-9"}, "invalid_argument"},
		{"line break in citizen", issueReq{ID: "x", Service: "A", Citizen: "cit\nlevel=ERROR"}, "invalid_argument"},
		{"100 KB citizen", issueReq{ID: "x", Service: "A", Citizen: strings.Repeat("x", 100<<10)}, "invalid_argument"},
		{"100 KB service", issueReq{ID: "x", Service: strings.Repeat("A", 100<<10)}, "invalid_argument"},
		{"lang not a tag", issueReq{ID: "x", Service: "A", Lang: "1e400"}, "invalid_argument"},
		{"token online", issueReq{ID: "x", Service: "A", Token: "x", Device: "k1", IssuedAt: day0}, "invalid_argument"},
		{"negative offline number", issueReq{ID: "x", Service: "A", Device: "k1", OfflineNumber: -901, IssuedAt: day0}, "invalid_argument"},
		{"huge offline number", issueReq{ID: "x", Service: "A", Device: "k1", OfflineNumber: 1 << 40, IssuedAt: day0}, "invalid_argument"},
		{"offline without its print time", issueReq{ID: "x", Service: "A", Device: "k1", OfflineNumber: 901}, "invalid_argument"},
		{"offline printed in the future", issueReq{ID: "x", Service: "A", Device: "k1", OfflineNumber: 901, IssuedAt: day0.Add(MaxClockSkew + time.Second)}, "invalid_argument"},
		{"offline printed years ago", issueReq{ID: "x", Service: "A", Device: "k1", OfflineNumber: 901, IssuedAt: day0.AddDate(-3, 0, 0)}, "invalid_argument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, testSite())
			wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.Issue(b, c.req.request()) }), c.code)
		})
	}
	t.Run("duplicate id", func(t *testing.T) {
		h := newHarness(t, testSite())
		h.issue(issueReq{ID: "x", Service: "A"})
		wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.Issue(b, issueReq{ID: "x", Service: "A"}.request()) }), "invalid_argument")
	})
}
