package kiosk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/creack/pty"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"guichet/hw/printer"
	"guichet/hw/scanner"
	"guichet/internal/sitetest"
	"guichet/kiosk"
)

func pin(name string) *gpiotest.Pin {
	return &gpiotest.Pin{N: name, L: gpio.High, EdgesChan: make(chan gpio.Level, 64)}
}

// level sets a fake pin and lets the bubble's goroutines act on it.
func level(p *gpiotest.Pin, l gpio.Level) {
	p.EdgesChan <- l
	synctest.Wait()
}

// tap presses and releases a button.
func tap(p *gpiotest.Pin) {
	level(p, gpio.Low)
	time.Sleep(60 * time.Millisecond)
	level(p, gpio.High)
	time.Sleep(60 * time.Millisecond)
}

// The buttons, the priority button and the LEDs, in virtual time: the
// kiosk on a fake link and a virtual printer.
func TestButtonsAndLEDsDriveTheKiosk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeLink()
		pr := newPrinter(t)
		k, err := kiosk.New(kiosk.Options{Link: f, Printer: pr, DataDir: t.TempDir(), Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		f.deliver(topics.Config(), siteConfig)
		btnA, btnE, btnP := pin("GPIO17"), pin("GPIO27"), pin("GPIO22")
		ledA, ledE := pin("GPIO5"), pin("GPIO6")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 2)
		go func() { k.Run(ctx); done <- nil }()
		go func() {
			done <- k.RunInputs(ctx, kiosk.Inputs{
				Buttons: map[string]gpio.PinIn{"A": btnA, "E": btnE}, Priority: btnP,
				LEDs: map[string]gpio.PinOut{"A": ledA, "E": ledE}, Window: 500 * time.Millisecond})
		}()
		synctest.Wait()
		if ledA.Read() != gpio.High || ledE.Read() != gpio.High {
			t.Fatal("the LEDs of open services are not lit")
		}

		tap(btnE)
		if n := len(pr.Pages()); n != 1 {
			t.Fatalf("%d tickets for a tap on E", n)
		}

		// Twenty taps in a second: a citizen hammering the button gets one
		// ticket per half-second window.
		for i := 0; i < 20; i++ {
			level(btnA, gpio.Low)
			time.Sleep(20 * time.Millisecond)
			level(btnA, gpio.High)
			time.Sleep(30 * time.Millisecond)
		}
		synctest.Wait()
		if n := len(pr.Pages()) - 1; n != 2 {
			t.Fatalf("%d tickets after a burst of twenty taps on A in a second", n)
		}
		time.Sleep(600 * time.Millisecond)

		// Priority, then a service.
		tap(btnP)
		before := len(pr.Pages())
		tap(btnE)
		if len(pr.Pages()) != before+1 {
			t.Fatal("no priority ticket")
		}
		if last := f.issued[len(f.issued)-1]; last.Priority != "priority" || last.Service != "E" {
			t.Fatalf("last ticket asked %+v", last)
		}
		// The priority press is for the next ticket only.
		time.Sleep(600 * time.Millisecond)
		tap(btnE)
		if last := f.issued[len(f.issued)-1]; last.Priority != "" {
			t.Fatalf("the ticket after a priority ticket asked %+v", last)
		}

		// The paper runs out: the LEDs go dark; a press prints nothing.
		pr.SetStatus(printer.Status{PaperOut: true})
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if ledA.Read() != gpio.Low || ledE.Read() != gpio.Low {
			t.Fatal("the LEDs stay lit without paper")
		}
		before = len(pr.Pages())
		time.Sleep(600 * time.Millisecond)
		tap(btnA)
		if n := len(pr.Pages()); n != before {
			t.Fatal("printed without paper")
		}
		pr.SetStatus(printer.Status{})
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if ledA.Read() != gpio.High {
			t.Fatal("the LEDs stay dark with paper back")
		}
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	})
}

// A scanned appointment code prints the appointment's ticket, through a
// real hub (the scanner reads a real pseudo-terminal, outside virtual time).
func TestAScannedAppointmentPrintsItsTicket(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	r := newRig(t, s, "kiosk-hall")
	r.ready()
	m, sl, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer sl.Close()
	sc, _ := scanner.Parse("serial:" + sl.Name())
	sc.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.kiosk.RunInputs(ctx, kiosk.Inputs{Scanner: sc}) }()

	at := time.Now().Add(5 * time.Minute).Truncate(time.Minute)
	s.Must("POST", "/api/v1/appointments", fmt.Sprintf(`{"code":"RDV-5555","service":"A","at":%q}`, at.Format(time.RFC3339)), 201, nil)
	// The scanner may open the port after the first write: the code is
	// typed again until it prints (a second check-in would be refused).
	sitetest.Eventually(t, 5*time.Second, "the appointment ticket", func() bool {
		if len(r.printer.Pages()) == 1 {
			return true
		}
		m.Write([]byte("RDV-5555\r\n"))
		return false
	})
	tks := s.Tickets()
	if len(tks) != 1 || tks[0].Priority != "appointment" {
		t.Fatalf("tickets %+v", tks)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
