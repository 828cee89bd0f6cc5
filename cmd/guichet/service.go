package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"guichet/firmware/watchdog"
)

// roleService is a role's link with systemd (Type=notify, WatchdogSec=):
// READY=1 once the role serves, then watchdog pings while it lives. Outside
// systemd it does nothing.
type roleService struct {
	wd     *watchdog.Watchdog
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// newRoleService reads systemd's environment (NOTIFY_SOCKET, WATCHDOG_USEC).
func newRoleService(log *slog.Logger) *roleService {
	return &roleService{wd: watchdog.New(watchdog.Options{Log: log}), cancel: func() {}}
}

// Beat is for a role with a main loop: call it at each turn.
func (s *roleService) Beat() { s.wd.Beat() }

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
}

// stop tells systemd the role stops, and ends the pings.
func (s *roleService) stop() {
	s.wd.Stopping()
	s.cancel()
	s.wg.Wait()
}
