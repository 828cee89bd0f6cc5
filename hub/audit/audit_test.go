package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// clock is a settable clock for tests.
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

func open(t *testing.T) (*Log, string, *clock) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	c := &clock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	l, err := Open(path, Options{Log: quiet, Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path, c
}

func appendN(t *testing.T, l *Log, n int, c *clock) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- l.Append(context.Background(), Entry{Actor: fmt.Sprintf("agent-%d", i%3), Role: "agent", Addr: "10.0.0.7",
				Action: "citizen.read", Object: "citizen", ObjectID: fmt.Sprintf("c%d", i)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func sqlite3(t *testing.T, path, stmt string) string {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 command not installed: run scripts/test-deps.sh")
	}
	out, err := exec.Command("sqlite3", path, stmt).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v: %s", stmt, err, out)
	}
	return string(out)
}

func TestChainOfConcurrentAppendsVerifies(t *testing.T) {
	l, path, c := open(t)
	appendN(t, l, 200, c)
	r, err := l.Verify(context.Background())
	if err != nil || !r.OK() || r.Entries != 200 || r.First != 1 || r.Last != 200 {
		t.Fatalf("verify: %+v, %v", r, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("audit.db mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
}

func TestEntryAlteredWithSqlite3BreaksTheChainAtThatEntry(t *testing.T) {
	l, path, c := open(t)
	appendN(t, l, 50, c)
	// Someone with access to the file hides who read citizen c7.
	sqlite3(t, path, `UPDATE entries SET actor = 'nobody' WHERE seq = 20`)
	r, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.Broken != 20 {
		t.Fatalf("verify after altering entry 20: %+v", r)
	}
}

func TestEntryRecomputedWithSqlite3BreaksTheNextOne(t *testing.T) {
	l, path, c := open(t)
	appendN(t, l, 10, c)
	// The altered entry's own hash is recomputed by hand: the next entry's
	// previous hash no longer matches.
	e, err := l.Entries(context.Background(), Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var five Entry
	for _, x := range e {
		if x.Seq == 5 {
			five = x
		}
	}
	five.Outcome = Denied
	h := five.hash()
	sqlite3(t, path, fmt.Sprintf(`UPDATE entries SET outcome = 'denied', hash = x'%x' WHERE seq = 5`, h))
	r, _ := l.Verify(context.Background())
	if r.OK() || r.Broken != 6 {
		t.Fatalf("verify: %+v", r)
	}
}

func TestDeletedEntriesAreReported(t *testing.T) {
	for _, tc := range []struct {
		name   string
		delete string
		broken int64
	}{
		{"middle", `DELETE FROM entries WHERE seq = 7`, 7},
		{"beginning", `DELETE FROM entries WHERE seq <= 3`, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, path, c := open(t)
			appendN(t, l, 10, c)
			sqlite3(t, path, tc.delete)
			r, _ := l.Verify(context.Background())
			if r.OK() || r.Broken != tc.broken {
				t.Fatalf("verify: %+v, want broken at %d", r, tc.broken)
			}
		})
	}
}

func TestPurgeKeepsTheChainVerifiable(t *testing.T) {
	l, path, c := open(t)
	appendN(t, l, 30, c)
	c.add(400 * 24 * time.Hour)
	appendN(t, l, 5, c)
	dpo := Entry{Actor: "dpo", Role: "dpo", Addr: "10.0.0.2"}
	n, err := l.Purge(context.Background(), c.now().Add(-365*24*time.Hour), dpo)
	if err != nil || n != 30 {
		t.Fatalf("purged %d, %v", n, err)
	}
	r, err := l.Verify(context.Background())
	if err != nil || !r.OK() || r.First != 31 || r.Entries != 6 {
		t.Fatalf("verify after purge: %+v, %v", r, err)
	}
	// Appends continue the chain, across a restart too.
	l.Close()
	l2, err := Open(path, Options{Log: quiet, Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	appendN(t, l2, 3, c)
	// A second purge removes the first anchor; its own anchor takes over.
	c.add(400 * 24 * time.Hour)
	appendN(t, l2, 1, c)
	if n, err := l2.Purge(context.Background(), c.now().Add(-365*24*time.Hour), dpo); err != nil || n != 9 {
		t.Fatalf("second purge %d, %v", n, err)
	}
	if r, err := l2.Verify(context.Background()); err != nil || !r.OK() {
		t.Fatalf("verify after second purge: %+v, %v", r, err)
	}
	// Removing the entries before the anchor's cut by hand is still caught.
	sqlite3(t, path, `DELETE FROM entries WHERE seq = (SELECT MIN(seq) FROM entries)`)
	if r, _ := l2.Verify(context.Background()); r.OK() {
		t.Fatalf("verify after deleting the first entry past the anchor: %+v", r)
	}
}

func TestPurgedEntriesAreGoneFromTheFile(t *testing.T) {
	l, path, c := open(t)
	if err := l.Append(context.Background(), Entry{Actor: "agent-secret-7319", Action: "citizen.read", ObjectID: "c1"}); err != nil {
		t.Fatal(err)
	}
	c.add(400 * 24 * time.Hour)
	if _, err := l.Purge(context.Background(), c.now().Add(-365*24*time.Hour), Entry{Actor: "dpo", Role: "dpo"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("agent-secret-7319")) {
			t.Fatalf("%s still holds the purged entry's bytes", filepath.Base(p))
		}
	}
}

func TestBadEntriesAreRefused(t *testing.T) {
	l, _, _ := open(t)
	for _, e := range []Entry{
		{},
		{Action: "x", Outcome: "maybe"},
		{Action: "x", Detail: string(make([]byte, maxDetail+1))},
	} {
		if err := l.Append(context.Background(), e); err == nil {
			t.Errorf("entry %+v accepted", e)
		}
	}
}
