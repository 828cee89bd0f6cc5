// Package button reads push buttons wired to GPIO inputs (periph.io) and
// turns their edges into presses: one press per press window, whatever the
// contacts bounce, however long the button is held, however hard it is
// hammered. periph's own debouncing ignores its setting (periph/conn#5),
// hence this one.
package button

import (
	"context"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Button is a push button between a GPIO input and ground, the input
// pulled up: pressed reads Low.
type Button struct {
	Pin gpio.PinIn
	// Settle is how long the input must stay released before another press
	// counts (contact bounce): 30 ms if zero.
	Settle time.Duration
	// Window is the shortest time between two presses: a citizen hammering
	// the button gets one ticket per window. 1 s if zero.
	Window time.Duration
	// Poll bounds each wait for an edge (periph asks for finite timeouts).
	Poll time.Duration
}

// Run sends a press on presses each time the button is pressed, until ctx
// ends. It returns the error of setting the pin up.
func (b *Button) Run(ctx context.Context, presses chan<- time.Time) error {
	settle, window, poll := b.Settle, b.Window, b.Poll
	if settle <= 0 {
		settle = 30 * time.Millisecond
	}
	if window <= 0 {
		window = time.Second
	}
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	if err := b.Pin.In(gpio.PullUp, gpio.BothEdges); err != nil {
		return err
	}
	// armed: released long enough for the next press to count.
	armed := b.Pin.Read() == gpio.High
	var last, releasedAt time.Time
	releasing := false
	for ctx.Err() == nil {
		wait := poll
		if releasing {
			wait = max(settle-time.Since(releasedAt), time.Millisecond)
		}
		edge := b.Pin.WaitForEdge(wait)
		now := time.Now()
		if b.Pin.Read() == gpio.Low {
			releasing = false
			if armed && (last.IsZero() || now.Sub(last) >= window) {
				armed, last = false, now
				select {
				case presses <- now:
				case <-ctx.Done():
					return nil
				}
			}
			continue
		}
		if edge && !releasing {
			releasing, releasedAt = true, now
		}
		if releasing && now.Sub(releasedAt) >= settle {
			releasing, armed = false, true
		}
	}
	return nil
}
