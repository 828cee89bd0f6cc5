package cloud

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"guichet/hub/api"
	"guichet/internal/privdb"
)

// DeadLetters is the list of events destinations could not take, kept in
// its own SQLite file (cloud.db in the hub's data directory) until an
// admin replays them. It holds sequence numbers, types and reasons — the
// events themselves stay in the log, read again at replay — so it holds no
// personal data. A crash between a dead letter and the cursor's move files
// the same event again: the key (destination, seq) keeps it once.
type DeadLetters struct {
	db *privdb.DB
}

var deadLetterMigrations = []string{
	`CREATE TABLE dead_letters (
		destination TEXT NOT NULL,
		seq         INTEGER NOT NULL,
		type        TEXT NOT NULL,
		at          INTEGER NOT NULL,
		attempts    INTEGER NOT NULL,
		reason      TEXT NOT NULL,
		PRIMARY KEY (destination, seq)
	);`,
}

// OpenDeadLetters opens (or creates) the dead-letter file at path.
func OpenDeadLetters(path string, log *slog.Logger) (*DeadLetters, error) {
	db, err := privdb.Open(path, deadLetterMigrations, log)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return &DeadLetters{db: db}, nil
}

// Close closes the file.
func (d *DeadLetters) Close() error { return d.db.Close() }

// maxReason bounds a reason as stored and shown.
const maxReason = 500

// Add files events for destination, given up at at after attempts, for
// reason; an event filed already gets the new reason and count.
func (d *DeadLetters) Add(destination string, evs []Event, at time.Time, attempts int, reason string) error {
	if len(reason) > maxReason {
		reason = reason[:maxReason] + "…"
	}
	tx, err := d.db.W.Begin()
	if err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	defer tx.Rollback()
	for _, ev := range evs {
		if _, err := tx.Exec(`INSERT INTO dead_letters(destination, seq, type, at, attempts, reason) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(destination, seq) DO UPDATE SET at = excluded.at, attempts = dead_letters.attempts + excluded.attempts, reason = excluded.reason`,
			destination, ev.Seq, ev.Type, at.UnixMilli(), attempts, reason); err != nil {
			return fmt.Errorf("dead letters: add %d: %w", ev.Seq, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	return nil
}

// Remove drops a dead letter (it was delivered on replay).
func (d *DeadLetters) Remove(destination string, seq int64) error {
	if _, err := d.db.W.Exec(`DELETE FROM dead_letters WHERE destination = ? AND seq = ?`, destination, seq); err != nil {
		return fmt.Errorf("dead letters: remove %d: %w", seq, err)
	}
	return nil
}

// List returns up to limit of destination's dead letters, oldest event first.
func (d *DeadLetters) List(ctx context.Context, site, destination string, limit int) ([]api.DeadLetter, error) {
	rows, err := d.db.R.QueryContext(ctx, `SELECT seq, type, at, attempts, reason FROM dead_letters WHERE destination = ? ORDER BY seq LIMIT ?`, destination, limit)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	defer rows.Close()
	out := []api.DeadLetter{}
	for rows.Next() {
		dl := api.DeadLetter{Destination: destination}
		var at int64
		if err := rows.Scan(&dl.Seq, &dl.Type, &at, &dl.Attempts, &dl.Reason); err != nil {
			return nil, fmt.Errorf("dead letters: %w", err)
		}
		dl.ID, dl.At = EventID(site, dl.Seq), time.UnixMilli(at)
		out = append(out, dl)
	}
	return out, rows.Err()
}

// Count returns how many dead letters destination has.
func (d *DeadLetters) Count(destination string) (int, error) {
	var n int
	err := d.db.R.QueryRow(`SELECT COUNT(*) FROM dead_letters WHERE destination = ?`, destination).Scan(&n)
	return n, err
}
