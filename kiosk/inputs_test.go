package kiosk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
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

// tap presses and releases a button.
func tap(p *gpiotest.Pin) {
	p.EdgesChan <- gpio.Low
	time.Sleep(60 * time.Millisecond)
	p.EdgesChan <- gpio.High
	time.Sleep(60 * time.Millisecond)
}

func TestButtonsLEDsAndScannerDriveTheKiosk(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	r := newRig(t, s, "kiosk-hall")
	r.ready()
	btnA, btnE, btnP := pin("GPIO17"), pin("GPIO27"), pin("GPIO22")
	ledA, ledE := pin("GPIO5"), pin("GPIO6")
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
	go func() {
		done <- r.kiosk.RunInputs(ctx, kiosk.Inputs{
			Buttons: map[string]gpio.PinIn{"A": btnA, "E": btnE}, Priority: btnP,
			LEDs: map[string]gpio.PinOut{"A": ledA, "E": ledE}, Scanner: sc, Window: 500 * time.Millisecond})
	}()
	sitetest.Eventually(t, 3*time.Second, "the LEDs of open services lit", func() bool { return ledA.Read() == gpio.High && ledE.Read() == gpio.High })
	time.Sleep(100 * time.Millisecond) // the fake pins drop edges sent before the buttons set them up

	tap(btnE)
	sitetest.Eventually(t, 3*time.Second, "E001 printed", func() bool { return len(r.printer.Pages()) == 1 })

	// Twenty taps in a second: a citizen hammering the button.
	for i := 0; i < 20; i++ {
		btnA.EdgesChan <- gpio.Low
		time.Sleep(20 * time.Millisecond)
		btnA.EdgesChan <- gpio.High
		time.Sleep(30 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(r.printer.Pages()); n < 2 || n > 3 {
		t.Fatalf("%d tickets after a burst of twenty taps on A", n-1)
	}
	time.Sleep(600 * time.Millisecond)

	// Priority, then a service.
	tap(btnP)
	before := len(r.printer.Pages())
	tap(btnE)
	sitetest.Eventually(t, 3*time.Second, "the priority ticket", func() bool { return len(r.printer.Pages()) == before+1 })
	if tks := s.Tickets(); tks[len(tks)-1].Priority != "priority" {
		t.Fatalf("last ticket %+v", tks[len(tks)-1])
	}

	// An appointment scanned.
	at := time.Now().Add(5 * time.Minute).Truncate(time.Minute)
	s.Must("POST", "/api/v1/appointments", fmt.Sprintf(`{"code":"RDV-5555","service":"A","at":%q}`, at.Format(time.RFC3339)), 201, nil)
	before = len(r.printer.Pages())
	m.Write([]byte("RDV-5555\r\n"))
	sitetest.Eventually(t, 3*time.Second, "the appointment ticket", func() bool { return len(r.printer.Pages()) == before+1 })

	// The paper runs out: the LEDs go dark; a press prints nothing.
	r.printer.SetStatus(printer.Status{PaperOut: true})
	sitetest.Eventually(t, 3*time.Second, "the LEDs off", func() bool { return ledA.Read() == gpio.Low && ledE.Read() == gpio.Low })
	before = len(r.printer.Pages())
	tap(btnA)
	time.Sleep(300 * time.Millisecond)
	if n := len(r.printer.Pages()); n != before {
		t.Fatal("printed without paper")
	}
	r.printer.SetStatus(printer.Status{})
	sitetest.Eventually(t, 3*time.Second, "the LEDs back on", func() bool { return ledA.Read() == gpio.High })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
