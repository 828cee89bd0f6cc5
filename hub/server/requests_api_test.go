package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"guichet/hub/audit"
	"guichet/hub/crm"
)

// paris is the test site's time zone: the legal dates' civil days.
func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Missing documents over HTTP (CRPA L114-5), for both regimes. A request
// under silence-means-acceptance has no date while documents are awaited
// and, once they come, its whole delay starts again from that day; one
// under silence-means-rejection keeps a provisional date, which stops
// being provisional once they come. Each change is audited; a day not
// after today, no pieces, a request of another sector (404, as one that
// does not exist) and documents nobody asked for are refused.
func TestAnAgentAsksForDocumentsAndMarksThemReceivedOverHTTP(t *testing.T) {
	s, se := crmSite(t)
	ana, bob := se["ana"], se["bob"]
	loc := paris(t)
	today := time.Now().In(loc)
	var created struct{ Citizen crm.Citizen }
	must(t, ana, "POST", "/api/v1/citizens", `{"family_name":"Martin","first_names":"Léa"}`, 201, &created)
	id := created.Citizen.ID

	var kinds struct {
		Kinds []struct{ ID, Regime string }
	}
	must(t, bob, "GET", "/api/v1/requests/kinds", "", 200, &kinds)
	var ids []string
	for _, k := range kinds.Kinds {
		ids = append(ids, k.ID)
	}
	if got := strings.Join(ids, " "); !strings.Contains(got, "acte_etat_civil") || strings.Contains(got, "reclamation") || strings.Contains(got, crm.KindExternal) {
		t.Fatalf("bob (état civil) may register %s", got)
	}

	// Silence means acceptance: no date while the pieces are awaited.
	var acc crm.Request
	tenDaysAgo := today.AddDate(0, 0, -10).Format(time.DateOnly)
	must(t, ana, "POST", "/api/v1/citizens/"+id+"/requests", `{"kind":"acte_etat_civil","channel":"courrier","received_on":"`+tenDaysAgo+`"}`, 201, &acc)
	if got := acc.ReceivedAt.In(loc).Format(time.DateOnly); got != tenDaysAgo || acc.Implicit.Day.IsZero() {
		t.Fatalf("received on %s, implicit %+v; want received on %s with a date", got, acc.Implicit, tenDaysAgo)
	}
	due := today.AddDate(0, 0, 15).Format(time.DateOnly)
	var asked crm.Request
	must(t, ana, "POST", "/api/v1/requests/"+acc.ID+"/documents", `{"pieces":"Livret de famille","due":"`+due+`"}`, 200, &asked)
	if asked.Status != crm.StatusIncomplete || !asked.Implicit.Pending || len(asked.Suspensions) != 1 ||
		asked.Suspensions[0].Due.In(loc).Format(time.DateOnly) != due || asked.Suspensions[0].Pieces != "Livret de famille" {
		t.Fatalf("after asking for documents: %+v", asked)
	}
	var got crm.Request
	must(t, ana, "POST", "/api/v1/requests/"+acc.ID+"/documents/received", `{}`, 200, &got)
	want := today.AddDate(0, 2, 0).Format(time.DateOnly) // the delay starts again from today, in full
	if got.Status != crm.StatusInProgress || got.Implicit.Pending || got.Implicit.Day.In(loc).Format(time.DateOnly) != want {
		t.Fatalf("after the documents came: status %s, implicit %+v; want en_cours, day %s", got.Status, got.Implicit, want)
	}

	// Silence means rejection: a provisional date, then a firm one.
	var rej crm.Request
	must(t, ana, "POST", "/api/v1/citizens/"+id+"/requests", `{"kind":"attestation_accueil","channel":"guichet"}`, 201, &rej)
	must(t, ana, "POST", "/api/v1/requests/"+rej.ID+"/documents", `{"pieces":"Justificatif de domicile","due":"`+due+`"}`, 200, &asked)
	if !asked.Implicit.Provisional || !asked.Implicit.Day.After(rej.Implicit.Day) {
		t.Fatalf("rejection regime, documents asked: %+v (before: %+v)", asked.Implicit, rej.Implicit)
	}
	must(t, ana, "POST", "/api/v1/requests/"+rej.ID+"/documents/received", `{}`, 200, &got)
	if got.Implicit.Provisional || !got.Implicit.Day.Before(asked.Implicit.Day) {
		t.Fatalf("rejection regime, documents received: %+v (provisional: %+v)", got.Implicit, asked.Implicit)
	}

	var other crm.Request
	must(t, ana, "POST", "/api/v1/citizens/"+id+"/requests", `{"kind":"reclamation","channel":"guichet"}`, 201, &other)
	for _, c := range []struct {
		who              string
		path, body, code string
	}{
		{"ana", "/api/v1/requests/" + acc.ID + "/documents", `{"pieces":"RIB","due":"` + today.Format(time.DateOnly) + `"}`, "invalid_argument"},
		{"ana", "/api/v1/requests/" + acc.ID + "/documents", `{"pieces":"RIB","due":"demain"}`, "invalid_argument"},
		{"ana", "/api/v1/requests/" + acc.ID + "/documents", `{"pieces":"","due":"` + due + `"}`, "invalid_argument"},
		{"ana", "/api/v1/requests/" + acc.ID + "/documents", `{"pieces":"RIB"}`, "invalid_argument"},
		{"ana", "/api/v1/requests/" + acc.ID + "/documents/received", `{}`, "invalid_argument"}, // nothing awaited
		{"ana", "/api/v1/citizens/" + id + "/requests", `{"kind":"acte_etat_civil","channel":"guichet","received_on":"` + today.AddDate(0, 0, 1).Format(time.DateOnly) + `"}`, "invalid_argument"},
		{"bob", "/api/v1/requests/" + other.ID + "/documents", `{"pieces":"RIB","due":"` + due + `"}`, "not_found"},
		{"bob", "/api/v1/requests/" + other.ID + "/documents/received", `{}`, "not_found"},
	} {
		st, b, _ := se[c.who].Do("POST", c.path, c.body)
		if st/100 != 4 || !strings.Contains(string(b), `"`+c.code+`"`) {
			t.Errorf("%s: POST %s %s: %d %s, want %s", c.who, c.path, c.body, st, b, c.code)
		}
	}
	count := func(actor string, out audit.Outcome, action string) int {
		t.Helper()
		es, err := s.Audit.Entries(context.Background(), audit.Filter{Actor: actor, Outcome: out, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Action == action {
				n++
			}
		}
		return n
	}
	for _, action := range []string{"request.ask_documents", "request.documents_received"} {
		if n := count("ana", audit.Allowed, action); n < 2 {
			t.Errorf("%s by ana: %d audit entries, want at least 2", action, n)
		}
	}
	if n := count("bob", audit.Denied, "request.ask_documents"); n != 1 {
		t.Errorf("bob's refused request for documents: %d audit entries, want 1", n)
	}
}
