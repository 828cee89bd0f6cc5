package crm

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"guichet/hub/audit"
)

func TestEtatCivilAgentCannotReadACCASNoteAndTheDenialIsAudited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Martin", FirstNames: "Louise"})
	note, err := f.s.AddNote(ctx, ccas, c.ID, SectorSocial, "Dossier d'aide alimentaire en cours")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RecordVisit(ctx, system, c.ID, SectorSocial, f.clock.now(), Visit{TicketID: "t1", Number: "C012", Service: "C"}); err != nil {
		t.Fatal(err)
	}
	// The CCAS agent reads it.
	if got, err := f.s.TimelineEntry(ctx, ccas, note.ID); err != nil || got.Note.Text != "Dossier d'aide alimentaire en cours" {
		t.Fatalf("ccas reads its note: %+v, %v", got, err)
	}
	// The état-civil agent gets the very error of a missing record.
	_, denied := f.s.TimelineEntry(ctx, etatCivil, note.ID)
	_, missing := f.s.TimelineEntry(ctx, etatCivil, note.ID+1000)
	if !errors.Is(denied, ErrNotFound) || denied.Error() != missing.Error() {
		t.Fatalf("denied: %v; missing: %v", denied, missing)
	}
	// The timeline shows them the visit (contact history), not the note.
	tl, err := f.s.Timeline(ctx, etatCivil, c.ID, 0)
	if err != nil || len(tl) != 1 || tl[0].Kind != EntryVisit {
		t.Fatalf("état-civil timeline: %+v, %v", tl, err)
	}
	// The denial is in the audit log, with who, from where.
	es, err := f.audit.Entries(ctx, audit.Filter{ObjectID: strconv.FormatInt(note.ID, 10), Outcome: audit.Denied})
	if err != nil || len(es) != 1 || es[0].Actor != etatCivil.ID || es[0].Addr != etatCivil.Addr || es[0].Detail != "sector=social" {
		t.Fatalf("audit of the denial: %+v, %v", es, err)
	}
	// Nor can they write in the CCAS's sector.
	if _, err := f.s.AddNote(ctx, etatCivil, c.ID, SectorSocial, "x"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("état civil writes a CCAS note: %v", err)
	}
}

func TestSupervisorsWiderViewIsASiteSettingAndItsChangeIsAudited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Martin", FirstNames: "Louise"})
	r, err := f.s.OpenRequest(ctx, ccas, c.ID, NewRequest{Kind: "aide_sociale_facultative", Channel: ChannelCounter})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Request(ctx, superv, r.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("supervisor without the setting: %v", err)
	}
	if err := f.s.SetSupervisorSeesAll(ctx, superv, true); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a supervisor widens their own view: %v", err)
	}
	if err := f.s.SetSupervisorSeesAll(ctx, system, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Request(ctx, superv, r.ID); err != nil {
		t.Fatalf("supervisor with the setting: %v", err)
	}
	es, _ := f.audit.Entries(ctx, audit.Filter{ObjectID: "supervisor_sees_all"})
	if len(es) != 2 || es[0].Outcome != audit.Allowed || es[0].Detail != "value=1" || es[1].Outcome != audit.Denied {
		t.Fatalf("audit of the setting: %+v", es)
	}
	// The setting survives a restart.
	f.s.Close()
	s2, err := Open(f.path, Options{Site: testSite(), Audit: f.audit, Log: quiet, Clock: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !s2.SupervisorSeesAll() {
		t.Fatal("setting lost at restart")
	}
}

func TestEveryReadIsAudited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Martin", FirstNames: "Louise"})
	f.clock.add(time.Minute)
	if _, err := f.s.Citizen(ctx, etatCivil, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Timeline(ctx, etatCivil, c.ID, 10); err != nil {
		t.Fatal(err)
	}
	es, _ := f.audit.Entries(ctx, audit.Filter{ObjectID: c.ID})
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if len(es) != 3 || actions[0] != "citizen.timeline" || actions[1] != "citizen.read" || actions[2] != "citizen.create" {
		t.Fatalf("audit: %v", actions)
	}
	if r, err := f.audit.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("chain: %+v %v", r, err)
	}
}
