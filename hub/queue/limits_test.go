package queue

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
)

var year9999 = time.Date(9999, 12, 31, 23, 30, 0, 0, time.UTC) // year 10000 in Paris

func TestBookingRefusesValuesOutsideItsBounds(t *testing.T) {
	h := newHarness(t, testSite())
	ok := api.AppointmentArgs{Code: "RDV-1", Service: "A", At: h.now.Add(30 * time.Minute), Citizen: "crm-77"}
	for name, mod := range map[string]func(a *api.AppointmentArgs){
		"year 9999":           func(a *api.AppointmentArgs) { a.At = year9999 },
		"year 1":              func(a *api.AppointmentArgs) { a.At = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC) },
		"two years ahead":     func(a *api.AppointmentArgs) { a.At = h.now.AddDate(2, 0, 0) },
		"two days ago":        func(a *api.AppointmentArgs) { a.At = h.now.AddDate(0, 0, -2) },
		"NUL in citizen":      func(a *api.AppointmentArgs) { a.Citizen = "crm\x00" },
		"100 KB citizen":      func(a *api.AppointmentArgs) { a.Citizen = strings.Repeat("c", 100<<10) },
		"100 KB service":      func(a *api.AppointmentArgs) { a.Service = strings.Repeat("A", 100<<10) },
		"code with a newline": func(a *api.AppointmentArgs) { a.Code = "RDV-1\n" },
	} {
		t.Run(name, func(t *testing.T) {
			a := ok
			mod(&a)
			wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.BookAppointment(b, a) }), api.CodeInvalid)
		})
	}
	for _, at := range []time.Time{h.now.Add(-23 * time.Hour), h.now.AddDate(0, 11, 0)} {
		a := ok
		a.Code, a.At = "RDV-"+at.Format("0102"), at
		h.must(func(b By) ([]Event, error) { return h.e.BookAppointment(b, a) })
	}
}

func TestReasonsAndIdsAreBoundedText(t *testing.T) {
	h := newHarness(t, testSite())
	id := h.issue(issueReq{Service: "A"})
	h.open("1", "ana")
	for _, bad := range []string{"caf\x00", "line\nlevel=ERROR msg=forged", "\x1b[31mred", strings.Repeat("r", MaxTextLen+1), "\xff"} {
		wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.Pause(b, "1", api.PauseArgs{Reason: bad}) }), api.CodeInvalid)
		wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.Cancel(b, api.CancelArgs{Ticket: id, Reason: bad}) }), api.CodeInvalid)
	}
	long := strings.Repeat("x", 100<<10)
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.Cancel(b, api.CancelArgs{Ticket: long}) }), api.CodeInvalid)
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, long) }), api.CodeInvalid)
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "2", api.OpenArgs{Agent: long}) }), api.CodeInvalid)
	h.must(func(b By) ([]Event, error) {
		return h.e.Pause(b, "1", api.PauseArgs{Reason: "réunion d'équipe — 15 min"})
	})
}

func TestLeasesStayWithinTheWeekAndTheNumbers(t *testing.T) {
	h := newHarness(t, testSite())
	for _, day := range []string{"9999-12-31", h.e.Day(h.now.AddDate(0, 0, LeaseAhead+1)), "2026-11-16", "demain"} {
		wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.GrantLease(b, "k1", "A", day, 10) }), api.CodeInvalid)
	}
	today := h.e.Day(h.now)
	for i := 0; (i+1)*MaxLeaseSize <= api.MaxNumber-OfflineFrom+1; i++ {
		h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "k1", "A", today, MaxLeaseSize) })
	}
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.GrantLease(b, "k1", "A", today, MaxLeaseSize) }), api.CodeInvalid)
}

// An older build accepted any time; what it logged must not break the
// engine's state nor what is built from it.
func TestApplyHoldsTimesFromAnOlderLogWithinBounds(t *testing.T) {
	e, _ := New(testSite())
	e.Apply(Event{At: day0, Type: TicketIssued, Ticket: "t1", Service: "A", Channel: Visit, Priority: PriorityAppointment,
		Number: 1, Day: "2026-11-17", AppointmentAt: year9999})
	e.Apply(Event{At: day0, Type: TicketIssued, Ticket: "t2", Service: "A", Channel: Visit, Priority: PriorityNone,
		Number: 901, Day: "0001-01-01", Device: "k1", IssuedAt: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)})
	e.Apply(Event{At: day0, Type: AppointmentBooked, Code: "RDV-9", Service: "A", AppointmentAt: year9999})
	if e.Clamped() != 3 {
		t.Fatalf("clamped %d times, want 3", e.Clamped())
	}
	t1, _ := e.Ticket("t1")
	t2, _ := e.Ticket("t2")
	a, _ := e.Appointment("RDV-9")
	if !t1.AppointmentAt.Equal(day0.Add(SlotWindow)) || !t2.IssuedAt.Equal(day0.Add(-MaxOfflineAge)) || !a.At.Equal(day0.Add(BookAhead)) {
		t.Fatalf("held at %s, %s, %s", t1.AppointmentAt, t2.IssuedAt, a.At)
	}
	for _, zone := range []string{"Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Paris"} {
		loc := mustZone(zone)
		for _, tm := range []time.Time{t1.AppointmentAt, t2.IssuedAt, a.At} {
			if _, err := json.Marshal(tm.In(loc)); err != nil {
				t.Fatalf("%s in %s: %v", tm, zone, err)
			}
		}
	}
}
