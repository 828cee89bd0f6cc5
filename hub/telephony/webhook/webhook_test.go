package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	tel "guichet/hub/telephony"
	"guichet/internal/stdwebhook"
)

func at(d time.Duration) *time.Time {
	t := t0.Add(d)
	return &t
}

// A call's life posted by a provider becomes the telephony events, in
// order: waiting, offered, connected (ending the other offer), ended.
func TestCallLifePostedBecomesTheTelephonyEvents(t *testing.T) {
	r := newRig(t, nil)
	r.send(t, TypeCallWaiting, Call{CallID: "c1", Number: "06 12 34 56 78", Name: "Jeanne\r\nX-Evil: 1", Queue: "accueil"})
	r.now.Add(20 * time.Second)
	r.send(t, TypeCallOffered, Call{CallID: "c1", Agent: "agent-101"})
	r.send(t, TypeCallOffered, Call{CallID: "c1", Agent: "agent-102"})
	r.now.Add(5 * time.Second)
	r.send(t, TypeCallConnected, Call{CallID: "c1", Agent: "agent-102"})
	r.now.Add(3 * time.Minute)
	r.send(t, TypeCallEnded, Call{CallID: "c1", By: "caller"})
	r.cons.await(t, "the call's end", func(c *consumer) bool { return c.ended["c1"] == 1 })

	r.cons.mu.Lock()
	defer r.cons.mu.Unlock()
	want := []tel.Event{
		tel.Resync{},
		tel.CallWaiting{Call: tel.Call{ID: "c1", Linkedid: "c1", Number: "0612345678", Name: "JeanneX-Evil: 1", Queue: "accueil", Service: "A", JoinedAt: t0, State: tel.Waiting}},
		tel.CallOffered{ID: "c1", Agent: "alice", Member: "agent-101"},
		tel.CallOffered{ID: "c1", Agent: "bob", Member: "agent-102"},
		tel.OfferEnded{ID: "c1", Agent: "alice", Member: "agent-101", Reason: tel.OfferAnsweredElsewhere},
		tel.CallConnected{ID: "c1", Agent: "bob", Member: "agent-102", Wait: 25 * time.Second, At: t0.Add(25 * time.Second)},
		tel.CallEnded{ID: "c1", Agent: "bob", Member: "agent-102", Wait: 25 * time.Second, Talk: 3 * time.Minute, By: tel.EndedByCaller},
	}
	if !reflect.DeepEqual(r.cons.events, want) {
		t.Fatalf("events\n%+v\nwant\n%+v", r.cons.events, want)
	}
	if len(r.cons.view.Snapshot().Calls) != 0 {
		t.Errorf("calls left in the view: %+v", r.cons.view.Snapshot().Calls)
	}
	if strings.Contains(r.log.String(), "0612345678") || strings.Contains(r.log.String(), "Jeanne") {
		t.Errorf("a caller's number or name is in the log:\n%s", r.log)
	}
}

