package update

import (
	"context"
	"errors"
	"fmt"
	"guichet/internal/release"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"aead.dev/minisign"
)

// BinaryName and SigName are a version folder's files.
const (
	BinaryName = release.BinaryName
	SigName    = release.SigName
)

// Device is one device's updates: its folder, the key it trusts, what it
// runs.
type Device struct {
	Dir     string             // DATA/update
	Key     minisign.PublicKey // the hub's update key, written at enrollment
	Arch    string             // release.HostArch() if empty
	Version string             // the version of the running binary
	Now     func() time.Time   // time.Now if nil
	Log     *slog.Logger
}

func (d *Device) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Device) arch() string {
	if d.Arch != "" {
		return d.Arch
	}
	return release.HostArch()
}

// State reads the device's update state.
func (d *Device) State() (State, error) { return LoadState(d.Dir) }

// link reads the version a link (current, prev) points to; "" if none.
func (d *Device) link(name string) string {
	v, err := os.Readlink(filepath.Join(d.Dir, name))
	if err != nil || release.ValidVersion(v) != nil {
		return ""
	}
	return v
}

// setLink points link name at version v atomically ("" removes it).
func (d *Device) setLink(name, v string) error {
	p := filepath.Join(d.Dir, name)
	if v == "" {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return syncDir(d.Dir)
	}
	tmp := p + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(v, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(d.Dir)
}

// Decide says why a manifest is refused (nil: it may be installed), before
// or after its signature is checked.
func (d *Device) Decide(st State, m release.Manifest) error {
	floor := d.Version
	if release.Compare(st.Highest, floor) > 0 {
		floor = st.Highest
	}
	switch {
	case m.Arch != d.arch():
		return release.Refuse(release.ReasonWrongArch, "built for %s, this device is %s", m.Arch, d.arch())
	case m.Flavour != release.FlavourDevice:
		return release.Refuse(release.ReasonWrongFlavour, "the %s's build, a device installs the device's (guichet-device-linux-%s)", m.Flavour, m.Arch)
	case st.IsBad(m.Version):
		return release.Refuse(release.ReasonBadVersion, "%s was rolled back on this device before", m.Version)
	case st.Retry != nil && st.Retry.Version == m.Version && d.now().Before(st.Retry.After):
		return release.Refuse(release.ReasonOffline, "%s never reached the hub on its last try; tried again after %s", m.Version, st.Retry.After.Format(time.RFC3339))
	case release.Compare(m.Version, floor) <= 0:
		return release.Refuse(release.ReasonOldVersion, "%s is not above %s, the highest this device ran", m.Version, floor)
	case m.MinVersion != "" && release.Compare(d.Version, m.MinVersion) < 0:
		return release.Refuse(release.ReasonTooOld, "%s needs at least %s to update from; this device runs %s", m.Version, m.MinVersion, d.Version)
	case st.Trial != nil:
		return release.Refuse(StateTrial, "%s is on trial", st.Trial.Version)
	}
	return nil
}

// Install verifies a bundle as it writes it beside the running version,
// then swaps it in: the new version is current, on trial, and the process
// should exit for the launcher to start it. A refusal leaves everything as
// it was, and is recorded as the last outcome.
func (d *Device) Install(binary io.Reader, sig []byte) (release.Manifest, error) {
	m, err := d.install(binary, sig)
	if err != nil {
		d.record(Status{State: StateFailed, Version: m.Version, Reason: release.Reason(err)})
	}
	return m, err
}

func (d *Device) install(binary io.Reader, sig []byte) (release.Manifest, error) {
	if err := os.MkdirAll(d.Dir, 0o750); err != nil {
		return release.Manifest{}, release.Fail(release.ReasonDisk, err)
	}
	st, err := d.State()
	if err != nil {
		return release.Manifest{}, release.Fail(release.ReasonDisk, err)
	}
	hint, _, err := release.PeekManifest(sig)
	if err != nil {
		return hint, err
	}
	if err := d.Decide(st, hint); err != nil {
		return hint, err
	}
	incoming := filepath.Join(d.Dir, ".incoming")
	os.RemoveAll(incoming)
	if err := os.Mkdir(incoming, 0o750); err != nil {
		return hint, release.Fail(release.ReasonDisk, err)
	}
	defer os.RemoveAll(incoming)
	f, err := os.OpenFile(filepath.Join(incoming, BinaryName), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o750)
	if err != nil {
		return hint, release.Fail(release.ReasonDisk, err)
	}
	w := &errWriter{w: f}
	m, verr := release.Verify(d.Key, io.TeeReader(binary, w), sig)
	if w.err != nil {
		f.Close()
		return hint, release.Fail(release.ReasonDisk, w.err)
	}
	if verr != nil {
		f.Close()
		return hint, verr
	}
	if err := d.Decide(st, m); err != nil { // the signed manifest, this time
		f.Close()
		return m, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return m, release.Fail(release.ReasonDisk, err)
	}
	if err := f.Close(); err != nil {
		return m, release.Fail(release.ReasonDisk, err)
	}
	if err := writeAtomic(incoming, SigName, sig); err != nil {
		return m, release.Fail(release.ReasonDisk, err)
	}
	final := filepath.Join(d.Dir, m.Version)
	if err := os.RemoveAll(final); err != nil {
		return m, release.Fail(release.ReasonDisk, err)
	}
	if err := os.Rename(incoming, final); err != nil {
		return m, release.Fail(release.ReasonDisk, err)
	}
	if err := syncDir(d.Dir); err != nil {
		return m, release.Fail(release.ReasonDisk, err)
	}
	// The trial is recorded before the swap: a power cut between the two
	// leaves a trial whose version is not current, which Launch undoes.
	cur := d.link("current")
	st.Trial = &Trial{Version: m.Version, Prev: cur, Since: d.now().UTC()}
	st.Last = Status{State: StateTrial, Version: m.Version, At: d.now().UTC()}
	if err := st.save(d.Dir); err != nil {
		return m, release.Fail(release.ReasonDisk, err)
	}
	if err := d.setLink("prev", cur); err != nil {
		return m, release.Fail(release.ReasonDisk, err)
	}
	if err := d.setLink("current", m.Version); err != nil {
		return m, release.Fail(release.ReasonDisk, err)
	}
	d.prune(m.Version, cur)
	d.Log.Info("update installed: the new version starts on trial", "version", m.Version, "prev", orPackaged(cur))
	return m, nil
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
	return len(p), nil // the verifier reads on; the write error is reported after
}

// prune removes the version folders but keep.
func (d *Device) prune(keep ...string) {
	ents, _ := os.ReadDir(d.Dir)
	for _, e := range ents {
		if !e.IsDir() || release.ValidVersion(e.Name()) != nil {
			continue
		}
		if !contains(keep, e.Name()) {
			os.RemoveAll(filepath.Join(d.Dir, e.Name()))
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x != "" && y == x {
			return true
		}
	}
	return false
}

func orPackaged(v string) string {
	if v == "" {
		return "packaged"
	}
	return v
}

// record saves the last outcome, unless it is the one already saved (a
// device that refuses the same bundle every hour writes nothing).
func (d *Device) record(s Status) {
	st, err := d.State()
	if err != nil {
		d.Log.Warn("update state unreadable", "err", err)
		return
	}
	if st.Last.State == s.State && st.Last.Version == s.Version && st.Last.Reason == s.Reason {
		return
	}
	s.At = d.now().UTC()
	st.Last = s
	if err := os.MkdirAll(d.Dir, 0o750); err == nil {
		err = st.save(d.Dir)
	}
	if err != nil {
		d.Log.Warn("save the update state", "err", err)
	}
}

// Launch settles a trial and returns the binary to run in place of the
// packaged one, open (nil: run the packaged one). The packaged binary calls
// it at each start:
//
//   - a trial started before and not committed (it crashed, hung, or did
//     not report healthy in time) is rolled back: current goes back to
//     prev, its version is marked bad;
//   - a trial whose swap a power cut interrupted is dropped;
//   - else a trial's start is counted, and current runs if its signature
//     verifies again (the data directory is writable by the service: what
//     runs is checked each time), it is above the packaged version, above
//     or at the highest, and not bad.
//
// A trial is settled whenever its version is not the one returned: none
// is left pending for a binary that will never run it.
//
// The binary is verified from the file returned, as read from it: the
// caller runs that file (ExecPath), not its path, which another process
// could have swapped since.
func (d *Device) Launch() (*os.File, error) {
	st, err := d.State()
	if err != nil {
		return nil, err
	}
	cur := d.link("current")
	if t := st.Trial; t != nil {
		switch {
		case cur != t.Version:
			st.Trial = nil
			st.Last = Status{State: StateFailed, Version: t.Version, Reason: release.ReasonDisk, At: d.now().UTC()}
			if st.IsBad(t.Version) {
				st.Last = Status{State: StateRolledBack, Version: t.Version, Reason: release.ReasonUnhealthy, At: d.now().UTC()}
			}
			d.Log.Warn("update: the swap to a new version was interrupted; running the previous", "version", t.Version)
			if err := st.save(d.Dir); err != nil {
				return nil, err
			}
		case t.Boots >= 1:
			if err := d.rollback(&st, release.ReasonUnhealthy, true); err != nil {
				return nil, err
			}
			cur = d.link("current")
		default:
			t.Boots++
			if err := st.save(d.Dir); err != nil {
				return nil, err
			}
		}
	}
	if cur == "" {
		return nil, nil
	}
	// From here, a trial pending is current's.
	onTrial := st.Trial != nil
	f, m, err := d.open(cur)
	switch {
	case err != nil && onTrial:
		// The version on trial no longer verifies (the card, or someone,
		// changed it): rolled back now, and what was before runs.
		d.Log.Error("update: the version on trial does not verify; rolling back", "version", cur, "err", err)
		if err := d.rollback(&st, release.ReasonBadSignature, true); err != nil {
			return nil, err
		}
		return d.Launch()
	case err != nil:
		d.Log.Error("update: the installed version does not verify; running the packaged one", "version", cur, "err", err)
		return nil, nil
	case m.Version != cur || m.Arch != d.arch() || m.Flavour != release.FlavourDevice:
		f.Close()
		d.Log.Error("update: the installed version is not what its folder says; running the packaged one", "folder", cur, "version", m.Version, "arch", m.Arch, "flavour", m.Flavour)
		return nil, d.settle(&st, release.ReasonBadSignature, true)
	case release.Compare(m.Version, d.Version) <= 0:
		f.Close()
		// The package was upgraded past it: a trial of it is moot.
		return nil, d.settle(&st, "", false)
	case st.IsBad(m.Version) || release.Compare(m.Version, st.Highest) < 0 && !onTrial:
		f.Close()
		d.Log.Error("update: the installed version is bad or below the highest; running the packaged one", "version", m.Version)
		return nil, d.settle(&st, release.ReasonBadVersion, true)
	}
	return f, nil
}

// open opens version v's binary and verifies it from the open file.
func (d *Device) open(v string) (*os.File, release.Manifest, error) {
	dir := filepath.Join(d.Dir, v)
	sig, err := os.ReadFile(filepath.Join(dir, SigName))
	if err != nil {
		return nil, release.Manifest{}, release.Refuse(release.ReasonBadSignature, "signature: %w", err)
	}
	f, err := os.Open(filepath.Join(dir, BinaryName))
	if err != nil {
		return nil, release.Manifest{}, release.Fail(release.ReasonDisk, err)
	}
	m, err := release.Verify(d.Key, f, sig)
	if err != nil {
		f.Close()
		return nil, m, err
	}
	return f, m, nil
}

// ExecPath is the path that runs an open file: the file itself, whatever
// its path now names (Linux resolves it before exec closes the process's
// files).
func ExecPath(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }

// settle, when Launch runs something else than the trial pending, ends
// it: rolled back (bad or not, for reason), or dropped when reason is "".
func (d *Device) settle(st *State, reason string, bad bool) error {
	if st.Trial == nil {
		return nil
	}
	if reason != "" {
		return d.rollback(st, reason, bad)
	}
	d.Log.Warn("update: the package is at or above the version on trial; dropping the trial", "version", st.Trial.Version, "packaged", d.Version)
	st.Trial = nil
	st.Last = Status{State: StateIdle, Version: d.Version, At: d.now().UTC()}
	return st.save(d.Dir)
}

// rollback undoes the trial: current is prev again, and its version is
// bad (never tried again) when bad, else retried later, at most
// MaxOfflineTries times. Each step is idempotent: a power cut in the
// middle is finished by the next start.
func (d *Device) rollback(st *State, reason string, bad bool) error {
	t := st.Trial
	if !bad {
		r := st.Retry
		if r == nil || r.Version != t.Version {
			r = &Retry{Version: t.Version}
		}
		r.Tries++
		r.After = d.now().UTC().Add(time.Duration(r.Tries) * OfflineBackoff)
		st.Retry = r
		if r.Tries >= MaxOfflineTries {
			bad = true
		}
	}
	if bad {
		st.markBad(t.Version)
		if st.Retry != nil && st.Retry.Version == t.Version {
			st.Retry = nil
		}
	}
	if err := st.save(d.Dir); err != nil {
		return err
	}
	prev := d.link("prev")
	if prev == t.Version {
		prev = ""
	}
	if err := d.setLink("current", prev); err != nil {
		return err
	}
	if err := d.setLink("prev", ""); err != nil {
		return err
	}
	st.Trial = nil
	st.Last = Status{State: StateRolledBack, Version: t.Version, Reason: reason, At: d.now().UTC()}
	if err := st.save(d.Dir); err != nil {
		return err
	}
	d.prune(prev)
	d.Log.Warn("update rolled back", "version", t.Version, "reason", reason, "never_again", bad, "back_to", orPackaged(prev))
	return nil
}

// Health is what a version on trial shows of itself.
type Health struct {
	Connected bool // to the hub
	Turning   bool // its main loop turns
}

// WatchTrial, in a process whose version is on trial, waits for health to
// say connected and turning (checked every interval) and commits the
// version: it is the new floor. It returns nil at once when nothing is on
// trial. Otherwise it returns an *release.Error, and the process should
// exit for the launcher to run what was before:
//
//   - a trial of another version than this process's (a binary signed as
//     another version than it is): rolled back at once, marked bad
//     (release.ReasonWrongVersion);
//   - deadline passed with the loop turning but never connected (the hub
//     or the network is down, not the version's fault): rolled back now,
//     tried again later (release.ReasonOffline);
//   - deadline passed with the loop not turning: release.ReasonUnhealthy,
//     and the launcher rolls it back, bad, at its next start.
func (d *Device) WatchTrial(ctx context.Context, health func() Health, every, deadline time.Duration) error {
	st, err := d.State()
	if err != nil || st.Trial == nil {
		return err
	}
	if st.Trial.Version != d.Version {
		d.Log.Error("update: the version on trial is not this binary's; rolling it back", "trial", st.Trial.Version, "running", d.Version)
		tv := st.Trial.Version
		if err := d.rollback(&st, release.ReasonWrongVersion, true); err != nil {
			return fmt.Errorf("roll back %s: %w", tv, err)
		}
		return release.Refuse(release.ReasonWrongVersion, "%s on trial, this binary is %s", tv, d.Version)
	}
	d.Log.Info("update: this version is on trial", "version", d.Version, "deadline", deadline)
	t := time.NewTicker(every)
	defer t.Stop()
	end := time.NewTimer(deadline)
	defer end.Stop()
	for h := health(); !h.Connected || !h.Turning; h = health() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-end.C:
			if h.Turning {
				d.Log.Warn("update: this version never reached the hub in time; rolling back, to try again later", "version", d.Version, "deadline", deadline)
				if err := d.rollback(&st, release.ReasonOffline, false); err != nil {
					return fmt.Errorf("roll back %s: %w", d.Version, err)
				}
				return release.Refuse(release.ReasonOffline, "%s not connected within %s", d.Version, deadline)
			}
			d.Log.Error("update: this version did not report healthy in time; exiting for the launcher to roll it back", "version", d.Version, "deadline", deadline)
			return release.Refuse(release.ReasonUnhealthy, "%s not healthy within %s", d.Version, deadline)
		case <-t.C:
		}
	}
	return d.commit()
}

// commit makes the version on trial the device's own.
func (d *Device) commit() error {
	st, err := d.State()
	if err != nil {
		return err
	}
	if st.Trial == nil || st.Trial.Version != d.Version {
		return nil
	}
	if release.Compare(d.Version, st.Highest) > 0 {
		st.Highest = d.Version
	}
	st.Trial = nil
	if st.Retry != nil && release.Compare(st.Retry.Version, d.Version) <= 0 {
		st.Retry = nil
	}
	st.Last = Status{State: StateIdle, Version: d.Version, At: d.now().UTC()}
	if err := st.save(d.Dir); err != nil {
		return fmt.Errorf("commit update %s: %w", d.Version, err)
	}
	d.Log.Info("update: this version is healthy, kept", "version", d.Version)
	return nil
}

// LaunchedEnv marks a process the launcher started, which must not launch
// in turn.
const LaunchedEnv = "GUICHET_UPDATE_LAUNCHED"

// Launched reports whether this process was started by the launcher.
func Launched() bool { return strings.TrimSpace(os.Getenv(LaunchedEnv)) == "1" }
