package kiosk_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/kiosk"
)

// openKiosk makes a kiosk on a fake link, its journal in dir.
func openKiosk(t testing.TB, f *fakeLink, pr printer.Printer, dir string, clock func() time.Time) *kiosk.Kiosk {
	t.Helper()
	k, err := kiosk.New(kiosk.Options{Link: f, Printer: pr, DataDir: dir, Poll: time.Hour, Timeout: 50 * time.Millisecond,
		Clock: clock, Log: nil}) // no logger: nothing logged, nothing breaks
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func newPrinter(t testing.TB) *virtual.Printer {
	p, err := virtual.New(filepath.Join(t.TempDir(), "tickets"), 80)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAKioskWithoutALoggerPrintsInsteadOfPanicking(t *testing.T) {
	f := newFakeLink()
	k := openKiosk(t, f, newPrinter(t), t.TempDir(), nil)
	f.deliver(topics.Config(), siteConfig)
	f.deliver(topics.Config(), `{"site":`) // logged: unreadable
	res, err := k.Issue(context.Background(), kiosk.Press{Service: "A"})
	if err != nil || res.Number != "A001" {
		t.Fatalf("issued %+v, %v", res, err)
	}
}

// A retained payload that does not decode changes nothing the kiosk shows
// or prints: decoded into the kiosk's state, a wrong field midway left it
// half overwritten (here, a lease of two numbers instead of fifty).
func TestAnUnreadableRetainedPayloadKeepsTheLastGoodOne(t *testing.T) {
	f := newFakeLink()
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, paris)
	k := openKiosk(t, f, newPrinter(t), t.TempDir(), func() time.Time { return now })
	lease := topics.Lease("kiosk-test")
	f.deliver(topics.Config(), siteConfig)
	f.deliver(lease, `{"device":"kiosk-test","blocks":[{"service":"A","day":"2026-03-02","from":901,"to":950}]}`)
	f.deliver(topics.Queue(), `{"services":[{"service":"A","waiting":3,"estimated_wait_s":600}]}`)
	if n := k.OfflineLeft("A"); n != 50 {
		t.Fatalf("%d offline numbers left of a lease of 50", n)
	}

	f.deliver(lease, `{"blocks":[{"service":"A","day":"2026-03-02","from":901,"to":902}],"device":42}`)
	f.deliver(topics.Config(), `{"services":[{"id":"A","channels":["visit"],"open":false}],"site":"Faux"}`)
	f.deliver(topics.Queue(), `{"services":[{"service":"A","estimated_wait_s":60}],"at":7}`)
	if n := k.OfflineLeft("A"); n != 50 {
		t.Fatalf("an unreadable lease left %d offline numbers of the 50 leased", n)
	}
	if v := k.View("fr"); v.Site != "Mairie de Test" || len(v.Services) != 2 || !v.Services[0].Open {
		t.Fatalf("an unreadable configuration changed the menu: %+v", v)
	}
	f.set(false, true) // offline: the ticket says the queue's last good estimate
	res, err := k.Issue(context.Background(), kiosk.Press{Service: "A"})
	if err != nil || res.Number != "A901" || res.Wait != 10*time.Minute {
		t.Fatalf("offline ticket %+v (%v): want A901 with the 10 min estimate", res, err)
	}
}

// The journal keeps its days by the kiosk's clock: at start it forgets the
// days before yesterday of that clock, not of the machine's (a kiosk whose
// clock is injected — a test, a replay — forgot the offline numbers it had
// used today and printed them a second time).
func TestTheJournalKeepsOfflineNumbersByTheKiosksClock(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2020, 6, 1, 9, 0, 0, 0, paris)
	clock := func() time.Time { return now }
	dir := t.TempDir()
	f := newFakeLink()
	f.set(false, true)
	pr := newPrinter(t)
	lease := `{"device":"kiosk-test","blocks":[{"service":"A","day":"2020-06-01","from":1,"to":3}]}`
	k := openKiosk(t, f, pr, dir, clock)
	f.deliver(topics.Config(), siteConfig)
	f.deliver(topics.Lease("kiosk-test"), lease)
	if res, err := k.Issue(context.Background(), kiosk.Press{Service: "A"}); err != nil || res.Number != "A001" {
		t.Fatalf("first offline ticket %+v, %v", res, err)
	}
	k.Close()

	// Restarted the same day, the hub still out of reach.
	k = openKiosk(t, f, pr, dir, clock)
	f.deliver(topics.Config(), siteConfig)
	f.deliver(topics.Lease("kiosk-test"), lease)
	if n := k.OfflineLeft("A"); n != 2 {
		t.Fatalf("%d offline numbers left after a restart, want 2 of 3", n)
	}
	if res, err := k.Issue(context.Background(), kiosk.Press{Service: "A"}); err != nil || res.Number != "A002" {
		t.Fatalf("second offline ticket %+v, %v: want A002", res, err)
	}
}

