package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"reflect"
	"strings"
	"testing"
	"time"

	"guichet/hub/audit"
)

// history builds files of various ages: the clock walks back in time.
func history(t *testing.T, f *fixture) (old, recent, openReq Citizen) {
	t.Helper()
	ctx := context.Background()
	start := f.clock.now()
	f.clock.set(start.Add(-4 * 365 * Day))
	old = f.citizen(t, Citizen{FamilyName: "Quartermaine", FirstNames: "Zéphyrine", Phones: []string{"06 11 22 33 44"}, Email: "zephyrine.q@example.fr"})
	if _, err := f.s.AddNote(ctx, etatCivil, old.ID, SectorEtatCivil, "Passeport de Zéphyrine perdu"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RecordVisit(ctx, system, old.ID, SectorEtatCivil, f.clock.now(), Visit{TicketID: "t-old", Number: "A001", Service: "A"}); err != nil {
		t.Fatal(err)
	}
	r, err := f.s.OpenRequest(ctx, etatCivil, old.ID, NewRequest{Kind: "attestation_accueil", Channel: ChannelCounter})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.UpdateRequest(ctx, etatCivil, r.ID, Change{Status: StatusAccepted, Step: "Validée"}); err != nil {
		t.Fatal(err)
	}
	openReq = f.citizen(t, Citizen{FamilyName: "Longtemps", FirstNames: "Ouvert"})
	if _, err := f.s.OpenRequest(ctx, ccas, openReq.ID, NewRequest{Kind: "aide_sociale_facultative", Channel: ChannelLetter}); err != nil {
		t.Fatal(err)
	}
	f.clock.set(start.Add(-400 * Day))
	recent = f.citizen(t, Citizen{FamilyName: "Récent", FirstNames: "Rémi"})
	if _, err := f.s.RecordCall(ctx, system, recent.ID, SectorAccueil, f.clock.now(), Call{Wait: time.Minute, Talk: 3 * time.Minute, Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AddNote(ctx, ccas, recent.ID, SectorSocial, "Suivi CCAS"); err != nil {
		t.Fatal(err)
	}
	f.clock.set(start.Add(-60 * Day))
	if _, err := f.s.RecordVisit(ctx, system, recent.ID, SectorAccueil, f.clock.now(), Visit{TicketID: "t-60", Number: "B060", Service: "B"}); err != nil {
		t.Fatal(err)
	}
	f.clock.set(start.Add(-5 * Day))
	if _, err := f.s.RecordVisit(ctx, system, recent.ID, SectorAccueil, f.clock.now(), Visit{TicketID: "t-5", Number: "B005", Service: "B"}); err != nil {
		t.Fatal(err)
	}
	f.clock.set(start)
	return old, recent, openReq
}

func rowCounts(t *testing.T, f *fixture) map[string]int {
	out := map[string]int{}
	for _, table := range []string{"citizens", "entries", "requests", "phones", "names", "pending_imports"} {
		out[table] = count(t, f, table)
	}
	var linked int
	f.s.db.R.QueryRow(`SELECT count(*) FROM entries WHERE kind = 'visit' AND ref != ''`).Scan(&linked)
	out["linked visits"] = linked
	return out
}

func TestPurgeDryRunListsExactlyWhatTheRealRunRemoves(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old, recent, openReq := history(t, f)
	before := rowCounts(t, f)
	dry, err := f.s.Purge(ctx, dpo, true)
	if err != nil {
		t.Fatal(err)
	}
	if after := rowCounts(t, f); !reflect.DeepEqual(after, before) {
		t.Fatalf("the dry run changed the file: %v → %v", before, after)
	}
	real, err := f.s.Purge(ctx, dpo, false)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing changed in between: the real run removed what the dry run listed.
	for i := range real.Items {
		if it := &real.Items[i]; it.Removed != it.Count {
			t.Fatalf("rule %s: %d planned, %d removed", it.Rule, it.Count, it.Removed)
		}
		real.Items[i].Removed = 0
	}
	dry.DryRun = false
	if !reflect.DeepEqual(dry, real) {
		t.Fatalf("dry run %+v\nreal run %+v", dry, real)
	}
	get := func(rule string) PurgeItem {
		for _, it := range dry.Items {
			if it.Rule == rule {
				return it
			}
		}
		t.Fatalf("no rule %s", rule)
		return PurgeItem{}
	}
	// What the rules were to remove, and what the file lost, agree.
	after := rowCounts(t, f)
	cit, calls, visits, link := get("citizens"), get("calls"), get("visits"), get("ticket_link")
	notes := get("sector:" + string(SectorEtatCivil))
	reqs := get("requests:" + string(SectorEtatCivil))
	if cit.Count != 1 || cit.IDs[0] != old.ID || calls.Count != 1 || visits.Count != 1 || link.Count != 1 || notes.Count != 1 || reqs.Count != 1 {
		t.Fatalf("plan: %+v", real.Items)
	}
	removedEntries := calls.Count + visits.Count + notes.Count + reqs.Entries + cit.Entries
	if before["entries"]-after["entries"] != removedEntries || before["citizens"]-after["citizens"] != cit.Count ||
		before["requests"]-after["requests"] != reqs.Count || before["linked visits"]-after["linked visits"] != link.Count+visits.Count {
		t.Fatalf("removed %v → %v, planned %+v", before, after, real.Items)
	}
	// Kept: the recent file (a CCAS note is kept five years), the file with a request under instruction.
	for _, id := range []string{recent.ID, openReq.ID} {
		if _, err := f.s.Citizen(ctx, dpo, id); err != nil {
			t.Fatalf("%s purged: %v", id, err)
		}
	}
	tl, _ := f.s.Timeline(ctx, dpo, recent.ID, 0)
	for _, e := range tl {
		if e.Kind == EntryVisit && e.Visit.Number == "B060" || e.Kind == EntryVisit && e.Visit.TicketID == "t-60" {
			t.Fatalf("the 60-day-old visit still holds its ticket: %+v", e.Visit)
		}
		if e.Kind == EntryCall {
			t.Fatalf("a 400-day-old call is kept: %+v", e)
		}
	}
	// One elimination record per rule that removed something.
	el, err := f.s.Eliminations(ctx, dpo, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range real.Items {
		if it.Count > 0 {
			n++
		}
	}
	if len(el) != n || el[0].Actor != dpo.ID {
		t.Fatalf("elimination records %+v, want %d", el, n)
	}
	// A second run removes nothing more.
	again, _ := f.s.Purge(ctx, dpo, true)
	for _, it := range again.Items {
		if it.Count != 0 {
			t.Fatalf("second run: %+v", again.Items)
		}
	}
	if _, err := f.s.Purge(ctx, etatCivil, true); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an agent purges: %v", err)
	}
}

func TestPurgedDataAreGoneFromTheFileBytes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old, _, _ := history(t, f)
	for _, s := range []string{"Quartermaine", "quartermaine", "Passeport de Z"} {
		if !fileHolds(t, f.path, s) {
			t.Fatalf("the file does not hold %q before the purge: the test proves nothing", s)
		}
	}
	if _, err := f.s.Purge(ctx, dpo, false); err != nil {
		t.Fatal(err)
	}
	if got := sqlite3(t, f.path, `SELECT count(*) FROM citizens WHERE family_name LIKE '%uartermaine%' OR id = '`+old.ID+`'`); got != "0" {
		t.Fatalf("sqlite3 still finds the purged citizen: %s", got)
	}
	if got := sqlite3(t, f.path, `SELECT count(*) FROM names WHERE names MATCH 'quartermaine'`); got != "0" {
		t.Fatalf("sqlite3 still finds the name in the index: %s", got)
	}
	for _, s := range []string{"Quartermaine", "quartermaine", "Passeport de Z", "zephyrine.q@example.fr", "+33611223344"} {
		if fileHolds(t, f.path, s) {
			t.Errorf("the file's bytes still hold %q after the purge", s)
		}
	}
}

func TestExportThenErasure(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Vasseur", FirstNames: "Élodie", Phones: []string{"06 55 44 33 22"}, Email: "elodie.vasseur@example.fr",
		SMSConsent: Consent{Given: true}})
	dup := f.citizen(t, Citizen{FamilyName: "VASSEUR", FirstNames: "Elodie", Phones: []string{"+33655443322"}})
	if _, err := f.s.Merge(ctx, etatCivil, c.ID, dup.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AddNote(ctx, ccas, c.ID, SectorSocial, "Aide au paiement de la cantine"); err != nil {
		t.Fatal(err)
	}
	r, err := f.s.OpenRequest(ctx, ccas, c.ID, NewRequest{Kind: "aide_sociale_facultative", Channel: ChannelCounter})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Export(ctx, etatCivil, c.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an agent exports: %v", err)
	}
	x, err := f.s.Export(ctx, dpo, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(x)
	var page bytes.Buffer
	if err := WriteExportHTML(&page, x); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Vasseur", "+33655443322", "elodie.vasseur@example.fr", "Aide au paiement de la cantine", r.ID, dup.ID} {
		if !strings.Contains(string(js), want) {
			t.Errorf("the JSON export lacks %q", want)
		}
		if !strings.Contains(html.UnescapeString(page.String()), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// A request under instruction: the law keeps the file.
	if _, err := f.s.Erase(ctx, dpo, c.ID); !errors.Is(err, ErrRestricted) || !strings.Contains(err.Error(), r.ID) {
		t.Fatalf("erasure with an open request: %v", err)
	}
	if _, err := f.s.UpdateRequest(ctx, ccas, r.ID, Change{Status: StatusRejected}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Erase(ctx, etatCivil, c.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an agent erases: %v", err)
	}
	tomb, err := f.s.Erase(ctx, dpo, dup.ID) // through the merged-away id: the same file
	if err != nil {
		t.Fatal(err)
	}
	if tomb.Citizen != c.ID || len(tomb.Merged) != 1 || tomb.Merged[0] != dup.ID || tomb.By != dpo.ID {
		t.Fatalf("tombstone %+v", tomb)
	}
	for _, id := range []string{c.ID, dup.ID} {
		if _, err := f.s.Citizen(ctx, dpo, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s after erasure: %v", id, err)
		}
	}
	if _, err := f.s.Request(ctx, dpo, r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("request after erasure: %v", err)
	}
	if ms, _ := f.s.Search(ctx, dpo, "Vasseur", 10); len(ms) != 0 {
		t.Fatalf("search after erasure: %+v", ms)
	}
	for _, s := range []string{"Vasseur", "VASSEUR", "vasseur", "elodie.vasseur@example.fr", "Aide au paiement", "+33655443322"} {
		if fileHolds(t, f.path, s) {
			t.Errorf("the file's bytes still hold %q after erasure", s)
		}
	}
	// The erasure, and the refusals, are audited; the chain holds; it breaks when altered.
	es, _ := f.audit.Entries(ctx, audit.Filter{ObjectID: c.ID})
	var erase, denied int
	for _, e := range es {
		if e.Action == "citizen.erase" {
			if e.Outcome == audit.Allowed {
				erase++
			} else {
				denied++
			}
		}
	}
	if erase != 1 || denied != 2 {
		t.Fatalf("audit: %d erasures, %d refusals", erase, denied)
	}
	if rep, err := f.audit.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("audit chain: %+v, %v", rep, err)
	}
	sqlite3(t, f.dir+"/audit.db", `UPDATE entries SET actor = 'someone-else' WHERE action = 'citizen.erase' AND outcome = 'allowed'`)
	if rep, _ := f.audit.Verify(ctx); rep.OK() {
		t.Fatal("an altered audit log verifies")
	}
}

func TestDuplicatesAreFoundAndMergedKeepingBothHistories(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.citizen(t, Citizen{FamilyName: "Le Goff", FirstNames: "Anne-Marie", BirthDate: "1970-02-03"})
	if _, err := f.s.RecordVisit(ctx, system, a.ID, SectorAccueil, f.clock.now(), Visit{TicketID: "t1", Number: "A001", Service: "A"}); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Hour)
	b, dups, err := f.s.CreateCitizen(ctx, etatCivil, Citizen{FamilyName: "LEGOFF", FirstNames: "Anne Marie", BirthDate: "1970-02-03",
		Phones: []string{"07 81 23 45 67"}})
	if err != nil || len(dups) != 1 || dups[0].Citizen.ID != a.ID || dups[0].Reasons[0] != "nom et date de naissance" {
		t.Fatalf("duplicates at creation: %+v, %v", dups, err)
	}
	c := f.citizen(t, Citizen{FamilyName: "Autre", FirstNames: "Nom", Phones: []string{"+33 7 81 23 45 67"}})
	if d, _ := f.s.Duplicates(ctx, etatCivil, c.ID); len(d) != 1 || d[0].Citizen.ID != b.ID || d[0].Reasons[0] != "téléphone" {
		t.Fatalf("duplicates by phone: %+v", d)
	}
	if _, err := f.s.RecordCall(ctx, system, b.ID, SectorAccueil, f.clock.now(), Call{Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	m, err := f.s.Merge(ctx, etatCivil, a.ID, b.ID)
	if err != nil || len(m.Phones) != 1 {
		t.Fatalf("merge: %+v, %v", m, err)
	}
	got, err := f.s.Citizen(ctx, etatCivil, b.ID)
	if err != nil || got.ID != a.ID || got.RedirectedFrom != b.ID {
		t.Fatalf("merged-away id: %+v, %v", got, err)
	}
	tl, _ := f.s.Timeline(ctx, etatCivil, b.ID, 0)
	kinds := []EntryKind{}
	for _, e := range tl {
		kinds = append(kinds, e.Kind)
	}
	if !reflect.DeepEqual(kinds, []EntryKind{EntryMerge, EntryCall, EntryVisit}) {
		t.Fatalf("timeline after merge: %v", kinds)
	}
	if _, err := f.s.Merge(ctx, etatCivil, a.ID, b.ID); !errors.Is(err, ErrInvalid) {
		t.Fatalf("merging twice: %v", err)
	}
	es, _ := f.audit.Entries(ctx, audit.Filter{ObjectID: a.ID})
	if es[len(es)-1].Action != "citizen.create" || !containsAction(es, "citizen.merge") {
		t.Fatalf("audit: %+v", es)
	}
}

func containsAction(es []audit.Entry, a string) bool {
	for _, e := range es {
		if e.Action == a {
			return true
		}
	}
	return false
}

func TestPurgeKeepsAFileSeenAgainAfterThePlan(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old, _, _ := history(t, f)
	plan, err := f.s.planSnapshot(ctx, f.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	// The citizen comes to the counter between the plan and the removal.
	if _, err := f.s.RecordVisit(ctx, system, old.ID, SectorAccueil, f.clock.now(), Visit{TicketID: "t-new", Number: "A100", Service: "A"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.apply(ctx, &plan, dpo); err != nil {
		t.Fatal(err)
	}
	for _, it := range plan.Items {
		if it.Rule == "citizens" && (it.Count != 1 || it.Removed != 0) {
			t.Fatalf("citizens: planned %d, removed %d; want the file kept", it.Count, it.Removed)
		}
	}
	if _, err := f.s.Citizen(ctx, dpo, old.ID); err != nil {
		t.Fatalf("the file seen again was purged: %v", err)
	}
	if ms, _ := f.s.Search(ctx, dpo, "Quartermaine", 5); len(ms) != 1 {
		t.Fatalf("its name left the index: %+v", ms)
	}
}
