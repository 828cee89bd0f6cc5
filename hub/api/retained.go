package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// What a device reads: the hub's retained payloads (config, queue, board,
// counter/{id}, lease/{device}). Devices decode them with these functions,
// which check, beyond the JSON, what a device computes with: counts,
// numbers and durations within bounds the hub never exceeds, so that a
// payload that is not the hub's (forged on a misconfigured broker, cut,
// replayed from an older build) is refused whole, with an error, rather
// than make a kiosk loop over a billion leased numbers or print a negative
// wait. Fields the device does not know are ignored, as a newer hub may
// add some.

// Bounds of the retained payloads.
const (
	MaxServices   = 26  // one per capital letter
	MaxBoardCalls = 50  // the longest board a site may configure
	MaxLeaseSize  = 500 // numbers in one leased block
	MaxLeases     = 1024
	MaxCounters   = 1000
	MaxCount      = 1_000_000 // people waiting, ahead
	// MaxWait bounds the waits and estimates in seconds (a year): beyond,
	// they are not estimates (the hub's views never say more).
	MaxWait = 366 * 24 * 3600
)

// ErrRetained is the error of every refused retained payload.
var ErrRetained = errors.New("not a payload of the hub")

func retainedErr(what, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrRetained, what, fmt.Sprintf(format, args...))
}

// decodeRetained decodes a retained payload: one JSON value, valid Unicode
// text (see CheckText), unknown fields ignored.
func decodeRetained(what string, p []byte, v any) error {
	if err := CheckText(p); err != nil {
		return retainedErr(what, "%v", err)
	}
	if err := json.Unmarshal(p, v); err != nil {
		return retainedErr(what, "%v", err)
	}
	return nil
}

// ParseConfig decodes the retained site configuration.
func ParseConfig(p []byte) (SiteConfig, error) {
	var c SiteConfig
	if err := decodeRetained("config", p, &c); err != nil {
		return SiteConfig{}, err
	}
	if len(c.Services) > MaxServices {
		return SiteConfig{}, retainedErr("config", "%d services, at most %d", len(c.Services), MaxServices)
	}
	seen := map[string]bool{}
	for _, s := range c.Services {
		if err := checkService(s.ID, seen); err != nil {
			return SiteConfig{}, retainedErr("config", "%v", err)
		}
		if s.SLASeconds < 0 || s.SLASeconds > MaxWait || s.ServiceTime < 0 || s.ServiceTime > MaxWait {
			return SiteConfig{}, retainedErr("config", "service %s: durations out of range", s.ID)
		}
	}
	if len(c.Counters) > MaxCounters {
		return SiteConfig{}, retainedErr("config", "%d counters, at most %d", len(c.Counters), MaxCounters)
	}
	if k := c.Site.Clock; k != nil && !(k.Speed > 0 && k.Speed <= 10_000) {
		return SiteConfig{}, retainedErr("config", "a simulated clock's speed is 0 to 10,000")
	}
	return c, nil
}

// checkService checks a service id: one capital letter, not seen before.
func checkService(id string, seen map[string]bool) error {
	if len(id) != 1 || id[0] < 'A' || id[0] > 'Z' {
		return fmt.Errorf("service %q: a service is one capital letter", id)
	}
	if seen[id] {
		return fmt.Errorf("service %s listed twice", id)
	}
	seen[id] = true
	return nil
}

