package store

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func site() queue.Site {
	return queue.Site{ID: "s", Location: time.UTC, Policy: queue.DefaultPolicy(),
		Services: []queue.Service{{ID: "A", Channels: []queue.Channel{queue.Visit}}}}
}

func issue(t *testing.T, e *queue.Engine, id string, at time.Time) []queue.Event {
	t.Helper()
	return issueTB(t, e, id, at)
}

func issueTB(t testing.TB, e *queue.Engine, id string, at time.Time) []queue.Event {
	t.Helper()
	evs, err := e.Issue(queue.By{At: at}, queue.IssueRequest{ID: id, Args: api.IssueArgs{Service: "A", Force: true}})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestAppendThenLoadRebuildsTheEngine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := queue.New(site())
	at := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
	var recs []*Record
	for _, id := range []string{"a", "b", "c"} {
		recs = append(recs, &Record{Events: issue(t, e, id, at), Reply: &Reply{Key: "http:" + id, Status: 201, Body: []byte(id)}})
	}
	if err := s.Append(recs); err != nil {
		t.Fatal(err)
	}
	if recs[2].Events[0].Seq != 3 || s.LastSeq() != 3 {
		t.Fatalf("seq %d, last %d", recs[2].Events[0].Seq, s.LastSeq())
	}
	s.Close()

	s, err = Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e2, _ := queue.New(site())
	n, err := s.Load(e2)
	if err != nil || n != 3 {
		t.Fatalf("replayed %d, %v", n, err)
	}
	if tk, ok := e2.Ticket("c"); !ok || tk.Number != 3 {
		t.Fatalf("ticket c after reload: %+v %v", tk, ok)
	}
	r, err := s.Reply("http:b")
	if err != nil || r == nil || string(r.Body) != "b" || r.Status != 201 {
		t.Fatalf("reply = %+v, %v", r, err)
	}
	if r, _ := s.Reply("http:zz"); r != nil {
		t.Fatalf("unknown key answered %+v", r)
	}
	evs, err := s.Events(context.Background(), 1, 10)
	if err != nil || len(evs) != 2 || evs[0].Seq != 2 || evs[0].Type != queue.TicketIssued {
		t.Fatalf("events after 1: %+v %v", evs, err)
	}
}

func TestLoadStartsFromTheNewestSnapshot(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hub.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e, _ := queue.New(site())
	at := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		if err := s.Append([]*Record{{Events: issue(t, e, string(rune('a'+i)), at)}}); err != nil {
			t.Fatal(err)
		}
		if i == 6 {
			snap := e.Snapshot()
			if err := s.SaveSnapshot(s.LastSeq(), &snap); err != nil {
				t.Fatal(err)
			}
		}
	}
	e2, _ := queue.New(site())
	n, err := s.Load(e2)
	if err != nil || n != 3 {
		t.Fatalf("replayed %d events after the snapshot (want 3), %v", n, err)
	}
	if len(e2.Tickets(queue.Waiting, "")) != 10 || e2.Applied() != 10 {
		t.Fatalf("rebuilt %d tickets, %d applied", len(e2.Tickets(queue.Waiting, "")), e2.Applied())
	}
}

func TestMigrationsRecordTheSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	s.w.QueryRow(`PRAGMA user_version`).Scan(&v)
	if v != SchemaVersion {
		t.Fatalf("user_version %d, want %d", v, SchemaVersion)
	}
	s.w.Exec(`PRAGMA user_version = 999`)
	s.Close()
	if _, err := Open(path, quiet); err == nil {
		t.Fatal("opened a database from a newer build")
	}
}
