package suitecrm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"guichet/cloud"
	"guichet/cloud/suitecrm"
	"guichet/hub/api"
	"guichet/internal/sitetest"
)

func site(t *testing.T, f *fakeCRM, extra string) *sitetest.Site {
	t.Helper()
	t.Setenv("TEST_SUITECRM_SECRET", "client-secret-of-guichet-0123456789")
	cfg := sitetest.Config + fmt.Sprintf("destinations:\n  - { name: suitecrm, type: suitecrm, url: %q, client_id: guichet, "+
		"client_secret_env: TEST_SUITECRM_SECRET, max_backoff: 100ms%s }\n", f.url(), extra)
	return sitetest.Start(t, sitetest.Options{Config: cfg, OpenHours: true})
}

// serve issues a ticket for citizen and serves it at counter 1.
func serve(s *sitetest.Site, citizen string) api.Ticket {
	var tk api.Ticket
	s.Must("POST", "/api/v1/tickets", fmt.Sprintf(`{"service":"A","citizen":%q}`, citizen), 201, &tk)
	s.Call("POST", "/api/v1/counters/1/open", `{"agent":"ana"}`)
	s.Must("POST", "/api/v1/counters/1/next", ``, 200, nil)
	s.Must("POST", "/api/v1/counters/1/start", ``, 200, nil)
	s.Must("POST", "/api/v1/counters/1/finish", ``, 200, nil)
	return tk
}

func waitCalls(t *testing.T, f *fakeCRM, n int) []record {
	t.Helper()
	sitetest.Eventually(t, 10*time.Second, fmt.Sprintf("%d calls in SuiteCRM", n), func() bool { return len(f.all("Calls")) >= n })
	return f.all("Calls")
}

// A served ticket becomes a Call on the Contact whose mobile number is
// written "+33 6 01 02 03 04" in SuiteCRM, while the agent typed
// "06.01.02.03.04"; the Call is related to the Contact.
func TestServedTicketBecomesACallOnTheContactFoundByAPhoneWrittenDifferently(t *testing.T) {
	f := newFakeCRM(t)
	jean := f.add("Contacts", map[string]any{"first_name": "Jean", "last_name": "Dupont", "phone_mobile": "+33 6 01 02 03 04", "deleted": "0"})
	f.add("Contacts", map[string]any{"first_name": "Autre", "last_name": "Personne", "phone_mobile": "06 99 99 99 99", "deleted": "0"})
	s := site(t, f, "")
	tk := serve(s, "Jean Dupont, 06.01.02.03.04")
	calls := waitCalls(t, f, 1)
	c := calls[0].Attrs
	if c["parent_type"] != "Contacts" || c["parent_id"] != jean || c["direction"] != "Inbound" || c["status"] != "Held" ||
		!strings.Contains(fmt.Sprint(c["name"]), tk.Number) || !strings.Contains(fmt.Sprint(c["description"]), "Guichet 1") {
		t.Fatalf("call: %v", c)
	}
	// The relationship is posted after the Call: wait for it, under the fake's lock.
	rels := func() []string { f.mu.Lock(); defer f.mu.Unlock(); return append([]string(nil), f.rels...) }
	sitetest.Eventually(t, 5*time.Second, "the Call related to the Contact", func() bool { return len(rels()) >= 1 })
	if r := rels(); len(r) != 1 || !strings.HasPrefix(r[0], "Contacts/"+jean+"/Calls/") {
		t.Fatalf("relationships: %v", r)
	}
	if logs := s.Logs.String(); strings.Contains(logs, "Dupont") || strings.Contains(logs, "01.02.03") {
		t.Fatal("the citizen is in the logs")
	}
}

// A contact not found is made when the town wants, with the number in
// E.164 and the name typed.
func TestMissingContactIsMadeWhenTheTownWants(t *testing.T) {
	f := newFakeCRM(t)
	s := site(t, f, ", create_contacts: true")
	serve(s, "Marie Curie 06 12 34 56 78")
	calls := waitCalls(t, f, 1)
	cs := f.all("Contacts")
	if len(cs) != 1 || cs[0].Attrs["phone_mobile"] != "+33612345678" || cs[0].Attrs["last_name"] != "Curie" || calls[0].Attrs["parent_id"] != cs[0].ID {
		t.Fatalf("contacts %v, call %v", cs, calls[0].Attrs)
	}
}

