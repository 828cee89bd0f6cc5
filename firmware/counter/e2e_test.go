package counter_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"guichet/firmware/counter"
	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// desk is a counter terminal on fake pins, linked to a real hub.
type desk struct {
	link *link.Link
	term *counter.Terminal
	pins map[string]*gpiotest.Pin
	led  *gpiotest.Pin
	stop func()
}

func openDesk(t *testing.T, s *sitetest.Site, id, secret, counterID, agent, dir string) *desk {
	l, err := link.Open(s.LinkOptions(id, secret, api.RoleCounter, dir))
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{link: l, pins: map[string]*gpiotest.Pin{}, led: &gpiotest.Pin{N: "GPIO5"}}
	pins := map[string]gpio.PinIn{}
	for _, b := range counter.Buttons {
		p := &gpiotest.Pin{N: b, L: gpio.High, EdgesChan: make(chan gpio.Level, 64)}
		d.pins[b], pins[b] = p, p
	}
	d.term, err = counter.New(counter.Options{Link: l, Counter: counterID, Agent: agent, Pins: pins, LED: d.led,
		Window: 300 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.MultiWriter(s.Logs, io.Discard), nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.term.Run(ctx) }()
	d.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		l.Close()
	}
	t.Cleanup(func() {
		if d.stop != nil {
			d.stop()
		}
	})
	time.Sleep(100 * time.Millisecond) // the fake pins drop edges sent before the buttons set them up
	return d
}

func (d *desk) close() { d.stop(); d.stop = nil }

// tap presses and releases a button as a finger does.
func (d *desk) tap(b string) {
	d.pins[b].EdgesChan <- gpio.Low
	time.Sleep(60 * time.Millisecond)
	d.pins[b].EdgesChan <- gpio.High
	time.Sleep(350 * time.Millisecond)
}

func counterState(t *testing.T, s *sitetest.Site, id string) api.Counter {
	var c api.Counter
	s.Must("GET", "/api/v1/counters/"+id, "", 200, &c)
	return c
}

func events(t *testing.T, s *sitetest.Site) []string {
	var page struct{ Events []struct{ Type string } }
	s.Must("GET", "/api/v1/events?limit=1000", "", 200, &page)
	var out []string
	for _, e := range page.Events {
		out = append(out, e.Type)
	}
	return out
}

func count(evs []string, typ string) int {
	n := 0
	for _, e := range evs {
		if e == typ {
			n++
		}
	}
	return n
}

func TestPressesDuringACutAreDoneOnceWhenTheLinkIsBack(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{OpenHours: true})
	secret := s.AddDevice("desk-3", api.RoleCounter, "3")
	dir := t.TempDir()
	d := openDesk(t, s, "desk-3", secret, "3", "ana", dir)
	sitetest.Eventually(t, 5*time.Second, "counter 3 opened for ana by its terminal", func() bool {
		c := counterState(t, s, "3")
		return c.Open && c.Agent == "ana"
	})
	for i := 0; i < 3; i++ {
		s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	}

	d.tap(counter.Next)
	sitetest.Eventually(t, 3*time.Second, "A001 called at counter 3, on the desk display, LED lit", func() bool {
		c := counterState(t, s, "3")
		st := d.term.State()
		return c.Ticket != nil && c.Ticket.Number == "A001" && st.Frame.Big == "A001" && d.led.Read() == gpio.High
	})

	// The hub goes away. The agent recalls, then calls the next one, twice.
	s.Stop()
	sitetest.Eventually(t, 10*time.Second, "the terminal sees the link down", func() bool { return !d.link.Connected() })
	d.tap(counter.Recall)
	d.tap(counter.Next)
	d.tap(counter.Next)
	if ops := pendingOps(d.link); ops != "recall,call_next" {
		t.Fatalf("outbox during the cut: %s", ops)
	}
	if f := d.term.State().Frame; f.Bottom != "2 à envoyer au retour" || !strings.Contains(f.Top, "hors ligne") {
		t.Fatalf("desk display during the cut: %+v", f)
	}
	// The terminal reboots during the cut: the presses are in its outbox.
	d.close()
	s.Restart()
	d = openDesk(t, s, "desk-3", secret, "3", "ana", dir)
	sitetest.Eventually(t, 10*time.Second, "A002 called once the link is back", func() bool {
		c := counterState(t, s, "3")
		return c.Ticket != nil && c.Ticket.Number == "A002" && d.link.Pending() == 0
	})
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show
	evs := events(t, s)
	if n := count(evs, "ticket.called"); n != 2 {
		t.Fatalf("%d calls for A001 and A002: %v", n, evs)
	}
	if n := count(evs, "ticket.recalled"); n != 1 {
		t.Fatalf("%d recalls for one press: %v", n, evs)
	}
	var q api.Queue
	s.Must("GET", "/api/v1/queue", "", 200, &q)
	if q.Services[0].Waiting != 1 {
		t.Fatalf("A003 should still wait: %+v", q.Services[0])
	}
	sitetest.Eventually(t, 3*time.Second, "the desk display shows A002", func() bool { return d.term.State().Frame.Big == "A002" })
}

func pendingOps(l *link.Link) string {
	var ops []string
	for _, e := range l.PendingEntries() {
		ops = append(ops, e.Op)
	}
	return strings.Join(ops, ",")
}

// A terminal acts only for the counter it is registered for: one set up for
// counter 4 but registered at counter 2 calls at counter 2, says so on its
// display, and never touches counter 4.
func TestATerminalActsOnlyForItsOwnCounter(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{OpenHours: true})
	secret := s.AddDevice("desk-2", api.RoleCounter, "2")
	s.Must("POST", "/api/v1/counters/4/open", `{"agent":"dan"}`, 200, nil)
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	d := openDesk(t, s, "desk-2", secret, "4", "", t.TempDir())

	d.tap(counter.Next) // counter 2 is closed: refused
	sitetest.Eventually(t, 3*time.Second, "the refusal shown", func() bool {
		f := d.term.State().Frame
		return f.Alert && f.Bottom == "Guichet fermé"
	})
	if c := counterState(t, s, "4"); c.Ticket != nil {
		t.Fatalf("counter 4 called %s on desk-2's press", c.Ticket.Number)
	}
	s.Must("POST", "/api/v1/counters/2/open", `{"agent":"cat"}`, 200, nil)
	time.Sleep(350 * time.Millisecond)
	d.tap(counter.Next)
	sitetest.Eventually(t, 3*time.Second, "A001 called at counter 2, the mismatch on the display", func() bool {
		c := counterState(t, s, "2")
		return c.Ticket != nil && c.Ticket.Number == "A001" && strings.Contains(d.term.State().Frame.Bottom, "Enregistré au guichet 2")
	})
	if c := counterState(t, s, "4"); c.Ticket != nil {
		t.Fatalf("counter 4 called %s", c.Ticket.Number)
	}
	if !strings.Contains(s.Logs.String(), "registered for another counter") {
		t.Fatal("no log line for the mismatch")
	}
}
