package wazo

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tel "guichet/hub/telephony"
	"guichet/internal/logbuf"
)

func testMapping() tel.Mapping {
	return tel.Mapping{
		Queues:  map[string]string{"accueil": "A"},
		Members: map[string]string{"1001": "alice", "1002": "bob", "1003": "carol"},
	}
}

const aliceUUID = "6d1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"

// consumer keeps a View of the link's events, repaired with Reconcile at
// each Resync, and counts each call's announcements and ends.
type consumer struct {
	mu        sync.Mutex
	view      *tel.View
	events    []tel.Event
	announced map[tel.CallID]int
	ended     map[tel.CallID]int
	resyncs   int
	downs     int
	changed   chan struct{}
}

func newConsumer() *consumer {
	return &consumer{view: tel.NewView(), announced: map[tel.CallID]int{}, ended: map[tel.CallID]int{}, changed: make(chan struct{}, 1)}
}

func (c *consumer) emit(e tel.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	switch e := e.(type) {
	case tel.Resync:
		c.resyncs++
		for _, f := range tel.Reconcile(c.view.Snapshot(), e.Snapshot, time.Now()) {
			c.apply(f)
		}
	case tel.LinkDown:
		c.downs++
	default:
		c.apply(e)
	}
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *consumer) apply(e tel.Event) {
	c.view.Apply(e)
	switch e := e.(type) {
	case tel.CallWaiting:
		c.announced[e.Call.ID]++
	case tel.CallAbandoned:
		c.ended[e.ID]++
	case tel.CallEnded:
		c.ended[e.ID]++
	}
}

func (c *consumer) await(t testing.TB, what string, cond func(*consumer) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		ok := cond(c)
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.changed:
		case <-timeout:
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("timed out waiting for %s; events: %+v", what, c.events)
		}
	}
}

// states returns the view's calls: "waiting" or "connected <agent>".
func (c *consumer) states() map[string]string {
	out := map[string]string{}
	for _, call := range c.view.Snapshot().Calls {
		if call.State == tel.Connected {
			out[string(call.ID)] = "connected " + call.Agent
		} else {
			out[string(call.ID)] = "waiting"
		}
	}
	return out
}

// runAdapter runs an adapter against f until the test ends; it waits for
// its first Resync.
func runAdapter(t testing.TB, f *fakeWazo, tweak func(*Config)) (*Adapter, *consumer, *logbuf.Buffer) {
	t.Helper()
	var lb logbuf.Buffer
	cfg := Config{
		URL: f.srv.URL, Username: fakeUser, Password: fakePass, Mapping: testMapping(),
		Users: map[string]string{"alice": aliceUUID}, OriginateContext: "ctx-mairie-internal",
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Jitter: func() float64 { return 0 },
		Log: slog.New(slog.NewTextHandler(&lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cons := newConsumer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, cons.emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	})
	cons.await(t, "the first resync", func(c *consumer) bool { return c.resyncs == 1 })
	return a, cons, &lb
}

// A call as Wazo publishes it — calld's call_created, then the queue's
// events relayed by amid, the agent phone's call_answered, the hang-up and
// calld's call_ended — becomes the telephony events of its life.
func TestWazoCallCreatedAnsweredEndedBecomesTheTelephonyEvents(t *testing.T) {
	f := newFakeWazo(t)
	_, cons, log := runAdapter(t, f, nil)
	f.join("1795.10", "0612345678", "Jeanne Martin", "accueil")
	f.ring("1795.10", 1)
	f.connect("1795.10", 1)
	f.hangup("1795.10")
	cons.await(t, "the call's end", func(c *consumer) bool { return c.ended["1795.10"] == 1 })

	cons.mu.Lock()
	defer cons.mu.Unlock()
	var kinds []string
	for _, e := range cons.events {
		switch e := e.(type) {
		case tel.Resync:
			kinds = append(kinds, "resync")
		case tel.CallWaiting:
			kinds = append(kinds, "waiting "+e.Call.Number+" "+e.Call.Name+" "+e.Call.Service)
		case tel.CallOffered:
			kinds = append(kinds, "offered "+e.Agent)
		case tel.CallConnected:
			kinds = append(kinds, "connected "+e.Agent)
		case tel.CallEnded:
			kinds = append(kinds, "ended "+e.Agent+" "+string(e.By))
		case tel.AgentStateChanged:
			// the member's in-call state; checked elsewhere
		default:
			kinds = append(kinds, "other")
		}
	}
	want := []string{"resync", "waiting 0612345678 Jeanne Martin A", "offered alice", "connected alice", "ended alice caller"}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("events %q, want %q", kinds, want)
	}
	if strings.Contains(log.String(), "0612345678") || strings.Contains(log.String(), "Jeanne") {
		t.Errorf("a caller's number or name is in the log:\n%s", log)
	}
}