// ParseQueue decodes the retained queue summary.
func ParseQueue(p []byte) (Queue, error) {
	var q Queue
	if err := decodeRetained("queue", p, &q); err != nil {
		return Queue{}, err
	}
	if len(q.Services) > MaxServices {
		return Queue{}, retainedErr("queue", "%d services, at most %d", len(q.Services), MaxServices)
	}
	seen := map[string]bool{}
	for _, s := range q.Services {
		if err := checkService(s.Service, seen); err != nil {
			return Queue{}, retainedErr("queue", "%v", err)
		}
		for _, n := range []int{s.Waiting, s.WaitingPhone, s.Ahead, s.AheadPhone} {
			if n < 0 || n > MaxCount {
				return Queue{}, retainedErr("queue", "service %s: a count of %d", s.Service, n)
			}
		}
		for _, w := range []*int{&s.LongestWait, s.EstimatedWait, s.EstimatedWaitPhone,
			s.EstimatedWaitMin, s.EstimatedWaitMax, s.EstimatedWaitPhoneMin, s.EstimatedWaitPhoneMax} {
			if w != nil && (*w < 0 || *w > MaxWait) {
				return Queue{}, retainedErr("queue", "service %s: a wait of %d s", s.Service, *w)
			}
		}
		if !(s.Agents >= 0 && s.Agents <= MaxCounters) {
			return Queue{}, retainedErr("queue", "service %s: %g agents", s.Service, s.Agents)
		}
	}
	return q, nil
}

// ParseBoard decodes the retained board.
func ParseBoard(p []byte) (Board, error) {
	var b Board
	if err := decodeRetained("board", p, &b); err != nil {
		return Board{}, err
	}
	if len(b.Calls) > MaxBoardCalls {
		return Board{}, retainedErr("board", "%d calls, at most %d", len(b.Calls), MaxBoardCalls)
	}
	for _, c := range b.Calls {
		if _, _, ok := ParseNumber(c.Ticket); !ok {
			return Board{}, retainedErr("board", "%q is not a ticket number", c.Ticket)
		}
		if c.Counter == "" || len(c.Counter) > 64 {
			return Board{}, retainedErr("board", "a call to counter %q", c.Counter)
		}
	}
	return b, nil
}

// ParseCounter decodes the retained state of counter id.
func ParseCounter(p []byte, id string) (Counter, error) {
	var c Counter
	if err := decodeRetained("counter", p, &c); err != nil {
		return Counter{}, err
	}
	if c.ID != id {
		return Counter{}, retainedErr("counter", "the state of counter %q, not %q", c.ID, id)
	}
	if t := c.Ticket; t != nil {
		if _, _, ok := ParseNumber(t.Number); !ok {
			return Counter{}, retainedErr("counter", "%q is not a ticket number", t.Number)
		}
	}
	return c, nil
}

// ParseLeases decodes the retained lease of device: blocks of one service
// and day each, of 1 to MaxLeaseSize numbers within 1 to MaxNumber, their
// used numbers within them.
func ParseLeases(p []byte, device string) (Leases, error) {
	var l Leases
	if err := decodeRetained("lease", p, &l); err != nil {
		return Leases{}, err
	}
	if l.Device != device {
		return Leases{}, retainedErr("lease", "the lease of device %q, not %q", l.Device, device)
	}
	if len(l.Blocks) > MaxLeases {
		return Leases{}, retainedErr("lease", "%d blocks, at most %d", len(l.Blocks), MaxLeases)
	}
	for _, b := range l.Blocks {
		if err := checkService(b.Service, map[string]bool{}); err != nil {
			return Leases{}, retainedErr("lease", "%v", err)
		}
		if _, err := time.Parse(time.DateOnly, b.Day); err != nil {
			return Leases{}, retainedErr("lease", "day %q", b.Day)
		}
		if b.From < 1 || b.To > MaxNumber || b.From > b.To || b.To-b.From >= MaxLeaseSize {
			return Leases{}, retainedErr("lease", "block %d to %d: at most %d numbers within 1 to %d", b.From, b.To, MaxLeaseSize, MaxNumber)
		}
		if len(b.Used) > b.To-b.From+1 {
			return Leases{}, retainedErr("lease", "block %d to %d: %d used", b.From, b.To, len(b.Used))
		}
		for _, n := range b.Used {
			if n < b.From || n > b.To {
				return Leases{}, retainedErr("lease", "number %d used in block %d to %d", n, b.From, b.To)
			}
		}
	}
	return l, nil
}
