package console_test

import (
	"context"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// click clicks the button whose text is label within the element sel (the
// first whose row contains row, when row is not empty).
func click(t *testing.T, ctx context.Context, sel, row, label string) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
  for (const tr of document.querySelectorAll(%q)) {
    if (%q && !tr.textContent.includes(%q)) continue;
    const b = [...tr.querySelectorAll("button")].find((b) => b.textContent.trim() === %q);
    if (b) { b.click(); return true; }
  }
  return false;
})()`, sel, row, row, label)
	if !browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[bool](js)) {
		t.Fatalf("no button %q in %s %q", label, sel, row)
	}
}

// fill sets the form fields of the open dialog (selector → value) and
// submits it with its submit button.
func fill(t *testing.T, ctx context.Context, dialog string, fields map[string]string) {
	t.Helper()
	browsertest.WaitText(t, ctx, dialog+"[open] h2", "", 5*time.Second)
	for sel, v := range fields {
		browsertest.Do(t, ctx, 5*time.Second, chromedp.SetValue(dialog+" "+sel, v))
	}
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`document.querySelectorAll(%q).forEach((e) => e.dispatchEvent(new Event("change", {bubbles: true}))); document.querySelector(%q).click()`,
		dialog+" select", dialog+" button[type=submit]")))
	waitNoDialog(t, ctx)
}

// The supervisor's actions from the supervision page, each through the
// HTTP API and logged with the supervisor's account: pause an agent with
// a reason, transfer a ticket to a named agent with a note (markup shown
// as text), close a service to new tickets with the kiosks' message and
// reopen it, a message on the waiting-room screens.
func TestSupervisorPausesTransfersToAnAgentWithANoteAndClosesAServiceFromThePage(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	accounts(s)
	for _, a := range []struct{ login, counter string }{{"ana", "1"}, {"bob", "2"}} {
		if st, b, _ := s.SignIn(a.login, sitetest.Password).Do("POST", "/api/v1/counters/"+a.counter+"/open", ""); st != 200 {
			t.Fatalf("open counter %s: %d %s", a.counter, st, b)
		}
	}
	tk := issue(t, s, "E")

	ctx := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/supervision"))
	signIn(t, ctx, "sup")
	browsertest.WaitText(t, ctx, "#counters", "bob", 10*time.Second)
	browsertest.WaitText(t, ctx, "#tickets", tk.Number, 5*time.Second)

	// Pause ana, with a reason from the list.
	click(t, ctx, "#counters tr", "ana", "Pause…")
	fill(t, ctx, "#pause-dialog", map[string]string{"select": "Réunion"})
	browsertest.WaitText(t, ctx, "#counters", "En pause — Réunion", 5*time.Second)
	sitetest.Eventually(t, 5*time.Second, "ana's pause in the log", func() bool {
		evs := events(t, s, "agent.paused")
		return len(evs) == 1 && evs[0]["actor"] == "sup" && evs[0]["agent"] == "ana" && evs[0]["reason"] == "Réunion"
	})

	// Transfer the ticket to bob, with a note holding markup.
	const note = `<script>document.title="pwned"</script> rappeler Mme Martin`
	click(t, ctx, "#tickets tr", tk.Number, "Transférer…")
	browsertest.WaitText(t, ctx, "#transfer-h", tk.Number, 5*time.Second)
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click(`#transfer-dialog input[value=agent]`))
	fill(t, ctx, "#transfer-dialog", map[string]string{"#to-agent": "bob", "#transfer-note": note})
	browsertest.WaitText(t, ctx, "#tickets", "Réservé à bob", 5*time.Second)
	browsertest.WaitText(t, ctx, "#tickets", note, 5*time.Second) // the markup as text
	if title := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.title`)); title == "pwned" {
		t.Fatal("the note's script ran")
	}
	if n := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("#tickets script").length`)); n != 0 {
		t.Fatalf("the note became %d script element(s)", n)
	}
	sitetest.Eventually(t, 5*time.Second, "the transfer in the log", func() bool {
		evs := events(t, s, "ticket.transferred")
		return len(evs) == 1 && evs[0]["actor"] == "sup" && evs[0]["note"] == note
	})

	// Close E to new tickets with a message for the kiosks, then reopen it.
	click(t, ctx, "#services tr", "État civil", "Fermer aux nouveaux tickets…")
	fill(t, ctx, "#close-service-dialog", map[string]string{"#close-msg-fr": "Fermé cet après-midi"})
	browsertest.WaitText(t, ctx, "#services", "Fermé cet après-midi", 5*time.Second)
	if st, b := s.Call("POST", "/api/v1/tickets", `{"service":"E"}`); st < 400 || !strings.Contains(string(b), "closed") {
		t.Fatalf("a ticket of the closed service: %d %s", st, b)
	}
	click(t, ctx, "#services tr", "État civil", "Rouvrir")
	sitetest.Eventually(t, 5*time.Second, "État civil's close button back", func() bool {
		return browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[bool](
			`[...document.querySelectorAll("#services tr")].some((tr) => tr.textContent.includes("État civil") && tr.textContent.includes("Fermer aux nouveaux tickets…"))`))
	})
	issue(t, s, "E")

	// A message on the screens.
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click("#b-screens"))
	browsertest.WaitText(t, ctx, "#screens-dialog[open] h2", "", 5*time.Second)
	browsertest.Do(t, ctx, 5*time.Second, chromedp.SetValue("#screens-fr", "Fermeture à 16 h"),
		chromedp.Click("#screens-dialog button[type=submit]"))
	waitNoDialog(t, ctx)
	sitetest.Eventually(t, 5*time.Second, "the screens' message in the log", func() bool {
		evs := events(t, s, "board.message")
		return len(evs) == 1 && evs[0]["actor"] == "sup"
	})
	// The page says what the screens show, and the dialog opens with it.
	browsertest.WaitText(t, ctx, "#screens-now", "Sur les écrans : « Fermeture à 16 h »", 5*time.Second)
	browsertest.Screenshot(t, ctx, "console-supervision-actions-1920x1080")
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click("#b-screens"))
	if got := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.getElementById("screens-fr").value`)); got != "Fermeture à 16 h" {
		t.Fatalf("the dialog opens with %q, want the message shown", got)
	}
	browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.getElementById("screens-fr").value = ""`))
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click("#screens-dialog button[type=submit]"))
	waitNoDialog(t, ctx)
	sitetest.Eventually(t, 5*time.Second, "no message on the screens, said by the page", func() bool {
		return browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[bool](`document.getElementById("screens-now").hidden`))
	})
}

// The pause reasons the consoles offer are the site's, as the
// administration last set them; a page made after a change offers the new
// list.
func TestConsolesOfferTheSitesPauseReasons(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	accounts(s)
	if st, b := s.Call("PUT", "/api/v1/site/pause-reasons", `{"pause_reasons":["Courrier du matin","Standard <téléphonique>"]}`); st != 200 {
		t.Fatalf("set the pause reasons: %d %s", st, b)
	}
	for _, p := range []struct{ login, path string }{{"ana", "/agent"}, {"sup", "/supervision"}} {
		st, b, _ := s.SignIn(p.login, sitetest.Password).Do("GET", p.path, "")
		page := html.UnescapeString(string(b))
		if st != 200 || !strings.Contains(page, `"reasons":["Courrier du matin","Standard \u003ctéléphonique\u003e"]`) {
			t.Errorf("%s offers other pause reasons: %d %s", p.path, st, reasonsOf(page))
		}
	}
}

// reasonsOf is the pause reasons' part of a page's data, for a message.
func reasonsOf(page string) string {
	if i := strings.Index(page, `"reasons":`); i >= 0 {
		return page[i:min(len(page), i+120)]
	}
	return "(none)"
}
