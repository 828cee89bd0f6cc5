package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"guichet/hub/audit"
	"guichet/hub/auth"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/internal/sitetest"
)

// crmConfig is sitetest's site with a citizen file: service A in the
// sector accueil, E in état civil; supervisors see every sector; the
// account dpo is the DPO.
const crmConfig = sitetest.Config + `
crm:
  sectors: { A: accueil, E: etat_civil }
  supervisor_sees_all: true
  dpo: [dpo]
`

// crmSite starts crmConfig with the accounts ana (agent of A and E), bob
// (agent of E only), sup (supervisor) and dpo (the DPO, an agent's
// account), each signed in.
func crmSite(t *testing.T) (*sitetest.Site, map[string]*sitetest.Session) {
	t.Helper()
	s := sitetest.Start(t, sitetest.Options{Config: crmConfig, OpenHours: true})
	s.AddAccount("ana", auth.RoleAgent, "ana")
	s.AddAccount("bob", auth.RoleAgent, "bob")
	s.AddAccount("sup", auth.RoleSupervisor, "")
	s.AddAccount("dpo", auth.RoleAgent, "")
	se := map[string]*sitetest.Session{}
	for _, id := range []string{"ana", "bob", "sup", "dpo"} {
		se[id] = s.SignIn(id, sitetest.Password)
	}
	return s, se
}

// must sends a request and decodes its JSON answer into v, failing unless
// the status is want.
func must(t *testing.T, se *sitetest.Session, method, path, body string, want int, v any) []byte {
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
	return b
}

