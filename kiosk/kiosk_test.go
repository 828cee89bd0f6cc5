package kiosk_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/internal/qrscan"
	"guichet/internal/sitetest"
	"guichet/kiosk"
)

// rig is a kiosk on a real site, printing on a virtual printer.
type rig struct {
	t       *testing.T
	site    *sitetest.Site
	id      string
	link    *link.Link
	printer *virtual.Printer
	kiosk   *kiosk.Kiosk
	dir     string
	secret  string
	timeout time.Duration
	cancel  context.CancelFunc
}

func newRig(t *testing.T, s *sitetest.Site, id string) *rig {
	r := &rig{t: t, site: s, id: id, dir: t.TempDir()}
	r.secret = s.AddDevice(id, api.RoleKiosk, "")
	r.open()
	t.Cleanup(r.close)
	return r
}

func (r *rig) open() {
	var err error
	r.link, err = link.Open(r.site.LinkOptions(r.id, r.secret, api.RoleKiosk, r.dir))
	if err != nil {
		r.t.Fatal(err)
	}
	if r.printer == nil {
		r.printer, err = virtual.New(filepath.Join(r.dir, "tickets"), 80)
		if err != nil {
			r.t.Fatal(err)
		}
	}
	r.kiosk, err = kiosk.New(kiosk.Options{Link: r.link, Printer: r.printer, DataDir: r.dir, Log: r.link.Log(),
		Poll: 50 * time.Millisecond, Timeout: r.timeout})
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.kiosk.Run(ctx)
}

func (r *rig) close() {
	if r.cancel != nil {
		r.cancel()
		r.kiosk.Close()
		r.link.Close()
		r.cancel = nil
	}
}

// ready waits for the menu and a lease for every service.
func (r *rig) ready() {
	r.t.Helper()
	sitetest.Eventually(r.t, 10*time.Second, "the kiosk's menu and leases", func() bool {
		v := r.kiosk.View("fr")
		return len(v.Services) == 2 && r.kiosk.OfflineLeft("A") >= 25 && r.kiosk.OfflineLeft("E") >= 25
	})
}

func (r *rig) issue(service string) kiosk.Result {
	r.t.Helper()
	res, err := r.kiosk.Issue(context.Background(), kiosk.Press{Service: service, Lang: "fr"})
	if err != nil {
		r.t.Fatalf("issue %s: %v", service, err)
	}
	return res
}

func decodeQR(t *testing.T, p virtual.Page) string {
	t.Helper()
	text, err := qrscan.Scan(p.Image)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestKioskPrintsATicketWhoseQRCodeOpensItsLivePage(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	r := newRig(t, s, "kiosk-hall")
	r.ready()
	res := r.issue("E")
	if res.Number != "E001" || res.Offline || res.Service != "État civil" {
		t.Fatalf("result %+v", res)
	}
	pages := r.printer.Pages()
	if len(pages) != 1 || !strings.Contains(pages[0].Text(), "E001") || !strings.Contains(pages[0].Text(), "Mairie de Test") {
		t.Fatalf("printed %d pages: %s", len(pages), pages[0].Text())
	}
	url := decodeQR(t, pages[0])
	if !strings.HasPrefix(url, "http://guichet.test/t/") {
		t.Fatalf("QR code %q", url)
	}
	// The QR code leads to the ticket's live page on the hub.
	res2, err := http.Get(s.HTTPURL + strings.TrimPrefix(url, "http://guichet.test") + "/state")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res2.Body)
	res2.Body.Close()
	if res2.StatusCode != 200 || !strings.Contains(string(body), `"number":"E001"`) {
		t.Fatalf("the ticket page: %d %s", res2.StatusCode, body)
	}
}

func TestKioskPrintsFromItsLeaseWhenTheHubIsDown(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	r := newRig(t, s, "kiosk-hall")
	r.ready()
	r.issue("A") // A001, online
	s.Stop()
	sitetest.Eventually(t, 5*time.Second, "the kiosk sees the link down", func() bool { return !r.kiosk.View("fr").Online })
	res := r.issue("A")
	if !res.Offline || res.Number != "A901" {
		t.Fatalf("offline result %+v", res)
	}
	// The kiosk knew the link was down: it sent no request to wait for, so
	// the offline ticket replaces none.
	offline := 0
	for _, e := range r.link.PendingEntries() {
		if strings.Contains(string(e.Payload), `"offline_number":901`) {
			offline++
			if strings.Contains(string(e.Payload), "replaces") {
				t.Fatalf("the offline ticket replaces a request: %s", e.Payload)
			}
		}
	}
	if offline != 1 {
		t.Fatalf("%d offline tickets waiting for the hub", offline)
	}
	url := decodeQR(t, r.printer.Pages()[1])
	s.Restart()
	sitetest.Eventually(t, 10*time.Second, "the offline ticket reaches the hub", func() bool { return len(s.Tickets()) == 2 })
	for _, tk := range s.Tickets() {
		if tk.Number == "A901" && tk.Device != "kiosk-hall" {
			t.Fatalf("offline ticket %+v", tk)
		}
	}
	res2, err := http.Get(s.HTTPURL + strings.TrimPrefix(url, "http://guichet.test") + "/state")
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != 200 {
		t.Fatalf("the offline ticket's QR code leads nowhere: %d", res2.StatusCode)
	}
}

