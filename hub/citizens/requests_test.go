package citizens

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"guichet/hub/crm"
	"guichet/hub/queue"
)

// requestEvents returns the log's request events as "type:request:status".
func (e *env) requestEvents() []string {
	e.t.Helper()
	evs, err := e.st.Events(e.ctx, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Request != nil {
			out = append(out, string(ev.Type)+":"+ev.Request.ID+":"+ev.Request.Status)
		}
	}
	return out
}

// A request's change that reached crm.db but not the log (the hub stopped
// between the two) is logged at the next start, once; the changes that
// were logged are not logged again.
func TestARequestChangeLostByAStopIsLoggedAtTheNextStart(t *testing.T) {
	e := newEnv(t)
	stop := e.run()
	c := e.citizen(crm.Citizen{FamilyName: "Roux", FirstNames: "Anne", Email: "anne.roux@example.org"})
	r, err := e.s.OpenRequest(e.ctx, agent, c.ID, crm.NewRequest{Kind: "reclamation", Title: "Trottoir", Channel: crm.ChannelCounter})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.set(e.clock.now().Add(time.Minute))
	if _, err := e.s.UpdateRequest(e.ctx, agent, r.ID, crm.Change{Status: crm.StatusInProgress, Step: "Instruction"}); err != nil {
		t.Fatal(err)
	}
	stop()
	// The hub dies after crm.db took the decision, before the log did.
	e.clock.set(e.clock.now().Add(time.Minute))
	if _, err := e.crm.UpdateRequest(e.ctx, agent, r.ID, crm.Change{Status: crm.StatusAccepted, Step: "Réponse envoyée"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"request.registered:" + r.ID + ":recue", "request.status_changed:" + r.ID + ":en_cours"}
	if got := e.requestEvents(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("before the restart: %v", got)
	}
	s, err := New(e.s.o)
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	stop = e.run()
	deadline := time.Now().Add(10 * time.Second)
	for len(e.requestEvents()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polled with a deadline
	}
	stop()
	if got := e.requestEvents(); len(got) != 3 {
		t.Fatalf("after the restart: %v", got)
	}
	// Started again: nothing more to repair.
	if s, err = New(e.s.o); err != nil {
		t.Fatal(err)
	}
	if err := s.repairRequests(e.ctx); err != nil {
		t.Fatal(err)
	}
	got := e.requestEvents()
	if len(got) != 3 || got[2] != "request.status_changed:"+r.ID+":acceptee" {
		t.Fatalf("after the restarts: %v", got)
	}
	evs, _ := e.st.Events(e.ctx, 0, 1000)
	last := evs[len(evs)-1]
	if last.Type != queue.RequestStatusChanged || last.Citizen != c.ID || last.Request.Step != "Réponse envoyée" || last.Request.Kind != "reclamation" {
		t.Fatalf("the repaired event: %+v %+v", last, last.Request)
	}
}

// A suspension for missing documents, the documents received and the
// decision are each logged, even within the same millisecond; a change
// that changes nothing is not; the event says nothing of the pieces asked
// for or the request's title.
func TestEachStepOfARequestIsLoggedOnceAndNothingPersonal(t *testing.T) {
	e := newEnv(t)
	e.run()
	c := e.citizen(crm.Citizen{FamilyName: "Roux", FirstNames: "Anne", Email: "anne.roux@example.org"})
	r, err := e.s.OpenRequest(e.ctx, agent, c.ID, crm.NewRequest{Kind: "reclamation", Title: "Trottoir de la rue Haute", Channel: crm.ChannelLetter})
	if err != nil {
		t.Fatal(err)
	}
	// The clock does not move: every change is in the same millisecond.
	if _, err := e.s.AskDocuments(e.ctx, agent, r.ID, "Justificatif de domicile de Mme Roux", e.clock.now().AddDate(0, 0, 15)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.DocumentsReceived(e.ctx, agent, r.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second changes nothing
		if _, err := e.s.UpdateRequest(e.ctx, agent, r.ID, crm.Change{Status: crm.StatusAccepted, Step: "Réponse envoyée", StepNo: 2, MaxSteps: 2}); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(e.requestEvents(), " ")
	want := strings.NewReplacer("ID", r.ID).Replace("request.registered:ID:recue request.status_changed:ID:incomplete " +
		"request.status_changed:ID:en_cours request.status_changed:ID:acceptee")
	if got != want {
		t.Fatalf("request events:\n%s\nwant\n%s", got, want)
	}
	evs, _ := e.st.Events(e.ctx, 0, 1000)
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "Roux") || strings.Contains(string(b), "Trottoir") || strings.Contains(string(b), "Justificatif") {
			t.Fatalf("personal data in the log: %s", b)
		}
		if ev.Request != nil && ev.Request.Status == "incomplete" && ev.Request.DecisionAt.IsZero() && ev.Request.Regime == "" {
			t.Fatalf("the suspension's event lacks the implicit decision's regime: %+v", ev.Request)
		}
	}
}
