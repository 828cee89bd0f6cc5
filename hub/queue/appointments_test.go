package queue

import (
	"encoding/json"
	"testing"
	"time"

	"guichet/hub/api"
)

func TestCheckInIssuesAnAppointmentTicketOnce(t *testing.T) {
	h := newHarness(t, testSite())
	slot := h.now.Add(30 * time.Minute)
	h.must(func(b By) ([]Event, error) {
		return h.e.BookAppointment(b, api.AppointmentArgs{Code: "RDV-1234", Service: "B", At: slot, Citizen: "cit-9"})
	})
	wantCode(t, h.do(func(b By) ([]Event, error) {
		return h.e.BookAppointment(b, api.AppointmentArgs{Code: "RDV-1234", Service: "B", At: slot, Citizen: ""})
	}), "invalid_argument")
	wantCode(t, h.do(func(b By) ([]Event, error) {
		return h.e.BookAppointment(b, api.AppointmentArgs{Code: "x", Service: "B", At: slot, Citizen: ""})
	}), "invalid_argument")
	wantCode(t, h.do(func(b By) ([]Event, error) {
		return h.e.BookAppointment(b, api.AppointmentArgs{Code: "RDV-9", Service: "Z", At: slot, Citizen: ""})
	}), "unknown_service")

	h.must(func(b By) ([]Event, error) {
		return h.e.CheckIn(b, checkinReq("RDV-1234", issueReq{ID: "t1", Token: "tok", Device: "kiosk-1", Lang: "fr"}))
	})
	tk := h.ticket("t1")
	if tk.Priority != PriorityAppointment || !tk.AppointmentAt.Equal(slot) || tk.Service != "B" || tk.Citizen != "cit-9" || tk.Display() != "B001" {
		t.Fatalf("checked-in ticket %+v", tk)
	}
	if a, _ := h.e.Appointment("RDV-1234"); a.Ticket != "t1" {
		t.Fatalf("appointment %+v", a)
	}
	wantCode(t, h.do(func(b By) ([]Event, error) {
		return h.e.CheckIn(b, checkinReq("RDV-1234", issueReq{ID: "t2"}))
	}), "already_checked_in")
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CheckIn(b, checkinReq("NOPE-1", issueReq{ID: "t3"})) }), "unknown_appointment")
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
	h.must(func(b By) ([]Event, error) {
		return h.e.BookAppointment(b, api.AppointmentArgs{Code: "EARLY-1", Service: "A", At: slot, Citizen: ""})
	})
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CheckIn(b, checkinReq("EARLY-1", issueReq{ID: "t1"})) }), "checkin_window")
	h.now = slot.Add(31 * time.Minute)
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CheckIn(b, checkinReq("EARLY-1", issueReq{ID: "t1"})) }), "checkin_window")
	h.now = slot.Add(-59 * time.Minute)
	h.must(func(b By) ([]Event, error) { return h.e.CheckIn(b, checkinReq("EARLY-1", issueReq{ID: "t1"})) })
}

func TestAppointmentsOfPastDaysAreDropped(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) {
		return h.e.BookAppointment(b, api.AppointmentArgs{Code: "OLD-1", Service: "A", At: h.now, Citizen: ""})
	})
	h.must(func(b By) ([]Event, error) {
		return h.e.BookAppointment(b, api.AppointmentArgs{Code: "NEXT-1", Service: "A", At: h.now.Add(72 * time.Hour), Citizen: ""})
	})
	h.now = h.now.Add(48 * time.Hour)
	h.issue(issueReq{Service: "A", Force: true}) // any event of the new day
	if _, ok := h.e.Appointment("OLD-1"); ok {
		t.Fatal("an appointment two days old is still held")
	}
	if _, ok := h.e.Appointment("NEXT-1"); !ok {
		t.Fatal("a future appointment was dropped")
	}
}
