package calls

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/audit"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/store"
	"guichet/hub/telephony"
	"guichet/internal/logbuf"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return l
}()

// testSite: services A (accueil) and E (état civil) take visits and calls,
// P (passeports) visits; counter 1 takes visits, 2 visits and calls (a
// blended desk), 8 calls only (the phone position). Agents: mlefebvre
// (A, E), efournier (A, E), tnguyen (A, E, P), jmartin (P, not a PBX
// member).
func testSite() queue.Site {
	s := queue.Site{ID: "test", Name: "Mairie de Test", Location: paris, Policy: queue.DefaultPolicy(),
		Services: []queue.Service{
			{ID: "A", Names: map[string]string{"fr": "Accueil"}, SLA: 10 * time.Minute, Channels: []queue.Channel{queue.Visit, queue.Phone}, ServiceTime: 4 * time.Minute},
			{ID: "E", Names: map[string]string{"fr": "État civil"}, SLA: 15 * time.Minute, Channels: []queue.Channel{queue.Visit, queue.Phone}, ServiceTime: 8 * time.Minute},
			{ID: "P", Names: map[string]string{"fr": "Passeports"}, SLA: 20 * time.Minute, Channels: []queue.Channel{queue.Visit}, ServiceTime: 15 * time.Minute},
		},
		Counters: []queue.Counter{
			{ID: "1", Name: "Guichet 1"},
			{ID: "2", Name: "Guichet 2", Channels: []queue.Channel{queue.Visit, queue.Phone}},
			{ID: "8", Name: "Accueil téléphonique", Channels: []queue.Channel{queue.Phone}},
		},
		Agents: []queue.Agent{
			{ID: "mlefebvre", Skills: map[string]int{"A": 3, "E": 3}},
			{ID: "efournier", Skills: map[string]int{"A": 3, "E": 2}},
			{ID: "tnguyen", Skills: map[string]int{"A": 2, "E": 3, "P": 1}},
			{ID: "jmartin", Skills: map[string]int{"P": 3}},
		},
	}
	s.Policy.IgnoreHours = true
	return s
}

func testMapping() telephony.Mapping {
	return telephony.Mapping{
		Queues:  map[string]string{"accueil": "A", "etat-civil": "E"},
		Members: map[string]string{"PJSIP/101": "mlefebvre", "PJSIP/108": "efournier", "PJSIP/102": "tnguyen"},
	}
}

// clock is the hub's clock in the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a real hub (SQLite event log), a real citizen file and audit log,
// and a bridge on a link.
type env struct {
	t     testing.TB
	dir   string
	h     *hub.Hub
	st    *store.Store
	crm   *crm.Store
	audit *audit.Log
	clock *clock
	link  telephony.Link
	b     *Bridge
	logs  *logbuf.Buffer
	ctx   context.Context
	// running: the bridge's own goroutine runs (run); the test leaves the
	// bridge to it.
	running bool
}

func newEnv(t testing.TB, link telephony.Link, tweak func(*Options)) *env {
	t.Helper()
	dir := t.TempDir()
	return openEnv(t, dir, link, tweak)
}

func openEnv(t testing.TB, dir string, link telephony.Link, tweak func(*Options)) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, paris)}
	logs := &logbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := store.Open(filepath.Join(dir, "guichet.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Options{Site: testSite(), Store: st, Log: quiet, Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	al, err := audit.Open(filepath.Join(dir, "audit.db"), audit.Options{Log: quiet, Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := crm.Open(filepath.Join(dir, "crm.db"), crm.Options{Site: crm.DefaultSite("Mairie de Test"), Audit: al, Log: quiet, Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Hub: h, Link: link, Mapping: testMapping(), Store: cs, CallbackAfter: time.Minute,
		Sectors: map[string]crm.Sector{"A": crm.SectorAccueil, "E": crm.SectorEtatCivil, "P": crm.SectorEtatCivil}, Log: log}
	if tweak != nil {
		tweak(&o)
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, h: h, st: st, crm: cs, audit: al, clock: c, link: link, b: b, logs: logs, ctx: context.Background()}
	t.Cleanup(e.close)
	return e
}

func (e *env) close() {
	e.h.Close()
	e.crm.Close()
	e.audit.Close()
	e.st.Close()
}

// start seeds the bridge as Run does; the test then drives it with step.
func (e *env) start() {
	e.t.Helper()
	if err := e.b.seed(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

// step applies link events as the owner goroutine does, then the blending.
func (e *env) step(evs ...telephony.Event) {
	for _, ev := range evs {
		e.b.handle(e.ctx, ev)
	}
	e.b.sync(e.ctx)
}

// op runs a counter operation as a desk or the console does, then lets the
// bridge react to the change.
func (e *env) op(op, counter string, args any) error {
	e.t.Helper()
	act, err := hub.CounterAction(op, counter, args)
	if err != nil {
		e.t.Fatal(err)
	}
	err = e.do(act)
	if !e.running {
		e.b.sync(e.ctx)
	}
	return err
}

func (e *env) do(act hub.Action) error {
	r, err := e.h.Do(e.ctx, "", "test", act, func(o hub.Outcome, res json.RawMessage) []byte { return nil })
	if err != nil {
		return err
	}
	if !r.Done() {
		return &queue.Error{Code: r.Code, Message: r.Message}
	}
	return nil
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) open(counter, agent string) {
	e.t.Helper()
	e.must(e.op(api.OpOpen, counter, &api.OpenArgs{Agent: agent}))
}

func (e *env) walkIn(service string) string {
	e.t.Helper()
	act := hub.IssueTicket(api.IssueArgs{Service: service}, "")
	e.must(e.do(act))
	var id string
	e.h.Read(func(en *queue.Engine) {
		ts := en.Tickets(queue.Waiting, service)
		for _, t := range ts {
			if t.Channel == queue.Visit {
				id = t.ID
			}
		}
	})
	return id
}

func (e *env) engine(fn func(en *queue.Engine)) { e.h.Read(fn) }

func (e *env) ticket(id string) queue.Ticket {
	var t queue.Ticket
	e.h.Read(func(en *queue.Engine) { t, _ = en.Ticket(id) })
	return t
}

func (e *env) live(call string) (queue.Ticket, bool) {
	var t queue.Ticket
	var ok bool
	e.h.Read(func(en *queue.Engine) { t, ok = en.LiveCall(call) })
	return t, ok
}

func (e *env) counter(id string) queue.CounterState {
	var cs queue.CounterState
	e.h.Read(func(en *queue.Engine) { cs, _ = en.CounterState(id) })
	return cs
}

func call(id, queueName, number string, joined time.Time) telephony.Call {
	svc := testMapping().Queues[queueName]
	return telephony.Call{ID: telephony.CallID(id), Linkedid: id, Number: number, Queue: queueName, Service: svc, JoinedAt: joined, State: telephony.Waiting}
}

var _ = api.CodeAgentBusy
