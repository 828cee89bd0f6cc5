package queue

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
)

func serviceD() Service {
	return Service{ID: "D", Names: map[string]string{"fr": "Urbanisme", "en": "Planning"}, SLA: 20 * time.Minute,
		Channels: []Channel{Visit}, ServiceTime: 10 * time.Minute}
}

func TestSiteChangesAreEventsWithTheirActor(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
	waitingA := h.issue(issueReq{Service: "A"})
	cases := []struct {
		name string
		op   func(By) ([]Event, error)
		code string // refusal code, "" when done
		want string // in the refusal's message
		typ  EventType
	}{
		{"add a service", func(b By) ([]Event, error) { return h.e.SaveService(b, serviceD()) }, "", "", ServiceSaved},
		{"saving it again changes nothing", func(b By) ([]Event, error) { return h.e.SaveService(b, serviceD()) }, "", "", ""},
		{"a service id is one letter", func(b By) ([]Event, error) {
			s := serviceD()
			s.ID = "DD"
			return h.e.SaveService(b, s)
		}, api.CodeInvalid, "one capital letter", ""},
		{"a service needs a French name", func(b By) ([]Event, error) {
			s := serviceD()
			s.Names = map[string]string{"en": "Planning"}
			return h.e.SaveService(b, s)
		}, api.CodeInvalid, "French name", ""},
		{"a weight within bounds", func(b By) ([]Event, error) {
			s := serviceD()
			s.Weight = 1e308
			return h.e.SaveService(b, s)
		}, api.CodeInvalid, "weight: weight must be 0", ""},
		{"an SLA within a day", func(b By) ([]Event, error) {
			s := serviceD()
			s.SLA = 48 * time.Hour
			return h.e.SaveService(b, s)
		}, api.CodeInvalid, "sla: must be 0 to 24h", ""},
		{"change a service", func(b By) ([]Event, error) {
			s := h.e.Service("A").Clone()
			s.SLA = 5 * time.Minute
			return h.e.SaveService(b, s)
		}, "", "", ServiceSaved},
		{"a service with tickets in its queue stays", func(b By) ([]Event, error) { return h.e.RemoveService(b, "A") }, api.CodeInvalid, "still has 1 tickets", ""},
		{"an agent's only skill stays", func(b By) ([]Event, error) { return h.e.RemoveService(b, "B") }, api.CodeInvalid, "agent bob has no other skill", ""},
		{"remove a service", func(b By) ([]Event, error) { return h.e.RemoveService(b, "D") }, "", "", ServiceRemoved},
		{"add a counter", func(b By) ([]Event, error) {
			return h.e.SaveCounter(b, Counter{ID: "4", Name: "Guichet 4", Services: []string{"B"}})
		}, "", "", CounterSaved},
		{"a counter serves known services", func(b By) ([]Event, error) {
			return h.e.SaveCounter(b, Counter{ID: "5", Name: "Guichet 5", Services: []string{"Z"}})
		}, api.CodeInvalid, `services[0]: unknown service "Z"`, ""},
		{"an open counter stays", func(b By) ([]Event, error) { return h.e.RemoveCounter(b, "1") }, api.CodeCounterBusy, "sign them out first", ""},
		{"remove a counter", func(b By) ([]Event, error) { return h.e.RemoveCounter(b, "4") }, "", "", CounterRemoved},
		{"add an agent", func(b By) ([]Event, error) {
			return h.e.SaveAgent(b, Agent{ID: "dora", Name: "Dora", Skills: map[string]int{"A": 2}})
		}, "", "", AgentSaved},
		{"skill levels are 1 to 5", func(b By) ([]Event, error) {
			return h.e.SaveAgent(b, Agent{ID: "dora", Skills: map[string]int{"A": 9}})
		}, api.CodeInvalid, "skills.A: skill level must be 1 to 5", ""},
		{"a signed-in agent stays", func(b By) ([]Event, error) { return h.e.RemoveAgent(b, "ana") }, api.CodeAgentBusy, "sign them out first", ""},
		{"remove an agent", func(b By) ([]Event, error) { return h.e.RemoveAgent(b, "dora") }, "", "", AgentRemoved},
		{"pause reasons", func(b By) ([]Event, error) {
			return h.e.SavePauseReasons(b, []string{"Déjeuner", "Réunion"})
		}, "", "", PauseReasonsSaved},
		{"pause reasons are not repeated", func(b By) ([]Event, error) {
			return h.e.SavePauseReasons(b, []string{"Déjeuner", "Déjeuner"})
		}, api.CodeInvalid, "listed twice", ""},
		{"settings", func(b By) ([]Event, error) {
			return h.e.SaveSettings(b, Settings{Name: "Mairie de Test", Languages: []string{"fr", "en"}, PublicURL: "https://guichet.test"})
		}, "", "", SettingsSaved},
		{"a public URL is http(s)", func(b By) ([]Event, error) {
			return h.e.SaveSettings(b, Settings{Name: "Mairie", Languages: []string{"fr"}, PublicURL: "javascript:alert(1)"})
		}, api.CodeInvalid, "public_url", ""},
		{"a message on the screens", func(b By) ([]Event, error) {
			return h.e.SetBoardMessage(b, map[string]string{"fr": "Fermeture à 16 h", "en": "Closing at 4 pm"})
		}, "", "", BoardMessageSet},
		{"a message is bounded", func(b By) ([]Event, error) {
			return h.e.SetBoardMessage(b, map[string]string{"fr": strings.Repeat("x", MaxMessageLen+1)})
		}, api.CodeInvalid, "at most 500", ""},
		{"close a service", func(b By) ([]Event, error) {
			return h.e.CloseService(b, "A", map[string]string{"fr": "Revenez demain"})
		}, "", "", ServiceClosed},
	}
	for _, c := range cases {
		h.tick(time.Second)
		n := len(h.log)
		err := h.do(c.op)
		wantCode(t, err, c.code)
		if err != nil && !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: refusal %q, want it to say %q", c.name, err, c.want)
		}
		if c.typ == "" {
			if len(h.log) != n {
				t.Fatalf("%s: events %v, want none", c.name, h.log[n:])
			}
			continue
		}
		if len(h.log) != n+1 || h.log[n].Type != c.typ || h.log[n].Actor != "test" {
			t.Fatalf("%s: events %+v, want one %s by test", c.name, h.log[n:], c.typ)
		}
	}
	s := h.e.Site()
	switch {
	case h.e.Service("D") != nil || h.e.Counter("4") != nil || h.e.Agent("dora") != nil:
		t.Fatal("removed service, counter or agent still there")
	case h.e.Service("A").SLA != 5*time.Minute:
		t.Fatalf("service A's SLA = %s, want 5m", h.e.Service("A").SLA)
	case s.Name != "Mairie de Test" || s.PublicURL != "https://guichet.test" || s.Message["en"] != "Closing at 4 pm":
		t.Fatalf("settings not applied: %+v", s)
	case len(s.PauseReasons) != 2:
		t.Fatalf("pause reasons %v", s.PauseReasons)
	}
	// A closed service takes no new ticket, says why, and still calls its queue.
	err := h.do(func(b By) ([]Event, error) { return h.e.Issue(b, issueReq{ID: "late", Service: "A"}.request()) })
	wantCode(t, err, api.CodeServiceClosed)
	if !strings.Contains(err.Error(), "Revenez demain") {
		t.Fatalf("refusal %q does not carry the message", err)
	}
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
	if h.ticket(waitingA).State != Called {
		t.Fatal("the closed service's waiting ticket was not called")
	}
	// Reopened, it takes tickets again; saving it kept it closed until then.
	h.must(func(b By) ([]Event, error) { return h.e.ReopenService(b, "A") })
	h.issue(issueReq{Service: "A"})

	checkReplayAndSnapshot(t, h)
}

