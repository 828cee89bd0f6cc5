package cloud_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"guichet/cloud"
	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/internal/sitetest"
)

// A ticket's later event read by a follower that never saw its
// ticket.issued (it started after it, or the issued event was filtered)
// still carries the number, service and channel: the mapper reads the
// ticket's history from the log.
func TestLaterEventCarriesTheTicketsFactsWithoutItsIssuedEvent(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{OpenHours: true})
	var tk api.Ticket
	s.Must("POST", "/api/v1/tickets", `{"service":"E","channel":"visit","priority":"priority"}`, 201, &tk)
	s.Must("POST", "/api/v1/counters/2/open", `{"agent":"bob"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/2/next", ``, 200, nil)
	evs, err := s.Store.TicketEvents(context.Background(), tk.ID)
	if err != nil || len(evs) != 2 {
		t.Fatalf("history: %v %v", evs, err)
	}
	var site queue.Site
	s.Engine(func(e *queue.Engine) { site = *e.Site() })
	m := cloud.NewMapper(cloud.SiteOf(&site), s.Store, cloud.Public)
	d, err := m.Data(context.Background(), evs[1]) // ticket.called, alone
	if err != nil {
		t.Fatal(err)
	}
	if d.Type != "ticket.called" || d.Number != tk.Number || d.Service != "E" || d.ServiceName != "État civil" ||
		d.Channel != "visit" || d.Priority != "priority" || d.CounterName != "Guichet 2" || d.Agent != "bob" || d.Day == "" {
		t.Fatalf("data: %+v", d)
	}
}

// The QR token and an appointment's code never leave, whatever the
// purpose; the free-text citizen only to the CRM; account events never.
func TestPersonalDataByPurpose(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	paris, _ := time.LoadLocation("Europe/Paris")
	site := cloud.Site{ID: "x", Location: paris}
	issued := queue.Event{Seq: 1, At: at, Type: queue.TicketIssued, Ticket: "t1", Service: "A", Number: 7, Day: "2026-12-01",
		Channel: queue.Visit, Citizen: "Jean Dupont 0601020304", Token: "qr-token-secret", Lang: "fr"}
	booked := queue.Event{Seq: 2, At: at, Type: queue.AppointmentBooked, Service: "A", Code: "APPT-CODE-1", Citizen: "Jean Dupont"}
	for _, p := range []cloud.Purpose{cloud.Public, cloud.CRM} {
		m := cloud.NewMapper(site, nil, p)
		for _, ev := range []queue.Event{issued, booked} {
			e, err := m.Map(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			s := string(e.JSON)
			if strings.Contains(s, "qr-token-secret") || strings.Contains(s, "APPT-CODE-1") {
				t.Fatalf("purpose %d: token or code out: %s", p, s)
			}
			if has := strings.Contains(s, "Dupont"); has != (p == cloud.CRM) {
				t.Fatalf("purpose %d: citizen out %v: %s", p, has, s)
			}
			if !strings.Contains(s, `"time":"2026-12-01T10:00:00+01:00"`) {
				t.Fatalf("time not with the site's offset: %s", s)
			}
		}
	}
	if !cloud.Personal(queue.Event{Type: "account.signed_in"}) || cloud.Personal(issued) {
		t.Fatal("Personal")
	}
}

// The CloudEvent is what the CloudEvents SDK reads as a valid 1.0 event.
func TestCloudEventIsValidForTheSDK(t *testing.T) {
	m := cloud.NewMapper(cloud.Site{ID: "villeneuve", Location: time.UTC}, nil, cloud.Public)
	e, err := m.Map(context.Background(), queue.Event{Seq: 12, At: time.Now(), Type: queue.CounterOpened, Counter: "3", Agent: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	ce := sdkEvent(t, e.JSON)
	if ce.ID() != "villeneuve-12" || ce.Subject() != "counter/3" || ce.Extensions()["sequence"] != "12" {
		t.Fatalf("sdk read: %v", ce)
	}
	var d api.EventData
	if err := json.Unmarshal(ce.Data(), &d); err != nil || d.Counter != "3" {
		t.Fatalf("data: %+v %v", d, err)
	}
}
