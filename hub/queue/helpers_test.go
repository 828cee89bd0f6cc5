package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"guichet/hub/api"
)

var paris = mustZone("Europe/Paris")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// testSite: A (état civil, visit+phone), B (passeports, visit), C (social,
// visit+phone, weight 2); counters 1 and 2 (visit), 9 (phone only);
// agents: ana (A3 B1), bob (B2), carl (A1 C1), pat (phone: A1 C1).
func testSite() Site {
	return Site{
		ID: "test", Name: "Mairie test", Location: paris, Policy: DefaultPolicy(), Languages: []string{"fr", "en"},
		Services: []Service{
			{ID: "A", Names: map[string]string{"fr": "État civil", "en": "Civil status"}, SLA: 20 * time.Minute, Channels: []Channel{Visit, Phone}, ServiceTime: 6 * time.Minute},
			{ID: "B", Names: map[string]string{"fr": "Passeports"}, SLA: 30 * time.Minute, Channels: []Channel{Visit}, ServiceTime: 12 * time.Minute},
			{ID: "C", Names: map[string]string{"fr": "Social"}, SLA: 15 * time.Minute, Weight: 2, Channels: []Channel{Visit, Phone}},
		},
		Counters: []Counter{
			{ID: "1", Name: "Guichet 1"},
			{ID: "2", Name: "Guichet 2"},
			{ID: "9", Name: "Téléphone", Channels: []Channel{Phone}},
		},
		Agents: []Agent{
			{ID: "ana", Skills: map[string]int{"A": 3, "B": 1}},
			{ID: "bob", Skills: map[string]int{"B": 2}},
			{ID: "carl", Skills: map[string]int{"A": 1, "C": 1}},
			{ID: "pat", Skills: map[string]int{"A": 1, "C": 1}},
		},
	}
}

// day0 is a Tuesday morning in Paris.
var day0 = time.Date(2026, 11, 17, 9, 0, 0, 0, paris)

// hoursOnDay0 are hours with the given periods on day0's weekday alone.
func hoursOnDay0(spans ...Span) Hours {
	var week [7][]Span
	week[day0.Weekday()] = spans
	return NewHours(week, nil)
}

type harness struct {
	t   testing.TB
	e   *Engine
	now time.Time
	log []Event
	n   int
}

func newHarness(t testing.TB, site Site) *harness {
	t.Helper()
	e, err := New(site)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, e: e, now: day0}
}

func (h *harness) by() By { return By{At: h.now, Actor: "test"} }

func (h *harness) tick(d time.Duration) { h.now = h.now.Add(d) }

// do runs op and records its events; a refusal must leave the state as it was.
func (h *harness) do(op func(By) ([]Event, error)) error {
	h.t.Helper()
	before := h.state()
	evs, err := op(h.by())
	if err != nil {
		if len(evs) != 0 {
			h.t.Fatalf("refused operation returned events: %v", evs)
		}
		if after := h.state(); after != before {
			h.t.Fatalf("refused operation (%v) changed the state", err)
		}
		return err
	}
	h.log = append(h.log, evs...)
	return nil
}

func (h *harness) must(op func(By) ([]Event, error)) {
	h.t.Helper()
	if err := h.do(op); err != nil {
		h.t.Fatal(err)
	}
}

// issueReq is an IssueRequest written flat, the way the tests think of it.
type issueReq struct {
	ID, Token, Service, Device, Citizen, Lang string
	Channel                                   Channel
	Priority                                  Priority
	AppointmentAt, IssuedAt                   time.Time
	Force                                     bool
	OfflineNumber                             int
	Replaces                                  string // the ticket replaced
}

func (q issueReq) request() IssueRequest {
	r := IssueRequest{ID: q.ID, Token: q.Token, Device: q.Device, Replaces: q.Replaces,
		Args: api.IssueArgs{Service: q.Service, Channel: string(q.Channel), Priority: string(q.Priority),
			Citizen: q.Citizen, Lang: q.Lang, Force: q.Force, OfflineNumber: q.OfflineNumber}}
	if !q.AppointmentAt.IsZero() {
		r.Args.AppointmentAt = &q.AppointmentAt
	}
	if !q.IssuedAt.IsZero() {
		r.Args.IssuedAt = &q.IssuedAt
	}
	return r
}

// checkinReq is the check-in of code for the ticket q describes.
func checkinReq(code string, q issueReq) CheckinRequest {
	return CheckinRequest{Args: api.CheckinArgs{Code: code, Lang: q.Lang}, ID: q.ID, Token: q.Token, Device: q.Device}
}

func (h *harness) issue(r issueReq) string {
	h.t.Helper()
	if r.ID == "" {
		h.n++
		r.ID = fmt.Sprintf("t%05d", h.n)
	}
	h.must(func(b By) ([]Event, error) { return h.e.Issue(b, r.request()) })
	return r.ID
}

func (h *harness) ticket(id string) Ticket {
	h.t.Helper()
	t, ok := h.e.Ticket(id)
	if !ok {
		h.t.Fatalf("ticket %s not found", id)
	}
	return t
}

func (h *harness) state() string {
	b, err := json.Marshal(h.e.Snapshot())
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var qe *Error
	if !errors.As(err, &qe) || qe.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}
