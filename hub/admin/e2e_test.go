package admin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"guichet/display"
	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/queue"
	"guichet/hw/printer/virtual"
	"guichet/internal/axe"
	"guichet/internal/boardpage"
	"guichet/internal/browsertest"
	"guichet/internal/qrscan"
	"guichet/internal/sitetest"
	"guichet/kiosk"
)

// devices starts a real kiosk (virtual printer) and a real display on the
// site, each over MQTT with its own credentials, and serves their pages.
func devices(t *testing.T, s *sitetest.Site) (kioskURL, boardURL string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	kdir := t.TempDir()
	kl, err := link.Open(s.LinkOptions("kiosk-hall", s.AddDevice("kiosk-hall", api.RoleKiosk, ""), api.RoleKiosk, kdir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kl.Close() })
	pr, err := virtual.New(filepath.Join(kdir, "tickets"), 80)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kiosk.New(kiosk.Options{Link: kl, Printer: pr, DataDir: kdir, Log: log, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	go k.Run(ctx)
	ksrv := httptest.NewServer(kiosk.NewPage(k))
	t.Cleanup(ksrv.Close)

	dl, err := link.Open(s.LinkOptions("screen-hall", s.AddDevice("screen-hall", api.RoleDisplay, ""), api.RoleDisplay, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dl.Close() })
	dsrv := httptest.NewServer(boardpage.Handler(display.New(display.Options{Link: dl, Log: log}), log))
	t.Cleanup(dsrv.Close)
	sitetest.Eventually(t, 10*time.Second, "the kiosk's menu", func() bool { return len(k.View("fr").Services) == 2 })
	return ksrv.URL + "/", dsrv.URL + "/"
}

// shot saves a screenshot of the admin's page and holds it to axe-core.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	browsertest.Screenshot(t, ctx, "admin-"+name+"-1366x768")
	axe.Serious(t, ctx, "admin "+name)
}

func submit(t *testing.T, ctx context.Context, form string) {
	t.Helper()
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)), chromedp.WaitReady(chromedp.CSS("#main")))
}

func fill(t *testing.T, ctx context.Context, fields map[string]string) {
	t.Helper()
	for sel, v := range fields {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := chromedp.Do(c, chromedp.SetValue(chromedp.CSS(sel), v))
		cancel()
		if err != nil {
			t.Fatalf("set %s: %v", sel, err)
		}
	}
}

