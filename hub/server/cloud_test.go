package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/internal/sitetest"
)

// A read-only integration token catches up on the log over HTTP, raw or
// in CloudEvents form, without personal data (the free-text citizen, the
// QR token, account events), and can do nothing else: not the
// destinations, not a ticket.
func TestIntegrationTokenCatchesUpWithoutPersonalData(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{OpenHours: true})
	s.AddAccount("dsi", auth.RoleAdmin, "")
	sess := s.SignIn("dsi", sitetest.Password)
	st, b, _ := sess.Do("POST", "/api/v1/tokens", `{"name":"node-red","role":"integration"}`)
	var tok struct{ Token string }
	if json.Unmarshal(b, &tok); st != 201 || tok.Token == "" {
		t.Fatalf("integration token: %d %s", st, b)
	}
	var tk api.Ticket
	s.Must("POST", "/api/v1/tickets", `{"service":"A","citizen":"Jean Dupont 0601020304"}`, 201, &tk)

	st, raw := s.Bearer(tok.Token, "GET", "/api/v1/events", "")
	if st != 200 || !strings.Contains(string(raw), tk.ID) {
		t.Fatalf("events: %d %s", st, raw)
	}
	st, ces := s.Bearer(tok.Token, "GET", "/api/v1/cloudevents?after=0", "")
	var page api.CloudEventsPage
	if err := json.Unmarshal(ces, &page); st != 200 || err != nil || len(page.Events) == 0 || page.Next == 0 {
		t.Fatalf("cloudevents: %d %s", st, ces)
	}
	for _, body := range []string{string(raw), string(ces)} {
		if strings.Contains(body, "Dupont") || tk.Token != "" && strings.Contains(body, tk.Token) || strings.Contains(body, "account.") {
			t.Fatalf("personal data to an integration token: %s", body)
		}
	}
	last := page.Events[len(page.Events)-1]
	if last.Type != "ticket.issued" || !strings.Contains(string(last.Data), `"number":"`+tk.Number+`"`) {
		t.Fatalf("last CloudEvent: %+v", last)
	}
	for _, r := range []struct{ method, path string }{{"GET", "/api/v1/destinations"}, {"POST", "/api/v1/destinations/mqtt/replay"},
		{"POST", "/api/v1/tickets"}} {
		if st, _ := s.Bearer(tok.Token, r.method, r.path, "{}"); st != 403 {
			t.Fatalf("%s %s with an integration token: %d", r.method, r.path, st)
		}
	}
	// The admin still reads the whole log.
	st, all := s.Bearer(s.Token, "GET", "/api/v1/events", "")
	if st != 200 || !strings.Contains(string(all), "Dupont") {
		t.Fatalf("admin's log: %d", st)
	}
}

// The bus is a destination like the others: supervision shows it.
func TestTheBusIsADestination(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{OpenHours: true})
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	sitetest.Eventually(t, 5e9, "the bus caught up", func() bool {
		var d struct{ Destinations []api.Destination }
		s.Must("GET", "/api/v1/destinations", "", 200, &d)
		return len(d.Destinations) == 1 && d.Destinations[0].Name == "mqtt" && d.Destinations[0].Kind == "mqtt" && d.Destinations[0].Behind == 0
	})
}
