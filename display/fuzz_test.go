package display_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"

	"guichet/display"
	"guichet/internal/boardpage"
)

// FuzzScreen: whatever arrives on the screen's topics (config, queue,
// board), the screen's view stays one it can show: it encodes for the
// page's live stream, the page renders in both languages, and it holds at
// most a board's calls, each a ticket number.
func FuzzScreen(f *testing.F) {
	for _, seed := range []string{
		`{"site":{"name":"Mairie de Test","timezone":"Europe/Paris","info":{"fr":"Bienvenue"},"clock":{"real":"2026-03-02T09:00:00Z","sim":"2026-03-02T08:00:00Z","speed":60}},"services":[{"id":"A","name":{"fr":"Accueil"},"channels":["visit"],"open":true}]}`,
		`{"at":"2026-03-02T10:00:00+01:00","services":[{"service":"A","name":{"fr":"Accueil"},"waiting":4,"ahead":4,"estimated_wait_s":5400,"open":true},{"service":"P","open":false,"next_open":"2026-03-09T08:30:00+01:00","channels":["visit"]}]}`,
		`{"calls":[{"ticket":"A001","service":"A","counter":"1","counter_name":"Guichet 1 — Titres","at":"2026-03-02T10:00:00+01:00","recall":true}]}`,
		`{"site":{"timezone":"../../etc/passwd"}}`, `{"services":[{"service":"A","estimated_wait_s":-60,"open":true}]}`,
		`{"at":"0000-01-01T00:00:00+14:00","services":[{"service":"A","open":false,"next_open":"9999-12-31T23:59:59-14:00"}]}`,
		`{"calls":[{"ticket":"A001","counter":"1","at":"0000-01-01T00:00:00+14:00"}]}`, `{"site":{"clock":{"speed":1e308}}}`,
	} {
		for k := range 3 {
			f.Add(uint8(k), []byte(seed))
		}
	}
	fl := &fakeLink{}
	d := display.New(display.Options{Link: fl})
	var logged bytes.Buffer
	page := boardpage.Handler(d, slog.New(slog.NewTextHandler(&logged, nil)))
	f.Fuzz(func(t *testing.T, kind uint8, p []byte) {
		fl.deliver([]string{topics.Config(), topics.Queue(), topics.Board()}[kind%3], string(p))
		for _, lang := range []string{"fr", "en"} {
			v := d.View(lang)
			if _, err := json.Marshal(v); err != nil {
				t.Fatalf("the screen's view does not encode: %v", err)
			}
			if len(v.Calls) > 50 {
				t.Fatalf("%d calls shown", len(v.Calls))
			}
			rec := httptest.NewRecorder()
			page.ServeHTTP(rec, httptest.NewRequest("GET", "/?lang="+lang, nil))
			if rec.Code != 200 || rec.Body.Len() == 0 || logged.Len() > 0 {
				t.Fatalf("the page answers %d: %s", rec.Code, logged.String())
			}
		}
		for _, c := range d.View("fr").Calls {
			if len(c.Ticket) < 4 || len(c.Ticket) > 6 {
				t.Fatalf("a call of %q shown", c.Ticket)
			}
		}
	})
}