// A token that stops verifying mid-stream (SuiteCRM's keys changed, the
// token revoked) is renewed and the request sent again: every served
// ticket is recorded once, and nothing is a dead letter.
func TestTokenExpiryMidStreamRenewsTheTokenAndResends(t *testing.T) {
	f := newFakeCRM(t)
	s := site(t, f, "")
	serve(s, "Jean Dupont 0601020304")
	waitCalls(t, f, 1)
	f.expireTokens()
	serve(s, "Jean Dupont 0601020304")
	serve(s, "Ada Lovelace 0611111111")
	calls := waitCalls(t, f, 3)
	if len(calls) != 3 || f.issued != 2 {
		t.Fatalf("%d calls, %d tokens issued", len(calls), f.issued)
	}
	var d struct{ Destinations []api.Destination }
	s.Must("GET", "/api/v1/destinations", "", 200, &d)
	for _, x := range d.Destinations {
		if x.Name == "suitecrm" && (x.DeadLetters != 0 || x.LastError != "") {
			t.Fatalf("after the renewal: %+v", x)
		}
	}
}

// A 422 from the API goes to the dead letters with its reason; the
// events after it are recorded.
func TestUnprocessableRecordGoesToDeadLettersWithItsReason(t *testing.T) {
	f := newFakeCRM(t)
	f.refuse = func(module string, attrs map[string]any) string {
		if module == "Calls" && strings.Contains(fmt.Sprint(attrs["name"]), "A001") {
			return "date_start: the date is in a closed period"
		}
		return ""
	}
	s := site(t, f, "")
	serve(s, "Jean Dupont 0601020304")
	serve(s, "Ada Lovelace 0611111111")
	waitCalls(t, f, 1)
	var dl struct {
		DeadLetters []api.DeadLetter `json:"dead_letters"`
	}
	sitetest.Eventually(t, 10*time.Second, "a dead letter", func() bool {
		s.Must("GET", "/api/v1/destinations/suitecrm/dead-letters", "", 200, &dl)
		return len(dl.DeadLetters) == 1
	})
	if r := dl.DeadLetters[0]; r.Type != "ticket.served" || !strings.Contains(r.Reason, "422") || !strings.Contains(r.Reason, "closed period") {
		t.Fatalf("dead letter: %+v", r)
	}
}

// An event delivered twice (at least once) makes one record.
func TestAnEventSentTwiceMakesOneRecord(t *testing.T) {
	f := newFakeCRM(t)
	c, err := suitecrm.New(suitecrm.Options{URL: f.url(), ClientID: "guichet", ClientSecret: "client-secret-of-guichet-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ev := cloud.Event{Seq: 7, ID: "test-7", Type: "ticket.served",
		Data: api.EventData{Type: "ticket.served", Number: "A007", Service: "A", ServiceName: "Accueil", At: at, Citizen: "x 0601020304"}}
	for range 2 {
		if err := c.Send(context.Background(), []cloud.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.all("Calls")); n != 1 {
		t.Fatalf("%d calls", n)
	}
}

// Wrong client credentials: the events wait (tried again), they are not
// dead letters, and the secret is not in the reason.
func TestWrongClientSecretMakesTheEventsWait(t *testing.T) {
	f := newFakeCRM(t)
	f.clients["guichet"] = "another-secret"
	s := site(t, f, "")
	serve(s, "Jean Dupont 0601020304")
	sitetest.Eventually(t, 10*time.Second, "retrying", func() bool {
		var d struct{ Destinations []api.Destination }
		s.Must("GET", "/api/v1/destinations", "", 200, &d)
		for _, x := range d.Destinations {
			if x.Name == "suitecrm" && x.State == "retrying" && strings.Contains(x.LastError, "invalid_client") && x.DeadLetters == 0 {
				return !strings.Contains(x.LastError, "client-secret-of-guichet")
			}
		}
		return false
	})
}
