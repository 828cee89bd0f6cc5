package redial

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// Sessions that fail wait Min·2ⁿ (half random) up to Max; a session that got
// up starts the waits again from Min; the loop ends with its context.
func TestRunWaitsLongerAfterEachFailureAndAgainFromMinAfterASessionGotUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		refused := errors.New("refused")
		b := Backoff{Min: time.Second, Max: 4 * time.Second, Jitter: func() float64 { return 1 }}
		start := time.Now()
		var starts []time.Duration
		ups := map[int]bool{3: true} // the 4th session gets up, then drops
		session := func(ctx context.Context) (bool, error) {
			starts = append(starts, time.Since(start))
			if len(starts) == 7 {
				cancel()
				return false, ctx.Err()
			}
			return ups[len(starts)-1], refused
		}
		var waits []time.Duration
		err := Run(ctx, b, session, func(err error, wait time.Duration) {
			if !errors.Is(err, refused) {
				t.Errorf("lost got %v, want the session's error", err)
			}
			waits = append(waits, wait)
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v, want context.Canceled", err)
		}
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, time.Second, 2 * time.Second, 4 * time.Second}
		if len(waits) != len(want) {
			t.Fatalf("waits %v, want %v", waits, want)
		}
		for i := range want {
			if waits[i] != want[i] {
				t.Errorf("wait %d = %v, want %v (all: %v)", i, waits[i], want[i], waits)
			}
		}
		if got := starts[len(starts)-1]; got != 14*time.Second {
			t.Errorf("the 7th session started at %v, want 14s", got)
		}
	})
}
