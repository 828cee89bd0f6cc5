package button

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// rig runs a button on a fake pin in virtual time; press and release drive
// the pin as a finger would.
type rig struct {
	pin     *gpiotest.Pin
	presses chan time.Time
	got     []time.Time
}

// newRig starts a button; stop cancels it and waits for it to return.
func newRig(t *testing.T) (r *rig, stop func()) {
	r = &rig{pin: &gpiotest.Pin{N: "GPIO17", L: gpio.High, EdgesChan: make(chan gpio.Level, 64)}, presses: make(chan time.Time, 128)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	b := &Button{Pin: r.pin}
	go func() { done <- b.Run(ctx, r.presses) }()
	time.Sleep(time.Millisecond)
	return r, func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func (r *rig) level(l gpio.Level) {
	r.pin.EdgesChan <- l
	synctest.Wait()
}

// bounce makes the contacts chatter for a few milliseconds, then settle at l.
func (r *rig) bounce(l gpio.Level) {
	for i := 0; i < 5; i++ {
		r.level(gpio.Low)
		time.Sleep(300 * time.Microsecond)
		r.level(gpio.High)
		time.Sleep(300 * time.Microsecond)
	}
	r.level(l)
}

func (r *rig) count() int {
	for {
		select {
		case p := <-r.presses:
			r.got = append(r.got, p)
		default:
			return len(r.got)
		}
	}
}

func TestBouncingContactsGiveOnePress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, cancel := newRig(t)
		defer cancel()
		r.bounce(gpio.Low) // press
		time.Sleep(200 * time.Millisecond)
		r.bounce(gpio.High) // release
		time.Sleep(2 * time.Second)
		if n := r.count(); n != 1 {
			t.Fatalf("%d presses for one bouncing press", n)
		}
	})
}

func TestHeldButtonGivesOnePress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, cancel := newRig(t)
		defer cancel()
		r.level(gpio.Low)
		time.Sleep(30 * time.Second) // a citizen leaning on it
		if n := r.count(); n != 1 {
			t.Fatalf("%d presses while held", n)
		}
		r.level(gpio.High)
		time.Sleep(2 * time.Second)
		r.level(gpio.Low) // a real second press
		time.Sleep(100 * time.Millisecond)
		if n := r.count(); n != 2 {
			t.Fatalf("%d presses after release and a new press", n)
		}
	})
}

func TestFiftyPressesInARow(t *testing.T) {
	t.Run("hammered", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r, cancel := newRig(t)
			defer cancel()
			start := time.Now()
			for i := 0; i < 50; i++ { // five presses a second for ten seconds
				r.bounce(gpio.Low)
				time.Sleep(80 * time.Millisecond)
				r.bounce(gpio.High)
				time.Sleep(100 * time.Millisecond)
			}
			elapsed := time.Since(start)
			n := r.count()
			// One ticket per one-second window, not fifty.
			if max := int(elapsed/time.Second) + 1; n < max-1 || n > max {
				t.Fatalf("%d presses in %s of hammering, want one a second (%d)", n, elapsed, max)
			}
			for i := 1; i < len(r.got); i++ {
				if d := r.got[i].Sub(r.got[i-1]); d < time.Second {
					t.Fatalf("two presses %s apart", d)
				}
			}
		})
	})
	t.Run("deliberate", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r, cancel := newRig(t)
			defer cancel()
			for i := 0; i < 50; i++ { // fifty people, one after the other
				r.bounce(gpio.Low)
				time.Sleep(300 * time.Millisecond)
				r.bounce(gpio.High)
				time.Sleep(1200 * time.Millisecond)
			}
			if n := r.count(); n != 50 {
				t.Fatalf("%d presses for fifty deliberate presses", n)
			}
		})
	})
}
