package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"guichet/internal/axe"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// The issue's flow, in Chromium at 1366×768, with the keyboard alone: an
// agent signs in, opens a counter, calls next (the number is announced to
// a screen reader), starts, transfers the ticket to another service, calls
// the next one and finishes it. axe-core finds no serious violation on the
// chooser or the desk; screenshots are saved.
func TestAnAgentSignsInOpensACounterCallsTransfersAndFinishesWithTheKeyboard(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	accounts(s)
	first := issue(t, s, "A")
	second := issue(t, s, "A")
	ctx := browsertest.Browser(t, 1366, 768)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/agent"))
	signIn(t, ctx, "ana")
	browsertest.WaitText(t, ctx, "#choose-h", "Choisir un guichet", 10*time.Second)
	browsertest.WaitText(t, ctx, "#choices-visit", "Ouvrir Guichet 1", 5*time.Second)
	axe.Serious(t, ctx, "agent console: the chooser")
	browsertest.Screenshot(t, ctx, "console-agent-chooser-1366x768")

	tabTo(t, ctx, "Ouvrir Guichet 1")
	browsertest.Do(t, ctx, 5*time.Second, keys(kb.Enter))
	browsertest.WaitText(t, ctx, "#where", "Guichet 1", 5*time.Second)
	browsertest.WaitText(t, ctx, "#waits", "Accueil", 5*time.Second)
	browsertest.WaitText(t, ctx, "#next", first.Number, 5*time.Second)
	waitFocus(t, ctx, "Appeler le suivant") // where the agent goes next

	browsertest.Do(t, ctx, 5*time.Second, shortcut("1"))
	browsertest.WaitText(t, ctx, "#ticket-number", first.Number, 5*time.Second)
	browsertest.WaitText(t, ctx, "#announce", "Ticket "+first.Number+" appelé au Guichet 1", 5*time.Second)
	browsertest.WaitText(t, ctx, "#history", "Appelé au Guichet 1", 5*time.Second)
	browsertest.Do(t, ctx, 5*time.Second, shortcut("3"))
	browsertest.WaitText(t, ctx, "#ticket-state", "Au guichet", 5*time.Second)
	axe.Serious(t, ctx, "agent console: a ticket at the counter")
	browsertest.Screenshot(t, ctx, "console-agent-serving-1366x768")

	// Transfer to État civil: the dialog opens on the service's list.
	browsertest.Do(t, ctx, 5*time.Second, shortcut("6"))
	browsertest.WaitText(t, ctx, "#transfer-h", "Transférer le ticket "+first.Number, 5*time.Second)
	if f := focused(t, ctx); !strings.HasPrefix(f, "SELECT#to-service") {
		t.Fatalf("the transfer dialog opened with the focus on %q", f)
	}
	axe.Serious(t, ctx, "agent console: the transfer dialog")
	browsertest.Screenshot(t, ctx, "console-agent-transfer-1366x768")
	tabTo(t, ctx, "BUTTON# Transférer")
	browsertest.Do(t, ctx, 5*time.Second, keys(kb.Enter))
	browsertest.WaitText(t, ctx, "#no-ticket", "Aucun ticket en cours", 5*time.Second)
	waitNoDialog(t, ctx)
	waitFocus(t, ctx, "Transférer…") // back where it was

	// The next call, then finish.
	browsertest.Do(t, ctx, 5*time.Second, shortcut("1"))
	waitShown(t, ctx, "#ticket-number", first.Number, second.Number)
	browsertest.Do(t, ctx, 5*time.Second, shortcut("4"))
	browsertest.WaitText(t, ctx, "#no-ticket", "Aucun ticket en cours", 5*time.Second)
	if n := len(events(t, s, "ticket.transferred")); n != 1 {
		t.Fatalf("%d transfers logged", n)
	}
	if n := len(events(t, s, "ticket.served")); n != 1 {
		t.Fatalf("%d tickets served", n)
	}
	browsertest.Screenshot(t, ctx, "console-agent-done-1366x768")
}
