package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"guichet/firmware/link"
	"guichet/firmware/update"
	"guichet/hub/api"
	"guichet/internal/release"
)

// exitUpdate is the exit status of a role that stops for its update (a new
// version installed, or a trial that failed): systemd (Restart=always)
// starts it again, and the launcher settles which binary runs.
const exitUpdate = 3

// exitCode, when set, is the status the process exits with after its
// command returned.
var exitCode atomic.Int32

// updateFlags are a device's update settings (docs/install.md).
type updateFlags struct {
	url, key, ca     string
	every, deadline  time.Duration
	dev              *update.Device
	checker          *update.Checker
	log              *slog.Logger
	link             *link.Link
	launchedFromPack bool
}

func (u *updateFlags) register(fs interface {
	StringVar(*string, string, string, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}) {
	fs.StringVar(&u.url, "update-url", "", "the hub's web address, where signed updates are fetched (https://hub.mairie.local; empty: no updates)")
	fs.StringVar(&u.key, "update-key", "", "the public key updates must be signed with (minisign's format; written at enrollment)")
	fs.StringVar(&u.ca, "update-ca", "", "CA certificate (PEM) of the hub's HTTPS, when no public authority signs it (written at enrollment with --hub-ca)")
	fs.DurationVar(&u.every, "update-every", time.Hour, "how often to ask the hub for an update")
	fs.DurationVar(&u.deadline, "update-deadline", 3*time.Minute, "a new version must be connected to the hub and turning within this, or it is rolled back (bad if its loop did not turn; tried again later if it only never reached the hub)")
}

// launch, at a role's start, settles a trial and runs the installed
// update in place of this binary (exec: the same process for systemd). It
// returns when this binary is the one to run.
func (u *updateFlags) launch(data, device, secret string, log *slog.Logger) error {
	if u.key == "" {
		return nil
	}
	key, err := release.ReadPublicKey(u.key)
	if err != nil {
		return fmt.Errorf("--update-key: %w", err)
	}
	u.log = log
	u.dev = &update.Device{Dir: data + "/update", Key: key, Version: version, Log: log}
	if u.url != "" {
		client, err := enrollClient(u.ca) // the system's authorities, or the hub's own
		if err != nil {
			return fmt.Errorf("--update-ca: %w", err)
		}
		if client == http.DefaultClient {
			client = &http.Client{}
		}
		client.Timeout = 15 * time.Minute // a whole binary on a slow link; a hung hub does not hold the checks forever
		u.checker = &update.Checker{Device: u.dev, Hub: u.url, DeviceID: device, Secret: secret, Client: client}
	}
	if update.Launched() {
		return nil
	}
	f, err := u.dev.Launch()
	if err != nil {
		log.Error("update: the launcher could not settle the update state; running this binary", "err", err)
		return nil
	}
	if f == nil {
		return nil
	}
	log.Info("update: running the installed version", "path", f.Name())
	env := append(os.Environ(), update.LaunchedEnv+"=1")
	return execOpen(f, append([]string{f.Name()}, os.Args[1:]...), env)
}

// execOpen runs the open file f in place of this process: the file that
// was verified, whatever its path names now. It returns only on failure.
func execOpen(f *os.File, argv, env []string) error {
	defer f.Close()
	if err := syscall.Exec(update.ExecPath(f), argv, env); err != nil {
		// A binary that cannot even start (another architecture, a missing
		// library): its trial start is counted, the next start rolls back.
		return fmt.Errorf("update: exec %s: %w", f.Name(), err)
	}
	return nil
}

// start, once the role serves, watches a trial (healthy: connected to the
// hub and alive) and checks for updates. A failed trial or a new version
// installed stops the process (as SIGTERM does) with status exitUpdate.
func (u *updateFlags) start(ctx context.Context, l *link.Link, alive func(context.Context) bool) {
	if u.dev == nil {
		return
	}
	stop := func(why string) {
		u.log.Info("stopping for the update: systemd starts the service again", "why", why)
		exitCode.Store(exitUpdate)
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
	go func() {
		healthy := func() update.Health { return update.Health{Connected: l.Connected(), Turning: alive(ctx)} }
		if err := u.dev.WatchTrial(ctx, healthy, time.Second, u.deadline); err != nil {
			if ctx.Err() == nil {
				stop("the trial of this version failed (" + release.Reason(err) + ")")
			}
			return
		}
		if u.checker != nil {
			u.checker.Run(ctx, u.every, func() { stop("a new version is installed") })
		}
	}()
}

// status is the device's update state for its health; nil without updates.
func (u *updateFlags) status() *api.DeviceUpdate {
	if u.dev == nil {
		return nil
	}
	return u.dev.Status()
}
