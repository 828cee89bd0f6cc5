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
// which tickets it printed (so one that was not gets cancelled at the hub).
//
// A ticket's row goes through these states:
//
//	online:  intend (no ticket id) → online or issued (the hub's id) → printed
//	offline: reserve (a leased number) → issued (the hub's id, on reconnect); printed
//	not printed: markVoid (voidWanted) → voidSent, once its cancel is in the outbox
//
// A row neither printed nor sent is forgotten (release); rows of days
// before yesterday are purged.
type journal struct {
	db  *sql.DB
	now func() time.Time
}

// voiding is where an unprinted ticket stands on its way to being
// cancelled at the hub (the column void).
type voiding int

const (
	voidNone   voiding = 0 // printed, or on its way to the printer
	voidWanted voiding = 1 // not printed: cancel it once the hub's id is known
	voidSent   voiding = 2 // its cancel is in the outbox
)

// entry is one ticket of the journal.
type entry struct {
	Cmd     string // id of the command that issues it
	Ticket  string // the hub's ticket id, once known
	Service string
	Day     string
	Number  int
	Offline bool
	Printed bool
	Void    voiding
}

// openJournal opens (or creates) the journal at path; now stamps its rows.
func openJournal(path string, now func() time.Time) (*journal, error) {
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_synchronous=FULL")
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
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
	return &journal{db: db, now: now}, nil
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
			cmd, service, day, n, j.now().UnixMilli()); err != nil {
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
		cmd, day, j.now().UnixMilli())
	return err
}

// online records a ticket the hub issued, before it is printed.
func (j *journal) online(cmd, ticket, service, day string, number int) error {
	_, err := j.db.Exec(`INSERT OR REPLACE INTO tickets(cmd, ticket, service, day, number, offline, created) VALUES (?, ?, ?, ?, ?, 0, ?)`,
		cmd, ticket, service, day, number, j.now().UnixMilli())
	return err
}

// printed records that the ticket of cmd goes to the printer.
func (j *journal) printed(cmd string) error {
	_, err := j.db.Exec(`UPDATE tickets SET printed = 1 WHERE cmd = ?`, cmd)
	return err
}

// markVoid marks the ticket of cmd not printed, to cancel at the hub.
func (j *journal) markVoid(cmd string) error {
	_, err := j.db.Exec(`UPDATE tickets SET void = ? WHERE cmd = ?`, voidWanted, cmd)
	return err
}

// voidSent records that the cancel of ticket is in the outbox.
func (j *journal) voidSent(ticket string) error {
	_, err := j.db.Exec(`UPDATE tickets SET void = ? WHERE ticket = ?`, voidSent, ticket)
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

// unsettled returns the tickets recorded but never sent to the printer (a
// crash between issuing and printing), and those to cancel whose cancel is
// not sent yet.
func (j *journal) unsettled() ([]entry, error) {
	rows, err := j.db.Query(`SELECT cmd, ticket, service, day, number, offline, printed, void FROM tickets WHERE printed = 0 OR void = ?`, voidWanted)
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
