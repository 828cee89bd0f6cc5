package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	tel "guichet/hub/telephony"
	"guichet/internal/logbuf"
	"guichet/internal/stdwebhook"
)

var t0 = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func testMapping() tel.Mapping {
	return tel.Mapping{
		Queues:  map[string]string{"accueil": "A", "etat-civil": "E"},
		Members: map[string]string{"agent-101": "alice", "agent-102": "bob"},
	}
}

// consumer keeps a View of a link's events, repaired with Reconcile at each
// Resync, and counts each call's announcements and ends.
type consumer struct {
	mu        sync.Mutex
	view      *tel.View
	events    []tel.Event
	announced map[tel.CallID]int
	ended     map[tel.CallID]int
	changed   chan struct{}
}

func newConsumer() *consumer {
	return &consumer{view: tel.NewView(), announced: map[tel.CallID]int{}, ended: map[tel.CallID]int{}, changed: make(chan struct{}, 1)}
}

func (c *consumer) emit(e tel.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	if r, ok := e.(tel.Resync); ok {
		for _, f := range tel.Reconcile(c.view.Snapshot(), r.Snapshot, t0) {
			c.apply(f)
		}
	} else {
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

func (c *consumer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// await waits until cond holds, told by every event.
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

// rig is an adapter behind a real HTTP server on loopback, its Run going,
// and a Sender to it.
type rig struct {
	a    *Adapter
	url  string
	cons *consumer
	snd  *Sender
	log  *logbuf.Buffer
	now  *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newRig(t testing.TB, tweak func(*Config)) *rig {
	t.Helper()
	r := newIdleRig(t, tweak)
	r.run(t)
	return r
}

// newIdleRig is newRig without Run going.
func newIdleRig(t testing.TB, tweak func(*Config)) *rig {
	t.Helper()
	var lb logbuf.Buffer
	clk := &clock{t: t0}
	cfg := Config{Secret: testSecret, Mapping: testMapping(), Now: clk.Now,
		Log: slog.New(slog.NewTextHandler(&lb, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tweak != nil {
		tweak(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	secret, _ := stdwebhook.ParseSecret(testSecret)
	r := &rig{a: a, url: srv.URL, cons: newConsumer(), log: &lb, now: clk,
		snd: &Sender{URL: srv.URL, Secret: secret, Now: clk.Now}}
	return r
}

// run starts the adapter's Run until the test ends, and waits for its
// first Resync.
func (r *rig) run(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	n := r.cons.count()
	go func() { done <- r.a.Run(ctx, r.cons.emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	})
	r.cons.await(t, "Run's Resync", func(c *consumer) bool { return len(c.events) > n })
}

func (r *rig) send(t testing.TB, typ string, data any) {
	t.Helper()
	if err := r.snd.Send(context.Background(), typ, r.now.Now(), data); err != nil {
		t.Fatalf("send %s: %v", typ, err)
	}
}
