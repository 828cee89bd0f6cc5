package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3"
)

// BackupInfo describes a backup just written.
type BackupInfo struct {
	Path    string
	Bytes   int64
	Pages   int
	LastSeq int64  // the last event the copy holds
	StoreID string // the same as the original's: the copy restores into its directory
	Site    string
	Took    time.Duration
}

// Backup copies the database at src into dst, a new file (mode 0600), with
// SQLite's online backup API, while a hub may be writing to src. The copy
// is one consistent state of the database: it is made in a single step
// under one read transaction, which in WAL mode does not stop the hub's
// commits (they wait neither for the copy nor it for them). Every event
// acknowledged before Backup started is in the copy. The copy is then
// checked (PRAGMA integrity_check) and synced; on any failure dst is
// removed. dst must not exist.
func Backup(ctx context.Context, src, dst string) (BackupInfo, error) {
	start := time.Now()
	info := BackupInfo{Path: dst}
	if _, err := os.Stat(src); err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return info, fmt.Errorf("backup: %s already exists: choose a new name (a backup never overwrites a file)", dst)
		}
		return info, fmt.Errorf("backup: %w", err)
	}
	f.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(dst)
			os.Remove(dst + "-journal")
		}
	}()
	from, err := sql.Open("sqlite3", "file:"+url.PathEscape(src)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return info, fmt.Errorf("backup: open %s: %w", src, err)
	}
	defer from.Close()
	to, err := sql.Open("sqlite3", "file:"+url.PathEscape(dst)+"?_busy_timeout=5000")
	if err != nil {
		return info, fmt.Errorf("backup: open %s: %w", dst, err)
	}
	defer to.Close()
	fc, err := from.Conn(ctx)
	if err != nil {
		return info, fmt.Errorf("backup: open %s: %w", src, err)
	}
	defer fc.Close()
	tc, err := to.Conn(ctx)
	if err != nil {
		return info, fmt.Errorf("backup: open %s: %w", dst, err)
	}
	defer tc.Close()
	err = tc.Raw(func(d any) error {
		return fc.Raw(func(s any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			// -1: every page in one step, so the copy is one state of the
			// database. A step that finds a lock (busy) did nothing: again.
			var stepErr error
			for {
				done, err := b.Step(-1)
				if err != nil || done {
					stepErr = err
					break
				}
				select {
				case <-ctx.Done():
					stepErr = ctx.Err()
				case <-time.After(20 * time.Millisecond):
					continue
				}
				break
			}
			info.Pages = b.PageCount()
			return errors.Join(stepErr, b.Finish())
		})
	})
	if err != nil {
		return info, fmt.Errorf("backup %s: %w", src, err)
	}
	fc.Close()
	copy := &Store{path: dst, w: to}
	problems, err := copy.pragmaCheck("integrity_check")
	if err != nil || len(problems) > 0 {
		return info, fmt.Errorf("backup: the copy fails its integrity check (%v %s): the original may be damaged, run guichet store check", err, summary(problems))
	}
	if err := to.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&info.LastSeq); err != nil {
		return info, fmt.Errorf("backup: read the copy: %w", err)
	}
	id, err := copy.Identity()
	if err != nil {
		return info, fmt.Errorf("backup: read the copy: %w", err)
	}
	info.StoreID, info.Site = id.StoreID, id.Site
	tc.Close()
	if err := to.Close(); err != nil {
		return info, fmt.Errorf("backup: close %s: %w", dst, err)
	}
	if err := syncFile(dst); err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return info, fmt.Errorf("backup: %w", err)
	}
	if fi, err := os.Stat(dst); err == nil {
		info.Bytes = fi.Size()
	}
	info.Took = time.Since(start)
	ok = true
	return info, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