// stuckPrinter jams every print; its status (ready) does not answer until
// released.
type stuckPrinter struct {
	*virtual.Printer
	release chan struct{}
	reads   atomic.Int32
}

func (s *stuckPrinter) Print(context.Context, []byte) error { return errors.New("cutter jam") }
func (s *stuckPrinter) Status(ctx context.Context) (printer.Status, error) {
	s.reads.Add(1)
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return printer.Status{}, nil
}

// goroutinesIn counts the goroutines whose stack holds fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), fn)
}

// A ticket that does not print makes the kiosk read its printer at once —
// in Run, which its caller owns and stops; it left a goroutine of its own,
// that outlived the kiosk while the printer did not answer.
func TestAFailedPrintIsCheckedByRunNotByAGoroutineLeftBehind(t *testing.T) {
	f := newFakeLink()
	pr := &stuckPrinter{Printer: newPrinter(t), release: make(chan struct{})}
	defer close(pr.release)
	k := openKiosk(t, f, pr, t.TempDir(), nil)
	f.deliver(topics.Config(), siteConfig)
	if _, err := k.Issue(context.Background(), kiosk.Press{Service: "A"}); err == nil {
		t.Fatal("a jammed print gave a ticket")
	}
	k.Close()
	if n := goroutinesIn("kiosk.(*Kiosk).pollPrinter"); n != 0 {
		t.Fatalf("%d goroutines still read the printer of a closed kiosk", n)
	}

	// Run reads the printer at once after a failed print, not at its next
	// poll (an hour away).
	k = openKiosk(t, f, pr, t.TempDir(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { k.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	pr.release <- struct{}{} // Run's first read
	k.Issue(context.Background(), kiosk.Press{Service: "A"})
	select {
	case pr.release <- struct{}{}:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not read the printer after a failed print")
	}
	if n := pr.reads.Load(); n != 2 { // Run's first, and this one
		t.Fatalf("%d reads of the printer", n)
	}
}

// Retained payloads that are not the hub's are refused whole, and the
// kiosk keeps the last good one: a lease of every number made OfflineLeft
// (and the next offline ticket) count to 2^63; another kiosk's lease was
// taken for its own; a wait of 300 years overflowed into a negative
// estimate printed on the ticket.
func TestAForgedLeaseOrWaitIsRefusedWhole(t *testing.T) {
	for name, forged := range map[string]struct{ topic, payload string }{
		"a lease of every number": {topics.Lease("kiosk-test"),
			`{"device":"kiosk-test","blocks":[{"service":"A","day":"2026-03-02","from":1,"to":9223372036854775807}]}`},
		"another kiosk's lease": {topics.Lease("kiosk-test"),
			`{"device":"kiosk-other","blocks":[{"service":"A","day":"2026-03-02","from":1,"to":3}]}`},
		"a wait of 300 years": {topics.Queue(), `{"services":[{"service":"A","waiting":3,"estimated_wait_s":9500000000}]}`},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeLink()
			paris, _ := time.LoadLocation("Europe/Paris")
			now := time.Date(2026, 3, 2, 10, 0, 0, 0, paris)
			k := openKiosk(t, f, newPrinter(t), t.TempDir(), func() time.Time { return now })
			f.deliver(topics.Config(), siteConfig)
			f.deliver(topics.Lease("kiosk-test"), `{"device":"kiosk-test","blocks":[{"service":"A","day":"2026-03-02","from":901,"to":950}]}`)
			f.deliver(topics.Queue(), `{"services":[{"service":"A","waiting":3,"estimated_wait_s":600}]}`)
			done := make(chan int, 1)
			go func() {
				f.deliver(forged.topic, forged.payload)
				done <- k.OfflineLeft("A")
			}()
			select {
			case n := <-done:
				if n != 50 {
					t.Fatalf("%d offline numbers left, want the 50 of the hub's lease", n)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the kiosk still counts the numbers of a forged lease after 5 s")
			}
			f.set(false, true)
			res, err := k.Issue(context.Background(), kiosk.Press{Service: "A"})
			if err != nil || res.Number != "A901" || res.Wait != 10*time.Minute {
				t.Fatalf("offline ticket %+v (%v): want A901 with the hub's 10 min estimate", res, err)
			}
		})
	}
}
