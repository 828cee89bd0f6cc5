package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"guichet/internal/atomicfile"
)

// The files of a data directory.
const (
	DBFile     = "guichet.db" // the database (with its -wal and -shm)
	MarkerFile = "guichet.id" // which database belongs here
)

// Why OpenDir refuses a data directory. Each error that wraps one of them
// says what was found and what to do.
var (
	// ErrNoDatabase: the directory held a database, and it is gone or empty.
	ErrNoDatabase = errors.New("no database")
	// ErrDamaged: the database fails SQLite's integrity check, is not a
	// database, or its snapshots are ahead of its log.
	ErrDamaged = errors.New("the database is damaged")
	// ErrForeign: the database belongs to another data directory.
	ErrForeign = errors.New("the database belongs to another data directory")
	// ErrOtherSite: the database holds another site's queue.
	ErrOtherSite = errors.New("the database holds another site")
	// ErrReadOnly: the directory (or its database) cannot be written.
	ErrReadOnly = errors.New("the data directory is not writable")
)

// Marker is what the data directory's marker file (guichet.id) holds: the
// identity of the database that belongs in the directory. The database
// holds the same store id in its meta table, from its creation on; a backup
// copies it. So a restored backup of this directory's own database is
// accepted, and a database from elsewhere, or a new empty one in place of a
// lost one, is refused. The file is JSON, for people and scripts:
//
//	{"store_id": "9f0c…", "site": "mairie-exemple", "created_at": "2026-12-01T08:00:00Z"}
type Marker struct {
	StoreID   string `json:"store_id"`
	Site      string `json:"site,omitempty"`
	CreatedAt string `json:"created_at,omitempty"`
}

// DirOptions says how to open a data directory.
type DirOptions struct {
	// Site is the configuration's site id; a database that holds another
	// site is refused. Empty (the device command without --config): not
	// checked, not recorded.
	Site string
	// Create makes the directory when it does not exist (the hub). The
	// commands that only read or add to a hub's data leave it false, so a
	// mistyped --data is an error, not a new empty site.
	Create bool
	// Exclusive takes the directory's lock (guichet.lock) until Close: a
	// second hub on the same directory is refused (ErrInUse). The commands
	// that run beside a hub (device, backup, store check) leave it false.
	Exclusive bool
	Log       *slog.Logger
}

// OpenDir opens the database of a hub's data directory, after checking
// that it is the right one and sound:
//
//   - the directory can be written (a read-only mount is refused at once,
//     not at the first ticket), and, with o.Exclusive, no other hub runs on
//     it;
//   - when the marker file exists, the database must exist, be non-empty,
//     and carry the marker's store id: a deleted or emptied guichet.db does
//     not become a new empty site, and a database from another directory is
//     refused;
//   - PRAGMA quick_check passes (damaged pages are found now, not when a
//     page of the log is read months later), and no snapshot is ahead of
//     the log;
//   - the database holds o.Site, or no site yet (it is then recorded).
//
// A database without a marker beside it (a new directory, or a backup
// restored into an empty one, or a directory from before markers) is
// adopted: the marker is written from the database. OpenDir changes
// nothing in a database it refuses.
func OpenDir(dir string, o DirOptions) (*Store, error) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	if err := prepareDir(dir, o.Create); err != nil {
		return nil, err
	}
	var lock *os.File
	if o.Exclusive {
		var err error
		if lock, err = lockDir(dir); err != nil {
			return nil, err
		}
	}
	s, err := openDir(dir, o, log)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	s.lock = lock
	return s, nil
}

