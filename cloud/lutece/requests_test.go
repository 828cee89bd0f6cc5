package lutece_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/internal/sitetest"
)

// personal is what the citizen file holds of the test's citizen, and what
// the agent typed: none of it may leave the hub in a request's event.
var personal = []string{"Lefèbvre", "LEFEBVRE", "Jeanne", "jeanne.lefebvre@example.fr", "612345678", "06 12 34 56 78",
	"Trottoir défoncé", "Rue des Lilas"}

// requestSite is a site with a citizen file, the GRU as a destination and
// a webhook not configured for the CRM taking the request events; the
// agent ana (of services A and E: accueil, état civil) is signed in.
func requestSite(t *testing.T, gru string, hook *sitetest.Receiver) (*sitetest.Site, *sitetest.Session) {
	t.Setenv("TEST_LUTECE_TOKEN", "lutece-api-manager-token-0123456789")
	t.Setenv("TEST_WEBHOOK_SECRET", hook.Secret.String())
	cfg := sitetest.Config + `
crm:
  sectors: { A: accueil, E: etat_civil }
destinations:
` + fmt.Sprintf("  - { name: gru, type: lutece, url: %q, demand_type: \"104\", token_env: TEST_LUTECE_TOKEN, max_backoff: 100ms }\n", gru) +
		fmt.Sprintf("  - { name: public, type: webhook, url: %q, secret_env: TEST_WEBHOOK_SECRET, types: [\"request.*\"], max_backoff: 100ms }\n", hook.URL)
	s := sitetest.Start(t, sitetest.Options{Config: cfg, OpenHours: true})
	s.AddAccount("ana", auth.RoleAgent, "ana")
	return s, s.SignIn("ana", sitetest.Password)
}

