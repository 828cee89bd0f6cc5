package httpapi

import (
	"strings"
	"testing"

	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/hub/queue"
)

func TestTheSiteIsChangedOverHTTPAndTheLogSaysWho(t *testing.T) {
	e := start(t, t.TempDir())
	e.must("PUT", "/api/v1/site/services/X", `{"names":{"fr":"Élections","en":"Elections"},"sla":"12m0s","channels":["visit"],
		"hours":{"week":{"mon":"09:00-12:00"}}}`, 200)
	r := e.call("PUT", "/api/v1/site/services/Y", `{"names":{"en":"No French"},"channels":["visit"]}`)
	if r.status != 400 || !strings.Contains(string(r.body), "French name") {
		t.Fatalf("a service without a French name: %d %s", r.status, r.body)
	}
	r = e.call("PUT", "/api/v1/site/services/Y", `{"names":{"fr":"Y"},"channels":["visit"],"hours":{"week":{"lundi":"09:00-12:00"}}}`)
	if r.status != 400 || !strings.Contains(string(r.body), "not a day") {
		t.Fatalf("hours with an unknown day: %d %s", r.status, r.body)
	}
	e.must("PUT", "/api/v1/site/counters/12", `{"name":"Guichet 12","services":["X"]}`, 200)
	e.must("PUT", "/api/v1/site/agents/zoe", `{"name":"Zoé","skills":{"X":3},"hours":{"week":{"mon":"08:30-12:00 13:00-17:30"}}}`, 200)
	r = e.call("PUT", "/api/v1/site/agents/zoe", `{"name":"Zoé","skills":{"X":3},"hours":{"week":{"mon":"13:00-25:00"}}}`)
	if r.status != 400 || !strings.Contains(string(r.body), "not a period") {
		t.Fatalf("an agent's hours past midnight: %d %s", r.status, r.body)
	}
	// Closed dates are a service's: the site file cannot write an agent's,
	// and closed dates alone would make the agent never count as working.
	for _, hours := range []string{`{"week":{"mon":"08:30-12:00"},"closed":["2026-12-25"]}`, `{"closed":["2026-12-25"]}`} {
		r = e.call("PUT", "/api/v1/site/agents/zoe", `{"name":"Zoé","skills":{"X":3},"hours":`+hours+`}`)
		if r.status != 400 || !strings.Contains(string(r.body), "without closed dates") {
			t.Fatalf("an agent's closed dates %s: %d %s", hours, r.status, r.body)
		}
	}
	e.must("PUT", "/api/v1/site/pause-reasons", `{"pause_reasons":["Déjeuner","Réunion"]}`, 200)
	e.must("PUT", "/api/v1/board/message", `{"message":{"fr":"<b>Fermeture</b> à 16 h"}}`, 200)
	e.must("POST", "/api/v1/services/X/close", `{"message":{"fr":"Revenez lundi"}}`, 200)

	var services struct{ Services []api.Service }
	e.must("GET", "/api/v1/services", "", 200).decode(t, &services)
	var x *api.Service
	for i := range services.Services {
		if services.Services[i].ID == "X" {
			x = &services.Services[i]
		}
	}
	if x == nil || x.Open || x.ClosedMessage["fr"] != "Revenez lundi" {
		t.Fatalf("service X: %+v", x)
	}
	r = e.call("POST", "/api/v1/tickets", `{"service":"X"}`)
	if r.status != 409 || !strings.Contains(string(r.body), "service_closed") {
		t.Fatalf("a ticket for a closed service: %d %s", r.status, r.body)
	}

	// The export is a site file that reads back as the site the hub runs.
	out := e.must("GET", "/api/v1/site/export", "", 200)
	_, back, err := config.Parse("export.yaml", out.body)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out.body)
	}
	var live queue.Site
	e.must("GET", "/api/v1/site", "", 200).decode(t, &live)
	live.Policy.IgnoreHours = false // the tests' "always open", not a setting of the file
	if siteJSON(t, back) != siteJSON(t, live) {
		t.Fatalf("the export reads back as another site")
	}

	var evs struct{ Events []queue.Event }
	e.must("GET", "/api/v1/events?limit=1000", "", 200).decode(t, &evs)
	var kinds []string
	for _, ev := range evs.Events {
		if queue.IsSiteChange(ev.Type) {
			if ev.Actor != "admin-token" {
				t.Fatalf("%s by %q, want admin-token", ev.Type, ev.Actor)
			}
			kinds = append(kinds, string(ev.Type))
		}
	}
	if got := strings.Join(kinds, " "); got != "service.saved counter.saved agent.saved site.pause_reasons board.message service.closed" {
		t.Fatalf("site events: %s", got)
	}
}

func TestASupervisorTransfersPausesAndSignsOutOverHTTP(t *testing.T) {
	e := start(t, t.TempDir())
	var tk api.Ticket
	e.must("POST", "/api/v1/tickets", `{"service":"E"}`, 201).decode(t, &tk)
	e.must("POST", "/api/v1/counters/3/open", `{"agent":"mlefebvre"}`, 200)
	e.must("POST", "/api/v1/counters/3/next", "", 200)
	e.must("POST", "/api/v1/agents/mlefebvre/signout", "", 200)
	e.must("GET", "/api/v1/tickets/"+tk.ID, "", 200).decode(t, &tk)
	if tk.State != "waiting" {
		t.Fatalf("the signed-out agent's called ticket: %+v", tk)
	}
	e.must("POST", "/api/v1/counters/3/open", `{"agent":"mlefebvre"}`, 200)
	e.must("POST", "/api/v1/tickets/"+tk.ID+"/transfer", `{"agent":"mlefebvre","note":"<script>alert(1)</script>"}`, 200).decode(t, &tk)
	if tk.ForAgent != "mlefebvre" || tk.Note != "<script>alert(1)</script>" {
		t.Fatalf("transferred: %+v", tk)
	}
	r := e.call("POST", "/api/v1/tickets/"+tk.ID+"/transfer", `{"agent":"nobody"}`)
	if r.status != 422 {
		t.Fatalf("transfer to an unknown agent: %d %s", r.status, r.body)
	}
	var st queue.AgentStatus
	e.must("POST", "/api/v1/agents/mlefebvre/pause", `{"reason":"Réunion"}`, 200).decode(t, &st)
	if st.State != queue.AgentPaused || st.PauseReason != "Réunion" {
		t.Fatalf("paused: %+v", st)
	}
	r = e.call("POST", "/api/v1/agents/mlefebvre/pause", `{"reason":"Réunion"}`)
	if r.status != 409 {
		t.Fatalf("pause twice: %d %s", r.status, r.body)
	}
	e.must("POST", "/api/v1/agents/mlefebvre/resume", "", 200)
	r = e.call("POST", "/api/v1/agents/nobody/signout", "")
	if r.status != 422 {
		t.Fatalf("sign out an unknown agent: %d %s", r.status, r.body)
	}
}

func siteJSON(t *testing.T, s queue.Site) string {
	t.Helper()
	b, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
