package stats_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"guichet/hub"
	"guichet/hub/auth"
	"guichet/hub/console"
	"guichet/hub/stats"
	"guichet/hub/store"
	"guichet/internal/measure"
)

// routes keeps the handlers registered to it by pattern.
type routes map[string]http.Handler

func (r routes) Add(rt auth.Route) { r[rt.Method+" "+rt.Pattern] = rt.Handler }

// BenchmarkStatsPageYear is the statistics page of a whole year (about
// 250,000 tickets) as a supervisor opens it: the hub's /supervision/stats
// handler, the report, its charts as data: URLs and its tables, rendered
// (warm: the projection's rows in memory, as after its first report).
func BenchmarkStatsPageYear(b *testing.B) {
	dir, err := stats.YearData()
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.OpenDir(dir, store.DirOptions{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	site := stats.BenchSite()
	h, err := hub.New(hub.Options{Site: site, Store: st, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	p, err := stats.Open(context.Background(), stats.Options{Store: st, Site: &site, Path: filepath.Join(b.TempDir(), "stats.db"), Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	rt := routes{}
	console.New(console.Options{Hub: h, Stats: p, Log: log}).Register(rt)
	page := rt["GET /supervision/stats"]
	who := auth.With(context.Background(), &auth.Principal{Account: "sup", Role: auth.RoleSupervisor, Via: auth.ViaSession, CSRF: "x"})
	get := func() int {
		r := httptest.NewRequestWithContext(who, "GET", "/supervision/stats?from=2026-01-01&to=2026-12-31", nil)
		w := httptest.NewRecorder()
		page.ServeHTTP(w, r)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "Agent 14") {
			b.Fatalf("the page: %d %.300s", w.Code, w.Body.String())
		}
		return w.Body.Len()
	}
	get() // the first report reads the year's rows
	var lat measure.Latencies
	var size int
	b.ReportAllocs()
	for b.Loop() {
		t0 := b.Elapsed()
		size = get()
		lat = append(lat, b.Elapsed()-t0)
	}
	lat.Report(b, "page-")
	b.ReportMetric(float64(size)/1e3, "page-kB")
}
