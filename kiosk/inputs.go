package kiosk

import (
	"context"
	"errors"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"guichet/hw/button"
	"guichet/hw/scanner"
)

// Inputs are the kiosk's physical inputs: a push button per service, an
// optional priority-public button, an LED per service (lit while it takes
// tickets), an optional code scanner for appointments.
type Inputs struct {
	Buttons  map[string]gpio.PinIn  // service → its button
	Priority gpio.PinIn             // pressed before a service: a priority ticket
	LEDs     map[string]gpio.PinOut // service → its LED
	Scanner  *scanner.Scanner
	Lang     string // language of tickets from buttons
	// Window is the shortest time between two tickets of one button: 1 s if zero.
	Window time.Duration
}

// priorityWindow is how long a press of the priority-public button holds
// for the next service button.
const priorityWindow = 15 * time.Second

// RunInputs turns presses and scans into tickets and keeps the LEDs up to
// date, until ctx ends.
func (k *Kiosk) RunInputs(ctx context.Context, in Inputs) error {
	if in.Lang == "" {
		in.Lang = "fr"
	}
	type press struct {
		service  string
		priority bool
	}
	presses := make(chan press, 16)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(in.Buttons)+1)
	start := func(pin gpio.PinIn, p press) {
		ch := make(chan time.Time, 4)
		wg.Add(2)
		go func() {
			defer wg.Done()
			b := &button.Button{Pin: pin, Window: in.Window}
			if err := b.Run(ctx, ch); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-ch:
					select {
					case presses <- p:
					default: // a ticket is already waiting: one at a time
					}
				}
			}
		}()
	}
	for svc, pin := range in.Buttons {
		start(pin, press{service: svc})
	}
	if in.Priority != nil {
		start(in.Priority, press{priority: true})
	}
	codes := make(chan string, 4)
	if in.Scanner != nil {
		in.Scanner.Log = k.log
		wg.Add(1)
		go func() { defer wg.Done(); in.Scanner.Run(ctx, codes) }()
	}
	changes, stop := k.Watch()
	defer stop()
	k.setLEDs(in.LEDs)
	var priorityUntil time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return err
		case <-changes:
			k.setLEDs(in.LEDs)
		case p := <-presses:
			if p.priority {
				priorityUntil = k.o.Clock().Add(priorityWindow)
				continue
			}
			prio := k.o.Clock().Before(priorityUntil)
			priorityUntil = time.Time{}
			res, err := k.Issue(ctx, Press{Service: p.service, Priority: prio, Lang: in.Lang})
			k.logIssue("button", res, err)
		case code := <-codes:
			res, err := k.CheckIn(ctx, code, in.Lang)
			k.logIssue("scanner", res, err)
		}
	}
}

func (k *Kiosk) logIssue(from string, res Result, err error) {
	var ref *Refusal
	switch {
	case errors.As(err, &ref):
		k.log.Info("no ticket", "from", from, "why", ref.Code)
	case err != nil:
		k.log.Error("no ticket", "from", from, "err", err)
	default:
		k.log.Debug("ticket", "from", from, "number", res.Number)
	}
}

// setLEDs lights the LED of each service that takes tickets now.
func (k *Kiosk) setLEDs(leds map[string]gpio.PinOut) {
	if len(leds) == 0 {
		return
	}
	v := k.View("fr")
	on := map[string]bool{}
	for _, s := range v.Services {
		on[s.Service] = s.Open && !v.Unavailable
	}
	for svc, led := range leds {
		l := gpio.Low
		if on[svc] {
			l = gpio.High
		}
		if err := led.Out(l); err != nil {
			k.log.Warn("LED", "service", svc, "err", err)
		}
	}
}
