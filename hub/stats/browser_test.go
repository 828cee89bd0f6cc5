package stats

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/internal/browsertest"
)

// TestChartsDrawInChromium shows the charts of a busy day, of the hand-built
// day's État civil and of the October day with its two 02:00, in headless
// Chromium, each beside its table as the page will show them, checks that
// every picture was drawn at its size, and saves screenshots
// (testdata-out/stats-*.png) to look at.
func TestChartsDrawInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	h := newHarness(t)
	h.site = benchSite()
	var err error
	if h.eng, err = newEngine(h.site); err != nil {
		t.Fatal(err)
	}
	busy := at("2026-11-05", "00:00")
	if _, _, err := generate(h.st, h.site, busy, busy.AddDate(0, 0, 1), 840, 11); err != nil {
		t.Fatal(err)
	}
	p := h.projection()
	mux := p.Handlers().Mux()
	pages := map[string]string{
		"busy-day":   "from=2026-11-05",
		"busy-month": "from=2026-10-01&to=2026-11-30&service=P",
		"english":    "from=2026-11-05&lang=en&service=U",
	}
	mux.HandleFunc("GET /page/{name}", func(w http.ResponseWriter, r *http.Request) {
		q := pages[r.PathValue("name")]
		rep, err := p.Report(r.Context(), mustQuery(q))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		lang := "fr"
		if strings.Contains(q, "lang=en") {
			lang = "en"
		}
		var b strings.Builder
		b.WriteString(`<!doctype html><meta charset="utf-8"><style>body{font-family:sans-serif;margin:16px} figure{display:flex;gap:16px;align-items:flex-start} table{border-collapse:collapse;font-size:12px} td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style>`)
		for _, c := range Charts(rep, &p.site, lang) {
			fmt.Fprintf(&b, `<figure><img id="%s" src="/supervision/stats/%s.svg?%s" alt="%s"><table><tr>`, c.Name, c.Name, q, c.Title)
			for _, col := range c.Columns {
				fmt.Fprintf(&b, "<th>%s</th>", col)
			}
			b.WriteString("</tr>")
			for _, row := range c.Rows {
				b.WriteString("<tr>")
				for _, v := range row {
					fmt.Fprintf(&b, "<td>%s</td>", v)
				}
				b.WriteString("</tr>")
			}
			b.WriteString("</table></figure>")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(b.String()))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.Browser(t, 1280, 1000)
	for name := range pages {
		browsertest.Do(t, ctx, 30*time.Second, chromedp.Navigate(srv.URL+"/page/"+name))
		for _, c := range ChartNames {
			var w, h int
			js := fmt.Sprintf(`(() => { const i = document.getElementById(%q); return i.complete ? i.naturalWidth + "x" + i.naturalHeight : "" })()`, c)
			deadline := time.Now().Add(10 * time.Second)
			for {
				got := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](js))
				if _, err := fmt.Sscanf(got, "%dx%d", &w, &h); err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if w != 760 || h != 360 {
				t.Errorf("%s %s drawn at %dx%d, want 760x360", name, c, w, h)
			}
		}
		browsertest.Screenshot(t, ctx, "stats-"+name)
	}
	// The October day, its own 25 hours.
	o := newHarness(t)
	for _, u := range []string{"2026-10-24 22:30", "2026-10-25 00:10", "2026-10-25 00:40", "2026-10-25 01:20", "2026-10-25 01:50", "2026-10-25 01:55"} {
		o.cancel(utc(u).Add(time.Minute), "api", o.issue(utc(u), "A", "visit", ""))
	}
	osrv := serve(t, o.projection())
	browsertest.Do(t, ctx, 30*time.Second, chromedp.Navigate(osrv.URL+"/supervision/stats/hours.svg?from=2026-10-25"))
	title := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.querySelector("title").textContent`))
	labels := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`[...document.querySelectorAll("text")].map(e => e.textContent).join("|")`))
	if title != "Tickets par heure" || !strings.Contains(labels, "02:00 UTC+2") || !strings.Contains(labels, "02:00 UTC+1") {
		t.Errorf("the October day: title %q, labels %q", title, labels)
	}
	browsertest.Screenshot(t, ctx, "stats-october-hours")
}

func mustQuery(s string) Query {
	v, err := urlValues(s)
	if err != nil {
		panic(err)
	}
	v.Del("lang")
	q, err := ParseQuery(v, "2026-11-05")
	if err != nil {
		panic(err)
	}
	return q
}
