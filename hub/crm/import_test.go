package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func count(t *testing.T, f *fixture, table string) int {
	t.Helper()
	var n int
	if err := f.s.db.R.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportIsIdempotentAndUpdatesTheStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Martin", FirstNames: "Louise", Email: "louise.martin@example.fr"})
	body := `{"reference": "EC-2027-0042", "kind": "acte_etat_civil", "title": "Copie intégrale d'acte de naissance",
		"status": "recue", "citizen": {"family_name": "MARTIN", "first_names": "Louise", "email": "Louise.Martin@example.fr"}}`
	r1, err := f.s.Import(ctx, system, "etat-civil-en-ligne", []byte(body))
	if err != nil || r1.Outcome != ImportCreated || r1.Citizen != c.ID || r1.NewCitizen {
		t.Fatalf("first import: %+v, %v", r1, err)
	}
	r2, err := f.s.Import(ctx, system, "etat-civil-en-ligne", []byte(body))
	if err != nil || r2.Outcome != ImportUnchanged || r2.Request != r1.Request {
		t.Fatalf("repeat: %+v, %v", r2, err)
	}
	// The same reference from another platform is another request.
	r3, err := f.s.Import(ctx, system, "autre-plateforme", []byte(body))
	if err != nil || r3.Outcome != ImportCreated || r3.Request == r1.Request {
		t.Fatalf("other source: %+v, %v", r3, err)
	}
	upd := strings.Replace(body, `"status": "recue"`, `"status": "terminee", "step": "Acte envoyé", "step_no": 3, "max_steps": 3`, 1)
	r4, err := f.s.Import(ctx, system, "etat-civil-en-ligne", []byte(upd))
	if err != nil || r4.Outcome != ImportUpdated || r4.Request != r1.Request {
		t.Fatalf("status update: %+v, %v", r4, err)
	}
	req, err := f.s.Request(ctx, etatCivil, r1.Request)
	if err != nil || req.Status != StatusDone || req.Step != "Acte envoyé" || req.ClosedAt.IsZero() || req.Channel != ChannelPlatform {
		t.Fatalf("request after update: %+v, %v", req, err)
	}
	if n := count(t, f, `requests`); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	tl, _ := f.s.Timeline(ctx, etatCivil, c.ID, 0)
	if len(tl) != 3 {
		t.Fatalf("timeline: %d entries, want 3 (two requests opened, one step)", len(tl))
	}
}

func TestImportOfAnUnknownCitizen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := f.s.Import(ctx, system, "portail-famille", []byte(`{"reference": "PF-1", "kind": "place_creche",
		"citizen": {"family_name": "Nouveau", "first_names": "Néo", "birth_date": "1990-05-06", "phones": ["06 98 76 54 32"]}}`))
	if err != nil || r.Outcome != ImportCreated || !r.NewCitizen {
		t.Fatalf("%+v, %v", r, err)
	}
	c, err := f.s.Citizen(ctx, etatCivil, r.Citizen)
	if err != nil || c.FamilyName != "Nouveau" || len(c.Phones) != 1 || c.Phones[0] != "+33698765432" {
		t.Fatalf("%+v, %v", c, err)
	}
	// Unknown, and nobody named: an agent decides.
	p, err := f.s.Import(ctx, system, "portail-famille", []byte(`{"reference": "PF-2", "citizen": {"email": "inconnu@example.fr"}}`))
	if err != nil || p.Outcome != ImportPending || p.Candidates != 0 {
		t.Fatalf("%+v, %v", p, err)
	}
}

