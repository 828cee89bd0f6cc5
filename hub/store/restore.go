package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// RestoreInfo describes a restore just done.
type RestoreInfo struct {
	LastSeq int64  // the last event the restored database holds
	StoreID string // the backup's store id
	Site    string
	Aside   string // where the replaced database files were moved ("" if there were none)
}

// Restore makes the backup file the database of data directory dir, with
// no hub running on it (it takes the directory's lock; ErrInUse if a hub
// runs). It checks the backup first (SQLite's integrity check, and that it
// is this directory's database: the marker's store id, ErrForeign if not),
// then moves the database in place and its -wal and -shm files together
// into dir/replaced-<time>/ — never deleted, and never left beside the
// restored file, where SQLite would apply the old WAL's pages to it — and
// copies the backup in as guichet.db (0600, synced). The backup file is
// left as it was.
func Restore(dir, backup string, now time.Time) (RestoreInfo, error) {
	var info RestoreInfo
	if err := prepareDir(dir, false); err != nil {
		return info, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return info, err
	}
	defer lock.Close()
	if err := checkBackup(dir, backup, &info); err != nil {
		return info, err
	}
	path := filepath.Join(dir, DBFile)
	var present []string
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if _, err := os.Stat(f); err == nil {
			present = append(present, f)
		}
	}
	if len(present) > 0 {
		info.Aside = filepath.Join(dir, "replaced-"+now.UTC().Format("20060102-150405"))
		if err := os.Mkdir(info.Aside, 0o700); err != nil {
			return info, fmt.Errorf("restore: %w", err)
		}
		for _, f := range present {
			if err := os.Rename(f, filepath.Join(info.Aside, filepath.Base(f))); err != nil {
				return info, fmt.Errorf("restore: set %s aside: %w", f, err)
			}
		}
	}
	tmp := path + ".restoring"
	if err := copyPrivate(backup, tmp); err != nil {
		os.Remove(tmp)
		return info, fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return info, fmt.Errorf("restore: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return info, fmt.Errorf("restore: %w", err)
	}
	return info, nil
}

// checkBackup opens the backup read-only and checks that it is sound and
// belongs to dir.
func checkBackup(dir, backup string, info *RestoreInfo) error {
	if _, err := os.Stat(backup); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(backup)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return fmt.Errorf("restore: open %s: %w", backup, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	b := &Store{path: backup, w: db}
	problems, err := b.pragmaCheck("integrity_check")
	if err != nil || len(problems) > 0 {
		return fmt.Errorf("%w: the backup %s fails SQLite's integrity check (%v %s): take an older backup", ErrDamaged, backup, err, summary(problems))
	}
	id, err := b.Identity()
	if err != nil {
		return fmt.Errorf("restore: read %s: %w", backup, err)
	}
	if err := db.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&info.LastSeq); err != nil {
		return fmt.Errorf("restore: %s is not a guichet database: %w", backup, err)
	}
	info.StoreID, info.Site = id.StoreID, id.Site
	m, err := ReadMarker(dir)
	if err != nil {
		return err
	}
	if m != nil && id.StoreID != "" && id.StoreID != m.StoreID {
		return fmt.Errorf("%w: the backup %s has store id %s (site %q), this data directory's is %s (site %q): it is a backup of another directory",
			ErrForeign, backup, id.StoreID, id.Site, m.StoreID, m.Site)
	}
	return nil
}

// copyPrivate copies a file into a new one of mode 0600, synced.
func copyPrivate(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Sync(), out.Close())
}
