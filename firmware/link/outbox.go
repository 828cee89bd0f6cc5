package link

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the sqlite3 driver
)

// outbox is the device's journal of commands not yet answered, and its
// cache of retained topics, in one SQLite file.
type outbox struct {
	db *sql.DB
}

// Entry is a command in the outbox.
type Entry struct {
	Seq     int64
	ID      string
	Op      string
	Payload []byte // the whole command, as sent
	Created time.Time
}

func openOutbox(path string) (*outbox, error) {
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
	return &outbox{db: db}, nil
}

func (o *outbox) close() error { return o.db.Close() }

// add journals a command; it is durable when add returns.
func (o *outbox) add(id, op string, payload []byte) error {
	_, err := o.db.Exec(`INSERT INTO outbox(id, op, payload, created) VALUES (?, ?, ?, ?)`, id, op, payload, time.Now().UnixMilli())
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

func (o *outbox) count() int {
	var n int
	o.db.QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&n)
	return n
}

func (o *outbox) cache(topic string, payload []byte) error {
	_, err := o.db.Exec(`INSERT INTO retained(topic, payload, at) VALUES (?, ?, ?)
		ON CONFLICT(topic) DO UPDATE SET payload = excluded.payload, at = excluded.at`, topic, payload, time.Now().UnixMilli())
	return err
}

func (o *outbox) cached(topic string) ([]byte, bool) {
	var p []byte
	err := o.db.QueryRow(`SELECT payload FROM retained WHERE topic = ?`, topic).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) || err != nil {
		return nil, false
	}
	return p, true
}
