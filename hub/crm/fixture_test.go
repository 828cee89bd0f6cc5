package crm

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"guichet/hub/audit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Viewers of the tests.
var (
	dpo       = Viewer{ID: "dpo-1", Role: RoleDPO, Addr: "10.0.0.2"}
	system    = Viewer{ID: "hub", Role: RoleSystem}
	etatCivil = Viewer{ID: "agent-ec", Role: RoleAgent, Sectors: []Sector{SectorEtatCivil, SectorAccueil}, Addr: "10.0.0.11"}
	ccas      = Viewer{ID: "agent-ccas", Role: RoleAgent, Sectors: []Sector{SectorSocial}, Addr: "10.0.0.12"}
	superv    = Viewer{ID: "sup-1", Role: RoleSupervisor, Sectors: []Sector{SectorAccueil}, Addr: "10.0.0.13"}
	urba      = Viewer{ID: "agent-urba", Role: RoleAgent, Sectors: []Sector{SectorUrbanisme}, Addr: "10.0.0.14"}
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
func (c *testClock) add(d time.Duration) { c.set(c.now().Add(d)) }

type fixture struct {
	s         *Store
	audit     *audit.Log
	dir, path string
	clock     *testClock
}

func testSite() Site {
	site := DefaultSite("Mairie de Saint-Exemple")
	site.Offices[SectorSocial] = Office{Name: "Centre communal d'action sociale (CCAS)", Address: "2 place de la Mairie\n94300 Saint-Exemple",
		Email: "ccas@saint-exemple.fr", Phone: "01 43 98 65 00"}
	site.Offices[SectorUrbanisme] = Office{Name: "Service de l'urbanisme", Address: "5 rue de l'Hôtel de Ville\n94300 Saint-Exemple",
		Email: "urbanisme@saint-exemple.fr", Phone: "01 43 98 66 00"}
	return site
}

func newFixture(t testing.TB) *fixture { return newFixtureLog(t, quiet) }

func newFixtureLog(t testing.TB, log *slog.Logger) *fixture {
	t.Helper()
	dir := t.TempDir()
	c := &testClock{t: time.Date(2027, 1, 31, 9, 30, 0, 0, time.UTC)}
	al, err := audit.Open(filepath.Join(dir, "audit.db"), audit.Options{Log: log, Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "crm.db"), Options{Site: testSite(), Audit: al, Log: log, Clock: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		al.Close()
	})
	return &fixture{s: s, audit: al, dir: dir, path: filepath.Join(dir, "crm.db"), clock: c}
}

func (f *fixture) citizen(t testing.TB, c Citizen) Citizen {
	t.Helper()
	got, _, err := f.s.CreateCitizen(context.Background(), etatCivil, c)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sqlite3(t testing.TB, path, stmt string) string {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 command not installed: run scripts/test-deps.sh")
	}
	out, err := exec.Command("sqlite3", path, stmt).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v: %s", stmt, err, out)
	}
	return string(bytes.TrimSpace(out))
}

// fileHolds tells whether the database file or its WAL holds s.
func fileHolds(t testing.TB, path, s string) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}