// post sends a raw body with headers signed by secret, id and ts (zero:
// now), and returns the status and the error code.
func (r *rig) post(t *testing.T, body []byte, secret string, id string, ts time.Time, edit func(http.Header, []byte) []byte) (int, string) {
	t.Helper()
	s, err := stdwebhook.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	if ts.IsZero() {
		ts = r.now.Now()
	}
	h := http.Header{}
	s.Sign(h, id, ts, body)
	h.Set("Content-Type", "application/json")
	if edit != nil {
		body = edit(h, body)
	}
	req, _ := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error struct{ Code string } `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Error.Code
}

func message(t *testing.T, typ string, data any) []byte {
	t.Helper()
	raw, _ := json.Marshal(data)
	b, _ := json.Marshal(Message{Type: typ, Timestamp: t0, Data: raw})
	return b
}

// Every refusal answers a clear 4xx and changes nothing: the adapter's
// calls are the same, and the next event out is the next good message's.
func TestRefusedMessagesChangeNothing(t *testing.T) {
	r := newRig(t, func(c *Config) { c.MaxBody = 4 << 10 })
	r.send(t, TypeCallWaiting, Call{CallID: "c1", Number: "0611111111", Queue: "accueil"})
	r.send(t, TypeCallConnected, Call{CallID: "c1", Agent: "agent-101"})
	good := message(t, TypeCallWaiting, Call{CallID: "c2", Number: "0622222222", Queue: "accueil"})
	if st, code := r.post(t, good, testSecret, "msg_taken", time.Time{}, nil); st != 200 {
		t.Fatalf("a good message: %d %s", st, code)
	}
	r.cons.await(t, "three events", func(c *consumer) bool { return len(c.events) == 4 })
	before := r.a.book.snapshot()
	other := stdwebhook.NewSecret().String()
	abandon := message(t, TypeCallAbandoned, Call{CallID: "c2"})
	cases := []struct {
		name   string
		body   []byte
		secret string
		id     string
		ts     time.Time
		edit   func(http.Header, []byte) []byte
		status int
		code   string
	}{
		{"wrong signature", abandon, other, "m1", time.Time{}, nil, 401, api.CodeUnauthorized},
		{"no signature", abandon, testSecret, "m2", time.Time{}, func(h http.Header, b []byte) []byte { h.Del("webhook-signature"); return b }, 401, api.CodeUnauthorized},
		{"body changed by one byte", abandon, testSecret, "m3", time.Time{}, func(h http.Header, b []byte) []byte {
			return bytes.Replace(b, []byte(`"c2"`), []byte(`"c1"`), 1)
		}, 401, api.CodeUnauthorized},
		{"timestamp six minutes old", abandon, testSecret, "m4", t0.Add(-6 * time.Minute), nil, 400, api.CodeStale},
		{"timestamp six minutes ahead", abandon, testSecret, "m5", t0.Add(6 * time.Minute), nil, 400, api.CodeStale},
		{"replayed id", abandon, testSecret, "msg_taken", time.Time{}, nil, 409, api.CodeReplayed},
		{"not JSON", []byte(`{"type":"call.abandoned","data":{`), testSecret, "m6", time.Time{}, nil, 400, api.CodeBadRequest},
		{"unknown type", message(t, "call.teleported", Call{CallID: "c2"}), testSecret, "m7", time.Time{}, nil, 400, api.CodeBadRequest},
		{"no data", []byte(`{"type":"call.abandoned"}`), testSecret, "m8", time.Time{}, nil, 400, api.CodeBadRequest},
		{"data of the wrong type", []byte(`{"type":"call.abandoned","data":{"call_id":42}}`), testSecret, "m9", time.Time{}, nil, 400, api.CodeBadRequest},
		{"call id with a line break", message(t, TypeCallAbandoned, Call{CallID: "c2\r\n"}), testSecret, "m10", time.Time{}, nil, 422, api.CodeInvalid},
		{"number that is no number", message(t, TypeCallWaiting, Call{CallID: "c3", Number: "06; DROP", Queue: "accueil"}), testSecret, "m11", time.Time{}, nil, 422, api.CodeInvalid},
		{"unknown abandon reason", message(t, TypeCallAbandoned, Call{CallID: "c2", Reason: "bored"}), testSecret, "m12", time.Time{}, nil, 422, api.CodeInvalid},
		{"abandon of a connected call", message(t, TypeCallAbandoned, Call{CallID: "c1"}), testSecret, "m13", time.Time{}, nil, 409, api.CodeTransition},
		{"body over the limit", message(t, TypeCallWaiting, Call{CallID: "c4", Queue: "accueil", Name: strings.Repeat("x", 5000)}), testSecret, "m14", time.Time{}, nil, 413, api.CodeTooLarge},
		{"event timestamp a day old", []byte(`{"type":"call.abandoned","timestamp":"2026-11-30T09:00:00Z","data":{"call_id":"c2"}}`), testSecret, "m15", time.Time{}, nil, 422, api.CodeInvalid},
		{"not JSON content", abandon, testSecret, "m16", time.Time{}, func(h http.Header, b []byte) []byte { h.Set("Content-Type", "text/plain"); return b }, 415, api.CodeUnsupportedMedia},
	}
	for _, c := range cases {
		st, code := r.post(t, c.body, c.secret, c.id, c.ts, c.edit)
		if st != c.status || code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, st, code, c.status, c.code)
		}
		if !strings.Contains(r.log.String(), "message refused") {
			t.Errorf("%s: no log line", c.name)
		}
	}
	if after := r.a.book.snapshot(); !reflect.DeepEqual(after, before) {
		t.Fatalf("a refused message changed the calls:\n%+v\nwas\n%+v", after, before)
	}
	r.send(t, TypeCallAbandoned, Call{CallID: "c2", Reason: "hung_up"})
	r.cons.await(t, "the sentinel", func(c *consumer) bool { return len(c.events) == 5 })
	r.cons.mu.Lock()
	defer r.cons.mu.Unlock()
	if e, ok := r.cons.events[4].(tel.CallAbandoned); !ok || e.ID != "c2" {
		t.Fatalf("after the refusals the next event is %+v, want c2's abandon", r.cons.events[4])
	}
	// A message refused for its content may be sent again, fixed, with the
	// same id: only a message applied is a replay.
	if st, code := r.post(t, message(t, TypeCallWaiting, Call{CallID: "c3", Number: "0633333333", Queue: "accueil"}), testSecret, "m11", time.Time{}, nil); st != 200 {
		t.Errorf("the id of a refused message, sent again: %d %s", st, code)
	}
}

// Ends are sent once whatever the provider sends: a second end, a message
// for an ended call and a call that never joined change nothing.
func TestEachAnnouncedCallEndsExactlyOnce(t *testing.T) {
	r := newRig(t, nil)
	r.send(t, TypeCallWaiting, Call{CallID: "c1", Queue: "accueil"})
	r.send(t, TypeCallWaiting, Call{CallID: "c1", Queue: "accueil"}) // twice
	r.send(t, TypeCallAbandoned, Call{CallID: "c1"})
	r.send(t, TypeCallAbandoned, Call{CallID: "c1"})
	r.send(t, TypeCallEnded, Call{CallID: "c1"})
	r.send(t, TypeCallConnected, Call{CallID: "c1", Agent: "agent-101"})
	r.send(t, TypeCallEnded, Call{CallID: "ghost"})
	r.send(t, TypeCallWaiting, Call{CallID: "c9", Queue: "not-mapped"})
	r.send(t, TypeCallConnected, Call{CallID: "c9", Agent: "agent-101"})
	r.send(t, TypeCallWaiting, Call{CallID: "c2", Queue: "etat-civil"})
	r.send(t, TypeCallEnded, Call{CallID: "c2"}) // a waiting call that ends was abandoned
	r.cons.await(t, "c2's end", func(c *consumer) bool { return c.ended["c2"] == 1 })
	r.cons.mu.Lock()
	defer r.cons.mu.Unlock()
	if !reflect.DeepEqual(r.cons.announced, map[tel.CallID]int{"c1": 1, "c2": 1}) || !reflect.DeepEqual(r.cons.ended, map[tel.CallID]int{"c1": 1, "c2": 1}) {
		t.Fatalf("announced %v, ended %v", r.cons.announced, r.cons.ended)
	}
	if e := r.cons.events[len(r.cons.events)-1]; !reflect.DeepEqual(e, tel.CallAbandoned{ID: "c2", Reason: tel.AbandonHungUp}) {
		t.Errorf("c2 ended as %+v", e)
	}
}

// A snapshot after an outage repairs the hub's view: calls that ended
// meanwhile are closed, new ones announced, a connected one shown with its
// agent; nothing doubled.
func TestSnapshotRepairsTheViewAfterAnOutage(t *testing.T) {
	r := newRig(t, nil)
	r.send(t, TypeCallWaiting, Call{CallID: "c1", Queue: "accueil"})
	r.send(t, TypeCallWaiting, Call{CallID: "c2", Queue: "accueil"})
	r.send(t, TypeCallWaiting, Call{CallID: "c3", Queue: "accueil"})
	r.now.Add(time.Minute)
	r.send(t, TypeSnapshot, Snapshot{
		Calls: []Call{
			{CallID: "c2", Queue: "accueil", JoinedAt: at(0)},
			{CallID: "c3", Queue: "accueil", JoinedAt: at(0), State: "connected", Agent: "agent-101", ConnectedAt: at(50 * time.Second)},
			{CallID: "c4", Queue: "etat-civil", Number: "0644444444", JoinedAt: at(30 * time.Second), Offers: []string{"agent-102"}},
			{CallID: "c5", Queue: "not-mapped"},
		},
		Agents: []Agent{{Agent: "agent-101", LoggedIn: true, InCall: true, Device: "in_use"}, {Agent: "agent-102", LoggedIn: true, Device: "ringing"}},
	})
	r.cons.await(t, "the snapshot's resync", func(c *consumer) bool { return c.announced["c4"] == 1 })
	r.cons.mu.Lock()
	defer r.cons.mu.Unlock()
	got := map[tel.CallID]string{}
	for _, c := range r.cons.view.Snapshot().Calls {
		got[c.ID] = fmt.Sprint(c.State, " ", c.Agent, " ", len(c.Offers))
	}
	want := map[tel.CallID]string{"c2": "waiting  0", "c3": "connected alice 0", "c4": "waiting  1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after the snapshot the view holds %v, want %v", got, want)
	}
	if !reflect.DeepEqual(r.cons.ended, map[tel.CallID]int{"c1": 1}) {
		t.Errorf("ended %v, want c1 once", r.cons.ended)
	}
	for id, n := range r.cons.announced {
		if n != 1 {
			t.Errorf("%s announced %d times", id, n)
		}
	}
	if !reflect.DeepEqual(r.a.book.snapshot().Calls, r.cons.view.Snapshot().Calls) {
		t.Errorf("the adapter and the consumer disagree:\n%+v\n%+v", r.a.book.snapshot().Calls, r.cons.view.Snapshot().Calls)
	}
}

// While the hub takes no events, the webhook answers 503 and keeps
// nothing; the provider's retry with the same id is taken once Run goes.
func TestWithoutRunTheWebhookAnswers503AndTheRetryIsTaken(t *testing.T) {
	r := newIdleRig(t, nil)
	body := message(t, TypeCallWaiting, Call{CallID: "c1", Queue: "accueil"})
	if st, code := r.post(t, body, testSecret, "msg_1", time.Time{}, nil); st != 503 || code != api.CodeUnavailable {
		t.Fatalf("without Run: %d %s", st, code)
	}
	r.run(t)
	if st, code := r.post(t, body, testSecret, "msg_1", time.Time{}, nil); st != 200 {
		t.Fatalf("the retry: %d %s", st, code)
	}
	r.cons.await(t, "the call", func(c *consumer) bool { return c.announced["c1"] == 1 })
}

// Pause, Unpause and Originate are posted to the provider, signed so that
// a Standard Webhooks receiver verifies them; its refusal is ErrRefused,
// its absence ErrNotConnected; the originate's outcome comes back as an
// event.
func TestActionsArePostedSignedToTheProvider(t *testing.T) {
	secret, _ := stdwebhook.ParseSecret(testSecret)
	got := make(chan Message, 4)
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if _, err := (stdwebhook.Verifier{Secrets: []stdwebhook.Secret{secret}, Now: func() time.Time { return t0 }}).Verify(req.Header, body); err != nil {
			http.Error(w, err.Error(), 401)
			return
		}
		var m Message
		json.Unmarshal(body, &m)
		if strings.Contains(string(m.Data), "agent-102") {
			http.Error(w, `{"error":{"code":"not_logged_in","message":"agent-102 is not logged in"}}`, 409)
			return
		}
		got <- m
	}))
	defer provider.Close()
	r := newRig(t, func(c *Config) { c.ActionURL = provider.URL })
	ctx := context.Background()
	if err := r.a.Pause(ctx, "alice", "Guichet\r\n: accueil d'un visiteur"); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.Type != TypeAgentPause || string(m.Data) != `{"agent":"agent-101","reason":"Guichet: accueil d'un visiteur"}` {
		t.Errorf("pause posted %s %s", m.Type, m.Data)
	}
	if err := r.a.Unpause(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.Type != TypeAgentUnpause || string(m.Data) != `{"agent":"agent-101"}` {
		t.Errorf("unpause posted %s %s", m.Type, m.Data)
	}
	if err := r.a.Originate(ctx, tel.OriginateRequest{Ref: "cb-1", Agent: "alice", Number: "+33 6 12-34-56-78"}); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.Type != TypeCallOriginate || string(m.Data) != `{"ref":"cb-1","agent":"agent-101","number":"+33612345678"}` {
		t.Errorf("originate posted %s %s", m.Type, m.Data)
	}
	if err := r.a.Pause(ctx, "bob", "x"); !errors.Is(err, tel.ErrRefused) || !strings.Contains(err.Error(), "not_logged_in") {
		t.Errorf("a refusal: %v", err)
	}
	if err := r.a.Pause(ctx, "carol", "x"); !errors.Is(err, tel.ErrUnknownAgent) {
		t.Errorf("an unmapped agent: %v", err)
	}
	if err := r.a.Originate(ctx, tel.OriginateRequest{Ref: "cb-2", Agent: "alice", Number: "0612;DIAL"}); !errors.Is(err, tel.ErrBadNumber) {
		t.Errorf("a bad number: %v", err)
	}
	r.send(t, TypeOriginateResult, OriginateResult{Ref: "cb-1", OK: true, CallID: "o-77"})
	r.cons.await(t, "the originate's outcome", func(c *consumer) bool {
		e, ok := c.events[len(c.events)-1].(tel.OriginateResult)
		return ok && e == tel.OriginateResult{Ref: "cb-1", OK: true, CallID: "o-77"}
	})
	provider.Close()
	if err := r.a.Unpause(ctx, "alice"); !errors.Is(err, tel.ErrNotConnected) {
		t.Errorf("the provider gone: %v", err)
	}
	idle := newRig(t, nil)
	if err := idle.a.Pause(ctx, "alice", "x"); !errors.Is(err, tel.ErrNotConfigured) {
		t.Errorf("no action URL: %v", err)
	}
}

// With the hub's clock apart from the real one (the demo's simulated day),
// a message is placed at the hub's time, keeping its age, while its
// signature is still checked at the real time.
func TestAMessageTakesTheHubsClockKeepingItsAge(t *testing.T) {
	day := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC) // the simulated morning, hours from t0
	r := newRig(t, func(c *Config) { c.Clock = func() time.Time { return day } })
	if err := r.snd.Send(context.Background(), TypeCallWaiting, t0.Add(-2*time.Second), Call{CallID: "c1", Queue: "accueil"}); err != nil {
		t.Fatal(err)
	}
	r.cons.await(t, "the call", func(c *consumer) bool { return len(c.events) == 2 })
	r.cons.mu.Lock()
	defer r.cons.mu.Unlock()
	if w, ok := r.cons.events[1].(tel.CallWaiting); !ok || !w.Call.JoinedAt.Equal(day.Add(-2*time.Second)) {
		t.Fatalf("events %+v: want the call joined two seconds before %s", r.cons.events, day)
	}
}
