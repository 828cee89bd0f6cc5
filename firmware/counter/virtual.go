package counter

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Virtual is a counter terminal on virtual hardware, for the demo and the
// benchmarks: periph's gpiotest pins stand for the buttons and the LED, so
// a virtual press goes through the same debounce, outbox and link as a
// finger on a real button.
type Virtual struct {
	*Terminal
	Pins map[string]*gpiotest.Pin
	LED  *gpiotest.Pin
}

// NewVirtual makes a terminal on virtual pins; o.Pins and o.LED are
// replaced.
func NewVirtual(o Options) (*Virtual, error) {
	v := &Virtual{Pins: map[string]*gpiotest.Pin{}, LED: &gpiotest.Pin{N: "LED", L: gpio.Low}}
	o.Pins = map[string]gpio.PinIn{}
	for _, b := range Buttons {
		p := &gpiotest.Pin{N: "virtual-" + b, L: gpio.High, EdgesChan: make(chan gpio.Level, 16)}
		v.Pins[b], o.Pins[b] = p, p
	}
	o.LED = v.LED
	t, err := New(o)
	if err != nil {
		return nil, err
	}
	v.Terminal = t
	return v, nil
}

// Tap presses a virtual button: its contact closes now and opens 60 ms
// later. It returns at once.
func (v *Virtual) Tap(b string) error {
	p := v.Pins[b]
	if p == nil {
		return fmt.Errorf("unknown button %q", b)
	}
	select {
	case p.EdgesChan <- gpio.Low:
	default:
		return fmt.Errorf("button %s: too many presses at once", b)
	}
	time.AfterFunc(60*time.Millisecond, func() {
		select {
		case p.EdgesChan <- gpio.High:
		default:
		}
	})
	return nil
}
