package kiosk_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"guichet/hw/printer"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
	"guichet/kiosk"
)

func TestTouchscreenPageIssuesTicketsAndFollowsTheKiosk(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	r := newRig(t, s, "kiosk-hall")
	r.ready()
	srv := httptest.NewServer(kiosk.NewPage(r.kiosk))
	t.Cleanup(srv.Close) // after the browser, whose event stream it would wait for

	ctx := browsertest.Browser(t, 1280, 800)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitText(t, ctx, "#services", "Accueil", 5*time.Second)
	browsertest.WaitText(t, ctx, "#services", "État civil", time.Second)
	browsertest.Screenshot(t, ctx, "kiosk-menu")

	// A touch on a service prints its ticket.
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click(chromedp.CSS(`.svc[value="A"]`)))
	browsertest.WaitText(t, ctx, "#o-num", "A001", 3*time.Second)
	browsertest.WaitText(t, ctx, "#o-msg", "Votre ticket A001 est imprimé", time.Second)
	browsertest.Screenshot(t, ctx, "kiosk-printed")
	if n := len(r.printer.Pages()); n != 1 {
		t.Fatalf("%d tickets printed", n)
	}
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click(chromedp.CSS("#overlay")))

	// The keyboard works: 2 is the second service.
	browsertest.Do(t, ctx, 5*time.Second, chromedp.KeyEvent("2"))
	browsertest.WaitText(t, ctx, "#o-num", "E001", 3*time.Second)
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click(chromedp.CSS("#overlay")))

	// Priority public, then a service.
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click(chromedp.CSS("#priority")))
	browsertest.WaitText(t, ctx, "#choose", "Public prioritaire", time.Second)
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click(chromedp.CSS(`.svc[value="A"]`)))
	browsertest.WaitText(t, ctx, "#o-num", "A002", 3*time.Second)
	sitetest.Eventually(t, 3*time.Second, "a priority ticket at the hub", func() bool {
		for _, tk := range s.Tickets() {
			if tk.Number == "A002" {
				return tk.Priority == "priority"
			}
		}
		return false
	})
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click(chromedp.CSS("#overlay")))

	// Appointment check-in with a code typed on the screen.
	at := time.Now().Add(10 * time.Minute).Truncate(time.Minute)
	s.Must("POST", "/api/v1/appointments", fmt.Sprintf(`{"code":"RDV-7777","service":"E","at":%q}`, at.Format(time.RFC3339)), 201, nil)
	browsertest.Do(t, ctx, 5*time.Second,
		chromedp.Click(chromedp.CSS("#open-checkin")),
		chromedp.SendKeys(chromedp.CSS("#code"), "RDV-7777"+kb.Enter))
	browsertest.WaitText(t, ctx, "#o-num", "E002", 3*time.Second)
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click(chromedp.CSS("#overlay")))

	// The paper runs out: the page says so by itself, and recovers.
	r.printer.SetStatus(printer.Status{PaperOut: true})
	faultAt := time.Now()
	browsertest.WaitText(t, ctx, "#unavailable", "Tickets momentanément indisponibles", 3*time.Second)
	t.Logf("fault shown after %s", time.Since(faultAt).Round(time.Millisecond))
	if a, sv, u := browsertest.Visible(t, ctx, "#actions"), browsertest.Visible(t, ctx, "#services"), browsertest.Visible(t, ctx, "#unavailable"); a || sv || !u {
		browsertest.Screenshot(t, ctx, "kiosk-paper-out-failed")
		t.Fatalf("during a fault: actions shown %v, services shown %v, message shown %v", a, sv, u)
	}
	browsertest.Screenshot(t, ctx, "kiosk-paper-out")
	r.printer.SetStatus(printer.Status{})
	browsertest.WaitText(t, ctx, "#services", "Accueil", 3*time.Second)

	// English.
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Navigate(srv.URL+"/?lang=en"))
	browsertest.WaitText(t, ctx, "#services", "Enquiries", 3*time.Second)
	browsertest.WaitText(t, ctx, "#choose", "Choose what you came for", time.Second)
}