// TestAnAdminAddsAServiceAndTheKioskPageShowsIt is the words: an
// administrator signs in, adds a service in the browser, and the kiosk's
// page (a real kiosk device, over MQTT) shows its button; closed with a
// message, the button shows the message; a message for the screens shows
// on the display's board (a real display device). Messages are text:
// markup in them is shown, never run. Every page is screenshot at
// 1366×768 and held to axe-core.
func TestAnAdminAddsAServiceAndTheKioskPageShowsIt(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{OpenHours: true})
	kioskURL, boardURL := devices(t, s)

	kioskTab := browsertest.Browser(t, 1280, 800)
	browsertest.Do(t, kioskTab, 10*time.Second, chromedp.Navigate(kioskURL))
	browsertest.WaitText(t, kioskTab, "#services", "État civil", 5*time.Second)
	boardTab := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, boardTab, 10*time.Second, chromedp.Navigate(boardURL))
	browsertest.WaitText(t, boardTab, "#site", "Mairie de Test", 5*time.Second)

	// The administration sends to the sign-in page (hub/auth), and back.
	s.AddAccount("dsi", auth.RoleAdmin, "")
	b := browsertest.Browser(t, 1366, 768)
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/services"))
	browsertest.Do(t, b, 10*time.Second, chromedp.WaitVisible(chromedp.CSS("#login")))
	fill(t, b, map[string]string{"#login": "dsi", "#password": sitetest.Password})
	browsertest.Do(t, b, 10*time.Second, chromedp.Click(chromedp.CSS(`form button[type="submit"]`)), chromedp.WaitReady(chromedp.CSS("#main")))
	browsertest.WaitText(t, b, "h1", "Services", 5*time.Second)
	shot(t, b, "services")
	// The keyboard reaches the skip link first, then the sections.
	browsertest.Do(t, b, 5*time.Second, chromedp.KeyEvent(kb.Tab))
	if got := browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[string](`document.activeElement.className`)); got != "skip" {
		t.Fatalf("the first Tab focuses %q, want the skip link", got)
	}
	browsertest.Do(t, b, 5*time.Second, chromedp.KeyEvent(kb.Tab))
	if got := browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[string](`document.activeElement.textContent`)); got != "Site" {
		t.Fatalf("the second Tab focuses %q, want the first section", got)
	}

	// A new service, with its hours.
	browsertest.Do(t, b, 10*time.Second, chromedp.Click(chromedp.CSS(`a[href="/admin/services/new"]`)), chromedp.WaitReady(chromedp.CSS("#name_fr")))
	fill(t, b, map[string]string{"#id": "U", "#name_fr": "Urbanisme", "#name_en": "Town planning", "#sla": "20", "#service_time": "12",
		"#hours_mon": "08:30-12:00 13:30-17:30", "#hours_sat": "09:00-12:00"})
	shot(t, b, "service-new")
	submit(t, b, "form[action='/admin/services']")
	browsertest.WaitText(t, b, ".notice", "Modification enregistrée", 5*time.Second)
	browsertest.WaitText(t, b, "table", "Urbanisme", time.Second)

	browsertest.WaitText(t, kioskTab, "#services", "Urbanisme", 5*time.Second)
	browsertest.Screenshot(t, kioskTab, "admin-kiosk-shows-new-service")
	var u *queue.Service
	s.Engine(func(e *queue.Engine) {
		if sv := e.Service("U"); sv != nil {
			c := sv.Clone()
			u = &c
		}
	})
	if u == nil || u.SLA != 20*time.Minute || queue.FormatSpans(u.Hours.Week[time.Monday]) != "08:30-12:00 13:30-17:30" {
		t.Fatalf("service U at the hub: %+v", u)
	}

	// A refusal is said on the form, with what was typed.
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/services/new"))
	fill(t, b, map[string]string{"#id": "V", "#name_fr": " ", "#name_en": "Only English", "#hours_tue": "9h-12h"})
	browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[bool](`document.querySelector("#name_fr").required = false; true`))
	submit(t, b, "form[action='/admin/services']")
	browsertest.WaitText(t, b, "[role=alert]", "9h-12h", 5*time.Second)
	shot(t, b, "service-refused")

	// Closed to new tickets, with a message carrying markup: the kiosk shows it as text.
	const closing = `<script>window.pwned = 1</script><b>Revenez lundi</b>`
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/services/U"))
	fill(t, b, map[string]string{"#close_fr": closing})
	shot(t, b, "service-edit")
	submit(t, b, "form[action='/admin/services/U/close']")
	browsertest.WaitText(t, b, "table", "Fermé aux nouveaux tickets", 5*time.Second)
	browsertest.WaitText(t, kioskTab, `.svc[value="U"]`, closing, 5*time.Second)
	if browsertest.Get(t, kioskTab, 5*time.Second, chromedp.Evaluate[bool](`window.pwned === 1 || !!document.querySelector(".svc b")`)) {
		t.Fatal("the closed service's message ran as markup on the kiosk page")
	}
	if !browsertest.Get(t, kioskTab, 5*time.Second, chromedp.Evaluate[bool](`document.querySelector('.svc[value="U"]').disabled`)) {
		t.Fatal("the closed service's button can still be pressed")
	}
	browsertest.Screenshot(t, kioskTab, "admin-kiosk-closed-service")

	// The supervisor's message on the screens, as text.
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/"))
	fill(t, b, map[string]string{"#message_fr": `<img src=x onerror="window.pwned=1">Fermeture à 16 h`})
	shot(t, b, "home")
	submit(t, b, "form[action='/admin/message']")
	browsertest.WaitText(t, boardTab, "#message", `<img src=x onerror="window.pwned=1">Fermeture à 16 h`, 5*time.Second)
	if browsertest.Get(t, boardTab, 5*time.Second, chromedp.Evaluate[bool](`window.pwned === 1 || !!document.querySelector("#message img")`)) {
		t.Fatal("the screens' message ran as markup on the board")
	}
	browsertest.Screenshot(t, boardTab, "admin-board-message")

	// The other pages: counters, agents, pause reasons.
	for _, p := range []struct{ path, name, want string }{
		{"/admin/counters", "counters", "Guichet 1"}, {"/admin/counters/1", "counter", "Canaux"},
		{"/admin/counters/new", "counter-new", "Nouveau guichet"}, {"/admin/agents", "agents", "ana"},
		{"/admin/agents/ana", "agent", "Horaires de travail"}, {"/admin/pauses", "pauses", "Motifs de pause"},
		{"/admin/devices", "devices", "kiosk-hall"}, {"/admin/services/U?lang=en", "service-en", "Close to new tickets"},
	} {
		browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+p.path))
		browsertest.WaitText(t, b, "body", p.want, 5*time.Second)
		shot(t, b, p.name)
	}
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/?lang=fr"))

	agentHours(t, s, b)
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/pauses"))
	fill(t, b, map[string]string{"#reasons": "Déjeuner\nRéunion\n"})
	submit(t, b, "form[action='/admin/pauses']")
	browsertest.WaitText(t, b, ".notice", "Modification enregistrée", 5*time.Second)

	// A device: its secret shown once, with the enrollment code.
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/devices"))
	fill(t, b, map[string]string{"#id": "kiosk-annex"})
	submit(t, b, "form[action='/admin/devices']")
	browsertest.WaitText(t, b, "h1", "kiosk-annex", 5*time.Second)
	shot(t, b, "device-secret")
	secret := browsertest.Text(t, b, "#secret")
	src := browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[string](`document.querySelector("#qr").src`))
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(src, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	code, err := qrscan.Scan(img)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(code, "guichet://enroll?") || !strings.Contains(code, "device=kiosk-annex") || !strings.Contains(code, "secret="+secret) ||
		!strings.Contains(code, "site=test") || !strings.Contains(code, "mqtt=tcp%3A%2F%2F127.0.0.1%3A") {
		t.Fatalf("enrollment code %q", code)
	}
	if _, err := s.Devices.Authenticate("kiosk-annex", secret); err != nil {
		t.Fatalf("the secret shown does not authenticate the device: %v", err)
	}

	// Every change is in the log with who made it.
	var evs struct{ Events []queue.Event }
	s.Must("GET", "/api/v1/events?limit=1000", "", 200, &evs)
	kinds := map[queue.EventType]bool{}
	for _, ev := range evs.Events {
		if queue.IsSiteChange(ev.Type) && ev.Type != queue.SiteLoaded {
			if ev.Actor != "dsi" {
				t.Fatalf("%s by %q", ev.Type, ev.Actor)
			}
			kinds[ev.Type] = true
		}
	}
	for _, k := range []queue.EventType{queue.ServiceSaved, queue.ServiceClosed, queue.BoardMessageSet, queue.AgentSaved, queue.PauseReasonsSaved} {
		if !kinds[k] {
			t.Fatalf("no %s event by the admin: %v", k, kinds)
		}
	}
}