// At the counter over HTTP: an agent finds nobody, creates the citizen,
// finds them by any writing of the name or the phone, attaches the ticket
// at their counter, writes a note and registers a request; the file shows
// the note, the request and, once the ticket is served, the visit.
func TestAnAgentFindsCreatesAndFilesACitizenOverHTTP(t *testing.T) {
	s, se := crmSite(t)
	ana := se["ana"]
	var found struct{ Matches []crm.Match }
	must(t, ana, "GET", "/api/v1/citizens?q=Lef%C3%A8bvre", "", 200, &found)
	if len(found.Matches) != 0 {
		t.Fatalf("found %+v in an empty file", found.Matches)
	}
	var created struct {
		Citizen    crm.Citizen
		Duplicates []crm.Duplicate
	}
	must(t, ana, "POST", "/api/v1/citizens", `{"family_name":"LEFEBVRE","first_names":"Jean-Pierre","phones":["06 12 34 56 78"]}`, 201, &created)
	id := created.Citizen.ID
	if id == "" || len(created.Citizen.Phones) != 1 || created.Citizen.Phones[0] != "+33612345678" {
		t.Fatalf("created %+v", created.Citizen)
	}
	for _, q := range []string{"Lef%C3%A8bvre", "jean+pierre", "0033+6+12+34+56+78", "%2B33612345678"} {
		must(t, ana, "GET", "/api/v1/citizens?q="+q, "", 200, &found)
		if len(found.Matches) != 1 || found.Matches[0].Citizen.ID != id {
			t.Fatalf("q=%s found %+v", q, found.Matches)
		}
	}

	must(t, ana, "POST", "/api/v1/counters/1/open", `{}`, 200, nil)
	var tk struct{ ID string }
	must(t, ana, "POST", "/api/v1/tickets", `{"service":"A"}`, 201, &tk)
	must(t, ana, "POST", "/api/v1/counters/1/next", `{}`, 200, nil)
	must(t, ana, "POST", "/api/v1/tickets/"+tk.ID+"/citizen", `{"citizen":"`+id+`"}`, 200, nil)
	var note crm.Entry
	must(t, ana, "POST", "/api/v1/citizens/"+id+"/notes", `{"sector":"accueil","text":"Vient pour une réclamation de voirie."}`, 201, &note)
	var req crm.Request
	must(t, ana, "POST", "/api/v1/citizens/"+id+"/requests", `{"kind":"reclamation","title":"Trottoir","channel":"guichet"}`, 201, &req)
	if req.Sector != crm.SectorAccueil || req.Implicit.Day.IsZero() {
		t.Fatalf("request %+v", req)
	}
	must(t, ana, "POST", "/api/v1/requests/"+req.ID+"/steps", `{"step":"Transmise aux services techniques","step_no":1,"max_steps":3}`, 200, &req)
	must(t, ana, "POST", "/api/v1/counters/1/start", `{}`, 200, nil)
	must(t, ana, "POST", "/api/v1/counters/1/finish", `{}`, 200, nil)

	sitetest.Eventually(t, 20e9, "the visit filed in the timeline", func() bool {
		var f struct{ Timeline []crm.Entry }
		must(t, ana, "GET", "/api/v1/citizens/"+id+"/timeline", "", 200, &f)
		for _, e := range f.Timeline {
			if e.Kind == crm.EntryVisit && e.Visit != nil && e.Visit.TicketID == tk.ID {
				return true
			}
		}
		return false
	})
	var file struct {
		Citizen  crm.Citizen
		Timeline []crm.Entry
		Requests []crm.Request
	}
	must(t, ana, "GET", "/api/v1/citizens/"+id, "", 200, &file)
	kinds := map[crm.EntryKind]int{}
	for _, e := range file.Timeline {
		kinds[e.Kind]++
	}
	if file.Citizen.ID != id || kinds[crm.EntryNote] != 1 || kinds[crm.EntryVisit] != 1 || len(file.Requests) != 1 || file.Requests[0].Step == "" {
		t.Fatalf("file %+v", file)
	}
	var qt queue.Ticket
	s.Engine(func(e *queue.Engine) { qt, _ = e.Ticket(tk.ID) })
	if qt.Citizen != id {
		t.Fatalf("ticket %s attached to %q", tk.ID, qt.Citizen)
	}
	st, page, h := ana.Do("GET", "/api/v1/requests/"+req.ID+"/acknowledgement", "")
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(string(page), "LEFEBVRE") {
		t.Fatalf("acknowledgement: %d %s\n%s", st, h.Get("Content-Type"), page)
	}
	st, pdf, h := ana.Do("GET", "/api/v1/requests/"+req.ID+"/acknowledgement?format=pdf", "")
	if st != 200 || h.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("acknowledgement as PDF: %d %s", st, h.Get("Content-Type"))
	}
	if st, b, _ := ana.Do("GET", "/api/v1/requests/"+req.ID+"/acknowledgement?format=docx", ""); st != 400 || !strings.Contains(string(b), "format is html or pdf") {
		t.Fatalf("an unknown format: %d %s", st, b)
	}
}

