package console_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/api"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// rowsScript lists a table's rows as "<mark>:<text>": each row is marked
// the first time it is seen (by markRows), so a row the page keeps keeps
// its mark, and a row it makes again has none.
const rowsScript = `[...document.querySelectorAll(%q)].map((tr) => (tr.__mark || "") + ":" + tr.querySelector("th").textContent + " " + tr.innerText.replace(/\s+/g, " "))`

// The supervision page patches its tables, row by row, keyed by counter
// and ticket: a ticket called is redrawn in its place, one cancelled is
// removed, one issued is added at the end, the order kept (oldest first)
// and the other rows left as they were (the same elements); a counter's
// agent paused redraws that counter alone.
func TestSupervisionPatchesRowsInPlaceKeyedByID(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	accounts(s)
	a1, e1, a2 := issue(t, s, "A"), issue(t, s, "E"), issue(t, s, "A")
	ana := s.SignIn("ana", sitetest.Password)
	if st, b, _ := ana.Do("POST", "/api/v1/counters/1/open", ""); st != 200 {
		t.Fatalf("open counter 1: %d %s", st, b)
	}
	ctx := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/supervision"))
	signIn(t, ctx, "sup")
	browsertest.WaitText(t, ctx, "#tickets", a2.Number, 10*time.Second)
	browsertest.WaitText(t, ctx, "#counters", "ana", 5*time.Second)

	rows := func(sel string) []string {
		return browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[[]string](fmt.Sprintf(rowsScript, sel)))
	}
	mark := func(sel string) {
		browsertest.Do(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`document.querySelectorAll(%q).forEach((tr) => { if (!tr.__mark) tr.__mark = "kept-" + tr.querySelector("th").textContent; })`, sel)))
	}
	// until waits for the table's rows to be want.
	until := func(sel string, want ...row) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := rows(sel)
			if matches(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: rows %q, want %+v", sel, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	const tickets, counters = "#tickets tr", "#counters tr"
	mark(tickets)
	mark(counters)

	// Updated in place: the ticket called (the oldest of A, for ana).
	var called struct{ Ticket api.Ticket }
	if st, b, _ := ana.Do("POST", "/api/v1/counters/1/next", ""); st != 200 {
		t.Fatalf("call next: %d %s", st, b)
	} else if err := json.Unmarshal(b, &called); err != nil || called.Ticket.Number != a1.Number {
		t.Fatalf("call next called %s (%v), want %s", b, err, a1.Number)
	}
	until(tickets, drawn(a1.Number, "Appelé · Guichet 1"), kept(e1.Number, ""), kept(a2.Number, ""))
	until(counters, drawn("Guichet 1", a1.Number), kept("Guichet 2", ""), kept("Guichet 3", ""), kept("Guichet 4", ""), kept("Téléphone", ""))

	// Removed: the supervisor cancels the middle one. The rows after it
	// stay where they are (none is taken out and put back).
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](
		`window.__added = 0; new MutationObserver((ms) => { for (const m of ms) window.__added += m.addedNodes.length; }).observe(document.getElementById("tickets"), {childList: true})`))
	s.Must("POST", "/api/v1/tickets/"+e1.ID+"/cancel", `{}`, 200, nil)
	until(tickets, drawn(a1.Number, ""), kept(a2.Number, ""))
	if n := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[int](`window.__added`)); n != 0 {
		t.Errorf("removing a ticket put %d rows back into the table", n)
	}

	// Added, at the end: a ticket issued.
	mark(tickets)
	a3 := issue(t, s, "A")
	until(tickets, kept(a1.Number, ""), kept(a2.Number, ""), drawn(a3.Number, "En attente"))

	// A ticket finished is removed; then only the counters change: an
	// agent paused.
	mark(tickets)
	mark(counters)
	if st, b, _ := ana.Do("POST", "/api/v1/counters/1/finish", ""); st != 200 {
		t.Fatalf("finish: %d %s", st, b)
	}
	until(tickets, kept(a2.Number, ""), kept(a3.Number, ""))
	mark(counters)
	s.Must("POST", "/api/v1/agents/ana/pause", `{"reason":"Réunion"}`, 200, nil)
	until(counters, drawn("Guichet 1", "En pause — Réunion"), kept("Guichet 2", ""), kept("Guichet 3", ""), kept("Guichet 4", ""), kept("Téléphone", ""))
	until(tickets, kept(a2.Number, ""), kept(a3.Number, ""))
}

// row is a table's row as a test wants it: the row of key (the th's
// text) as marked before (kept), or drawn since, showing show (new).
type row struct {
	kept      bool
	key, show string
}

func kept(key, show string) row  { return row{true, key, show} }
func drawn(key, show string) row { return row{false, key, show} }

// matches reports whether rows ("<mark>:<th> <text>") are want.
func matches(rows []string, want []row) bool {
	if len(rows) != len(want) {
		return false
	}
	for i, w := range want {
		mark, text, _ := strings.Cut(rows[i], ":")
		if w.kept && mark != "kept-"+w.key || !w.kept && mark != "" ||
			!strings.HasPrefix(text, w.key+" ") || !strings.Contains(text, w.show) {
			return false
		}
	}
	return true
}