func TestPrinterFaultStopsTicketsAndClearsByItself(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	r := newRig(t, s, "kiosk-hall")
	r.ready()
	for _, fault := range []printer.Status{{PaperOut: true}, {CoverOpen: true}} {
		r.printer.SetStatus(fault)
		sitetest.Eventually(t, 3*time.Second, "the kiosk shows the fault", func() bool { return r.kiosk.View("fr").Unavailable })
		if v := r.kiosk.View("fr"); v.Message != "Tickets momentanément indisponibles — adressez-vous à l'accueil" {
			t.Fatalf("message %q", v.Message)
		}
		_, err := r.kiosk.Issue(context.Background(), kiosk.Press{Service: "A", Lang: "fr"})
		var ref *kiosk.Refusal
		if !errors.As(err, &ref) || ref.Code != "unavailable" {
			t.Fatalf("issued with %v: %v", fault, err)
		}
		sitetest.Eventually(t, 3*time.Second, "the hub hears of the fault", func() bool {
			var d api.Device
			s.Must("GET", "/api/v1/devices/kiosk-hall", "", 200, &d)
			return d.State != nil && d.State.Printer != nil && !d.State.Printer.OK &&
				d.State.Printer.PaperOut == fault.PaperOut && d.State.Printer.CoverOpen == fault.CoverOpen
		})
		r.printer.SetStatus(printer.Status{})
		sitetest.Eventually(t, 3*time.Second, "the kiosk recovers", func() bool { return !r.kiosk.View("fr").Unavailable })
		r.issue("A")
	}
	if n := len(s.Tickets()); n != 2 {
		t.Fatalf("%d tickets in the hub, want the 2 printed", n)
	}
	sitetest.Eventually(t, 3*time.Second, "the hub hears the printer is back", func() bool {
		var d api.Device
		s.Must("GET", "/api/v1/devices/kiosk-hall", "", 200, &d)
		return d.State != nil && d.State.Printer != nil && d.State.Printer.OK
	})
}

// failingPrinter refuses the next print, as a printer that jams mid-ticket.
type failingPrinter struct {
	*virtual.Printer
	fail bool
}

func (f *failingPrinter) Print(ctx context.Context, job []byte) error {
	if f.fail {
		f.fail = false
		return errors.New("cutter jam")
	}
	return f.Printer.Print(ctx, job)
}