// Sectors over HTTP: an état-civil agent does not see a note or a request
// of the sector accueil — the request answers 404, as one that does not
// exist, and the denial is in the audit log with the agent's account —
// but sees who the citizen is; bad input is a 400 with its reason.
func TestAnEtatCivilAgentCannotReadAnAccueilRequestOverHTTP(t *testing.T) {
	s, se := crmSite(t)
	ana, bob := se["ana"], se["bob"]
	var created struct{ Citizen crm.Citizen }
	must(t, ana, "POST", "/api/v1/citizens", `{"family_name":"Martin","first_names":"Léa"}`, 201, &created)
	id := created.Citizen.ID
	must(t, ana, "POST", "/api/v1/citizens/"+id+"/notes", `{"sector":"accueil","text":"Note d'accueil."}`, 201, nil)
	var req crm.Request
	must(t, ana, "POST", "/api/v1/citizens/"+id+"/requests", `{"kind":"reclamation","channel":"guichet"}`, 201, &req)

	var file struct {
		Citizen  crm.Citizen
		Timeline []crm.Entry
		Requests []crm.Request
	}
	must(t, bob, "GET", "/api/v1/citizens/"+id, "", 200, &file)
	for _, e := range file.Timeline {
		if e.Sector == crm.SectorAccueil && (e.Kind == crm.EntryNote || e.Kind == crm.EntryRequest) {
			t.Fatalf("bob (état civil) reads an accueil record: %+v", e)
		}
	}
	if file.Citizen.FamilyName != "Martin" || len(file.Requests) != 0 {
		t.Fatalf("bob's view of the file: %+v", file)
	}
	st, b, _ := bob.Do("GET", "/api/v1/requests/"+req.ID+"/acknowledgement", "")
	if st != http.StatusNotFound || !strings.Contains(string(b), `"not_found"`) {
		t.Fatalf("bob reads an accueil request: %d %s", st, b)
	}
	st, b2, _ := bob.Do("GET", "/api/v1/requests/no-such-request/acknowledgement", "")
	if st != http.StatusNotFound || string(b2) != string(b) {
		t.Fatalf("a request that does not exist answers %d %s, one bob may not see %s", st, b2, b)
	}
	denied, err := s.Audit.Entries(context.Background(), audit.Filter{Actor: "bob", Outcome: audit.Denied})
	if err != nil {
		t.Fatal(err)
	}
	if len(denied) == 0 || denied[0].Role != string(crm.RoleAgent) || denied[0].Addr != "127.0.0.1" {
		t.Fatalf("bob's denied read is not audited with his account and address: %+v", denied)
	}
	for _, c := range []struct{ method, path, body, code string }{
		{"POST", "/api/v1/citizens", `{"family_name":"Durand","phones":["06 12"]}`, "invalid_argument"},
		{"POST", "/api/v1/citizens/" + id + "/notes", `{"sector":"accueil","text":""}`, "invalid_argument"},
		{"GET", "/api/v1/citizens?q=", "", "invalid_argument"},
		{"GET", "/api/v1/citizens/nobody", "", "not_found"},
		{"POST", "/api/v1/tickets/T-404/citizen", `{"citizen":"` + id + `"}`, "unknown_ticket"},
	} {
		st, b, _ := ana.Do(c.method, c.path, c.body)
		if st/100 != 4 || !strings.Contains(string(b), `"`+c.code+`"`) {
			t.Errorf("%s %s %s: %d %s, want %s", c.method, c.path, c.body, st, b, c.code)
		}
	}
}