// agentHours is the agent's form at work on ana's working hours, as an
// admin does it in the browser, checked in the engine's site after each
// save: set per day through the page, kept when the form is saved for
// something else (the form shows and sends them back), a wrong period
// refused with its day named and nothing saved, and every day cleared
// leaving her no stated hours.
func agentHours(t *testing.T, s *sitetest.Site, b context.Context) {
	t.Helper()
	ana := func() queue.Agent {
		var a queue.Agent
		s.Hub.Read(func(e *queue.Engine) { a = e.Agent("ana").Clone() })
		return a
	}
	week := func(a queue.Agent) string {
		var days []string
		for d := range a.Hours.Week {
			if len(a.Hours.Week[d]) > 0 {
				days = append(days, queue.DayKey(time.Weekday(d))+" "+queue.FormatSpans(a.Hours.Week[d]))
			}
		}
		return strings.Join(days, ", ")
	}
	if a := ana(); a.Hours.Set() {
		t.Fatalf("ana has hours before the page gives her any: %s", week(a))
	}

	// Set in the page: Monday with the lunch gap, Friday morning.
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/agents/ana"))
	browsertest.WaitText(t, b, "form[action='/admin/agents']", "Horaires de travail", 5*time.Second)
	fill(t, b, map[string]string{"#hours_mon": "08:30-12:00 13:00-17:30", "#hours_fri": "08:30-12:00"})
	shot(t, b, "agent-hours")
	submit(t, b, "form[action='/admin/agents']")
	browsertest.WaitText(t, b, ".notice", "Modification enregistrée", 5*time.Second)
	a := ana()
	if got := queue.FormatSpans(a.Hours.Week[time.Monday]); got != "08:30-12:00 13:00-17:30" || week(a) != "mon 08:30-12:00 13:00-17:30, fri 08:30-12:00" {
		t.Fatalf("ana's hours after the page set them: Monday %q, week %q", got, week(a))
	}

	// Saved for a skill, the hours untouched: the form shows them and
	// sends them back, so she keeps them.
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/agents/ana"))
	if got := browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[string](`document.querySelector("#hours_mon").value`)); got != "08:30-12:00 13:00-17:30" {
		t.Fatalf("the form shows Monday's hours as %q", got)
	}
	browsertest.Do(t, b, 5*time.Second, chromedp.SetValue(chromedp.CSS("#skill_U"), "4"))
	submit(t, b, "form[action='/admin/agents']")
	browsertest.WaitText(t, b, "table", "U 4", 5*time.Second)
	if a = ana(); a.Skills["U"] != 4 || week(a) != "mon 08:30-12:00 13:00-17:30, fri 08:30-12:00" {
		t.Fatalf("ana after the page saved her skill: skills %v, hours %q", a.Skills, week(a))
	}

	// A wrong period is refused, its day named, what was typed shown
	// again; nothing is saved, not even the skill changed with it.
	for _, bad := range []string{"9h-12h", "12:00-09:00"} {
		browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/agents/ana"))
		fill(t, b, map[string]string{"#hours_tue": bad, "#skill_U": "2"})
		submit(t, b, "form[action='/admin/agents']")
		browsertest.WaitText(t, b, "[role=alert]", "Horaires de travail: mardi: ", 5*time.Second)
		browsertest.WaitText(t, b, "[role=alert]", bad, time.Second)
		if got := browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[string](`document.querySelector("#hours_tue").value + " | " + document.querySelector("#hours_mon").value`)); got != bad+" | 08:30-12:00 13:00-17:30" {
			t.Fatalf("the refused form shows the hours as %q", got)
		}
		if a = ana(); a.Skills["U"] != 4 || week(a) != "mon 08:30-12:00 13:00-17:30, fri 08:30-12:00" {
			t.Fatalf("ana after a refused %q: skills %v, hours %q", bad, a.Skills, week(a))
		}
	}
	shot(t, b, "agent-hours-refused")
	// In English, the day is named in English.
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/agents/ana?lang=en"))
	fill(t, b, map[string]string{"#hours_wed": "9h-12h"})
	submit(t, b, "form[action='/admin/agents']")
	browsertest.WaitText(t, b, "[role=alert]", "Working hours: Wednesday: ", 5*time.Second)
	shot(t, b, "agent-hours-refused-en")
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/?lang=fr"))

	// Every day cleared: no stated hours (she counts as she is).
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/admin/agents/ana"))
	if got := browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[string](`const days = [...document.querySelectorAll("input[name^=hours_]")];
		days.forEach(i => { i.value = "" }); days.length + " days, left: " + days.map(i => i.value).join("")`)); got != "7 days, left: " {
		t.Fatalf("clearing the form's hours: %q", got)
	}
	submit(t, b, "form[action='/admin/agents']")
	browsertest.WaitText(t, b, ".notice", "Modification enregistrée", 5*time.Second)
	if a = ana(); a.Hours.Set() || a.Skills["U"] != 4 {
		t.Fatalf("ana after every day was cleared: hours %q (set %v), skills %v", week(a), a.Hours.Set(), a.Skills)
	}
}
