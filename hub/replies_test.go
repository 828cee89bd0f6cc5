package hub

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// mqttLike encodes as the MQTT path does: ok and the result, or the error.
func mqttLike(o Outcome, result json.RawMessage) []byte {
	r := api.Reply{ID: "c", OK: o.Done(), Result: result}
	if !o.Done() {
		r = api.ErrorReply("c", o.Code, o.Message)
	}
	b, _ := json.Marshal(r)
	return b
}

func ticketOf(body []byte) string {
	var r api.Reply
	var t api.Ticket
	if json.Unmarshal(body, &r) != nil || !r.OK || json.Unmarshal(r.Result, &t) != nil {
		return ""
	}
	return t.ID
}

func TestTheOutcomeIsDoneOrARefusalCodeFreshOrReplayed(t *testing.T) {
	h, st := openHub(t, t.TempDir(), benchSite())
	defer st.Close()
	defer h.Close()
	ctx := context.Background()
	act, _ := CounterAction(api.OpCallNext, "1", nil)
	for _, want := range []bool{false, true} {
		rep, err := h.Do(ctx, "k-next", "t", act, mqttLike)
		if err != nil || rep.Done() || rep.Code != api.CodeCounterClosed || rep.Replayed != want {
			t.Fatalf("call next at a closed counter: %+v %v (replayed %v)", rep.Outcome, err, rep.Replayed)
		}
	}
	for _, want := range []bool{false, true} {
		rep, err := h.Do(ctx, "k-issue", "t", IssueTicket(api.IssueArgs{Service: "A"}, ""), mqttLike)
		if err != nil || !rep.Done() || ticketOf(rep.Body) == "" || rep.Replayed != want {
			t.Fatalf("issue: %+v %v %s", rep.Outcome, err, rep.Body)
		}
	}
}

// Older builds stored an HTTP-like status beside each reply: 200 or 201 when
// done, 409 or 500 when refused. Those rows still replay as what they were,
// and a kiosk's offline ticket still supersedes a request answered then.
func TestRepliesStoredByAnOlderBuildStillReadRight(t *testing.T) {
	dir := t.TempDir()
	h, st := openHub(t, dir, benchSite())
	ctx := context.Background()
	day := time.Now().UTC().Format(time.DateOnly)
	if _, err := h.Do(ctx, "", "hub", GrantLease("kiosk-1", "A", day, 10), discard); err != nil {
		t.Fatal(err)
	}
	issued, err := h.Do(ctx, "mqtt:kiosk-1:c1", "kiosk-1", IssueTicket(api.IssueArgs{Service: "A"}, "kiosk-1"), mqttLike)
	if err != nil || !issued.Done() {
		t.Fatalf("issue: %+v %v", issued.Outcome, err)
	}
	act, _ := CounterAction(api.OpCallNext, "1", nil)
	if rep, err := h.Do(ctx, "http:next-1", "api", act, mqttLike); err != nil || rep.Code != api.CodeCounterClosed {
		t.Fatalf("call next: %+v %v", rep.Outcome, err)
	}
	h.Close()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "guichet.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	for key, status := range map[string]int{"mqtt:kiosk-1:c1": 200, "http:next-1": 409} {
		if _, err := db.Exec(`UPDATE replies SET status = ? WHERE key = ?`, status, key); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	h, err = New(Options{Site: benchSite(), Store: st, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer h.Close()

	if rep, err := h.Do(ctx, "http:next-1", "api", act, mqttLike); err != nil || !rep.Replayed || rep.Code != api.CodeCounterClosed {
		t.Fatalf("an older refusal replays as %+v %v", rep.Outcome, err)
	}
	if rep, err := h.Do(ctx, "mqtt:kiosk-1:c1", "kiosk-1", IssueTicket(api.IssueArgs{Service: "A"}, "kiosk-1"), mqttLike); err != nil ||
		!rep.Replayed || !rep.Done() || string(rep.Body) != string(issued.Body) {
		t.Fatalf("an older success replays as %+v %v %s", rep.Outcome, err, rep.Body)
	}
	printed := time.Now()
	off := IssueOffline(api.IssueArgs{Service: "A", OfflineNumber: queue.OfflineFrom, IssuedAt: &printed, Replaces: "c1"}, "kiosk-1",
		Replacing{Key: "mqtt:kiosk-1:c1", Superseded: []byte(`{}`), TicketOf: ticketOf})
	if rep, err := h.Do(ctx, "mqtt:kiosk-1:c2", "kiosk-1", off, mqttLike); err != nil || !rep.Done() {
		t.Fatalf("offline ticket: %+v %v", rep.Outcome, err)
	}
	var state queue.State
	h.Read(func(e *queue.Engine) { tk, _ := e.Ticket(ticketOf(issued.Body)); state = tk.State })
	if state != queue.Cancelled {
		t.Fatalf("the ticket of the request an offline ticket replaces is %s, want cancelled", state)
	}
}

func TestARequestThatNeverRanIsSupersededForGood(t *testing.T) {
	h, st := openHub(t, t.TempDir(), benchSite())
	defer st.Close()
	defer h.Close()
	ctx := context.Background()
	if _, err := h.Do(ctx, "", "hub", GrantLease("kiosk-1", "A", time.Now().UTC().Format(time.DateOnly), 10), discard); err != nil {
		t.Fatal(err)
	}
	printed := time.Now()
	superseded := []byte(`{"id":"c1","ok":false,"error":{"code":"superseded","message":"replaced"}}`)
	off := IssueOffline(api.IssueArgs{Service: "A", OfflineNumber: queue.OfflineFrom, IssuedAt: &printed, Replaces: "c1"}, "kiosk-1",
		Replacing{Key: "mqtt:kiosk-1:c1", Superseded: superseded, TicketOf: ticketOf})
	if rep, err := h.Do(ctx, "mqtt:kiosk-1:c2", "kiosk-1", off, mqttLike); err != nil || !rep.Done() {
		t.Fatalf("offline ticket: %+v %v", rep.Outcome, err)
	}
	late, err := h.Do(ctx, "mqtt:kiosk-1:c1", "kiosk-1", IssueTicket(api.IssueArgs{Service: "A"}, "kiosk-1"), mqttLike)
	if err != nil || !late.Replayed || late.Code != api.CodeSuperseded || string(late.Body) != string(superseded) {
		t.Fatalf("the replaced request, arriving late: %+v %v %s", late.Outcome, err, late.Body)
	}
	var waiting int
	h.Read(func(e *queue.Engine) { waiting = e.WaitingCount() })
	if waiting != 1 {
		t.Fatalf("%d waiting, want the offline ticket only", waiting)
	}
}
