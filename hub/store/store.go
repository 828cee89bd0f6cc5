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
	"os"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the sqlite3 driver

	"guichet/hub/queue"
)

// Store is the hub's SQLite database.
type Store struct {
	path string
	w    *sql.DB // the single writer connection
	r    *sql.DB // readers
	log  *slog.Logger
	last atomic.Int64 // last event sequence; only the writer changes it
	lock *os.File     // the data directory's lock, held until Close (OpenDir with Exclusive)
}

// Open opens or creates the database at path and brings its schema up to
// date. A new database file is created with mode 0600 before SQLite opens
// it (SQLite gives its -wal and -shm files the database's mode); an
// existing one readable by others is brought back to 0600. Open checks
// nothing else: a hub opens its data directory with OpenDir.
func Open(path string, log *slog.Logger) (*Store, error) { return open(path, log, nil) }

// open opens the database at path; before, when not nil, runs on the
// writer connection before the schema is migrated, and may refuse.
func open(path string, log *slog.Logger, before func(*Store) error) (*Store, error) {
	if err := private(path, log); err != nil {
		return nil, err
	}
	dsn := func(extra string) string {
		return "file:" + url.PathEscape(path) + "?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_foreign_keys=on&_synchronous=FULL" + extra
	}
	w, err := sql.Open("sqlite3", dsn(""))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	s := &Store{path: path, w: w, log: log}
	if before != nil {
		if err := before(s); err != nil {
			w.Close()
			return nil, err
		}
	}
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

// private creates the database file with mode 0600 when it does not exist,
// and takes the group's and others' rights off it and its -wal and -shm
// files when it does: they hold the log of every ticket, device hashes, and
// (later) citizens' data.
func private(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			if err := os.Chmod(p, m&0o700); err != nil {
				return fmt.Errorf("%s is readable by others (mode %v) and could not be made private: %w", p, m, err)
			}
			log.Warn("database file was readable by others: made private", "file", p, "was", m.String(), "now", (m & 0o700).String())
		}
	}
	return nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Probe makes one small write (a page's worth, in the meta table) and
// commits it, to learn whether the database takes writes again after a
// failed commit. It changes nothing anyone reads.
func (s *Store) Probe(at time.Time) error {
	stamp := fmt.Sprintf("%-4096s", at.UTC().Format(time.RFC3339Nano))
	if _, err := s.w.Exec(`INSERT INTO meta(key, value) VALUES ('probe', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, stamp); err != nil {
		return fmt.Errorf("probe write: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	err = errors.Join(err, s.w.Close())
	if s.lock != nil {
		err = errors.Join(err, s.lock.Close()) // after the database is closed
		s.lock = nil
	}
	return err
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

// AlertEvents returns the supervision's alert events (types "alert.*",
// see hub/alerts) with a sequence above after, in order.
func (s *Store) AlertEvents(ctx context.Context, after int64) ([]queue.Event, error) {
	return s.query(ctx, alertEvents, after)
}

// alertEvents reads the alert events through their partial index (the
// index's condition, repeated, is what lets SQLite use it).
const alertEvents = `SELECT seq, payload FROM events WHERE type GLOB 'alert.*' AND seq > ? ORDER BY seq`

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

// EventsBetween returns up to limit events that happened from from
// (included) to to (excluded), with a sequence above after, in order.
func (s *Store) EventsBetween(ctx context.Context, from, to time.Time, after int64, limit int) ([]queue.Event, error) {
	return s.query(ctx, `SELECT seq, payload FROM events WHERE seq > ? AND at >= ? AND at < ? ORDER BY seq LIMIT ?`,
		after, from.UnixMilli(), to.UnixMilli(), limit)
}