func TestAmbiguousImportWaitsForAnAgentOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.citizen(t, Citizen{FamilyName: "Roux", FirstNames: "Paul", Email: "famille.roux@example.fr"})
	b := f.citizen(t, Citizen{FamilyName: "Roux", FirstNames: "Julie", Phones: []string{"01 43 98 65 00"}})
	body := []byte(`{"reference": "X-7", "kind": "reclamation", "citizen": {"family_name": "Roux",
		"email": "famille.roux@example.fr", "phones": ["+33143986500"]}}`)
	p1, err := f.s.Import(ctx, system, "teleservices", body)
	if err != nil || p1.Outcome != ImportPending || p1.Candidates != 2 {
		t.Fatalf("%+v, %v", p1, err)
	}
	p2, err := f.s.Import(ctx, system, "teleservices", body)
	if err != nil || p2.Outcome != ImportPending || p2.Pending != p1.Pending {
		t.Fatalf("repeat: %+v, %v", p2, err)
	}
	list, err := f.s.PendingImports(ctx, etatCivil)
	if err != nil || len(list) != 1 || strings.Join(list[0].Candidates, ",") != a.ID+","+b.ID {
		t.Fatalf("pending: %+v, %v", list, err)
	}
	if l, _ := f.s.PendingImports(ctx, urba); len(l) != 0 {
		t.Fatalf("an urbanisme agent sees an accueil import: %+v", l)
	}
	res, err := f.s.ResolvePending(ctx, etatCivil, p1.Pending, b.ID)
	if err != nil || res.Citizen != b.ID || res.Outcome != ImportCreated {
		t.Fatalf("resolve: %+v, %v", res, err)
	}
	// Resolved: the next notification is an update of that request.
	again, err := f.s.Import(ctx, system, "teleservices", body)
	if err != nil || again.Outcome != ImportUnchanged || again.Request != res.Request {
		t.Fatalf("after resolution: %+v, %v", again, err)
	}
	if n := count(t, f, `pending_imports`); n != 0 {
		t.Fatalf("%d pending left", n)
	}
}

// lutece is a notification as a platform sends it to a Lutece GRU's
// notificationstore (fields of its published swagger).
const luteceNotification = `{"notification": {
  "date": 1801472400000,
  "demand": {"id": "4321", "type_id": "101", "subtype_id": "", "reference": "DEM-2027-4321", "status_id": %d,
    "max_step": 4, "current_step": %d,
    "customer": {"id": "b1b2", "connection_id": "abcd-1234", "firstname": "Jean-Pierre", "lastname": "LEFÈBVRE",
      "email": "", "mobilePhone": "", "birthDate": "02/04/1961"}},
  "backoffice": {"message": "Dossier reçu", "status_text": "Reçu"},
  "mydashboard": {"status_id": %d, "status_text": "%s", "message": "<p>Votre demande avance</p>", "subject": "Demande de place"},
  "customer_email": {"message": "…", "subject": "…", "recipient": "jp@example.fr", "sender_email": "noreply@ville.fr"}
}}`

func TestLuteceNotificationLandsInTheRightFile(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jp := f.citizen(t, Citizen{FamilyName: "Lefebvre", FirstNames: "Jean Pierre", BirthDate: "1961-04-02"})
	site := f.s.site
	for i := range site.Kinds {
		if site.Kinds[i].ID == "place_creche" {
			site.Kinds[i].External = []string{"gru:101"}
		}
	}
	f.s.site = site
	r, err := f.s.Import(ctx, system, "gru", fmt.Appendf(nil, luteceNotification, 11, 1, 11, "En cours d'instruction"))
	if err != nil || r.Outcome != ImportCreated || r.Citizen != jp.ID {
		t.Fatalf("%+v, %v", r, err)
	}
	req, _ := f.s.Request(ctx, dpo, r.Request)
	if req.Kind != "place_creche" || req.Sector != SectorPetiteEnfance || req.Status != StatusInProgress || req.StepNo != 1 || req.MaxSteps != 4 ||
		req.Step != "En cours d'instruction" || req.ExternalRef != "101:4321" || req.Title != "DEM-2027-4321" {
		t.Fatalf("request: %+v", req)
	}
	// "À compléter" (13) is our incomplete status.
	r2, err := f.s.Import(ctx, system, "gru", fmt.Appendf(nil, luteceNotification, 13, 2, 13, "À compléter"))
	if err != nil || r2.Outcome != ImportUpdated {
		t.Fatalf("%+v, %v", r2, err)
	}
	if req, _ := f.s.Request(ctx, dpo, r.Request); req.Status != StatusIncomplete || req.StepNo != 2 {
		t.Fatalf("after update: %+v", req)
	}
	// The same notification without its wrapper is read the same.
	bare := strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf(luteceNotification, 13, 2, 13, "À compléter"), `{"notification": `), "}")
	if r3, err := f.s.Import(ctx, system, "gru", []byte(bare)); err != nil || r3.Outcome != ImportUnchanged {
		t.Fatalf("bare notification: %+v, %v", r3, err)
	}
}

func TestBadImportsAreRefusedAndStoreNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	huge := `{"reference": "H", "title": "` + strings.Repeat("x", MaxImportBody) + `", "citizen": {"family_name": "X", "first_names": "Y"}}`
	for _, tc := range []struct {
		name, body string
		want       error
	}{
		{"empty", ``, ErrInvalid},
		{"not JSON", `reference=1`, ErrInvalid},
		{"truncated", `{"reference": "A-1", "citizen": {"family_name": "X"`, ErrInvalid},
		{"array", `[{"reference": "A-1"}]`, ErrInvalid},
		{"null", `null`, ErrInvalid},
		{"wrong type", `{"reference": 12, "citizen": {"family_name": "X", "first_names": "Y"}}`, ErrInvalid},
		{"unknown field", `{"reference": "A-1", "colour": "red", "citizen": {"family_name": "X", "first_names": "Y"}}`, ErrInvalid},
		{"no reference", `{"citizen": {"family_name": "X", "first_names": "Y"}}`, ErrInvalid},
		{"nobody", `{"reference": "A-1", "citizen": {}}`, ErrInvalid},
		{"bad phone", `{"reference": "A-1", "citizen": {"family_name": "X", "phones": ["06 12"]}}`, ErrInvalid},
		{"bad status", `{"reference": "A-1", "status": "won", "citizen": {"family_name": "X", "first_names": "Y"}}`, ErrInvalid},
		{"Lutece without demand", `{"notification": {"date": 1}}`, ErrInvalid},
		{"Lutece demand without id", `{"notification": {"demand": {"type_id": "3"}}}`, ErrInvalid},
		{"oversized", huge, ErrTooLarge},
	} {
		_, err := f.s.Import(ctx, system, "src", []byte(tc.body))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, table := range []string{"citizens", "requests", "pending_imports", "entries"} {
		if n := count(t, f, table); n != 0 {
			t.Errorf("%s: %d rows after refused imports", table, n)
		}
	}
	if _, err := f.s.Import(ctx, etatCivil, "src", []byte(`{}`)); !errors.Is(err, ErrForbidden) {
		t.Errorf("an agent imports: %v", err)
	}
}

// A time outside 1970 to ten years ahead is refused: imported, a status
// reached in year 0 (valid RFC 3339, year -1 in UTC) was stored, and the
// request and the citizen's whole timeline could no longer be written.
func TestAnImportDatedYearZeroIsRefusedAndBreaksNoView(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, body := range []string{
		`{"reference":"R1","status":"terminee","at":"0000-01-01T00:00:00+01:00","citizen":{"family_name":"Martin","first_names":"Louise"}}`,
		`{"reference":"R2","received_at":"0000-01-01T00:00:00+01:00","citizen":{"family_name":"Martin","first_names":"Louise"}}`,
		`{"reference":"R3","received_at":"1200-01-01T00:00:00Z","citizen":{"family_name":"Martin","first_names":"Louise"}}`,
	} {
		r, err := f.s.Import(ctx, system, "portail", []byte(body))
		if !errors.Is(err, ErrInvalid) {
			req, _ := f.s.Request(ctx, etatCivil, r.Request)
			_, jerr := json.Marshal(req)
			t.Fatalf("import %s: %+v, %v; its request encodes: %v", body, r, err, jerr)
		}
	}
	c := f.citizen(t, Citizen{FamilyName: "Durand", FirstNames: "Paul"})
	if _, err := f.s.RecordCall(ctx, etatCivil, c.ID, SectorEtatCivil, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), Call{Outcome: "answered"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a call in year 0: %v", err)
	}
	tl, err := f.s.Timeline(ctx, etatCivil, c.ID, 0)
	if _, jerr := json.Marshal(tl); err != nil || jerr != nil {
		t.Fatalf("timeline: %v, %v", err, jerr)
	}
}
