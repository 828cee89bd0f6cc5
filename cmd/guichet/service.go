package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"guichet/firmware/watchdog"
)

// roleService is a role's link with systemd (Type=notify, WatchdogSec=):
// READY=1 once the role serves, then watchdog pings while it lives. Outside
// systemd it does nothing.
type roleService struct {
	wd      *watchdog.Watchdog
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	turns   atomic.Int64 // Beat calls, for alive
	seen    int64        // turns at the last alive
	updates *updateFlags // started by ready; nil: none
}

// newRoleService reads systemd's environment (NOTIFY_SOCKET, WATCHDOG_USEC).
func newRoleService(log *slog.Logger) *roleService {
	return &roleService{wd: watchdog.New(watchdog.Options{Log: log}), cancel: func() {}}
}

// Beat is for a role with a main loop: call it at each turn.
func (s *roleService) Beat() { s.wd.Beat(); s.turns.Add(1) }

// alive reports whether the role's main loop turned since the last call
// (a role with a check: whether it answers).
func (s *roleService) alive(ctx context.Context, check func(context.Context) error) bool {
	if check != nil {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return check(ctx) == nil
	}
	n := s.turns.Load()
	ok := n > s.seen
	s.seen = n
	return ok
}

// ready tells systemd the role serves, and starts the pings. With a check,
// the pings go on while check answers (a role without one main loop);
// without, while Beat is called.
func (s *roleService) ready(ctx context.Context, status string, check func(context.Context) error) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Go(func() { s.wd.Run(ctx) })
	if t := s.wd.Timeout(); t > 0 && check != nil {
		every := min(5*time.Second, t/6)
		s.wg.Go(func() { s.wd.Probe(ctx, every, t/3, check) })
	}
	s.wd.Ready(status)
	if s.updates != nil && s.updates.link != nil {
		s.updates.start(ctx, s.updates.link, func(ctx context.Context) bool { return s.alive(ctx, check) })
	}
}

// stop tells systemd the role stops, and ends the pings.
func (s *roleService) stop() {
	s.wd.Stopping()
	s.cancel()
	s.wg.Wait()
}
