package kiosk

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the sqlite3 driver
)

// journal is the kiosk's record of the tickets it issues, in SQLite: which
// leased numbers it used (so none is printed twice, even after a crash) and
// which tickets it printed (so one that was not gets voided at the hub).
type journal struct{ db *sql.DB }

// entry is one ticket of the journal.
type entry struct {
	Cmd     string // id of the command that issues it
	Ticket  string // the hub's ticket id, once known
	Service string
	Day     string
	Number  int
	Offline bool
	Printed bool
	Void    int // 1: not printed, cancel it at the hub once its id is known; 2: cancel sent
}

func openJournal(path string) (*journal, error) {
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_synchronous=FULL")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS tickets (
			cmd     TEXT PRIMARY KEY,
			ticket  TEXT NOT NULL DEFAULT '',
			service TEXT NOT NULL,
			day     TEXT NOT NULL,
			number  INTEGER NOT NULL,
			offline INTEGER NOT NULL,
			printed INTEGER NOT NULL DEFAULT 0,
			void    INTEGER NOT NULL DEFAULT 0,
			created INTEGER NOT NULL);
		CREATE INDEX IF NOT EXISTS tickets_number ON tickets(service, day, number);`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return &journal{db: db}, nil
}

func (j *journal) close() error { return j.db.Close() }

// ErrNoNumber means the kiosk has no leased number left for the service today.
var ErrNoNumber = errors.New("no offline number left")

// reserve picks the lowest free number among candidates (the lease's
// numbers the hub has not seen used) that the journal has not used either,
// and records it for cmd: durable before it is printed.
func (j *journal) reserve(cmd, service, day string, candidates []int) (int, error) {
	tx, err := j.db.Begin()
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	used, err := usedOffline(tx, service, day)
	if err != nil {
		return 0, err
	}
	for _, n := range candidates {
		if used[n] {
			continue
		}
		if _, err := tx.Exec(`INSERT INTO tickets(cmd, service, day, number, offline, created) VALUES (?, ?, ?, ?, 1, ?)`,
			cmd, service, day, n, time.Now().UnixMilli()); err != nil {
			return 0, err
		}
		return n, tx.Commit()
	}
	return 0, ErrNoNumber
}

type querier interface {
	Query(q string, args ...any) (*sql.Rows, error)
}

func usedOffline(q querier, service, day string) (map[int]bool, error) {
	used := map[int]bool{}
	rows, err := q.Query(`SELECT number FROM tickets WHERE service = ? AND day = ? AND offline = 1`, service, day)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		used[n] = true
	}
	return used, rows.Err()
}

// usedOffline returns the offline numbers of service on day the kiosk used.
func (j *journal) usedOffline(service, day string) (map[int]bool, error) {
	return usedOffline(j.db, service, day)
}

// release forgets a reserved number that was neither sent nor printed.
func (j *journal) release(cmd string) error {
	_, err := j.db.Exec(`DELETE FROM tickets WHERE cmd = ? AND printed = 0`, cmd)
	return err
}

// intend records a request about to be sent: should the kiosk die before
// printing its ticket, the ticket is voided.
func (j *journal) intend(cmd, day string) error {
	_, err := j.db.Exec(`INSERT INTO tickets(cmd, service, day, number, offline, created) VALUES (?, '', ?, 0, 0, ?)`,
		cmd, day, time.Now().UnixMilli())
	return err
}

// online records a ticket the hub issued, before it is printed.
func (j *journal) online(cmd, ticket, service, day string, number int) error {
	_, err := j.db.Exec(`INSERT OR REPLACE INTO tickets(cmd, ticket, service, day, number, offline, created) VALUES (?, ?, ?, ?, ?, 0, ?)`,
		cmd, ticket, service, day, number, time.Now().UnixMilli())
	return err
}

func (j *journal) printed(cmd string) error {
	_, err := j.db.Exec(`UPDATE tickets SET printed = 1 WHERE cmd = ?`, cmd)
	return err
}

// void marks a ticket not printed, to cancel at the hub.
func (j *journal) void(cmd string) error {
	_, err := j.db.Exec(`UPDATE tickets SET void = 1 WHERE cmd = ?`, cmd)
	return err
}

// voidSent records that the cancel of ticket is in the outbox.
func (j *journal) voidSent(ticket string) error {
	_, err := j.db.Exec(`UPDATE tickets SET void = 2 WHERE ticket = ?`, ticket)
	return err
}

// issued records the hub's id of the ticket cmd issued; it returns the
// entry.
func (j *journal) issued(cmd, ticket string) (*entry, error) {
	if _, err := j.db.Exec(`UPDATE tickets SET ticket = ? WHERE cmd = ?`, ticket, cmd); err != nil {
		return nil, err
	}
	return j.get(cmd)
}

func (j *journal) get(cmd string) (*entry, error) {
	var e entry
	err := j.db.QueryRow(`SELECT cmd, ticket, service, day, number, offline, printed, void FROM tickets WHERE cmd = ?`, cmd).
		Scan(&e.Cmd, &e.Ticket, &e.Service, &e.Day, &e.Number, &e.Offline, &e.Printed, &e.Void)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &e, err
}

// unprinted returns the tickets recorded but never sent to the printer (a
// crash between issuing and printing), and those voided whose id the hub
// had not given yet.
func (j *journal) unprinted() ([]entry, error) {
	rows, err := j.db.Query(`SELECT cmd, ticket, service, day, number, offline, printed, void FROM tickets WHERE printed = 0 OR void = 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.Cmd, &e.Ticket, &e.Service, &e.Day, &e.Number, &e.Offline, &e.Printed, &e.Void); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// purge forgets the tickets of days before day.
func (j *journal) purge(day string) error {
	_, err := j.db.Exec(`DELETE FROM tickets WHERE day < ?`, day)
	return err
}
