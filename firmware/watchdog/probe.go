package watchdog

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Probe beats the watchdog for a role whose work is not one loop (the hub,
// the display, a counter terminal): every interval it runs check, and beats
// only if check returns nil within the timeout. A check that hangs — a
// lock held forever, a handler that never answers — stops the beats, so
// the pings, so systemd restarts the service. At most one check runs at a
// time: a hung one is not piled upon. Probe returns when ctx ends.
func (w *Watchdog) Probe(ctx context.Context, interval, timeout time.Duration, check func(context.Context) error) {
	if w.timeout <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var running chan error
	failing := false
	for {
		if running == nil {
			running = make(chan error, 1)
			c, cancel := context.WithTimeout(ctx, timeout)
			go func(done chan<- error) { done <- check(c); cancel() }(running)
		}
		select {
		case <-ctx.Done():
			return
		case err := <-running:
			running = nil
			switch {
			case err == nil:
				w.Beat()
				if failing {
					w.log.Info("the health check passes again")
					failing = false
				}
			case !failing:
				w.log.Error("the health check fails: no watchdog beat", "err", err)
				failing = true
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// HandlerAnswers returns a check that serves GET path through h in the
// process (no socket) and succeeds when h answers at all — a 503 from a
// hub whose disk is full is an answer: restarting would not help it. It
// fails when h has not answered when ctx ends.
func HandlerAnswers(h http.Handler, path string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
		if err != nil {
			return err
		}
		req.RemoteAddr = "127.0.0.1:0"
		done := make(chan struct{})
		go func() { h.ServeHTTP(discard{h: http.Header{}}, req); close(done) }()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("GET %s: no answer: %w", path, ctx.Err())
		}
	}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}
