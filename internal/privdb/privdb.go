// Package privdb opens a SQLite file that holds personal data or its audit:
// readable by the service's user only (mode 0600, its WAL and shared-memory
// files too), write-ahead logged, with secure_delete on so that deleted rows
// are overwritten with zeros instead of lingering in free pages, and its
// schema brought up to date by numbered migrations.
//
// It knows nothing of what the file holds; hub/crm and hub/audit stand on it.
package privdb

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"

	_ "github.com/mattn/go-sqlite3" // registers the sqlite3 driver
)

// DB is one private SQLite file: a single writer connection, and readers.
type DB struct {
	W *sql.DB // the one writer connection: only the owner's writer goroutine uses it
	R *sql.DB // readers
}

// Open creates the file at path if needed (mode 0600), opens it and applies
// the migrations it has not run yet, in order; PRAGMA user_version records
// how many ran. Never edit a migration that has shipped: append a new one.
func Open(path string, migrations []string, log *slog.Logger) (*DB, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f.Close()
	// A file made earlier by someone else's umask is tightened too.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	dsn := func(extra string) string {
		return "file:" + url.PathEscape(path) +
			"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_foreign_keys=on&_synchronous=FULL&_secure_delete=on&_stmt_cache_size=64" + extra
	}
	w, err := sql.Open("sqlite3", dsn(""))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	if err := migrate(w, migrations, log); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite3", dsn("&mode=ro"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	return &DB{W: w, R: r}, nil
}

// Close closes the readers and the writer.
func (d *DB) Close() error {
	return errors.Join(d.R.Close(), d.W.Close())
}

// Checkpoint copies the write-ahead log into the file and truncates it, so
// that rows deleted with secure_delete leave no copy in the log either.
func (d *DB) Checkpoint() error {
	if _, err := d.W.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func migrate(w *sql.DB, migrations []string, log *slog.Logger) error {
	var v int
	if err := w.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema %d is newer than this build (%d): upgrade guichet", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := w.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		log.Info("database migrated", "version", i+1)
	}
	return nil
}
