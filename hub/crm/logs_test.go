package crm

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a buffer the writer goroutines may log to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogsCarryIdentifiersOnly(t *testing.T) {
	var buf syncBuffer
	f := newFixtureLog(t, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Zylberstein", FirstNames: "Abigaëlle", Phones: []string{"06 71 72 73 74"}, Email: "abigaelle.z@example.fr",
		Address: "7 impasse des Tilleuls"})
	d := f.citizen(t, Citizen{FamilyName: "ZYLBERSTEIN", FirstNames: "Abigaelle", Phones: []string{"0671727374"}})
	if _, err := f.s.AddNote(ctx, ccas, c.ID, SectorSocial, "Situation de surendettement"); err != nil {
		t.Fatal(err)
	}
	f.s.TimelineEntry(ctx, etatCivil, 1) // denied: logged
	if _, err := f.s.Merge(ctx, etatCivil, c.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Search(ctx, etatCivil, "zylberstein", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Import(ctx, system, "src", []byte(`{"reference": "Z-1", "citizen": {"family_name": "Zylberstein", "email": "bad address"}}`)); err == nil {
		t.Fatal("bad import accepted")
	}
	f.clock.add(6 * 365 * Day)
	if _, err := f.s.Purge(ctx, dpo, false); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetSupervisorSeesAll(ctx, system, true); err != nil {
		t.Fatal(err)
	}
	logs := strings.ToLower(buf.String())
	if !strings.Contains(logs, "import refused") {
		t.Errorf("a refused import is not logged:\n%s", logs)
	}
	if !strings.Contains(logs, c.ID) {
		t.Fatalf("the logs name no file at all: the test proves nothing:\n%s", logs)
	}
	for _, s := range []string{"zylberstein", "abig", "0671727374", "+33671727374", "abigaelle.z@", "tilleuls", "surendettement"} {
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %q:\n%s", s, logs)
		}
	}
	for _, p := range []string{f.path, f.dir + "/audit.db"} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", p, st.Mode().Perm(), err)
		}
	}
}