// The DPO over HTTP: export, a purge's dry run, an erasure refused while a
// request is under instruction, then done with its tombstone in the event
// log (ids only); an agent may do none of it (404 not_found, with the
// reason: the route table lets agents in, the citizen file does not), nor
// list the requests due, which is the supervisor's (403, the guard's).
func TestTheDPOExportsErasesAndPurgesOverHTTP(t *testing.T) {
	s, se := crmSite(t)
	ana, dpo, sup := se["ana"], se["dpo"], se["sup"]
	var created struct{ Citizen crm.Citizen }
	must(t, ana, "POST", "/api/v1/citizens", `{"family_name":"Petit","first_names":"Marc","email":"marc.petit@example.org"}`, 201, &created)
	id := created.Citizen.ID
	var req crm.Request
	must(t, ana, "POST", "/api/v1/citizens/"+id+"/requests", `{"kind":"reclamation","channel":"courrier"}`, 201, &req)

	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/citizens/" + id + "/export"}, {"POST", "/api/v1/citizens/" + id + "/erase"}, {"POST", "/api/v1/crm/purge?dry_run=true"},
	} {
		if st, b, _ := ana.Do(c.method, c.path, ""); st != http.StatusNotFound || !strings.Contains(string(b), "data protection officer") {
			t.Errorf("an agent: %s %s answers %d %s", c.method, c.path, st, b)
		}
	}
	if st, b, _ := ana.Do("GET", "/api/v1/requests/due?days=400", ""); st != http.StatusForbidden {
		t.Errorf("an agent lists the requests due: %d %s", st, b)
	}
	var due struct {
		Days     int
		Requests []crm.Request
	}
	must(t, sup, "GET", "/api/v1/requests/due?days=366", "", 200, &due)
	if due.Days != 366 || len(due.Requests) != 1 {
		t.Fatalf("due: %+v", due)
	}
	var x crm.Export
	must(t, dpo, "GET", "/api/v1/citizens/"+id+"/export", "", 200, &x)
	if x.Citizen.Email != "marc.petit@example.org" || len(x.Requests) != 1 {
		t.Fatalf("export %+v", x)
	}
	var plan crm.PurgePlan
	must(t, dpo, "POST", "/api/v1/crm/purge?dry_run=true", "", 200, &plan)
	if !plan.DryRun {
		t.Fatalf("plan %+v", plan)
	}
	if st, b, _ := dpo.Do("POST", "/api/v1/citizens/"+id+"/erase", ""); st != http.StatusConflict || !strings.Contains(string(b), `"erasure_restricted"`) {
		t.Fatalf("erasing a file with a request under instruction: %d %s", st, b)
	}
	must(t, ana, "POST", "/api/v1/requests/"+req.ID+"/steps", `{"status":"acceptee","step":"Réponse envoyée"}`, 200, nil)
	var tomb crm.Tombstone
	must(t, dpo, "POST", "/api/v1/citizens/"+id+"/erase", "", 200, &tomb)
	if tomb.Citizen != id || tomb.By != "dpo" {
		t.Fatalf("tombstone %+v", tomb)
	}
	if st, b, _ := ana.Do("GET", "/api/v1/citizens/"+id, ""); st != http.StatusNotFound {
		t.Fatalf("the erased file answers %d %s", st, b)
	}
	sitetest.Eventually(t, 20e9, "the tombstone in the event log", func() bool {
		evs, err := s.Store.Events(context.Background(), 0, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			b, _ := json.Marshal(ev)
			if strings.Contains(string(b), "Petit") || strings.Contains(string(b), "marc.petit") {
				t.Fatalf("event %s holds the citizen's name or e-mail: %s", ev.Type, b)
			}
			if ev.Type == queue.CitizenErased && strings.Contains(string(b), id) {
				return true
			}
		}
		return false
	})
}

// A platform pushes a request with an admin's token; pushed twice, it is
// filed once.
func TestAPlatformImportsARequestOnceOverHTTP(t *testing.T) {
	s, se := crmSite(t)
	var created struct{ Citizen crm.Citizen }
	must(t, se["ana"], "POST", "/api/v1/citizens", `{"family_name":"Roux","first_names":"Anne","email":"anne.roux@example.org"}`, 201, &created)
	body := `{"reference":"EL-2026-0042","kind":"inscription_liste_electorale","received_at":"2026-11-20T10:00:00Z",
	  "citizen":{"family_name":"Roux","email":"anne.roux@example.org"}}`
	var first, again crm.ImportResult
	st, b := s.Bearer(s.Token, "POST", "/api/v1/citizens/import?platform=elections", body)
	if st != 200 || json.Unmarshal(b, &first) != nil {
		t.Fatalf("import: %d %s", st, b)
	}
	st, b = s.Bearer(s.Token, "POST", "/api/v1/citizens/import?platform=elections", body)
	if st != 200 || json.Unmarshal(b, &again) != nil {
		t.Fatalf("import again: %d %s", st, b)
	}
	if first.Citizen != created.Citizen.ID || first.Request == "" || again.Request != first.Request {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	if st, b, _ := se["ana"].Do("POST", "/api/v1/citizens/import?platform=elections", body); st != http.StatusForbidden {
		t.Fatalf("an agent imports: %d %s", st, b)
	}
	big := fmt.Sprintf(`{"reference":"x","title":%q}`, strings.Repeat("a", crm.MaxImportBody))
	if st, b := s.Bearer(s.Token, "POST", "/api/v1/citizens/import?platform=elections", big); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("an oversized import: %d %s", st, b)
	}
}

