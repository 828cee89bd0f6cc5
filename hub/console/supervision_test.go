package console_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"guichet/hub/api"
	"guichet/internal/axe"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// The supervision page, in Chromium at 1920×1080: a ticket issued at a
// kiosk (a device over MQTT) shows within a second; the kiosk's printer
// running out of paper is an alert on the page and in the log; the
// supervisor cancels a ticket from the page. axe-core finds no serious
// violation; a screenshot is saved.
func TestSupervisionShowsATicketIssuedAtTheKioskWithinASecond(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	accounts(s)
	kiosk := s.Link("kiosk-hall", s.AddDevice("kiosk-hall", api.RoleKiosk, ""), api.RoleKiosk)
	kiosk.SetState(api.DeviceState{Printer: &api.PrinterHealth{OK: true}})
	staff := s.SignIn("ana", sitetest.Password)
	if st, b, _ := staff.Do("POST", "/api/v1/counters/1/open", ""); st != 200 {
		t.Fatalf("open counter 1: %d %s", st, b)
	}

	ctx := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/supervision"))
	signIn(t, ctx, "sup")
	browsertest.WaitText(t, ctx, "h1", "Supervision", 10*time.Second)
	browsertest.WaitText(t, ctx, "#devices", "kiosk-hall", 5*time.Second)
	browsertest.WaitText(t, ctx, "#devices", "En ligne", 5*time.Second)
	browsertest.WaitText(t, ctx, "#counters", "ana", 5*time.Second)
	browsertest.WaitText(t, ctx, "#tickets", "Aucun ticket en attente", 5*time.Second)

	start := time.Now()
	rep, err := kiosk.Send(context.Background(), api.OpIssueTicket, api.IssueArgs{Service: "E"})
	if err != nil || !rep.OK {
		t.Fatalf("issue at the kiosk: %v %+v", err, rep)
	}
	var tk api.Ticket
	if err := json.Unmarshal(rep.Result, &tk); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#tickets", tk.Number, 5*time.Second)
	if took := time.Since(start); took > time.Second {
		t.Errorf("the ticket issued at the kiosk showed after %s", took)
	} else {
		t.Logf("issued at the kiosk → on the supervision page: %s", took.Round(time.Millisecond))
	}
	browsertest.WaitText(t, ctx, "#services", "État civil", time.Second)
	browsertest.WaitText(t, ctx, "#destinations", "à jour", 5*time.Second) // the hub's own MQTT bus, always there

	// The kiosk's printer runs out of paper.
	start = time.Now()
	kiosk.SetState(api.DeviceState{Printer: &api.PrinterHealth{PaperOut: true}})
	browsertest.WaitText(t, ctx, "#alerts", "kiosk-hall : plus de papier", 5*time.Second)
	browsertest.WaitText(t, ctx, "#devices", "Plus de papier", time.Second)
	t.Logf("paper out → alert on the page: %s", time.Since(start).Round(time.Millisecond))
	sitetest.Eventually(t, 5*time.Second, "the alert in the log", func() bool { return len(events(t, s, "alert.raised")) == 1 })

	// Its board overheats.
	hot := 85.0
	kiosk.SetState(api.DeviceState{Printer: &api.PrinterHealth{PaperOut: true}, Health: &api.DeviceHealth{TempC: &hot}})
	browsertest.WaitText(t, ctx, "#alerts", "kiosk-hall : le boîtier chauffe", 5*time.Second)
	browsertest.WaitText(t, ctx, "#devices", "85,0 °C", time.Second)
	axe.Serious(t, ctx, "supervision")
	browsertest.Screenshot(t, ctx, "console-supervision-1920x1080")

	// The supervisor cancels the ticket, with the keyboard.
	tabTo(t, ctx, "Annuler le ticket…")
	browsertest.Do(t, ctx, 5*time.Second, keys(kb.Enter))
	browsertest.WaitText(t, ctx, "#cancel-h", "Annuler le ticket "+tk.Number, 5*time.Second)
	browsertest.Do(t, ctx, 5*time.Second, keys("parti"), keys(kb.Tab), keys(kb.Tab), keys(kb.Enter))
	browsertest.WaitText(t, ctx, "#tickets", "Aucun ticket en attente", 5*time.Second)
	if f := focused(t, ctx); !strings.Contains(f, "BODY") && f == "" {
		t.Errorf("focus lost: %q", f)
	}
	if evs := events(t, s, "ticket.cancelled"); len(evs) != 1 || evs[0]["reason"] != "parti" || evs[0]["actor"] != "sup" {
		t.Fatalf("cancellations logged: %v", evs)
	}
}

// Every staff page, in French and in English, at the sizes they are made
// for: axe-core finds no serious or critical violation.
func TestStaffPagesPassAxeInFrenchAndEnglish(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	accounts(s)
	issue(t, s, "A")
	issue(t, s, "E")
	staff := s.SignIn("bob", sitetest.Password)
	if st, b, _ := staff.Do("POST", "/api/v1/counters/2/open", ""); st != 200 {
		t.Fatalf("open counter 2: %d %s", st, b)
	}
	if st, b, _ := staff.Do("POST", "/api/v1/counters/2/next", ""); st != 200 {
		t.Fatalf("call next at counter 2: %d %s", st, b)
	}
	for _, page := range []struct {
		login, path, wait, want string
		w, h                    int
	}{
		{"bob", "/agent", "#ticket-number", "E001", 1366, 768},
		{"sup", "/supervision", "#counters", "bob", 1920, 1080},
		{"sup", "/supervision/stats", "main.stats h1", "", 1366, 768}, // not the sign-in page's h1
	} {
		for _, lang := range []string{"fr", "en"} {
			ctx := browsertest.Browser(t, page.w, page.h)
			browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+page.path+"?lang="+lang))
			signIn(t, ctx, page.login)
			browsertest.WaitText(t, ctx, page.wait, page.want, 10*time.Second)
			waitLoaded(t, ctx, page.wait)
			if got := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.documentElement.lang`)); got != lang {
				t.Errorf("%s?lang=%s: <html lang=%q>", page.path, lang, got)
			}
			axe.Serious(t, ctx, page.path+" ("+lang+")")
			browsertest.Screenshot(t, ctx, "console"+strings.ReplaceAll(page.path, "/", "-")+"-"+lang)
		}
	}
}