func openDir(dir string, o DirOptions, log *slog.Logger) (*Store, error) {
	marker, err := ReadMarker(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, DBFile)
	fi, statErr := os.Stat(path)
	existed := statErr == nil && fi.Size() > 0
	if marker != nil && !existed {
		what := "is missing"
		if statErr == nil {
			what = "is empty"
		}
		return nil, fmt.Errorf("%w: %s %s, but this data directory holds the database of site %q (store id %s, created %s). "+
			"Restore the last backup as %s (see docs/operations.md, \"Backup and restore\"); "+
			"to start an empty site here on purpose, remove %s",
			ErrNoDatabase, path, what, marker.Site, marker.StoreID, marker.CreatedAt, path, filepath.Join(dir, MarkerFile))
	}
	adopt := ""
	s, err := open(path, log, func(s *Store) error {
		if !existed {
			return nil
		}
		if err := s.quickCheck(); err != nil {
			return err
		}
		id, err := s.meta("store_id")
		if err != nil {
			return err
		}
		switch {
		case marker == nil:
			return nil
		case id == marker.StoreID:
			return nil
		case id != "":
			site, _ := s.meta("site")
			return fmt.Errorf("%w: %s has store id %s (site %q), but this data directory's marker %s names store id %s (site %q). "+
				"Put this directory's own database back (a backup of site %q), or start the hub with --data pointing at that database's own directory",
				ErrForeign, path, id, site, filepath.Join(dir, MarkerFile), marker.StoreID, marker.Site, marker.Site)
		}
		// No store id: a database from before markers (a backup restored
		// after an upgrade) — or an empty one, which is refused.
		var events int64
		if err := s.w.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'events'`).Scan(&events); err == nil && events > 0 {
			err = s.w.QueryRow(`SELECT count(*) FROM events`).Scan(&events)
		}
		if err != nil || events == 0 {
			return fmt.Errorf("%w: %s holds no events and no store id, but this data directory holds the database of site %q (store id %s). "+
				"Restore the last backup (see docs/operations.md, \"Backup and restore\"); to start an empty site here on purpose, remove %s",
				ErrNoDatabase, path, marker.Site, marker.StoreID, filepath.Join(dir, MarkerFile))
		}
		adopt = marker.StoreID // it is given the marker's id once migrated
		return nil
	})
	if err != nil {
		if isReadOnly(err) {
			return nil, fmt.Errorf("%w: %s: %v", ErrReadOnly, path, err)
		}
		return nil, err
	}
	fail := func(err error) (*Store, error) {
		s.Close()
		return nil, err
	}
	if adopt != "" {
		log.Warn("database from before data directory markers: given the marker's store id", "db", path, "store_id", adopt)
		if _, err := s.w.Exec(`UPDATE meta SET value = ? WHERE key = 'store_id'`, adopt); err != nil {
			return fail(fmt.Errorf("record store id: %w", err))
		}
	}
	if err := s.checkSnapshots(); err != nil {
		return fail(err)
	}
	id, err := s.meta("store_id")
	if err != nil {
		return fail(err)
	}
	site, err := s.meta("site")
	if err != nil {
		return fail(err)
	}
	created, err := s.meta("created_at")
	if err != nil {
		return fail(err)
	}
	switch {
	case o.Site == "" || site == o.Site:
	case site == "":
		if _, err := s.w.Exec(`INSERT INTO meta(key, value) VALUES ('site', ?)`, o.Site); err != nil {
			return fail(fmt.Errorf("record site: %w", err))
		}
		site = o.Site
	default:
		return fail(fmt.Errorf("%w: %s holds the queue of site %q, and the configuration is for site %q. "+
			"Start the hub with the data directory of site %q, or with that site's configuration",
			ErrOtherSite, path, site, o.Site, o.Site))
	}
	want := Marker{StoreID: id, Site: site, CreatedAt: created}
	if marker == nil || *marker != want {
		if err := writeMarker(dir, want); err != nil {
			return fail(err)
		}
		if marker == nil && existed {
			log.Info("data directory adopted its database (a restored backup, or a directory from before markers)", "db", path, "store_id", id, "site", site)
		}
	}
	return s, nil
}

// prepareDir checks that dir exists (or creates it) and can be written.
func prepareDir(dir string, create bool) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist) && create:
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("no data directory %s: check --data (the hub creates it at its first start): %w", dir, err)
	case err != nil:
		return fmt.Errorf("data directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("%w: %s: %v. The hub keeps its database there: check that the file system is mounted read-write, is not full, and that the hub's user owns the directory",
			ErrReadOnly, dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// isReadOnly tells SQLite's "attempt to write a readonly database" and
// "unable to open" from the rest.
func isReadOnly(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "readonly database") || strings.Contains(msg, "read-only file system")
}

// ReadMarker reads the data directory's marker; nil if there is none.
func ReadMarker(dir string) (*Marker, error) {
	path := filepath.Join(dir, MarkerFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var m Marker
	if err := json.Unmarshal(b, &m); err != nil || m.StoreID == "" {
		return nil, fmt.Errorf("%s is not a data directory marker (%v): restore it from a backup of the directory, or remove it if %s is this directory's database",
			path, err, filepath.Join(dir, DBFile))
	}
	return &m, nil
}

// writeMarker replaces the marker atomically (a new file, synced, renamed).
func writeMarker(dir string, m Marker) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, MarkerFile), append(b, '\n'), nil); err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	return nil
}

// syncDir makes a rename or a new file in dir durable.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

// meta returns a value of the meta table; "" when the table or the key is
// not there (a database from before schema 3).
func (s *Store) meta(key string) (string, error) {
	var v string
	err := s.w.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil && strings.Contains(err.Error(), "no such table"):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

// Identity returns the database's store id, its site and when it was created.
func (s *Store) Identity() (Marker, error) {
	var m Marker
	var err error
	for _, kv := range []struct {
		key string
		to  *string
	}{{"store_id", &m.StoreID}, {"site", &m.Site}, {"created_at", &m.CreatedAt}} {
		if *kv.to, err = s.meta(kv.key); err != nil {
			return m, err
		}
	}
	return m, nil
}

// quickCheck runs PRAGMA quick_check: every page of the file is read and
// its structure checked (not that indexes match their tables: that is
// integrity_check, which guichet store check runs). About a second per
// gigabyte.
func (s *Store) quickCheck() error {
	problems, err := s.pragmaCheck("quick_check")
	if err != nil {
		return fmt.Errorf("%w: %s fails SQLite's quick check (%v). Stop here: restore the last backup (see docs/operations.md, \"Backup and restore\"); "+
			"guichet store check --data %s says more about the damaged copy", ErrDamaged, s.path, err, filepath.Dir(s.path))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s fails SQLite's quick check (%s). Stop here: restore the last backup (see docs/operations.md, \"Backup and restore\"); "+
			"guichet store check --data %s says more about the damaged copy", ErrDamaged, s.path, summary(problems), filepath.Dir(s.path))
	}
	return nil
}

// pragmaCheck runs quick_check or integrity_check and returns what it
// found wrong (nothing when it answers "ok").
func (s *Store) pragmaCheck(pragma string) ([]string, error) {
	rows, err := s.w.Query(`PRAGMA ` + pragma)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		if line != "ok" {
			out = append(out, line)
		}
	}
	return out, rows.Err()
}

// summary shortens a list of problems for one error line.
func summary(problems []string) string {
	if len(problems) <= 3 {
		return strings.Join(problems, "; ")
	}
	return strings.Join(problems[:3], "; ") + fmt.Sprintf("; and %d more", len(problems)-3)
}

// checkSnapshots refuses a database whose newest snapshot is ahead of its
// log: the log lost events that the snapshot holds.
func (s *Store) checkSnapshots() error {
	var snap, last int64
	if err := s.w.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM snapshots`).Scan(&snap); err != nil {
		return fmt.Errorf("read snapshots: %w", err)
	}
	if err := s.w.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&last); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	if snap > last {
		return fmt.Errorf("%w: %s has a snapshot of the queue at event %d, but its log ends at event %d: events are missing. "+
			"Restore the last backup (see docs/operations.md, \"Backup and restore\")", ErrDamaged, s.path, snap, last)
	}
	return nil
}

// LastEventAt returns the time of the last event in the log of the data
// directory dir, read without a lock beside a hub that may not run; zero
// when dir holds no database or an empty log.
func LastEventAt(dir string) (time.Time, error) {
	path := filepath.Join(dir, DBFile)
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return time.Time{}, nil
	}
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return time.Time{}, fmt.Errorf("store: open %s: %w", path, err)
	}
	defer db.Close()
	var at sql.NullInt64
	if err := db.QueryRow(`SELECT max(at) FROM events`).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("store: the last event of %s: %w", path, err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(at.Int64), nil
}
