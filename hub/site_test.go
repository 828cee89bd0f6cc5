package hub

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/hub/config"
	"guichet/hub/queue"
	"guichet/hub/store"
)

// startWithFile starts a hub on dir with the site file data, as guichet hub
// does, and returns it with what it logged.
func startWithFile(t *testing.T, dir string, data []byte) (*Hub, *store.Store, *bytes.Buffer) {
	t.Helper()
	cfg, site, err := config.Parse("site.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	st, err := store.Open(filepath.Join(dir, "guichet.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Site: site, SiteHash: cfg.Hash, Store: st, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return h, st, &logs
}

func stop(t *testing.T, h *Hub, st *store.Store) {
	t.Helper()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func siteOf(h *Hub) queue.Site {
	var s queue.Site
	h.Read(func(e *queue.Engine) { s = e.Site().Clone() })
	return s
}

// addServiceX adds a service in the browser's way.
func addServiceX(t *testing.T, h *Hub) {
	t.Helper()
	sv := queue.Service{ID: "X", Names: map[string]string{"fr": "Élections"}, SLA: 10 * time.Minute, Channels: []queue.Channel{queue.Visit}}
	r, err := h.Do(context.Background(), "", "admin:web", SaveService(sv), discard)
	if err != nil || !r.Done() {
		t.Fatalf("save service: %v %+v", err, r.Outcome)
	}
}

func TestRestartWithTheSameFileKeepsTheChangesMadeInTheBrowser(t *testing.T) {
	dir := t.TempDir()
	h, st, _ := startWithFile(t, dir, config.Sample)
	addServiceX(t, h)
	stop(t, h, st)

	h, st, logs := startWithFile(t, dir, config.Sample)
	defer stop(t, h, st)
	if site := siteOf(h); site.Service("X") == nil {
		t.Fatal("the service added in the browser is gone after a restart with the same file")
	}
	if !strings.Contains(logs.String(), "the file is unchanged") {
		t.Fatalf("no word of the unchanged file:\n%s", logs)
	}
	// One site.loaded: the first start's.
	evs, err := st.Events(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	loads := 0
	for _, ev := range evs {
		if ev.Type == queue.SiteLoaded {
			loads++
			if ev.Actor != "file" || ev.Hash == "" || ev.Site == nil {
				t.Fatalf("site.loaded: %+v", ev)
			}
		}
	}
	if loads != 1 {
		t.Fatalf("%d site.loaded events, want 1", loads)
	}
}

func TestRestartWithAChangedFileReplacesTheSiteAndListsWhatItOverrides(t *testing.T) {
	dir := t.TempDir()
	h, st, _ := startWithFile(t, dir, config.Sample)
	addServiceX(t, h)
	stop(t, h, st)

	changed := bytes.Replace(config.Sample, []byte("name: Mairie de Villeneuve"), []byte("name: Mairie de Villeneuve-le-Roi"), 1)
	h, st, logs := startWithFile(t, dir, changed)
	site := siteOf(h)
	if site.Service("X") != nil || site.Name != "Mairie de Villeneuve-le-Roi" {
		t.Fatalf("the changed file did not replace the site: %s, X %v", site.Name, site.Service("X") != nil)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "service.saved X by admin:web") {
		t.Fatalf("no warning listing what the file overrides:\n%s", logs)
	}
	stop(t, h, st)

	// And once loaded, the changed file is the one the log knows: no warning again.
	h, st, logs = startWithFile(t, dir, changed)
	defer stop(t, h, st)
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("a warning at the next start:\n%s", logs)
	}
}
