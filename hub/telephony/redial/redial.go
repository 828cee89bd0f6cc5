// Package redial is the loop an adapter runs to stay connected to its
// telephone system: one session after another until the context ends, with
// a wait between two attempts that doubles after each failure, is half
// random (so that a hub's adapters do not all knock at once after a PBX
// restart) and starts again from the minimum once a session got up.
package redial

import (
	"context"
	"time"
)

// Backoff bounds the wait between two connection attempts.
type Backoff struct {
	Min, Max time.Duration
	// Jitter returns a number in [0, 1).
	Jitter func() float64
}

// Delay is the wait before attempt n+1 (n failures so far): Min·2ⁿ capped
// at Max, of which the second half is random.
func (b Backoff) Delay(n int) time.Duration {
	d := b.Max
	if n < 30 {
		d = min(b.Min<<n, b.Max)
	}
	return d/2 + time.Duration(b.Jitter()*float64(d/2))
}

// Session is one connection: it returns when the connection ends, saying
// whether it got up (logged in and resynchronised) before it did.
type Session func(ctx context.Context) (up bool, err error)

// Run runs session again and again until ctx ends, which it returns.
// After each session that ended it calls lost with the session's error and
// the wait before the next attempt (for the adapter's log line).
func Run(ctx context.Context, b Backoff, session Session, lost func(err error, wait time.Duration)) error {
	failures := 0
	for {
		up, err := session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if up {
			failures = 0
		}
		wait := b.Delay(failures)
		failures++
		lost(err, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
