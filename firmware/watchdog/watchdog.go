// Package watchdog tells systemd that a device works (sd_notify): READY=1
// once the role is up, then WATCHDOG=1 pings — but only while the role's
// main loop really turns. Each turn of the loop calls Beat; a ping is sent
// only if the loop beat since the previous ping. A loop that stalls (a
// printer that never answers, a deadlock) stops the pings, and systemd,
// after WatchdogSec= without one, kills the service and starts it again
// (Restart=always in the units of packaging/).
//
// Without systemd (NOTIFY_SOCKET unset) it does nothing and costs nothing.
// It never writes to disk.
package watchdog

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Options configures a Watchdog; zero fields take the environment's.
type Options struct {
	// Timeout is systemd's WatchdogSec: pings are sent every Timeout/2.
	// Zero: WATCHDOG_USEC from the environment (no pings if unset).
	Timeout time.Duration
	// Notify sends one sd_notify message; daemon.SdNotify if nil (the
	// socket NOTIFY_SOCKET names). It reports whether a socket was there.
	Notify func(state string) (bool, error)
	// Log receives a line when the loop stalls and when it turns again.
	Log *slog.Logger
}

// Watchdog reports a role's liveness to systemd.
type Watchdog struct {
	timeout time.Duration
	notify  func(string) (bool, error)
	log     *slog.Logger
	beats   atomic.Int64 // Beat calls since the last ping
	pings   atomic.Int64 // pings sent, for tests and figures
	warned  atomic.Bool  // a failed sd_notify was logged: not again
}

// New returns a Watchdog. It reads the environment once, here.
func New(o Options) *Watchdog {
	w := &Watchdog{timeout: o.Timeout, notify: o.Notify, log: o.Log}
	if w.notify == nil {
		w.notify = func(s string) (bool, error) { return daemon.SdNotify(false, s) }
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.timeout == 0 {
		w.timeout = fromEnv()
	}
	return w
}

// fromEnv reads WATCHDOG_USEC, meant for this process when WATCHDOG_PID is
// unset or names it.
func fromEnv() time.Duration {
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0
	}
	us, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || us <= 0 {
		return 0
	}
	return time.Duration(us) * time.Microsecond
}

// Timeout returns systemd's watchdog timeout; zero when there is none.
func (w *Watchdog) Timeout() time.Duration { return w.timeout }

// Ready tells systemd the service has started (Type=notify), with a
// status line systemctl status shows.
func (w *Watchdog) Ready(status string) {
	w.send("READY=1\nSTATUS=" + status)
}

// Stopping tells systemd the service is stopping.
func (w *Watchdog) Stopping() { w.send("STOPPING=1") }

// Beat says the main loop turned once. It is cheap: call it every turn.
func (w *Watchdog) Beat() { w.beats.Add(1) }

// Pings returns how many watchdog pings were sent.
func (w *Watchdog) Pings() int64 { return w.pings.Load() }

// Run sends a ping every Timeout/2 while the loop beats, until ctx ends.
// Without a timeout it returns at once.
func (w *Watchdog) Run(ctx context.Context) {
	if w.timeout <= 0 {
		return
	}
	t := time.NewTicker(w.timeout / 2)
	defer t.Stop()
	stalled := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if w.beats.Swap(0) == 0 {
			if !stalled {
				w.log.Error("the main loop has not turned: no watchdog ping (systemd restarts the service if it does not turn again)",
					"since", (w.timeout / 2).String())
				stalled = true
			}
			continue
		}
		if stalled {
			w.log.Info("the main loop turns again: watchdog pings resume")
			stalled = false
		}
		if w.send("WATCHDOG=1") {
			w.pings.Add(1)
		}
	}
}

func (w *Watchdog) send(state string) bool {
	ok, err := w.notify(state)
	if err != nil && !w.warned.Swap(true) { // once: not a line per ping
		w.log.Warn("sd_notify: systemd does not hear this service", "err", err)
	}
	return ok && err == nil
}
