// Package store keeps the hub's durable state in SQLite: the append-only
// event log (the source of truth), snapshots of the engine that shorten
// start-up, and the replies of idempotent operations.
//
// It knows the queue only as events and opaque snapshots; it does not decide
// anything. The hub appends in batches (group commit): one transaction, one
// fsync, for every operation waiting at that moment.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the sqlite3 driver

	"guichet/hub/queue"
)

// Store is the hub's SQLite database.
type Store struct {
	w    *sql.DB // the single writer connection
	r    *sql.DB // readers
	log  *slog.Logger
	last atomic.Int64 // last event sequence; only the writer changes it
}

// Open opens or creates the database at path and brings its schema up to date.
func Open(path string, log *slog.Logger) (*Store, error) {
	dsn := func(extra string) string {
		return "file:" + url.PathEscape(path) + "?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_foreign_keys=on&_synchronous=FULL" + extra
	}
	w, err := sql.Open("sqlite3", dsn(""))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	s := &Store{w: w, log: log}
	if err := s.migrate(); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite3", dsn("&mode=ro"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s.r = r
	var last int64
	if err := w.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&last); err != nil {
		s.Close()
		return nil, fmt.Errorf("read last sequence: %w", err)
	}
	s.last.Store(last)
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	return errors.Join(err, s.w.Close())
}

// LastSeq returns the sequence number of the last event appended.
func (s *Store) LastSeq() int64 { return s.last.Load() }

// Reply is the stored answer to an idempotent operation.
type Reply struct {
	Key    string // "<scope>:<id>", for instance "mqtt:kiosk-hall:0193…"
	Status int    // the outcome, as the hub writes it (0 done, 1 refused; older builds wrote HTTP-like statuses)
	Body   []byte
}

// Record is what one operation leaves in the store: its events and, when
// the operation carried an idempotency key, its reply.
type Record struct {
	Events []queue.Event
	Reply  *Reply
}

// Append writes records in one transaction and assigns their events'
// sequence numbers. When it returns nil, all of them are durable.
func (s *Store) Append(recs []*Record) error {
	tx, err := s.w.Begin()
	if err != nil {
		return fmt.Errorf("append: begin: %w", err)
	}
	defer tx.Rollback()
	// SQLite assigns the sequence (max + 1 under the write lock), so another
	// process appending — the device CLI — cannot collide with the hub. The
	// payload leaves seq out; readers take it from its column.
	insEv, err := tx.Prepare(`INSERT INTO events(at, type, ticket, actor, payload) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	defer insEv.Close()
	insRe, err := tx.Prepare(`INSERT OR IGNORE INTO replies(key, at, status, body) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	defer insRe.Close()
	var seq int64
	now := time.Now().UnixMilli()
	for _, rec := range recs {
		for i := range rec.Events {
			ev := &rec.Events[i]
			ev.Seq = 0
			payload, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("append: encode event: %w", err)
			}
			res, err := insEv.Exec(ev.At.UnixMilli(), string(ev.Type), ev.Ticket, ev.Actor, payload)
			if err != nil {
				return fmt.Errorf("append event: %w", err)
			}
			if seq, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("append event: %w", err)
			}
			ev.Seq = seq
		}
		if r := rec.Reply; r != nil {
			if _, err := insRe.Exec(r.Key, now, r.Status, r.Body); err != nil {
				return fmt.Errorf("append reply %s: %w", r.Key, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		for _, rec := range recs {
			for i := range rec.Events {
				rec.Events[i].Seq = 0
			}
		}
		return fmt.Errorf("append: commit: %w", err)
	}
	for old := s.last.Load(); seq > old && !s.last.CompareAndSwap(old, seq); old = s.last.Load() {
	}
	return nil
}

// Reply returns the stored reply for an idempotency key.
func (s *Store) Reply(key string) (*Reply, error) {
	r := &Reply{Key: key}
	err := s.w.QueryRow(`SELECT status, body FROM replies WHERE key = ?`, key).Scan(&r.Status, &r.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reply %s: %w", key, err)
	}
	return r, nil
}

// PurgeReplies deletes idempotency replies older than age.
func (s *Store) PurgeReplies(age time.Duration) (int64, error) {
	res, err := s.w.Exec(`DELETE FROM replies WHERE at < ?`, time.Now().Add(-age).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purge replies: %w", err)
	}
	return res.RowsAffected()
}

// Events returns up to limit events with a sequence above after, in order.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]queue.Event, error) {
	return s.query(ctx, `SELECT seq, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

// TicketEvents returns the history of one ticket, in order.
func (s *Store) TicketEvents(ctx context.Context, ticket string) ([]queue.Event, error) {
	return s.query(ctx, `SELECT seq, payload FROM events WHERE ticket = ? ORDER BY seq`, ticket)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]queue.Event, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	defer rows.Close()
	var out []queue.Event
	for rows.Next() {
		var seq int64
		var payload []byte
		if err := rows.Scan(&seq, &payload); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		var ev queue.Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decode event %d: %w", seq, err)
		}
		ev.Seq = seq
		out = append(out, ev)
	}
	return out, rows.Err()
}

// SaveSnapshot stores the engine's state as of event seq and keeps the two
// newest snapshots.
func (s *Store) SaveSnapshot(seq int64, snap *queue.Snapshot) error {
	data, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	tx, err := s.w.Begin()
	if err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT OR REPLACE INTO snapshots(seq, at, state) VALUES (?, ?, ?)`, seq, time.Now().UnixMilli(), data); err != nil {
		return fmt.Errorf("save snapshot %d: %w", seq, err)
	}
	if _, err := tx.Exec(`DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 2)`); err != nil {
		return fmt.Errorf("prune snapshots: %w", err)
	}
	return tx.Commit()
}

// Load rebuilds an engine: it restores the newest snapshot, then applies
// every later event. It returns how many events it replayed.
func (s *Store) Load(e *queue.Engine) (replayed int, err error) {
	var seq int64
	var data []byte
	err = s.w.QueryRow(`SELECT seq, state FROM snapshots WHERE seq <= ? ORDER BY seq DESC LIMIT 1`, s.last.Load()).Scan(&seq, &data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		seq = 0
	case err != nil:
		return 0, fmt.Errorf("load snapshot: %w", err)
	default:
		var snap queue.Snapshot
		if err := json.Unmarshal(data, &snap); err != nil {
			s.log.Warn("snapshot unreadable, replaying the whole log", "seq", seq, "err", err)
			seq = 0
		} else {
			e.Restore(snap)
		}
	}
	rows, err := s.w.Query(`SELECT seq, payload FROM events WHERE seq > ? ORDER BY seq`, seq)
	if err != nil {
		return 0, fmt.Errorf("load events: %w", err)
	}
	defer rows.Close()
	var payload []byte
	var evSeq int64
	for rows.Next() {
		if err := rows.Scan(&evSeq, &payload); err != nil {
			return replayed, fmt.Errorf("load events: %w", err)
		}
		var ev queue.Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return replayed, fmt.Errorf("load event %d: %w", evSeq, err)
		}
		ev.Seq = evSeq
		e.Apply(ev)
		replayed++
	}
	return replayed, rows.Err()
}

// DropSnapshots deletes every snapshot: the next Load replays the whole log.
// For operators who suspect a snapshot, and for benchmarks.
func (s *Store) DropSnapshots() error {
	_, err := s.w.Exec(`DELETE FROM snapshots`)
	return err
}
