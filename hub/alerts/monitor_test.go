package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/hub/alerts"
	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/internal/sitetest"
)

var quiet = slog.New(slog.DiscardHandler)

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logged returns the alert events of the log, as "raised kind:subject".
func logged(t *testing.T, s *sitetest.Site) []string {
	t.Helper()
	evs, err := s.Store.AlertEvents(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, fmt.Sprintf("%s %s:%s%s", strings.TrimPrefix(string(ev.Type), "alert."), ev.Reason, ev.Service, ev.Device))
	}
	return out
}

func check(t *testing.T, m *alerts.Monitor) {
	t.Helper()
	if _, err := m.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A wait past its target, on a real hub: the alert is raised in the log
// once; a monitor started again (the hub restarted) reads it back and does
// not raise it again; it is cleared a minute after the wait is back within
// the target, once.
func TestAWaitPastTargetIsRaisedOnceAcrossARestartAndClearedOnce(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	var tk api.Ticket
	s.Must("POST", "/api/v1/tickets", `{"service":"E"}`, 201, &tk) // target 15 min
	c := &clock{t: tk.IssuedAt}
	m := alerts.New(alerts.Options{Hub: s.Hub, Clock: c.now, Log: quiet})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.add(15 * time.Minute)
	check(t, m)
	if got := logged(t, s); len(got) != 0 {
		t.Fatalf("at the target: %v", got)
	}
	c.add(time.Second)
	check(t, m)
	check(t, m)
	if got := strings.Join(logged(t, s), ", "); got != "raised wait_past_target:E" {
		t.Fatalf("past the target: %s", got)
	}
	if a := m.Active(); len(a) != 1 || a[0].Service != "E" {
		t.Fatalf("active: %+v", a)
	}

	again := alerts.New(alerts.Options{Hub: s.Hub, Clock: c.now, Log: quiet})
	if err := again.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := again.Active(); len(a) != 1 || a[0].Kind != alerts.WaitPastTarget {
		t.Fatalf("read back: %+v", a)
	}
	s.Must("POST", "/api/v1/tickets/"+tk.ID+"/cancel", `{}`, 200, nil)
	check(t, again) // nobody waits past the target from now
	c.add(59 * time.Second)
	check(t, again)
	if got := strings.Join(logged(t, s), ", "); got != "raised wait_past_target:E" {
		t.Fatalf("within the hold: %s", got)
	}
	c.add(time.Second)
	check(t, again)
	check(t, again)
	if got := strings.Join(logged(t, s), ", "); got != "raised wait_past_target:E, cleared wait_past_target:E" {
		t.Fatalf("after the hold: %s", got)
	}
	if r := again.Recent(); len(r) != 2 || !r[0].Cleared {
		t.Fatalf("recent: %+v", r)
	}
}

// A device that goes away (its will says offline) is alerted after the
// grace, and cleared when it is back; a kiosk whose printer runs out of
// paper is alerted at once.
func TestADeviceOfflinePastTheGraceAndAPrinterOutOfPaperAreAlerted(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("kiosk-hall", api.RoleKiosk, "")
	kiosk := s.Link("kiosk-hall", secret, api.RoleKiosk)
	kiosk.SetState(api.DeviceState{Printer: &api.PrinterHealth{OK: true}})
	sitetest.Eventually(t, 5*time.Second, "the kiosk's state", func() bool { st, ok := s.Bus.State("kiosk-hall"); return ok && st.Online })
	c := &clock{t: s.Hub.Now()}
	m := alerts.New(alerts.Options{Hub: s.Hub, Devices: s.Devices, State: s.Bus.State, Clock: c.now, Log: quiet})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	kiosk.SetState(api.DeviceState{Printer: &api.PrinterHealth{PaperOut: true}})
	sitetest.Eventually(t, 5*time.Second, "paper out", func() bool {
		st, _ := s.Bus.State("kiosk-hall")
		return st.Printer != nil && st.Printer.PaperOut
	})
	check(t, m)
	if a := m.Active(); len(a) != 1 || a[0].Kind != alerts.PrinterPaperOut || a[0].Device != "kiosk-hall" {
		t.Fatalf("active: %+v", a)
	}
	kiosk.Close() // its will: offline
	sitetest.Eventually(t, 5*time.Second, "the kiosk's will", func() bool { st, _ := s.Bus.State("kiosk-hall"); return !st.Online })
	check(t, m)
	c.add(time.Minute)
	check(t, m)
	var kinds []string
	for _, a := range m.Active() {
		kinds = append(kinds, string(a.Kind))
	}
	if strings.Join(kinds, " ") != "device_offline" {
		t.Fatalf("after a minute offline: %v (the printer's state is stale)", kinds)
	}
	back := s.Link("kiosk-hall", secret, api.RoleKiosk)
	back.SetState(api.DeviceState{Printer: &api.PrinterHealth{OK: true}})
	sitetest.Eventually(t, 5*time.Second, "the kiosk back", func() bool { st, _ := s.Bus.State("kiosk-hall"); return st.Online })
	check(t, m)
	c.add(time.Minute)
	check(t, m)
	if a := m.Active(); len(a) != 0 {
		t.Fatalf("back online: %+v", a)
	}
}

// A kiosk that brings tickets it printed from its lease (it could not
// reach the hub) raises offline_tickets on the hub's own monitor.
func TestTicketsPrintedOfflineRaiseAnAlert(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	kiosk := s.Link("kiosk-hall", s.AddDevice("kiosk-hall", api.RoleKiosk, ""), api.RoleKiosk)
	var lease queue.Lease
	sitetest.Eventually(t, 10*time.Second, "a lease for the kiosk", func() bool {
		found := false
		s.Engine(func(e *queue.Engine) {
			for _, l := range e.Leases("kiosk-hall") {
				if l.Service == "A" {
					lease, found = l, true
				}
			}
		})
		return found
	})
	printed := s.Hub.Now().Add(-time.Minute)
	rep, err := kiosk.Send(context.Background(), api.OpIssueTicket, api.IssueArgs{Service: "A", OfflineNumber: lease.From, IssuedAt: &printed})
	if err != nil || !rep.OK {
		t.Fatalf("the ticket printed offline: %v %+v", err, rep)
	}
	var tk api.Ticket
	json.Unmarshal(rep.Result, &tk)
	sitetest.Eventually(t, 5*time.Second, "the alert", func() bool {
		for _, a := range s.Alerts.Active() {
			if a.Kind == alerts.OfflineTickets && a.Device == "kiosk-hall" {
				return true
			}
		}
		return false
	})
	if got := logged(t, s); len(got) != 1 || got[0] != "raised offline_tickets:kiosk-hall" {
		t.Fatalf("logged: %v", got)
	}
}