// The websocket drops with two calls waiting and one connected; while it
// is down one waiting call ends and another arrives, and websocketd
// refuses the first attempts. The adapter comes back with growing waits,
// and after its resync the hub holds exactly Wazo's calls, each announced
// once, the vanished one ended once.
func TestDroppedWebsocketReconnectsWithBackoffAndResyncsExactly(t *testing.T) {
	f := newFakeWazo(t)
	_, cons, _ := runAdapter(t, f, nil)
	f.join("1.1", "0611111111", "", "accueil")
	f.join("1.2", "0622222222", "", "accueil")
	f.join("1.3", "0633333333", "", "accueil")
	f.ring("1.3", 2)
	f.connect("1.3", 2)
	cons.await(t, "three calls", func(c *consumer) bool {
		return len(c.view.Snapshot().Calls) == 3 && c.states()["1.3"] == "connected bob"
	})

	f.mu.Lock()
	f.refuseWS = 3
	dialsBefore := len(f.dials)
	f.mu.Unlock()
	f.dropSockets()
	cons.await(t, "the link down", func(c *consumer) bool { return c.downs == 1 })
	f.vanish("1.2")
	f.arrive("1.4", "0644444444", "accueil")
	cons.await(t, "the second resync", func(c *consumer) bool { return c.resyncs == 2 })

	cons.mu.Lock()
	got := cons.states()
	cons.mu.Unlock()
	want := map[string]string{"1.1": "waiting", "1.3": "connected bob", "1.4": "waiting"}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(f.present(), map[string]string{"1.1": "waiting", "1.3": "connected 1002", "1.4": "waiting"}) {
		t.Fatalf("after the reconnect the hub holds %v, Wazo %v; want %v", got, f.present(), want)
	}
	cons.mu.Lock()
	for id, n := range cons.announced {
		if n != 1 {
			t.Errorf("call %s announced %d times", id, n)
		}
	}
	if !reflect.DeepEqual(cons.ended, map[tel.CallID]int{"1.2": 1}) {
		t.Errorf("ended %v, want 1.2 once", cons.ended)
	}
	cons.mu.Unlock()
	f.mu.Lock()
	dials := f.dials[dialsBefore:]
	f.mu.Unlock()
	if len(dials) != 4 {
		t.Fatalf("%d websocket attempts after the drop, want 4 (3 refused)", len(dials))
	}
	// Waits of 10, 20, 40 ms at least (half of 20·2ⁿ ms, no jitter).
	for i := 1; i < len(dials); i++ {
		if gap, least := dials[i].Sub(dials[i-1]), (10*time.Millisecond)<<(i-1); gap < least {
			t.Errorf("attempt %d came %s after the previous, want at least %s", i+1, gap, least)
		}
	}
	// Events after the reconnect flow as before.
	f.abandon("1.4")
	cons.await(t, "1.4's abandon", func(c *consumer) bool { return c.ended["1.4"] == 1 })
}

// Tokens that expire are renewed on the open websocket ("token" op)
// before websocketd closes it with 4003: the link stays up, events keep
// coming.
func TestExpiringTokenIsRenewedOnTheOpenWebsocket(t *testing.T) {
	f := newFakeWazo(t)
	_, cons, _ := runAdapter(t, f, func(c *Config) { c.TokenExpiration = time.Second })
	f.await("two renewals on the websocket", func() bool { return f.tokenOps >= 2 })
	f.join("2.1", "0611111111", "", "accueil")
	cons.await(t, "the call after the renewals", func(c *consumer) bool { return c.announced["2.1"] == 1 })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.downs != 0 || cons.resyncs != 1 {
		t.Fatalf("the link went down %d times and resynced %d times: the token was not renewed in time", cons.downs, cons.resyncs)
	}
}

// A service answering 401 (wazo-auth restarted and forgot its tokens)
// gets a new token and the request again.
func TestRefusedTokenIsRenewedAndTheRequestRetried(t *testing.T) {
	f := newFakeWazo(t)
	a, _, log := runAdapter(t, f, nil)
	f.mu.Lock()
	issued := f.issued
	f.mu.Unlock()
	f.revokeTokens()
	if err := a.Pause(context.Background(), "alice", "Accueil d'un visiteur"); err != nil {
		t.Fatalf("Pause after the tokens were revoked: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.issued != issued+1 {
		t.Errorf("%d tokens issued for the retry, want 1", f.issued-issued)
	}
	if !f.agentByNumber("1001").Paused {
		t.Error("alice is not paused in Wazo")
	}
	if !strings.Contains(log.String(), "renewing it") {
		t.Error("no log line for the renewal")
	}
}

// Wrong credentials: the adapter keeps trying, logging an error.
func TestWrongCredentialsAreLoggedAsErrors(t *testing.T) {
	f := newFakeWazo(t)
	var lb logbuf.Buffer
	a, err := New(Config{URL: f.srv.URL, Username: fakeUser, Password: "wrong", Mapping: testMapping(),
		MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&lb, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, func(tel.Event) {}) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(lb.String(), "level=ERROR") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polls the log with a deadline
	}
	cancel()
	<-done
	if !strings.Contains(lb.String(), "refused the credentials") || strings.Contains(lb.String(), "wrong") {
		t.Fatalf("log:\n%s", lb.String())
	}
}
