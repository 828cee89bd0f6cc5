// Package clock is the time of a simulated day at the town hall, shared by
// the hub, its devices and the simulator (guichet demo --simulate): the
// days run Speed times faster than real time from their opening at 08:30
// to their closing at 17:30, and the next day opens as soon as one closes.
// The hub records its events at this time, so its waits, service times and
// estimates are the simulated day's, at any speed.
//
// Only the reading of the real clock is scaled: under testing/synctest the
// real clock is the bubble's fake one, and a whole day replays in virtual
// time, at ×1 as at ×600.
package clock

import (
	"context"
	"time"
)

// Opening is a simulated day's opening time; DayLength its length.
const (
	Opening   = 8*time.Hour + 30*time.Minute
	DayLength = 9 * time.Hour
)

// Day is a simulated day's clock. Its zero value is not usable: see New.
type Day struct {
	start time.Time // real time the first day opened
	day0  time.Time // the first day's opening, simulated
	speed float64
}

// New starts a simulated day at its opening on the real clock's day, in
// loc, running speed times faster than real time (1 if not positive).
func New(loc *time.Location, speed float64) *Day {
	if speed <= 0 {
		speed = 1
	}
	now := time.Now()
	t := now.In(loc)
	return &Day{start: now, speed: speed,
		day0: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc).Add(Opening)}
}

// NewAfter is New, unless the simulated day would open at or before last
// (a kept data directory whose log already holds that day, or later ones):
// then the first day is the one after last's, so that the simulated time
// never goes back behind what the log holds.
func NewAfter(loc *time.Location, speed float64, last time.Time) *Day {
	c := New(loc, speed)
	if last.IsZero() || c.day0.After(last) {
		return c
	}
	l := last.In(loc)
	c.day0 = time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc).Add(Opening)
	return c
}

// Speed is how many times faster than real time the days run.
func (c *Day) Speed() float64 { return c.speed }

// Clock returns the simulated day (0 the first) and the time since it
// opened.
func (c *Day) Clock() (day int, sinceOpening time.Duration) {
	return c.split(time.Since(c.start))
}

func (c *Day) split(real time.Duration) (int, time.Duration) {
	d := time.Duration(float64(real) * c.speed)
	return int(d / DayLength), d % DayLength
}

// Now is the simulated time, without a monotonic reading. It never goes
// back: from one day's closing it jumps to the next day's opening.
func (c *Day) Now() time.Time {
	day, at := c.Clock()
	return c.day0.AddDate(0, 0, day).Add(at)
}

// Epoch returns a real instant and the simulated time at that instant: from
// there the current day runs Speed times faster until it closes.
func (c *Day) Epoch() (real, simulated time.Time) {
	real = time.Now()
	day, at := c.split(real.Sub(c.start))
	return real, c.day0.AddDate(0, 0, day).Add(at)
}

// After is time.After for d of simulated time.
func (c *Day) After(d time.Duration) <-chan time.Time {
	return time.After(c.Real(d))
}

// Sleep waits d of simulated time; false if ctx ended first.
func (c *Day) Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(c.Real(d))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Real is how long d of simulated time lasts in real time.
func (c *Day) Real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.speed)
}
