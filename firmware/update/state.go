package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"guichet/hub/api"
	"guichet/internal/atomicfile"
)

// The states a device's update is in, as it reports them.
const (
	StateIdle        = api.UpdateIdle        // running its newest version; nothing under way
	StateDownloading = api.UpdateDownloading // fetching and verifying a bundle
	StateTrial       = api.UpdateTrial       // a new version runs, not yet healthy
	StateRolledBack  = api.UpdateRolledBack  // the last new version failed and was undone
	StateFailed      = api.UpdateFailed      // the last bundle was refused or could not be fetched
)

// maxBad bounds the versions remembered as bad (the oldest are forgotten:
// they are below the highest anyway).
const maxBad = 32

// State is what a device keeps of its updates, in DIR/update/state.json.
type State struct {
	// Highest is the highest version ever installed and found healthy: the
	// floor of every later update (a rollback attack offers an older one).
	Highest string `json:"highest,omitempty"`
	// Bad are the versions rolled back: never tried again.
	Bad []string `json:"bad,omitempty"`
	// Trial is the version being tried, until it reports healthy.
	Trial *Trial `json:"trial,omitempty"`
	// Retry is a version rolled back because it never reached the hub
	// (the hub or the network was down, not the version's fault): tried
	// again after After, at most MaxOfflineTries times in all.
	Retry *Retry `json:"retry,omitempty"`
	// Last is the last outcome, for the device's state.
	Last Status `json:"last"`
}

// Trial is a new version on trial.
type Trial struct {
	Version string    `json:"version"`
	Prev    string    `json:"prev,omitempty"` // the version it replaced ("" : the packaged one)
	Since   time.Time `json:"since"`
	Boots   int       `json:"boots"` // starts of it so far; a second start without a commit rolls it back
}

// MaxOfflineTries bounds the tries of a version that never reached the
// hub: the last one rolled back so marks it bad.
const MaxOfflineTries = 3

// OfflineBackoff is how long after its n-th offline roll-back a version is
// tried again: n times this.
const OfflineBackoff = time.Hour

// Retry is a version to try again later.
type Retry struct {
	Version string    `json:"version"`
	Tries   int       `json:"tries"` // trials that never reached the hub
	After   time.Time `json:"after"` // not tried again before
}

// Status is an update's outcome, as a device reports it.
type Status struct {
	State   string    `json:"state"`
	Version string    `json:"version,omitempty"` // the version it concerns
	Reason  string    `json:"reason,omitempty"`  // a release.Reason* code, with failed and rolled_back
	At      time.Time `json:"at,omitzero"`
}

func statePath(dir string) string { return filepath.Join(dir, "state.json") }

// LoadState reads dir's state; a missing file is the zero state. A file
// that does not parse is an error: the floor it kept must not be lost
// silently.
func LoadState(dir string) (State, error) {
	var s State
	b, err := os.ReadFile(statePath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return State{Last: Status{State: StateIdle}}, nil
	}
	if err != nil {
		return s, fmt.Errorf("update state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("update state %s: %w", statePath(dir), err)
	}
	return s, nil
}

// save writes the state whole or not at all (temporary file, fsync,
// rename, fsync of the folder).
func (s *State) save(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(dir, "state.json", b)
}

// markBad remembers v as bad.
func (s *State) markBad(v string) {
	if v == "" || slices.Contains(s.Bad, v) {
		return
	}
	s.Bad = append(s.Bad, v)
	if len(s.Bad) > maxBad {
		s.Bad = s.Bad[len(s.Bad)-maxBad:]
	}
}

// IsBad reports whether v was rolled back before.
func (s *State) IsBad(v string) bool { return slices.Contains(s.Bad, v) }

// writeAtomic writes dir/name whole or not at all.
func writeAtomic(dir, name string, b []byte) error {
	return atomicfile.Write(filepath.Join(dir, name), b, nil)
}

// syncDir makes a folder's renames durable.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }
