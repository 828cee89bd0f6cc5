package citizens

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/cloud"
	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/audit"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return l
}()

var (
	agent = crm.Viewer{ID: "mlefebvre", Role: crm.RoleAgent, Sectors: []crm.Sector{crm.SectorAccueil, crm.SectorEtatCivil}, Addr: "10.0.0.1"}
	dpo   = crm.Viewer{ID: "dpo", Role: crm.RoleDPO, Addr: "10.0.0.2"}
)

func site() queue.Site {
	s := queue.Site{ID: "test", Name: "Mairie de Test", Location: paris, Policy: queue.DefaultPolicy(),
		Services: []queue.Service{
			{ID: "A", Names: map[string]string{"fr": "Accueil"}, Channels: []queue.Channel{queue.Visit, queue.Phone}},
			{ID: "E", Names: map[string]string{"fr": "État civil"}, Channels: []queue.Channel{queue.Visit}},
		},
		Counters: []queue.Counter{{ID: "1", Name: "Guichet 1", Channels: []queue.Channel{queue.Visit, queue.Phone}}},
		Agents:   []queue.Agent{{ID: "mlefebvre", Skills: map[string]int{"A": 3, "E": 3}}},
	}
	s.Policy.IgnoreHours = true
	return s
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	dir   string
	h     *hub.Hub
	st    *store.Store
	crm   *crm.Store
	audit *audit.Log
	clock *clock
	s     *Service
	ctx   context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, paris)}
	st, err := store.Open(filepath.Join(dir, "guichet.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Options{Site: site(), Store: st, Log: quiet, Clock: c.now})
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
	s, err := New(Options{Hub: h, Store: cs, Audit: al, Sectors: map[string]crm.Sector{"A": crm.SectorAccueil, "E": crm.SectorEtatCivil},
		PurgeHour: 3, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, h: h, st: st, crm: cs, audit: al, clock: c, s: s, ctx: context.Background()}
	t.Cleanup(func() {
		h.Close()
		cs.Close()
		al.Close()
		st.Close()
	})
	return e
}

// run starts the service until stop is called (or the test ends).
func (e *env) run() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.s.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	e.t.Cleanup(stop)
	return stop
}

func (e *env) do(name string, run func(en *queue.Engine, by queue.By) ([]queue.Event, error)) {
	e.t.Helper()
	r, err := e.h.Do(e.ctx, "", "test", hub.Action{Name: name, Run: run}, func(hub.Outcome, json.RawMessage) []byte { return nil })
	if err != nil || !r.Done() {
		e.t.Fatalf("%s: %v %+v", name, err, r.Outcome)
	}
}

func (e *env) counterOp(op string, args any) {
	e.t.Helper()
	act, err := hub.CounterAction(op, "1", args)
	if err != nil {
		e.t.Fatal(err)
	}
	e.do(op, act.Run)
}

func (e *env) citizen(c crm.Citizen) crm.Citizen {
	e.t.Helper()
	got, _, err := e.crm.CreateCitizen(e.ctx, agent, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// entries waits until the citizen's timeline holds n entries of kind.
func (e *env) entries(citizen string, kind crm.EntryKind, n int) []crm.Entry {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tl, err := e.crm.Timeline(e.ctx, dpo, citizen, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		var got []crm.Entry
		for _, en := range tl {
			if en.Kind == kind {
				got = append(got, en)
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				e.t.Fatalf("%d %s entries, want %d", len(got), kind, n)
			}
			return got
		}
		time.Sleep(5 * time.Millisecond) // polling the citizen file, with a deadline
	}
}

// cursorAt waits until the follower's cursor reached the log's end.
func (e *env) cursorAt() {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		seq, err := e.st.Cursor(cursorName)
		if err != nil {
			e.t.Fatal(err)
		}
		if seq == e.st.LastSeq() {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("cursor at %d, log at %d", seq, e.st.LastSeq())
		}
		time.Sleep(5 * time.Millisecond) // polling the cursor, with a deadline
	}
}

// A ticket attached to a citizen at the counter is filed in their timeline
// as a visit once it is served, with its number, service, counter and
// agent — once, though the follower reads the log again after a restart.
func TestAServedTicketAttachedToACitizenIsFiledOnceAsAVisit(t *testing.T) {
	e := newEnv(t)
	stop := e.run()
	c := e.citizen(crm.Citizen{FamilyName: "Martin", FirstNames: "Louise"})
	e.do("issue", hub.IssueTicket(api.IssueArgs{Service: "E"}, "").Run)
	e.counterOp(api.OpOpen, &api.OpenArgs{Agent: "mlefebvre"})
	e.counterOp(api.OpCallNext, nil)
	var ticket string
	e.h.Read(func(en *queue.Engine) { cs, _ := en.CounterState("1"); ticket = cs.Ticket })
	if err := e.s.Attach(e.ctx, agent, ticket, c.ID); err != nil {
		t.Fatal(err)
	}
	e.counterOp(api.OpFinish, nil)
	got := e.entries(c.ID, crm.EntryVisit, 1)
	v := got[0]
	if v.Visit.TicketID != ticket || v.Visit.Number != "E001" || v.Visit.Service != "E" || v.Visit.Counter != "1" ||
		v.Agent != "mlefebvre" || v.Sector != crm.SectorEtatCivil {
		t.Fatalf("visit %+v %+v", v, v.Visit)
	}
	e.cursorAt()
	stop()
	if err := e.st.SetCursor(cursorName, 0); err != nil { // as after a crash before the cursor was saved
		t.Fatal(err)
	}
	e.run()
	e.cursorAt()
	e.entries(c.ID, crm.EntryVisit, 1)
}

// A ticket attached after it was served is filed then; a call of the
// telephony link attached after it ended (filed under no file: its number
// was nobody's) is filed in that file, once.
func TestATicketAttachedAfterItEndedIsFiledThen(t *testing.T) {
	e := newEnv(t)
	e.run()
	c := e.citizen(crm.Citizen{FamilyName: "Petit", FirstNames: "Hugo"})
	e.do("issue", hub.IssueTicket(api.IssueArgs{Service: "A"}, "").Run)
	e.counterOp(api.OpOpen, &api.OpenArgs{Agent: "mlefebvre"})
	e.counterOp(api.OpCallNext, nil)
	var visit string
	e.h.Read(func(en *queue.Engine) { cs, _ := en.CounterState("1"); visit = cs.Ticket })
	e.counterOp(api.OpFinish, nil)
	if err := e.s.Attach(e.ctx, agent, visit, c.ID); err != nil {
		t.Fatal(err)
	}
	e.entries(c.ID, crm.EntryVisit, 1)

	system := crm.Viewer{ID: "hub-telephony", Role: crm.RoleSystem}
	if err := e.crm.OpenCall(e.ctx, system, crm.CallRecord{Ticket: "p1", CallID: "c1", Number: "0698765432", Queue: "accueil", Service: "A", JoinedAt: e.clock.now()}); err != nil {
		t.Fatal(err)
	}
	e.do("join", func(en *queue.Engine, by queue.By) ([]queue.Event, error) {
		return en.JoinCall(by, queue.CallJoin{ID: "p1", Call: "c1", Service: "A"})
	})
	e.do("connect", func(en *queue.Engine, by queue.By) ([]queue.Event, error) {
		return en.ConnectCall(by, "c1", "mlefebvre")
	})
	e.do("end", func(en *queue.Engine, by queue.By) ([]queue.Event, error) {
		return en.EndCall(by, "c1", "mlefebvre", "caller")
	})
	if rec, _, err := e.crm.EndCall(e.ctx, system, "p1", crm.CallEnd{Outcome: "answered", Talk: time.Minute, Display: "A002"}); err != nil || rec.Citizen != "" {
		t.Fatalf("%+v %v", rec, err)
	}
	if err := e.s.Attach(e.ctx, agent, "p1", c.ID); err != nil {
		t.Fatal(err)
	}
	calls := e.entries(c.ID, crm.EntryCall, 1)
	if calls[0].Call.Number != "A002" || calls[0].Call.Talk != time.Minute {
		t.Fatalf("call %+v", calls[0].Call)
	}
	e.cursorAt()
	e.entries(c.ID, crm.EntryCall, 1)
	if err := e.s.Attach(e.ctx, agent, "p1", "c-nobody"); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("attached to a file that is not: %v", err)
	}
}

// An erasure leaves in the event log, and in the CloudEvent the central
// CRM reads, a tombstone with the file's ids and nothing else.
func TestAnErasureLeavesATombstoneOfIdsOnly(t *testing.T) {
	e := newEnv(t)
	a := e.citizen(crm.Citizen{FamilyName: "Quartermaine", FirstNames: "Zéphyrine", Phones: []string{"06 11 22 33 44"}})
	b := e.citizen(crm.Citizen{FamilyName: "Quartermaine", FirstNames: "Zéphyrine", BirthName: "Doublon"})
	if _, err := e.crm.Merge(e.ctx, agent, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Erase(e.ctx, agent, a.ID); !errors.Is(err, crm.ErrForbidden) {
		t.Fatalf("an agent erased: %v", err)
	}
	ts, err := e.s.Erase(e.ctx, dpo, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.st.Events(e.ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range evs {
		if ev.Type != queue.CitizenErased {
			continue
		}
		ids = append(ids, ev.Citizen)
		site := site()
		m, err := cloud.NewMapper(cloud.SiteOf(&site), e.st, cloud.CRM).CloudEvent(e.ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		ce, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var d api.EventData
		if err := json.Unmarshal(m.Data, &d); err != nil || d.Citizen != ev.Citizen {
			t.Fatalf("the CRM's CloudEvent of the tombstone names %q, not %q (%v)", d.Citizen, ev.Citizen, err)
		}
		for _, s := range []string{"Quartermaine", "Zéphyrine", "0611223344", "Doublon"} {
			if strings.Contains(string(ce), s) {
				t.Fatalf("the tombstone holds %q: %s", s, ce)
			}
		}
		if ev.Actor != "dpo" {
			t.Fatalf("tombstone by %q", ev.Actor)
		}
	}
	if strings.Join(ids, ",") != a.ID+","+b.ID || ts.Citizen != a.ID {
		t.Fatalf("tombstones for %v, want %s and %s", ids, a.ID, b.ID)
	}
}

// The daily purge runs at the site's time of day, the next day once it is
// past, across a clock change too.
func TestTheDailyPurgeRunsAtItsTimeOfDay(t *testing.T) {
	cases := []struct{ now, want time.Time }{
		{time.Date(2026, 12, 2, 2, 59, 0, 0, paris), time.Date(2026, 12, 2, 3, 0, 0, 0, paris)},
		{time.Date(2026, 12, 2, 3, 0, 0, 0, paris), time.Date(2026, 12, 3, 3, 0, 0, 0, paris)},
		{time.Date(2026, 12, 31, 23, 0, 0, 0, paris), time.Date(2027, 1, 1, 3, 0, 0, 0, paris)},
		{time.Date(2027, 3, 27, 12, 0, 0, 0, paris), time.Date(2027, 3, 28, 3, 0, 0, 0, paris)}, // summer time starts at 02:00
		{time.Date(2027, 10, 30, 12, 0, 0, 0, paris), time.Date(2027, 10, 31, 3, 0, 0, 0, paris)},
	}
	for _, c := range cases {
		if got := NextPurge(c.now, paris, 3, 0); !got.Equal(c.want) {
			t.Errorf("after %s: %s, want %s", c.now, got, c.want)
		}
	}
}

// The purge removes what the retention says from the citizen file and
// from the audit log, and leaves an elimination record for each.
func TestThePurgeLeavesEliminationRecords(t *testing.T) {
	e := newEnv(t)
	start := e.clock.now()
	e.clock.set(start.AddDate(-2, 0, 0))
	old := e.citizen(crm.Citizen{FamilyName: "Ancien", FirstNames: "Dossier"})
	if _, err := e.crm.Citizen(e.ctx, agent, old.ID); err != nil { // an audit entry two years old
		t.Fatal(err)
	}
	e.clock.set(start)
	if _, err := e.s.Purge(e.ctx, agent); !errors.Is(err, crm.ErrForbidden) {
		t.Fatalf("an agent purged: %v", err)
	}
	r, err := e.s.Purge(e.ctx, dpo)
	if err != nil {
		t.Fatal(err)
	}
	if r.Audit < 2 {
		t.Fatalf("%d audit entries removed", r.Audit)
	}
	if _, err := e.crm.Citizen(e.ctx, dpo, old.ID); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("the old file survived: %v", err)
	}
	els, err := e.crm.Eliminations(e.ctx, dpo, 0)
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]int{}
	for _, el := range els {
		rules[el.Rule] += el.Count
	}
	if rules["citizens"] != 1 || rules["audit"] != int(r.Audit) {
		t.Fatalf("elimination records %v", rules)
	}
	rep, err := e.audit.Verify(e.ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("the audit chain after the purge: %+v %v", rep, err)
	}
}

// A ticket issued with the citizen field typed as free text (a name and a
// number, for the town's CRM connectors: api.IssueArgs.Citizen) is no file
// of the citizen file: once served, the follower files nothing and asks
// the citizen file nothing — so the text reaches neither the audit log nor
// the hub's log (crm.deny logs the object it was asked for).
func TestAFreeTextCitizenOnATicketIsNoFileAndIsNotAskedFor(t *testing.T) {
	e := newEnv(t)
	e.run()
	const typed = "Jean Dupont, 06.01.02.03.04"
	e.do("issue", hub.IssueTicket(api.IssueArgs{Service: "E", Citizen: typed}, "").Run)
	e.counterOp(api.OpOpen, &api.OpenArgs{Agent: "mlefebvre"})
	e.counterOp(api.OpCallNext, nil)
	e.counterOp(api.OpFinish, nil)
	e.cursorAt()
	got, err := e.audit.Entries(e.ctx, audit.Filter{ObjectID: typed})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("the citizen file was asked for %q: %+v", typed, got)
	}
}
