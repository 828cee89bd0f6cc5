package hub

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

func issueE(t *testing.T, h *Hub, actor string) (Reply, error) {
	t.Helper()
	return h.Do(context.Background(), "", actor, IssueTicket(api.IssueArgs{Service: "A"}, ""), discard)
}

func TestWatchersHearOfEveryCommit(t *testing.T) {
	h, st := openHub(t, t.TempDir(), benchSite())
	defer st.Close()
	defer h.Close()
	ch, cancel := h.Watch()
	defer cancel()
	if _, err := issueE(t, h, "t"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		if seq := st.LastSeq(); seq != 1 {
			t.Fatalf("notified with %d events committed, want 1", seq)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no notification after a commit")
	}
	// A refusal changes nothing and notifies nobody.
	act, _ := CounterAction("call_next", "1", nil)
	h.Do(context.Background(), "", "t", act, discard)
	select {
	case <-ch:
		t.Fatalf("notified after a refusal (%d events committed)", st.LastSeq())
	case <-time.After(50 * time.Millisecond):
	}
}

func TestFailedCommitAnswersUnavailableAndKeepsTheQueueTrue(t *testing.T) {
	dir := t.TempDir()
	h, st := openHub(t, dir, benchSite())
	defer st.Close()
	defer h.Close()
	if _, err := issueE(t, h, "clerk"); err != nil {
		t.Fatal(err)
	}
	// Make the disk refuse what the actor "poison" writes.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "guichet.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.actor = 'poison'
		BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
		t.Fatal(err)
	}
	if _, err := issueE(t, h, "poison"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("failed commit answered %v, want ErrUnavailable", err)
	}
	var waiting int
	h.Read(func(e *queue.Engine) { waiting = e.WaitingCount() })
	if waiting != 1 {
		t.Fatalf("%d tickets waiting after a failed commit, want the 1 that was stored", waiting)
	}
	rep, err := issueE(t, h, "clerk")
	if err != nil || len(rep.Events) != 1 {
		t.Fatalf("hub not serving after a failed commit: %v", err)
	}
	var tk queue.Ticket
	h.Read(func(e *queue.Engine) { tk, _ = e.Ticket(rep.Events[0].Ticket) })
	if tk.Number != 2 {
		t.Fatalf("next number %d after the failed one, want 2 (the failed one never existed)", tk.Number)
	}
}

func TestCloseWritesASnapshotTheNextStartUses(t *testing.T) {
	dir := t.TempDir()
	h, st := openHub(t, dir, benchSite())
	for i := 0; i < 30; i++ {
		if _, err := issueE(t, h, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	h, st = openHub(t, dir, benchSite())
	defer st.Close()
	defer h.Close()
	e, _ := queue.New(benchSite())
	replayed, err := st.Load(e)
	if err != nil || replayed != 0 || e.Applied() != 30 || e.WaitingCount() != 30 {
		t.Fatalf("after a clean stop: replayed %d, applied %d, waiting %d, %v", replayed, e.Applied(), e.WaitingCount(), err)
	}
}

func TestPeriodicSnapshotsBoundTheReplay(t *testing.T) {
	h, st := openHub(t, t.TempDir(), benchSite())
	defer st.Close()
	defer h.Close()
	h.every = 10
	for i := 0; i < 35; i++ {
		if _, err := issueE(t, h, "t"); err != nil {
			t.Fatal(err)
		}
	}
	h.snapping.Lock() // wait for a snapshot in flight
	h.snapping.Unlock()
	e, _ := queue.New(benchSite())
	replayed, err := st.Load(e)
	if err != nil || replayed >= 10 || e.WaitingCount() != 35 {
		t.Fatalf("replayed %d events (want < 10), waiting %d, %v", replayed, e.WaitingCount(), err)
	}
}
