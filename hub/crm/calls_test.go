package crm

import (
	"context"
	"errors"
	"testing"
	"time"

	"guichet/hub/audit"
)

func (f *fixture) openCall(t *testing.T, ticket, number string) {
	t.Helper()
	err := f.s.OpenCall(context.Background(), system, CallRecord{Ticket: ticket, CallID: "pbx-" + ticket, Number: number,
		Queue: "accueil", Service: "A", Display: "A042", JoinedAt: f.clock.now()})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) calls(t *testing.T, v Viewer, citizen string) []Entry {
	t.Helper()
	tl, err := f.s.Timeline(context.Background(), v, citizen, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []Entry
	for _, e := range tl {
		if e.Kind == EntryCall {
			out = append(out, e)
		}
	}
	return out
}

// A call from a number written any way that is one citizen's is filed in
// their timeline when it ends, with its agent, wait and talk time, once
// however often its end is said.
func TestAnEndedCallIsFiledOnceInTheFileOfItsNumbersCitizen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Dupont", FirstNames: "Jean", Phones: []string{"06 12 34 56 78"}})
	f.openCall(t, "tk-1", "0033 6 12 34 56 78")
	if err := f.s.ConnectCall(ctx, system, "tk-1", "mlefebvre", f.clock.now().Add(40*time.Second)); err != nil {
		t.Fatal(err)
	}
	end := CallEnd{At: f.clock.now().Add(4 * time.Minute), Outcome: "answered", Wait: 40 * time.Second, Talk: 3 * time.Minute, Sector: SectorEtatCivil}
	rec, ended, err := f.s.EndCall(ctx, system, "tk-1", end)
	if err != nil || !ended {
		t.Fatalf("end: %v, %v", ended, err)
	}
	if rec.Citizen != c.ID || rec.E164 != "+33612345678" || rec.Outcome != "answered" || rec.Agent != "mlefebvre" {
		t.Fatalf("record %+v", rec)
	}
	if _, again, err := f.s.EndCall(ctx, system, "tk-1", end); err != nil || again {
		t.Fatalf("ended again: %v, %v", again, err)
	}
	got := f.calls(t, etatCivil, c.ID)
	if len(got) != 1 {
		t.Fatalf("%d call entries, want 1", len(got))
	}
	if e := got[0]; e.Agent != "mlefebvre" || e.Call.Talk != 3*time.Minute || e.Call.Wait != 40*time.Second || e.Call.Number != "A042" || e.Sector != SectorEtatCivil {
		t.Fatalf("entry %+v %+v", e, e.Call)
	}
}

// A call from a number nobody has keeps the number alone; an agent who
// attaches its ticket to a file afterwards files it there, once. A number
// two files share is filed in neither.
func TestACallOfNoOneKeepsItsNumberUntilAnAgentFilesIt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.openCall(t, "tk-1", "06 99 88 77 66")
	rec, ended, err := f.s.EndCall(ctx, system, "tk-1", CallEnd{Outcome: "abandoned", Wait: 2 * time.Minute})
	if err != nil || !ended || rec.Citizen != "" || rec.Number != "06 99 88 77 66" {
		t.Fatalf("record %+v %v %v", rec, ended, err)
	}
	c := f.citizen(t, Citizen{FamilyName: "Martin", FirstNames: "Louise"})
	for i, want := range []bool{true, false} {
		done, err := f.s.AttachCall(ctx, system, "tk-1", c.ID, SectorAccueil)
		if err != nil || done != want {
			t.Fatalf("attach %d: %v, %v; want %v", i, done, err, want)
		}
	}
	if got := f.calls(t, etatCivil, c.ID); len(got) != 1 || got[0].Call.Outcome != "abandoned" {
		t.Fatalf("entries %+v", got)
	}

	a := f.citizen(t, Citizen{FamilyName: "Durand", FirstNames: "Paul", Phones: []string{"01 43 98 65 00"}})
	b := f.citizen(t, Citizen{FamilyName: "Durand", FirstNames: "Anne", Phones: []string{"0143986500"}})
	f.openCall(t, "tk-2", "+33143986500")
	if rec, _, err := f.s.EndCall(ctx, system, "tk-2", CallEnd{Outcome: "answered"}); err != nil || rec.Citizen != "" {
		t.Fatalf("a shared number was filed: %+v %v", rec, err)
	}
	if len(f.calls(t, etatCivil, a.ID))+len(f.calls(t, etatCivil, b.ID)) != 0 {
		t.Fatal("a call from a shared number went to a file")
	}
}

