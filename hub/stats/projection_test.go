package stats

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"guichet/hub/queue"
	"guichet/hub/store"
)

func TestAnOpenTicketSurvivesAReopenAndEndsInTheRightRow(t *testing.T) {
	h := newHarness(t)
	h.open(at(day, "08:00"), "1", "ana")
	h.issue(at(day, "09:00"), "A", queue.Visit, "")
	h.next(at(day, "09:07"), "1")
	p := h.projection()
	if r := h.report(p, Query{From: day, To: day}); r.Open != 1 || r.Total.Tickets != 0 {
		t.Fatalf("before the end: open %d, %+v", r.Open, r.Total.Counts)
	}
	p.Close()
	h.recall(at(day, "09:08"), "1")
	h.finish(at(day, "09:20"), "1")
	p = h.projection()
	r := h.report(p, Query{From: day, To: day})
	if r.Open != 0 || r.Total.Served != 1 || r.Total.Recalls != 1 {
		t.Fatalf("after the end: open %d, %+v", r.Open, r.Total.Counts)
	}
	checkDist(t, "wait", r.Total.Wait, 1, mins(7), mins(7), mins(7))
	checkDist(t, "service time", r.Total.ServiceTime, 1, mins(13), mins(13), mins(13))
}

func TestTwoWritersOnOneProjectionCountEachEventOnce(t *testing.T) {
	// The hub and a guichet stats command may catch up on the same file.
	h := newHarness(t)
	handBuiltDay(h)
	p1, p2 := h.projection(), h.projection()
	ctx := context.Background()
	if _, err := p1.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	h.open(at(day, "08:00"), "9", "cat")
	id := h.issue(at(day, "12:00"), "A", queue.Phone, "")
	h.next(at(day, "12:01"), "9")
	if _, err := p2.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	h.finish(at(day, "12:04"), "9")
	_ = id
	r1 := h.report(p1, Query{From: day, To: day}) // p1 was behind p2: it must reload
	r2 := h.report(p2, Query{From: day, To: day})
	if r1.Total.Counts != r2.Total.Counts || r1.Total.Served != 6 || r1.Total.Phone != 2 {
		t.Errorf("p1 %+v\np2 %+v", r1.Total.Counts, r2.Total.Counts)
	}
}

func TestTheProjectionHoldsNoCitizen(t *testing.T) {
	h := newHarness(t)
	handBuiltDay(h) // every ticket carries citizen "citoyen-secret-42"
	p := h.projection()
	h.report(p, Query{From: day, To: day})
	p.Close()
	for _, f := range []string{statsPath(h.dir), statsPath(h.dir) + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("citoyen-secret-42")) {
			t.Errorf("%s holds the citizen field", f)
		}
	}
	if fi, err := os.Stat(statsPath(h.dir)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("stats.db mode: %v %v", fi.Mode(), err)
	}
}

func TestAProjectionOfAnotherVersionIsRebuilt(t *testing.T) {
	h := newHarness(t)
	handBuiltDay(h)
	p := h.projection()
	want := h.report(p, Query{From: day, To: day}).Total.Counts
	p.Close()
	db, err := sql.Open("sqlite3", statsPath(h.dir))
	if err != nil {
		t.Fatal(err)
	}
	// An older build's projection: other rows, another version.
	if _, err := db.Exec(`UPDATE tickets SET outcome = 'noshow'; PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	p = h.projection()
	if got := h.report(p, Query{From: day, To: day}).Total.Counts; got != want {
		t.Errorf("after rebuild\n got %+v\nwant %+v", got, want)
	}
}

// A backup restored under the projection: the log's events at and before
// the cursor are not those folded, so it is rebuilt, whether the restored
// log is shorter or has grown past the cursor since.
func TestARestoredLogRebuildsTheProjection(t *testing.T) {
	for _, grow := range []bool{false, true} {
		h := newHarness(t)
		h.open(at(day, "08:00"), "1", "ana")
		h.issue(at(day, "09:00"), "A", queue.Visit, "")
		backup := filepath.Join(t.TempDir(), "backup.db")
		if _, err := store.Backup(context.Background(), h.st.Path(), backup); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			h.issue(at(day, "09:01"), "A", queue.Visit, "")
			h.next(at(day, "09:02").Add(timeMin(i)), "1")
		}
		p := h.projection()
		if r := h.report(p, Query{From: day, To: day}); r.Total.Served != 4 {
			t.Fatalf("before the restore: %+v", r.Total.Counts)
		}
		p.Close()
		h.st.Close()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		if _, err := store.Restore(h.dir, backup, at(day, "12:00")); err != nil {
			t.Fatal(err)
		}
		st, err := store.OpenDir(h.dir, store.DirOptions{Site: "test", Exclusive: true, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		h.st = st
		if h.eng, err = queue.New(h.site); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Load(h.eng); err != nil {
			t.Fatal(err)
		}
		want := 0
		if grow {
			// Another history, longer than the one folded: cancelled tickets.
			for range 12 {
				h.cancel(at(day, "09:30"), "api", h.issue(at(day, "09:30"), "A", queue.Visit, ""))
			}
			want = 12
		}
		p = h.projection()
		r := h.report(p, Query{From: day, To: day})
		if r.Total.Served != 0 || r.Total.Cancelled != want || r.Open != 1 {
			t.Errorf("grow %v: after the restore: open %d, %+v", grow, r.Open, r.Total.Counts)
		}
	}
}

func TestRunCatchesUpWhenTheHubSignalsAChange(t *testing.T) {
	h := newHarness(t)
	p := h.projection()
	ctx, cancel := context.WithCancel(context.Background())
	changed := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() { p.Run(ctx, changed); close(done) }()
	defer func() { cancel(); <-done }()
	h.open(at(day, "08:00"), "1", "ana")
	h.issue(at(day, "09:00"), "A", queue.Visit, "")
	h.next(at(day, "09:03"), "1")
	h.finish(at(day, "09:09"), "1")
	changed <- struct{}{}
	deadline := time.Now().Add(10 * time.Second)
	for {
		cur, err := p.Cursor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur == h.st.LastSeq() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d, log %d", cur, h.st.LastSeq())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Run loaded the day (empty) into memory at its start; the catch-up
	// that wrote the ticket's row dropped it, so the report sees the ticket.
	if r := h.report(p, Query{From: day, To: day}); r.Total.Served != 1 {
		t.Errorf("%+v", r.Total.Counts)
	}
}