func do(t *testing.T, se *sitetest.Session, method, path, body string, want int, v any) {
	t.Helper()
	st, b, _ := se.Do(method, path, body)
	if st != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, st, want, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

func noPersonalData(t *testing.T, where string, b []byte) {
	t.Helper()
	for _, p := range personal {
		if strings.Contains(string(b), p) {
			t.Fatalf("%s carries %q: %s", where, p, b)
		}
	}
}

// A request registered at the counter and moved on twice becomes three
// GRU notifications, in order, with the demand's id, type, reference,
// status and steps, and nothing personal; a request a Lutece GRU pushed is
// not sent back to it; the events are in the log and reach a public
// webhook without personal data.
func TestARequestsChangesBecomeGRUNotificationsInOrder(t *testing.T) {
	n := &notificationstore{types: map[string]bool{"104": true, "reclamation": true}, token: "lutece-api-manager-token-0123456789"}
	srv := httptest.NewServer(n)
	defer srv.Close()
	hook := sitetest.NewReceiver(t)
	hook.Start()
	s, ana := requestSite(t, srv.URL+"/lutece", hook)

	var created struct{ Citizen crm.Citizen }
	do(t, ana, "POST", "/api/v1/citizens", `{"family_name":"Lefèbvre","first_names":"Jeanne","email":"jeanne.lefebvre@example.fr","phones":["06 12 34 56 78"]}`, 201, &created)
	var req crm.Request
	do(t, ana, "POST", "/api/v1/citizens/"+created.Citizen.ID+"/requests", `{"kind":"reclamation","title":"Trottoir défoncé Rue des Lilas","channel":"guichet"}`, 201, &req)
	do(t, ana, "POST", "/api/v1/requests/"+req.ID+"/steps", `{"status":"en_cours","step":"Transmise aux services techniques","step_no":1,"max_steps":3}`, 200, nil)
	do(t, ana, "POST", "/api/v1/requests/"+req.ID+"/steps", `{"status":"acceptee","step":"Réponse envoyée","step_no":3,"max_steps":3}`, 200, nil)

	sitetest.Eventually(t, 10*time.Second, "three notifications", func() bool { return len(n.all()) >= 3 })
	want := []struct {
		status, step, max string
		text              string
	}{{"11", "<nil>", "<nil>", "Demande reçue"}, {"11", "1", "3", "Transmise aux services techniques"}, {"15", "3", "3", "Réponse envoyée"}}
	for i, got := range n.all()[:3] {
		b, _ := json.Marshal(got)
		noPersonalData(t, fmt.Sprintf("notification %d", i), b)
		d := got["demand"].(map[string]any)
		if d["id"] != req.ID || d["type_id"] != "reclamation" || d["reference"] != req.ID ||
			fmt.Sprint(d["status_id"]) != want[i].status || fmt.Sprint(d["current_step"]) != want[i].step ||
			fmt.Sprint(d["max_step"]) != want[i].max || !strings.Contains(fmt.Sprint(got["mydashboard"]), want[i].text) {
			t.Fatalf("notification %d: %s", i, b)
		}
		if c, _ := d["customer"].(map[string]any); c["id"] != created.Citizen.ID || len(c) != 1 {
			t.Fatalf("notification %d's customer: %v", i, d["customer"])
		}
	}

	// A Lutece GRU notifies a demand of the same citizen: filed, not echoed.
	lut := `{"notification":{"date":` + fmt.Sprint(time.Now().UnixMilli()) + `,"demand":{"id":"D-77","type_id":"reclamation",
	  "reference":"GRU-77","status_id":11,"max_step":4,"current_step":2,"customer":{"email":"jeanne.lefebvre@example.fr"}}}}`
	var imp crm.ImportResult
	st, b := s.Bearer(s.Token, "POST", "/api/v1/citizens/import?platform=gru-paris", lut)
	if st != 200 || json.Unmarshal(b, &imp) != nil || imp.Outcome != crm.ImportCreated {
		t.Fatalf("import: %d %s", st, b)
	}
	// A later change of the town's own request: once its notification is
	// in, the import's event (before it in the log) was passed.
	do(t, ana, "POST", "/api/v1/requests/"+req.ID+"/steps", `{"status":"terminee","step":"Classée","step_no":3,"max_steps":3}`, 200, nil)
	sitetest.Eventually(t, 10*time.Second, "the fourth notification", func() bool { return len(n.all()) >= 4 })
	for i, got := range n.all() {
		if d := got["demand"].(map[string]any); d["id"] != req.ID {
			t.Fatalf("notification %d is not the town's request (an import echoed?): %v", i, got)
		}
	}
	if got := len(n.all()); got != 4 {
		t.Fatalf("%d notifications, want 4", got)
	}

	// The log has the five events, ids and facts only.
	var page struct{ Events []queue.Event }
	s.Must("GET", "/api/v1/events?limit=1000", "", 200, &page)
	var types []string
	for _, ev := range page.Events {
		if ev.Request == nil {
			continue
		}
		types = append(types, string(ev.Type)+":"+ev.Request.Status)
		if ev.Request.ID == imp.Request && ev.Request.Origin != "lutece" {
			t.Fatalf("the import's event does not say it came from Lutece: %+v", ev.Request)
		}
		b, _ := json.Marshal(ev)
		noPersonalData(t, "the log's event", b)
	}
	if got := strings.Join(types, " "); got != "request.registered:recue request.status_changed:en_cours request.status_changed:acceptee request.registered:en_cours request.status_changed:terminee" {
		t.Fatalf("request events in the log: %s", got)
	}

	// The public webhook gets them as CloudEvents, without the citizen's id.
	sitetest.Eventually(t, 10*time.Second, "five request events at the webhook", func() bool { return len(hook.Received()) >= 5 })
	for _, id := range hook.Received() {
		ce, _ := hook.Event(id)
		if !strings.HasPrefix(ce.Type, "request.") || !strings.HasPrefix(ce.Subject, "request/") {
			t.Fatalf("the webhook took %s (%s)", ce.Type, ce.Subject)
		}
		noPersonalData(t, "the public CloudEvent", ce.Data)
		if strings.Contains(string(ce.Data), created.Citizen.ID) {
			t.Fatalf("the citizen's id went to a destination not configured for the CRM: %s", ce.Data)
		}
		var d api.EventData
		if err := json.Unmarshal(ce.Data, &d); err != nil || d.Request == nil || d.Request.Kind != "reclamation" || d.Request.ReceivedAt == nil {
			t.Fatalf("data: %s %v", ce.Data, err)
		}
	}
}