// The file an agent attached the ticket to wins over the number.
func TestTheAttachedFileWinsOverTheNumber(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	owner := f.citizen(t, Citizen{FamilyName: "Petit", FirstNames: "Léa", Phones: []string{"06 12 34 56 78"}})
	caller := f.citizen(t, Citizen{FamilyName: "Petit", FirstNames: "Hugo"})
	f.openCall(t, "tk-1", "0612345678")
	rec, _, err := f.s.EndCall(ctx, system, "tk-1", CallEnd{Outcome: "answered", Citizen: caller.ID})
	if err != nil || rec.Citizen != caller.ID {
		t.Fatalf("%+v %v", rec, err)
	}
	if len(f.calls(t, etatCivil, owner.ID)) != 0 || len(f.calls(t, etatCivil, caller.ID)) != 1 {
		t.Fatal("filed in the wrong file")
	}
}

// Only the hub records calls; a record with a number is read by an agent
// with an audit entry, and the list of calls is not an agent's.
func TestCallRecordsAreTheHubsAndTheirReadsAreAudited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.s.OpenCall(ctx, etatCivil, CallRecord{Ticket: "x", CallID: "y"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an agent recorded a call: %v", err)
	}
	f.openCall(t, "tk-1", "0612345678")
	rec, err := f.s.CallRecord(ctx, etatCivil, "tk-1")
	if err != nil || rec.Number != "0612345678" {
		t.Fatalf("%+v %v", rec, err)
	}
	if _, err := f.s.CallRecord(ctx, etatCivil, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown call: %v", err)
	}
	if _, err := f.s.CallRecords(ctx, etatCivil, time.Time{}, 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an agent listed the calls: %v", err)
	}
	if got, err := f.s.CallRecords(ctx, dpo, time.Time{}, 0); err != nil || len(got) != 1 {
		t.Fatalf("the DPO's list: %v %v", got, err)
	}
	es, err := f.audit.Entries(ctx, audit.Filter{Actor: etatCivil.ID})
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, e := range es {
		if e.Action == "call.read" && e.ObjectID == "tk-1" && e.Outcome == audit.Allowed {
			reads++
		}
	}
	if reads != 1 {
		t.Fatalf("%d audited reads of the call, want 1", reads)
	}
}

// Call records go after the calls' retention, by the purge's own rule,
// and with the file that holds them when it is erased; the export lists
// them.
func TestCallRecordsArePurgedExportedAndErased(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	start := f.clock.now()
	f.clock.set(start.Add(-400 * Day))
	f.openCall(t, "old", "0611111111")
	if _, _, err := f.s.EndCall(ctx, system, "old", CallEnd{Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	f.clock.set(start)
	c := f.citizen(t, Citizen{FamilyName: "Moreau", FirstNames: "Nadia", Phones: []string{"06 22 22 22 22"}})
	f.openCall(t, "filed", "0622222222")
	if _, _, err := f.s.EndCall(ctx, system, "filed", CallEnd{Outcome: "answered"}); err != nil {
		t.Fatal(err)
	}
	f.openCall(t, "unfiled-same-number", "+33 6 22 22 22 22")
	f.openCall(t, "other", "0633333333")
	plan, err := f.s.Purge(ctx, dpo, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range plan.Items {
		if it.Rule == "call_records" && (it.Removed != 1 || it.IDs[0] != "old") {
			t.Fatalf("call_records rule: %+v", it)
		}
	}
	if _, err := f.s.CallRecord(ctx, system, "old"); !errors.Is(err, ErrCallUnknown) {
		t.Fatalf("an old call survived the purge: %v", err)
	}
	x, err := f.s.Export(ctx, dpo, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Calls) != 2 {
		t.Fatalf("export lists %d calls, want the filed one and the one from the same number", len(x.Calls))
	}
	if _, err := f.s.Erase(ctx, dpo, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{"filed", "unfiled-same-number"} {
		if _, err := f.s.CallRecord(ctx, system, tk); !errors.Is(err, ErrCallUnknown) {
			t.Fatalf("call %s survived the erasure: %v", tk, err)
		}
	}
	if _, err := f.s.CallRecord(ctx, system, "other"); err != nil {
		t.Fatalf("another caller's record went: %v", err)
	}
	if fileHolds(t, f.path, "0622222222") {
		t.Fatal("the erased number is still in the file's bytes")
	}
}

func TestAVisitOfATicketIsFiledOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Garcia", FirstNames: "Antoine"})
	v := Visit{TicketID: "t-1", Number: "A001", Service: "A", Agent: "agarcia"}
	first, err := f.s.RecordVisit(ctx, system, c.ID, SectorAccueil, f.clock.now(), v)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.s.RecordVisit(ctx, system, c.ID, SectorAccueil, f.clock.now(), v)
	if err != nil || again.ID != first.ID {
		t.Fatalf("recorded again: %+v %v", again, err)
	}
	tl, err := f.s.Timeline(ctx, etatCivil, c.ID, 10)
	if err != nil || len(tl) != 1 || tl[0].Agent != "agarcia" {
		t.Fatalf("timeline %+v %v", tl, err)
	}
}