// Duplicates at the counter over HTTP: two files of the same person (the
// same mobile) are listed as duplicates; a request a platform pushes for
// that number matches both, so it waits for an agent; the agent merges the
// files, files the pending request in the one kept, and corrects the
// e-mail address.
func TestAnAgentMergesDuplicatesAndFilesAPendingImportOverHTTP(t *testing.T) {
	s, se := crmSite(t)
	ana := se["ana"]
	var a, b struct {
		Citizen    crm.Citizen
		Duplicates []crm.Duplicate
	}
	must(t, ana, "POST", "/api/v1/citizens", `{"family_name":"Durand","first_names":"Paul","phones":["06 11 11 11 11"]}`, 201, &a)
	must(t, ana, "POST", "/api/v1/citizens", `{"family_name":"DURAND","first_names":"Paul","phones":["+33 6 11 11 11 11"]}`, 201, &b)
	if len(b.Duplicates) != 1 || b.Duplicates[0].Citizen.ID != a.Citizen.ID {
		t.Fatalf("the second file's duplicates: %+v", b.Duplicates)
	}
	var res crm.ImportResult
	st, body := s.Bearer(s.Token, "POST", "/api/v1/citizens/import?platform=famille",
		`{"reference":"F-1","kind":"reclamation","citizen":{"family_name":"Durand","phones":["0611111111"]}}`)
	if st != 200 || json.Unmarshal(body, &res) != nil || res.Outcome != crm.ImportPending {
		t.Fatalf("an ambiguous import: %d %s", st, body)
	}
	var pending struct{ Pending []crm.PendingImport }
	must(t, ana, "GET", "/api/v1/imports/pending", "", 200, &pending)
	if len(pending.Pending) != 1 || len(pending.Pending[0].Candidates) != 2 {
		t.Fatalf("pending %+v", pending)
	}
	var dups struct{ Duplicates []crm.Duplicate }
	must(t, ana, "GET", "/api/v1/citizens/"+a.Citizen.ID+"/duplicates", "", 200, &dups)
	if len(dups.Duplicates) != 1 || dups.Duplicates[0].Citizen.ID != b.Citizen.ID {
		t.Fatalf("duplicates of the first: %+v", dups)
	}
	must(t, ana, "POST", "/api/v1/citizens/"+a.Citizen.ID+"/merge", `{"away":"`+b.Citizen.ID+`"}`, 200, nil)
	must(t, ana, "POST", "/api/v1/imports/pending/"+pending.Pending[0].ID+"/resolve", `{"citizen":"`+a.Citizen.ID+`"}`, 200, &res)
	if res.Citizen != a.Citizen.ID || res.Request == "" {
		t.Fatalf("resolved %+v", res)
	}
	var c crm.Citizen
	must(t, ana, "PUT", "/api/v1/citizens/"+a.Citizen.ID, `{"family_name":"Durand","first_names":"Paul","phones":["06 11 11 11 11"],"email":"paul.durand@example.org"}`, 200, &c)
	if c.Email != "paul.durand@example.org" {
		t.Fatalf("corrected %+v", c)
	}
	var file struct {
		Citizen  crm.Citizen
		Requests []crm.Request
	}
	must(t, ana, "GET", "/api/v1/citizens/"+b.Citizen.ID, "", 200, &file)
	if file.Citizen.ID != a.Citizen.ID || file.Citizen.RedirectedFrom != b.Citizen.ID {
		t.Fatalf("the merged file does not lead to the kept one: %+v", file.Citizen)
	}
	must(t, ana, "GET", "/api/v1/imports/pending", "", 200, &pending)
	if len(pending.Pending) != 0 {
		t.Fatalf("still pending: %+v", pending)
	}
}