// checkReplayAndSnapshot: the log replayed on the first site, and a
// snapshot restored on an engine of another site, give the live state.
func checkReplayAndSnapshot(t *testing.T, h *harness) {
	t.Helper()
	replay, _ := New(testSite())
	for _, ev := range h.log {
		b, err := json.Marshal(ev) // as the store keeps it
		if err != nil {
			t.Fatal(err)
		}
		var back Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		replay.Apply(back)
	}
	if stateOf(t, replay) != h.state() {
		t.Fatalf("replayed state differs:\n%s\n%s", stateOf(t, replay), h.state())
	}
	b, _ := json.Marshal(h.e.Snapshot())
	var snap Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	other := testSite()
	other.Services = other.Services[:1]
	other.Counters, other.Agents = nil, nil
	restored, _ := New(other)
	restored.Restore(snap)
	if stateOf(t, restored) != h.state() {
		t.Fatalf("restored state differs:\n%s\n%s", stateOf(t, restored), h.state())
	}
}

func TestTicketOfARemovedServiceStaysReadable(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.SaveService(b, serviceD()) })
	h.must(func(b By) ([]Event, error) {
		return h.e.SaveAgent(b, Agent{ID: "dora", Skills: map[string]int{"D": 1}})
	})
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "dora"}) })
	id := h.issue(issueReq{Service: "D"})
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
	h.must(func(b By) ([]Event, error) { return h.e.Finish(b, "1") })
	h.must(func(b By) ([]Event, error) { return h.e.CloseCounter(b, "1") })
	h.must(func(b By) ([]Event, error) { return h.e.RemoveAgent(b, "dora") })
	h.must(func(b By) ([]Event, error) { return h.e.RemoveService(b, "D") })
	tk := h.ticket(id)
	if tk.Service != "D" || tk.Display() != "D001" || tk.State != Done {
		t.Fatalf("ticket of the removed service: %+v", tk)
	}
	if _, err := json.Marshal(h.e.Summary(h.now)); err != nil {
		t.Fatal(err)
	}
	checkReplayAndSnapshot(t, h)
}

func TestANewSiteFileClosesRemovedCountersAndRequeuesTheirTickets(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "2", api.OpenArgs{Agent: "ana"}) })
	id := h.issue(issueReq{Service: "A"})
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "2") })
	next := testSite()
	next.Counters = next.Counters[:1] // counter 2 and 9 go
	h.must(func(b By) ([]Event, error) { return h.e.LoadSite(b, next, "hash-2") })
	tk := h.ticket(id)
	if tk.State != Waiting || tk.Counter != "" {
		t.Fatalf("the removed counter's ticket: %+v, want waiting", tk)
	}
	if st, _ := h.e.AgentStatus("ana"); st.State != AgentOffline {
		t.Fatalf("ana is %s at a removed counter", st.State)
	}
	if h.e.SiteHash() != "hash-2" || h.e.Counter("2") != nil {
		t.Fatal("site not replaced")
	}
	bad := testSite()
	bad.Services[0].Names = nil
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.LoadSite(b, bad, "hash-3") }), api.CodeInvalid)
	checkReplayAndSnapshot(t, h)
}
