package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"guichet/hub/api"
	"guichet/hub/audit"
	"guichet/hub/auth"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// keys types text into the focused element, as a keyboard does.
func keys(text string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(text) }

// shortcut presses Alt+Shift+digit, as an agent does for a console button.
func shortcut(digit string) chromedp.Action[chromedp.Void] {
	return chromedp.KeyEvent(digit, chromedp.KeyModifiers(kb.ModifierAlt, kb.ModifierShift))
}

// focused describes the focused element: its tag, id and text.
func focused(t *testing.T, ctx context.Context) string {
	t.Helper()
	return browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](
		`(() => { const e = document.activeElement; if (!e || e === document.body) return "BODY"; return e.tagName + "#" + e.id + " " + (e.innerText || e.value || "").trim() })()`))
}

// tabTo presses Tab until the focused element's description contains want.
func tabTo(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	var seen []string
	for range 60 {
		f := focused(t, ctx)
		if strings.Contains(f, want) {
			return
		}
		seen = append(seen, f)
		browsertest.Do(t, ctx, 5*time.Second, keys(kb.Tab))
	}
	t.Fatalf("Tab never reached %q; the focus went through:\n%s", want, strings.Join(seen, "\n"))
}

// signIn signs in at the sign-in page the browser is on, with the keyboard.
func signIn(t *testing.T, ctx context.Context, login string) {
	t.Helper()
	browsertest.WaitText(t, ctx, "h1", "Connexion", 10*time.Second)
	// The page puts the focus in the login field itself (autofocus): keys
	// typed before that were lost now and then on a loaded machine.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.HasPrefix(focused(t, ctx), "INPUT#login") {
		if time.Now().After(deadline) {
			t.Fatalf("the sign-in page did not put the focus in its login field: %q", focused(t, ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}
	browsertest.Do(t, ctx, 10*time.Second, keys(login), keys(kb.Tab), keys(sitetest.Password), keys(kb.Enter))
}

// issue issues a ticket over the HTTP API, as a kiosk or an agent would.
func issue(t *testing.T, s *sitetest.Site, service string) api.Ticket {
	t.Helper()
	var tk api.Ticket
	s.Must("POST", "/api/v1/tickets", fmt.Sprintf(`{"service":%q}`, service), 201, &tk)
	return tk
}

// text returns the trimmed text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(browsertest.Text(t, ctx, sel))
}

// accounts gives the site's agents ana and bob, a supervisor sup and an
// admin adm their passwords.
func accounts(s *sitetest.Site) {
	s.AddAccount("ana", auth.RoleAgent, "")
	s.AddAccount("bob", auth.RoleAgent, "")
	s.AddAccount("sup", auth.RoleSupervisor, "")
	s.AddAccount("adm", auth.RoleAdmin, "")
}

// events returns the log's events of type typ.
func events(t *testing.T, s *sitetest.Site, typ string) []map[string]any {
	t.Helper()
	var res struct {
		Events []map[string]any `json:"events"`
	}
	st, b := s.Call("GET", "/api/v1/events?limit=1000", "")
	if st != 200 || json.Unmarshal(b, &res) != nil {
		t.Fatalf("events: %d %s", st, b)
	}
	var out []map[string]any
	for _, ev := range res.Events {
		if ev["type"] == typ {
			out = append(out, ev)
		}
	}
	return out
}

// waitShown waits until the first element matching sel is rendered and
// shows one of wants; it returns the one it shows.
func waitShown(t *testing.T, ctx context.Context, sel string, wants ...string) string {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e && e.getClientRects().length ? e.innerText : ""; })()`, sel)
	deadline := time.Now().Add(5 * time.Second)
	var got string
	for {
		got = browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](js))
		for _, w := range wants {
			if strings.Contains(got, w) {
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed one of %q (last: %q)", sel, wants, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFocus waits until the focused element's description contains want.
func waitFocus(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f := focused(t, ctx)
		if strings.Contains(f, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the focus is on %q, not on %q", f, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitNoDialog waits until no dialog is open.
func waitNoDialog(t *testing.T, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[bool](`!!document.querySelector("dialog[open]")`)) {
		if time.Now().After(deadline) {
			t.Fatal("a dialog stays open")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLoaded waits until the page holding sel has loaded whole (a page
// that is still loading has no document element to ask for its language).
func waitLoaded(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	js := fmt.Sprintf(`document.readyState === "complete" && !!document.querySelector(%q)`, sel)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, cancel := context.WithTimeout(ctx, time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page with %s never finished loading (%v)", sel, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// auditCount is how many entries of the hub's audit log have action.
func auditCount(t *testing.T, s *sitetest.Site, action string) int {
	t.Helper()
	es, err := s.Audit.Entries(t.Context(), audit.Filter{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}
