package queue

import (
	"encoding/json"
	"testing"
	"time"
)

func TestCheckInIssuesAnAppointmentTicketOnce(t *testing.T) {
	h := newHarness(t, testSite())
	slot := h.now.Add(30 * time.Minute)
	h.must(func(b By) ([]Event, error) { return h.e.BookAppointment(b, "RDV-1234", "B", slot, "cit-9") })
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.BookAppointment(b, "RDV-1234", "B", slot, "") }), "invalid_argument")
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.BookAppointment(b, "x", "B", slot, "") }), "invalid_argument")
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.BookAppointment(b, "RDV-9", "Z", slot, "") }), "unknown_service")

	h.must(func(b By) ([]Event, error) {
		return h.e.CheckIn(b, "RDV-1234", IssueRequest{ID: "t1", Token: "tok", Device: "kiosk-1", Lang: "fr"})
	})
	tk := h.ticket("t1")
	if tk.Priority != PriorityAppointment || !tk.AppointmentAt.Equal(slot) || tk.Service != "B" || tk.Citizen != "cit-9" || tk.Display() != "B001" {
		t.Fatalf("checked-in ticket %+v", tk)
	}
	if a, _ := h.e.Appointment("RDV-1234"); a.Ticket != "t1" {
		t.Fatalf("appointment %+v", a)
	}
	wantCode(t, h.do(func(b By) ([]Event, error) {
		return h.e.CheckIn(b, "RDV-1234", IssueRequest{ID: "t2"})
	}), "already_checked_in")
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CheckIn(b, "NOPE-1", IssueRequest{ID: "t3"}) }), "unknown_appointment")
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CancelAppointment(b, "RDV-1234") }), "already_checked_in")

	// The projection holds it after a replay and a snapshot.
	replay, _ := New(testSite())
	for _, ev := range h.log {
		replay.Apply(ev)
	}
	if a, _ := replay.Appointment("RDV-1234"); a.Ticket != "t1" {
		t.Fatalf("after replay %+v", a)
	}
	b, _ := json.Marshal(h.e.Snapshot())
	var snap Snapshot
	json.Unmarshal(b, &snap)
	restored, _ := New(testSite())
	restored.Restore(snap)
	if got := stateOf(t, restored); got != h.state() {
		t.Fatal("snapshot lost appointments")
	}
}

func TestCheckInOnlyAroundTheSlot(t *testing.T) {
	h := newHarness(t, testSite()) // window: 1 h before to 30 min after
	slot := h.now.Add(2 * time.Hour)
	h.must(func(b By) ([]Event, error) { return h.e.BookAppointment(b, "EARLY-1", "A", slot, "") })
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CheckIn(b, "EARLY-1", IssueRequest{ID: "t1"}) }), "checkin_window")
	h.now = slot.Add(31 * time.Minute)
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CheckIn(b, "EARLY-1", IssueRequest{ID: "t1"}) }), "checkin_window")
	h.now = slot.Add(-59 * time.Minute)
	h.must(func(b By) ([]Event, error) { return h.e.CheckIn(b, "EARLY-1", IssueRequest{ID: "t1"}) })
}

func TestAppointmentsOfPastDaysAreDropped(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.BookAppointment(b, "OLD-1", "A", h.now, "") })
	h.must(func(b By) ([]Event, error) { return h.e.BookAppointment(b, "NEXT-1", "A", h.now.Add(72*time.Hour), "") })
	h.now = h.now.Add(48 * time.Hour)
	h.issue(IssueRequest{Service: "A", Force: true}) // any event of the new day
	if _, ok := h.e.Appointment("OLD-1"); ok {
		t.Fatal("an appointment two days old is still held")
	}
	if _, ok := h.e.Appointment("NEXT-1"); !ok {
		t.Fatal("a future appointment was dropped")
	}
}
