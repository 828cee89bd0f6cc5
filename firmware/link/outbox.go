package link

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the sqlite3 driver
)

// outbox is the device's journal of commands not yet answered, and its
// cache of retained topics, in one SQLite file.
//
// A command is durable when add returns. The cache is written behind, by
// its own goroutine, the latest payload per topic in one transaction: it is
// for the next boot, and its fsync must not hold up what the device shows
// nor the command it is journaling (one connection serves both).
//
// An SD card wears with every write: a payload the same as the last is not
// written again, and a lazy topic (the queue summary, which the hub
// republishes as waits grow) is written at most every lazyEvery — and at
// close. What a device shows comes from memory either way.
type outbox struct {
	db  *sql.DB
	log *slog.Logger
	n   atomic.Int64 // commands in the journal (this process alone opens it)

	mu        sync.Mutex
	latest    map[string][]byte // the newest payload per topic seen since start
	unwritten map[string]bool   // topics whose newest payload is not yet written
	lazy      map[string]bool   // topics written at most every lazyEvery
	lazyEvery time.Duration
	wake      chan struct{}
	stop      chan struct{}
	stopped   chan struct{}
}

// lazyCacheEvery is how often a lazy topic's newest payload is written.
const lazyCacheEvery = 10 * time.Minute

// Entry is a command in the outbox.
type Entry struct {
	Seq     int64
	ID      string
	Op      string
	Payload []byte // the whole command, as sent
	Created time.Time
}

func openOutbox(path string, log *slog.Logger) (*outbox, error) {
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_synchronous=FULL")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS outbox (
			seq     INTEGER PRIMARY KEY,
			id      TEXT NOT NULL UNIQUE,
			op      TEXT NOT NULL,
			payload BLOB NOT NULL,
			created INTEGER NOT NULL);
		CREATE TABLE IF NOT EXISTS retained (
			topic   TEXT PRIMARY KEY,
			payload BLOB NOT NULL,
			at      INTEGER NOT NULL);`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox %s: %w", path, err)
	}
	o := &outbox{db: db, log: log, latest: map[string][]byte{}, unwritten: map[string]bool{}, lazy: map[string]bool{}, lazyEvery: lazyCacheEvery, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	var n int64
	if err := db.QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox %s: %w", path, err)
	}
	o.n.Store(n)
	go o.writeBehind()
	return o, nil
}

// close writes what the cache holds and closes the file.
func (o *outbox) close() error {
	close(o.stop)
	<-o.stopped
	return o.db.Close()
}

// add journals a command; it is durable when add returns.
func (o *outbox) add(id, op string, payload []byte) error {
	_, err := o.db.Exec(`INSERT INTO outbox(id, op, payload, created) VALUES (?, ?, ?, ?)`, id, op, payload, time.Now().UnixMilli())
	if err == nil {
		o.n.Add(1)
	}
	return err
}

// replace swaps the command old for a new one, atomically; ok is false if
// old was no longer in the outbox (it was answered meanwhile).
func (o *outbox) replace(old, id, op string, payload []byte) (ok bool, err error) {
	tx, err := o.db.Begin()
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.Exec(`DELETE FROM outbox WHERE id = ?`, old)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := tx.Exec(`INSERT INTO outbox(id, op, payload, created) VALUES (?, ?, ?, ?)`, id, op, payload, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// done removes an answered command; found is false if it was not there.
func (o *outbox) done(id string) (found bool, err error) {
	res, err := o.db.Exec(`DELETE FROM outbox WHERE id = ?`, id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	o.n.Add(-n)
	return n > 0, nil
}

// pending returns the commands not yet answered, oldest first.
func (o *outbox) pending() ([]Entry, error) {
	rows, err := o.db.Query(`SELECT seq, id, op, payload, created FROM outbox ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var created int64
		if err := rows.Scan(&e.Seq, &e.ID, &e.Op, &e.Payload, &created); err != nil {
			return nil, err
		}
		e.Created = time.UnixMilli(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// get returns the command id, or an Entry with no ID if it is not there.
func (o *outbox) get(id string) (Entry, error) {
	var e Entry
	var created int64
	err := o.db.QueryRow(`SELECT seq, id, op, payload, created FROM outbox WHERE id = ?`, id).Scan(&e.Seq, &e.ID, &e.Op, &e.Payload, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, nil
	}
	e.Created = time.UnixMilli(created)
	return e, err
}

// count returns how many commands the journal holds, without reading it.
func (o *outbox) count() int { return int(o.n.Load()) }

// setLazy makes topics lazy: written at most every lazyEvery.
func (o *outbox) setLazy(topics ...string) {
	o.mu.Lock()
	for _, t := range topics {
		o.lazy[t] = true
	}
	o.mu.Unlock()
}

// cache keeps payload as the last seen on topic; it is written soon (a lazy
// topic: within lazyEvery), unless it is the payload already kept.
func (o *outbox) cache(topic string, payload []byte) {
	o.mu.Lock()
	if old, ok := o.latest[topic]; ok && bytes.Equal(old, payload) {
		o.mu.Unlock()
		return
	}
	o.latest[topic], o.unwritten[topic] = payload, true
	lazy := o.lazy[topic]
	o.mu.Unlock()
	if lazy {
		return
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) writeBehind() {
	defer close(o.stopped)
	tick := time.NewTicker(o.lazyEvery)
	defer tick.Stop()
	for {
		select {
		case <-o.stop:
			o.flush()
			return
		case <-o.wake:
			o.flush()
		case <-tick.C:
			o.flush()
		}
	}
}

// flush writes the topics not yet written, their newest payloads, in one
// transaction. Readers keep reading the newest from memory meanwhile.
func (o *outbox) flush() {
	o.mu.Lock()
	batch := make(map[string][]byte, len(o.unwritten))
	for t := range o.unwritten {
		batch[t] = o.latest[t]
	}
	clear(o.unwritten)
	o.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := o.write(batch); err != nil {
		o.mu.Lock()
		for t := range batch {
			o.unwritten[t] = true
		}
		o.mu.Unlock()
		o.log.Warn("cache of the retained topics not written; tried again with the next message", "err", err)
	}
}

func (o *outbox) write(batch map[string][]byte) error {
	tx, err := o.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	at := time.Now().UnixMilli()
	for topic, payload := range batch {
		if _, err := tx.Exec(`INSERT INTO retained(topic, payload, at) VALUES (?, ?, ?)
			ON CONFLICT(topic) DO UPDATE SET payload = excluded.payload, at = excluded.at`, topic, payload, at); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (o *outbox) cached(topic string) ([]byte, bool) {
	o.mu.Lock()
	p, ok := o.latest[topic]
	o.mu.Unlock()
	if ok {
		return p, true
	}
	err := o.db.QueryRow(`SELECT payload FROM retained WHERE topic = ?`, topic).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) || err != nil {
		return nil, false
	}
	return p, true
}