func TestATicketThatDoesNotPrintIsVoidedAtTheHub(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("kiosk-hall", api.RoleKiosk, "")
	dir := t.TempDir()
	l, err := link.Open(s.LinkOptions("kiosk-hall", secret, api.RoleKiosk, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	vp, _ := virtual.New(filepath.Join(dir, "tickets"), 80)
	fp := &failingPrinter{Printer: vp, fail: true}
	k, err := kiosk.New(kiosk.Options{Link: l, Printer: fp, DataDir: dir, Log: l.Log(), Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	sitetest.Eventually(t, 5*time.Second, "menu", func() bool { return len(k.View("fr").Services) == 2 })
	if _, err := k.Issue(context.Background(), kiosk.Press{Service: "A"}); err == nil {
		t.Fatal("a jammed print reported a ticket")
	}
	sitetest.Eventually(t, 5*time.Second, "the unprinted ticket cancelled", func() bool {
		ts := s.Tickets()
		return len(ts) == 1 && ts[0].State == "cancelled"
	})
	if _, err := k.Issue(context.Background(), kiosk.Press{Service: "A"}); err != nil {
		t.Fatal(err)
	}
}

func TestAppointmentCheckInAtTheKiosk(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	r := newRig(t, s, "kiosk-hall")
	r.ready()
	at := time.Now().Add(15 * time.Minute).Truncate(time.Minute)
	s.Must("POST", "/api/v1/appointments", fmt.Sprintf(`{"code":"RDV-1234","service":"E","at":%q}`, at.Format(time.RFC3339)), 201, nil)
	res, err := r.kiosk.CheckIn(context.Background(), "RDV-1234", "fr")
	if err != nil {
		t.Fatal(err)
	}
	page := r.printer.Pages()[0]
	if !strings.Contains(strings.ReplaceAll(page.Text(), "\u00a0", " "), "Rendez-vous à") || res.Number != "E001" {
		t.Fatalf("check-in ticket %+v:\n%s", res, page.Text())
	}
	_, err = r.kiosk.CheckIn(context.Background(), "RDV-1234", "fr")
	var ref *kiosk.Refusal
	if !errors.As(err, &ref) || ref.Code != "already_checked_in" || ref.Message != "Ce rendez-vous est déjà enregistré" {
		t.Fatalf("second check-in: %v", err)
	}
	if _, err := r.kiosk.CheckIn(context.Background(), "NOPE-0000", "fr"); !errors.As(err, &ref) || ref.Code != "unknown_appointment" {
		t.Fatalf("unknown code: %v", err)
	}
}

func TestPaperLowWarnsTheHubButTicketsStillPrint(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	r := newRig(t, s, "kiosk-hall")
	r.ready()
	r.printer.SetStatus(printer.Status{PaperLow: true})
	sitetest.Eventually(t, 3*time.Second, "the hub hears the paper is low", func() bool {
		var d api.Device
		s.Must("GET", "/api/v1/devices/kiosk-hall", "", 200, &d)
		return d.State != nil && d.State.Printer != nil && d.State.Printer.PaperLow && d.State.Printer.OK
	})
	if r.kiosk.View("fr").Unavailable {
		t.Fatal("paper low stopped the kiosk")
	}
	r.issue("A")
}

func TestClosedServiceIsShownAndRefused(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	other := strings.ToLower(time.Now().In(paris).AddDate(0, 0, 3).Weekday().String()[:3])
	cfg := strings.Replace(sitetest.Config, `sla: 15m, service_time: 8m }`,
		fmt.Sprintf(`sla: 15m, service_time: 8m, hours: { %s: "08:00-12:00" } }`, other), 1) // E opens another day
	s := sitetest.Start(t, sitetest.Options{Config: cfg})
	r := newRig(t, s, "kiosk-hall")
	sitetest.Eventually(t, 5*time.Second, "menu", func() bool { return len(r.kiosk.View("fr").Services) == 2 })
	for _, item := range r.kiosk.View("fr").Services {
		if item.Open != (item.Service == "A") {
			t.Fatalf("menu %+v: E is closed today, A has no hours", item)
		}
	}
	_, err := r.kiosk.Issue(context.Background(), kiosk.Press{Service: "E", Lang: "fr"})
	var ref *kiosk.Refusal
	if !errors.As(err, &ref) || ref.Code != "closed" || ref.Message != "Fermé" {
		t.Fatalf("ticket for a closed service: %v", err)
	}
}

// What a crash left is settled when the kiosk is made, before any press: a
// ticket the hub issued and the kiosk never printed is cancelled at once,
// and the tickets of this run's presses are left alone (settled later, in
// Run, a ticket in flight looked like a crash's leftover and was voided
// while it printed).
func TestACrashsLeftoverIsSettledBeforeAnyPress(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("kiosk-hall", api.RoleKiosk, "")
	dir := t.TempDir()
	l, err := link.Open(s.LinkOptions("kiosk-hall", secret, api.RoleKiosk, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	rep, err := l.Send(ctx, api.OpIssueTicket, api.IssueArgs{Service: "A"})
	var left api.Ticket
	if err != nil || !rep.OK || json.Unmarshal(rep.Result, &left) != nil {
		t.Fatalf("the ticket the crash left: %+v %v", rep, err)
	}
	// The journal of a kiosk killed between the hub's answer and the print.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`CREATE TABLE tickets (cmd TEXT PRIMARY KEY, ticket TEXT NOT NULL DEFAULT '', service TEXT NOT NULL,
		day TEXT NOT NULL, number INTEGER NOT NULL, offline INTEGER NOT NULL, printed INTEGER NOT NULL DEFAULT 0,
		void INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);
		INSERT INTO tickets(cmd, ticket, service, day, number, offline, created) VALUES ('crashed', ?, 'A', ?, 1, 0, 0)`,
		left.ID, time.Now().Format(time.DateOnly))
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	vp, _ := virtual.New(filepath.Join(dir, "tickets"), 80)
	pr := &pollWatch{Printer: vp, polled: make(chan struct{})}
	k, err := kiosk.New(kiosk.Options{Link: l, Printer: pr, DataDir: dir, Log: l.Log(), Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	// Run is not started: New settled it.
	cancels := 0
	for _, e := range l.PendingEntries() {
		if e.Op == api.OpCancel && strings.Contains(string(e.Payload), left.ID) {
			cancels++
		}
	}
	if cancels != 1 {
		t.Fatalf("%d cancels of the crash's unprinted ticket in the outbox after New, want 1", cancels)
	}
	sitetest.Eventually(t, 5*time.Second, "the menu", func() bool { return len(k.View("fr").Services) == 2 })
	res, err := k.Issue(context.Background(), kiosk.Press{Service: "A"})
	if err != nil {
		t.Fatal(err)
	}
	go k.Run(t.Context())
	sitetest.Eventually(t, 5*time.Second, "the leftover cancelled", func() bool {
		for _, tk := range s.Tickets() {
			if tk.ID == left.ID {
				return tk.State == "cancelled"
			}
		}
		return false
	})
	<-pr.polled // Run has started: its first round reads the printer
	for _, tk := range s.Tickets() {
		if tk.Number == res.Number && tk.State != "waiting" {
			t.Fatalf("the ticket printed in this run, %s, is %s", res.Number, tk.State)
		}
	}
}

// pollWatch tells when the kiosk first reads its printer's status.
type pollWatch struct {
	*virtual.Printer
	once   sync.Once
	polled chan struct{}
}

func (p *pollWatch) Status(ctx context.Context) (printer.Status, error) {
	p.once.Do(func() { close(p.polled) })
	return p.Printer.Status(ctx)
}
