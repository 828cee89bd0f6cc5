package crm

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSupervisionListsTheDecisionsDueWithinNDays(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Martin", FirstNames: "Louise"})
	start := f.clock.now() // 31 January 2027
	f.clock.set(start.Add(-55 * Day))
	soon, err := f.s.OpenRequest(ctx, urba, c.ID, NewRequest{Kind: "certificat_urbanisme_operationnel", Channel: ChannelLetter}) // 2 months
	if err != nil {
		t.Fatal(err)
	}
	late, err := f.s.OpenRequest(ctx, urba, c.ID, NewRequest{Kind: "declaration_prealable", Channel: ChannelLetter}) // 1 month: already born
	if err != nil {
		t.Fatal(err)
	}
	f.clock.set(start)
	if _, err := f.s.OpenRequest(ctx, urba, c.ID, NewRequest{Kind: "certificat_urbanisme_operationnel", Channel: ChannelCounter}); err != nil {
		t.Fatal(err)
	}
	social, err := f.s.OpenRequest(ctx, ccas, c.ID, NewRequest{Kind: "aide_sociale_facultative", Channel: ChannelCounter, ReceivedAt: start.Add(-58 * Day)})
	if err != nil {
		t.Fatal(err)
	}
	due, err := f.s.DueWithin(ctx, urba, 10*Day)
	if err != nil || len(due) != 2 || due[0].ID != late.ID || due[1].ID != soon.ID {
		t.Fatalf("due within 10 days: %+v, %v", due, err)
	}
	if due[1].Implicit.Regime != RegimeAcceptance || due[1].Implicit.At.IsZero() {
		t.Fatalf("implicit decision: %+v", due[1].Implicit)
	}
	// Missing documents push the acceptance out of the list until they come.
	if _, err := f.s.AskDocuments(ctx, urba, soon.ID, "plan cadastral", start.Add(20*Day)); err != nil {
		t.Fatal(err)
	}
	if due, _ := f.s.DueWithin(ctx, urba, 10*Day); len(due) != 1 {
		t.Fatalf("after asking for documents: %+v", due)
	}
	if _, err := f.s.DocumentsReceived(ctx, urba, soon.ID, start.Add(Day)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("documents received tomorrow, today: %v", err) // it would move the legal date on a promise
	}
	f.clock.set(start.Add(Day))
	r, err := f.s.DocumentsReceived(ctx, urba, soon.ID, start.Add(Day))
	if err != nil || r.Status != StatusInProgress || r.Implicit.Pending {
		t.Fatalf("documents received: %+v, %v", r, err)
	}
	// Decided: out of the list.
	if _, err := f.s.UpdateRequest(ctx, urba, late.ID, Change{Status: StatusAccepted, Step: "Arrêté signé"}); err != nil {
		t.Fatal(err)
	}
	if due, _ := f.s.DueWithin(ctx, urba, 10*Day); len(due) != 0 {
		t.Fatalf("after decisions: %+v", due)
	}
	// The CCAS's own list has its request; the urbanisme agent never saw it.
	if due, _ := f.s.DueWithin(ctx, ccas, 10*Day); len(due) != 1 || due[0].ID != social.ID {
		t.Fatalf("ccas list: %+v", due)
	}
	if _, err := f.s.UpdateRequest(ctx, urba, social.ID, Change{Status: StatusRejected}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an urbanisme agent decides a CCAS request: %v", err)
	}
	if _, err := f.s.OpenRequest(ctx, urba, c.ID, NewRequest{Kind: "no-such-kind", Channel: ChannelLetter}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, err := f.s.OpenRequest(ctx, urba, c.ID, NewRequest{Kind: "declaration_prealable", Channel: ChannelLetter, ReceivedAt: start.Add(48 * time.Hour)}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("received in the future: %v", err)
	}
}

func TestRequestStepsAndStatusMoveOnIndependently(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Martin", FirstNames: "Louise"})
	r, err := f.s.OpenRequest(ctx, urba, c.ID, NewRequest{Kind: "declaration_prealable", Channel: ChannelCounter})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		change Change
		want   Request
	}{
		{Change{Step: "Dossier complet", StepNo: 1, MaxSteps: 3}, Request{Status: StatusReceived, Step: "Dossier complet", StepNo: 1, MaxSteps: 3}},
		{Change{MaxSteps: 4}, Request{Status: StatusReceived, Step: "Dossier complet", StepNo: 1, MaxSteps: 4}},
		{Change{Status: StatusInProgress}, Request{Status: StatusInProgress, Step: "Dossier complet", StepNo: 1, MaxSteps: 4}},
		{Change{Status: StatusAccepted, Step: "Arrêté de non-opposition", StepNo: 4}, Request{Status: StatusAccepted, Step: "Arrêté de non-opposition", StepNo: 4, MaxSteps: 4}},
	} {
		got, err := f.s.UpdateRequest(ctx, urba, r.ID, tc.change)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tc.want.Status || got.Step != tc.want.Step || got.StepNo != tc.want.StepNo || got.MaxSteps != tc.want.MaxSteps {
			t.Fatalf("after %+v: %+v", tc.change, got)
		}
	}
	got, _ := f.s.Request(ctx, urba, r.ID)
	if got.ClosedAt.IsZero() || got.Implicit.At != (time.Time{}) {
		t.Fatalf("a decided request: closed %v, implicit %+v", got.ClosedAt, got.Implicit)
	}
	if _, err := f.s.UpdateRequest(ctx, urba, r.ID, Change{Status: "perdue"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown status: %v", err)
	}
}
