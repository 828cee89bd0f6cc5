package hub

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/hub/store"
)

// refuseWrites makes the database at dir refuse every write of the hub —
// its events and its probes — as a full disk does, until the returned
// function lets them through again. (A real full disk is in
// hub/server's TestFullDisk…; this one runs without root.)
func refuseWrites(t *testing.T, dir string) (allow func()) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "guichet.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE TRIGGER full_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
		`CREATE TRIGGER full_meta_insert BEFORE INSERT ON meta BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
		`CREATE TRIGGER full_meta_update BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		for _, tr := range []string{"full_events", "full_meta_insert", "full_meta_update"} {
			if _, err := db.Exec(`DROP TRIGGER ` + tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func openHubWith(t *testing.T, dir string, o Options) (*Hub, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "guichet.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	o.Site, o.Store, o.Log = benchSite(), st, quiet
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(); st.Close() })
	return h, st
}

// counted issues a ticket and counts how often the engine ran it.
func counted(runs *atomic.Int64) Action {
	act := IssueTicket(api.IssueArgs{Service: "A"}, "")
	run := act.Run
	act.Run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		runs.Add(1)
		return run(e, by)
	}
	return act
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWhileTheDiskRefusesWritesOperationsAreRefusedWithoutRunning(t *testing.T) {
	dir := t.TempDir()
	h, st := openHubWith(t, dir, Options{ProbeEvery: 20 * time.Millisecond})
	ctx := context.Background()
	if _, err := issueE(t, h, "clerk"); err != nil {
		t.Fatal(err)
	}
	allow := refuseWrites(t, dir)

	var runs atomic.Int64
	if _, err := h.Do(ctx, "", "clerk", counted(&runs), discard); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first operation on a full disk: %v, want ErrUnavailable", err)
	}
	if hl := h.Health(); hl.Writable || hl.Err == "" || hl.Since.IsZero() {
		t.Fatalf("health after a commit the disk refused: %+v, want not writable, with the reason and since when", hl)
	}
	for i := 0; i < 50; i++ {
		if _, err := h.Do(ctx, "", "clerk", counted(&runs), discard); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("operation %d on a full disk: %v, want ErrUnavailable", i, err)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("the engine ran %d operations while the disk refused writes, want 1 (the one that found out): each one run is one more rollback", n)
	}
	var waiting int
	h.Read(func(e *queue.Engine) { waiting = e.WaitingCount() })
	if waiting != 1 || st.LastSeq() != 1 {
		t.Fatalf("%d waiting, %d events stored: the live queue must be the log (1 ticket)", waiting, st.LastSeq())
	}

	allow()
	eventually(t, "the hub takes operations again once the disk does", func() bool { return h.Health().Writable })
	rep, err := issueE(t, h, "clerk")
	if err != nil {
		t.Fatalf("after the disk was freed: %v", err)
	}
	var tk queue.Ticket
	h.Read(func(e *queue.Engine) { tk, _ = e.Ticket(rep.Events[0].Ticket) })
	if tk.Number != 2 {
		t.Fatalf("number %d after the refused ones, want 2: they never existed", tk.Number)
	}
}

func TestIdempotentRetryGetsItsStoredReplyWhileTheDiskIsFull(t *testing.T) {
	dir := t.TempDir()
	h, _ := openHubWith(t, dir, Options{ProbeEvery: time.Hour})
	ctx := context.Background()
	enc := func(Outcome, json.RawMessage) []byte { return []byte(`"stored"`) }
	if _, err := h.Do(ctx, "k1", "kiosk", IssueTicket(api.IssueArgs{Service: "A"}, ""), enc); err != nil {
		t.Fatal(err)
	}
	refuseWrites(t, dir)
	if _, err := h.Do(ctx, "k2", "kiosk", IssueTicket(api.IssueArgs{Service: "A"}, ""), enc); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("new operation on a full disk: %v", err)
	}
	rep, err := h.Do(ctx, "k1", "kiosk", IssueTicket(api.IssueArgs{Service: "A"}, ""), enc)
	if err != nil || !rep.Replayed || string(rep.Body) != `"stored"` {
		t.Fatalf("a retry of a stored operation while the disk is full: %+v, %v; want its stored reply", rep, err)
	}
}

// After a failed commit the engine is rolled back in memory, from the
// checkpoint and the events since: it must be the queue the log gives,
// leases and periodic snapshots included.
func TestRollbackGivesTheQueueTheLogHolds(t *testing.T) {
	dir := t.TempDir()
	h, st := openHubWith(t, dir, Options{SnapshotEvery: 7})
	ctx := context.Background()
	for c, agent := range map[string]string{"1": "a1", "2": "a2"} {
		act, _ := CounterAction("open", c, &api.OpenArgs{Agent: agent})
		if _, err := h.Do(ctx, "", "t", act, discard); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Do(ctx, "", "hub", GrantLease("kiosk-1", "A", h.Now().Format(time.DateOnly), 10), discard); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 23; i++ {
		issueE(t, h, "t")
		if i%3 == 0 {
			act, _ := CounterAction("call_next", []string{"1", "2"}[i%2], nil)
			h.Do(ctx, "", "t", act, discard)
		}
	}
	printed := h.Now().Add(-time.Minute)
	h.Do(ctx, "", "kiosk-1", IssueTicket(api.IssueArgs{Service: "A", OfflineNumber: queue.OfflineFrom, IssuedAt: &printed, Token: NewToken()}, "kiosk-1"), discard)
	h.snapping.Lock() // no snapshot in flight
	h.snapping.Unlock()

	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "guichet.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.actor = 'poison' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
		t.Fatal(err)
	}
	act, _ := CounterAction("call_next", "2", nil)
	if _, err := h.Do(ctx, "", "poison", act, discard); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("poisoned commit: %v", err)
	}
	var live []byte
	h.Read(func(e *queue.Engine) { live, _ = json.Marshal(e.Snapshot()) })
	fromLog, _ := queue.New(benchSite())
	if _, err := st.Load(fromLog); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(fromLog.Snapshot())
	if string(live) != string(want) {
		t.Fatalf("live queue after a rollback is not the log's:\nlive %s\nlog  %s", live, want)
	}
	if !h.Health().Writable {
		t.Fatal("one poisoned batch, the database still writable: the hub must serve on")
	}
}

// An HTTP client that half-closes its connection has its request's context
// cancelled; the operation it sent is still done, and Do says so.
func TestDoAnswersWhatHappenedAfterItsCallerGaveUp(t *testing.T) {
	h, st := openHubWith(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 1; i <= 20; i++ {
		rep, err := h.Do(ctx, "", "clerk", IssueTicket(api.IssueArgs{Service: "A"}, ""), discard)
		if err != nil {
			t.Fatalf("operation %d, its caller gone: %v; it was stored (%d events)", i, err, st.LastSeq())
		}
		if len(rep.Events) != 1 || st.LastSeq() != int64(i) {
			t.Fatalf("operation %d: %d events answered, %d stored", i, len(rep.Events), st.LastSeq())
		}
	}
}

func TestDoGivesUpOnAStuckWriterAfterAnswerWait(t *testing.T) {
	h, _ := openHubWith(t, t.TempDir(), Options{AnswerWait: 50 * time.Millisecond})
	release := make(chan struct{})
	stuck := Action{Name: "stuck", Run: func(*queue.Engine, queue.By) ([]queue.Event, error) { <-release; return nil, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := h.Do(ctx, "", "t", stuck, discard); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, ErrNoOutcome) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a writer that never answers: %v, want ErrNoOutcome (an ErrUnavailable)", err)
	}
	close(release)
}
