// Package crm is the citizen file (the "360° view"): who the citizens are,
// the timeline of their contacts with the town (visits, calls, notes,
// letters and e-mails, requests and their steps), their requests with the
// dates the law makes the town keep, duplicates and their merging, search,
// and the GDPR obligations built in: rights by sector, an audit entry for
// every read and change, retention and purge, export and erasure.
//
// Its data live in their own SQLite file, crm.db in the data directory,
// apart from the event log (guichet.db): the log is the queue's source of
// truth and is kept, replayed and copied for statistics, while personal
// data must be purged, exported and erased on their own schedule and be
// readable by fewer people. Keeping them apart means a purge or an erasure
// never rewrites the log, a copy of the log for statistics carries no
// names, and the file's permissions (0600) and secure_delete (deleted rows
// are overwritten with zeros) apply to personal data alone. The audit log
// is a third file (hub/audit).
//
// Search uses SQLite's FTS4 with the unicode61 tokenizer and
// remove_diacritics=2, not FTS5: mattn/go-sqlite3 compiles FTS5 only under
// the sqlite_fts5 build tag, and "go run ./cmd/guichet demo" must work
// without tags; FTS4 is always built in. What FTS5 would add — bm25 ranking
// — is not what a desk needs: results are ranked in Go by where the words
// matched (family name before first names, whole words before prefixes),
// which is explainable and stable.
//
// One writer goroutine owns every change and commits what is waiting in one
// transaction (each operation in its own savepoint, so one refusal does not
// undo the others), the shape of hub/hub.go's writer. Reads go through a
// pool of read-only connections.
//
// The queue engine never imports this package: the hub feeds the timeline
// through plain methods (RecordVisit, RecordCall…) from the event log.
//
// Logs carry identifiers only: never a name, a phone number, an e-mail
// address or the text of a note.
package crm

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"guichet/hub/api"
	"guichet/hub/audit"
	"guichet/internal/privdb"
)

// Auditor records accesses; *audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, e audit.Entry) error
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("citizen file closed")

// Options configures a Store.
type Options struct {
	Site     Site
	Audit    Auditor
	Log      *slog.Logger
	Clock    func() time.Time // time.Now if nil
	MaxBatch int              // operations per commit; 256 if zero
}

// Store is the citizen file of one site.
type Store struct {
	// Immutable.
	db    *privdb.DB
	site  Site
	audit Auditor
	log   *slog.Logger
	clock func() time.Time
	max   int

	ops  chan *op
	stop chan struct{}
	done chan struct{}

	supervisorSeesAll atomic.Bool
}

type op struct {
	name string
	fn   func(tx *sql.Tx) error
	err  chan error
}

// Open opens or creates the citizen file at path and starts its writer.
func Open(path string, o Options) (*Store, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.Audit == nil {
		return nil, errors.New("crm: an audit log is required")
	}
	if o.Site.Location == nil {
		o.Site.Location = DefaultSite("").Location
	}
	if o.Site.Kinds == nil {
		o.Site.Kinds = DefaultKinds()
	}
	o.Site.Retention = o.Site.Retention.withDefaults()
	if err := o.Site.check(); err != nil {
		return nil, fmt.Errorf("crm: %w", err)
	}
	db, err := privdb.Open(path, migrations, o.Log)
	if err != nil {
		return nil, fmt.Errorf("crm: %w", err)
	}
	s := &Store{db: db, site: o.Site, audit: o.Audit, log: o.Log, clock: o.Clock, max: o.MaxBatch,
		ops: make(chan *op, 1024), stop: make(chan struct{}), done: make(chan struct{})}
	var v string
	if err := db.W.QueryRow(`SELECT value FROM settings WHERE key = 'supervisor_sees_all'`).Scan(&v); err == nil {
		s.supervisorSeesAll.Store(v == "1")
	}
	go s.run()
	return s, nil
}

// Close stops the writer after the operations already queued.
func (s *Store) Close() error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	close(s.stop)
	<-s.done
	return s.db.Close()
}

// Site returns the site the file was opened with.
func (s *Store) Site() Site { return s.site }

// write runs fn in the writer's next transaction and returns once it is
// committed (or refused: fn's error, and nothing of fn is kept).
func (s *Store) write(ctx context.Context, name string, fn func(tx *sql.Tx) error) error {
	o := &op{name: name, fn: fn, err: make(chan error, 1)}
	select {
	case s.ops <- o:
	case <-s.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-o.err:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) run() {
	defer close(s.done)
	batch := make([]*op, 0, s.max)
	for {
		batch = batch[:0]
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case <-s.stop:
			for {
				select {
				case o := <-s.ops:
					o.err <- ErrClosed
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < s.max {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.process(batch)
	}
}

// process runs a batch in one transaction, each operation in a savepoint.
func (s *Store) process(batch []*op) {
	errs := make([]error, len(batch))
	err := func() error {
		tx, err := s.db.W.Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, o := range batch {
			if _, err := tx.Exec(`SAVEPOINT op`); err != nil {
				return err
			}
			if errs[i] = o.fn(tx); errs[i] != nil {
				if _, err := tx.Exec(`ROLLBACK TO op`); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(`RELEASE op`); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		s.log.Error("crm: commit failed", "operations", len(batch), "err", err)
		err = fmt.Errorf("crm: not stored: %w", err)
	}
	for i, o := range batch {
		if err != nil {
			o.err <- err
		} else {
			o.err <- errs[i]
		}
	}
}

// record writes an audit entry for v's action on an object. The file fails
// closed: an access that cannot be audited is not granted.
func (s *Store) record(ctx context.Context, v Viewer, action, object, id string, out audit.Outcome, detail string) error {
	err := s.audit.Append(ctx, audit.Entry{Actor: v.ID, Role: string(v.Role), Addr: v.Addr, Action: action,
		Object: object, ObjectID: id, Outcome: out, Detail: detail})
	if err != nil {
		s.log.Error("crm: audit failed: access refused", "action", action, "object", id, "err", err)
		return fmt.Errorf("crm: audit %s: %w", action, err)
	}
	return nil
}

// audited runs fn while v's access is written to the audit log, and
// returns fn's result only once the entry is durable: a read costs the
// longer of the two, not their sum, and still fails closed.
func (s *Store) audited(ctx context.Context, v Viewer, action, object, id, detail string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- s.record(ctx, v, action, object, id, audit.Allowed, detail) }()
	err := fn()
	if aerr := <-done; aerr != nil {
		return aerr
	}
	return err
}

// deny audits a denied access and returns ErrNotFound.
func (s *Store) deny(ctx context.Context, v Viewer, action, object, id, why string) error {
	if err := s.record(ctx, v, action, object, id, audit.Denied, why); err != nil {
		return err
	}
	s.log.Info("crm: access denied", "viewer", v.ID, "action", action, "object", id)
	return ErrNotFound
}

func (s *Store) checkViewer(v Viewer) error {
	if !v.known() {
		return fmt.Errorf("%w: viewer without id or with an unknown role", ErrForbidden)
	}
	return nil
}

// SupervisorSeesAll tells whether supervisors see every sector.
func (s *Store) SupervisorSeesAll() bool { return s.supervisorSeesAll.Load() }

// SetSupervisorSeesAll sets the site's setting that gives supervisors every
// sector. Only the system (from the site file) and the DPO set it; every
// change is audited.
func (s *Store) SetSupervisorSeesAll(ctx context.Context, v Viewer, on bool) error {
	if err := s.checkViewer(v); err != nil {
		return err
	}
	if v.Role != RoleSystem && v.Role != RoleDPO {
		s.record(ctx, v, "setting.supervisor_sees_all", "setting", "supervisor_sees_all", audit.Denied, "")
		return ErrForbidden
	}
	val := map[bool]string{true: "1", false: "0"}[on]
	if err := s.record(ctx, v, "setting.supervisor_sees_all", "setting", "supervisor_sees_all", audit.Allowed, "value="+val); err != nil {
		return err
	}
	err := s.write(ctx, "setting", func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO settings(key, value) VALUES ('supervisor_sees_all', ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, val)
		return err
	})
	if err == nil {
		s.supervisorSeesAll.Store(on)
		s.log.Info("crm: supervisors' view changed", "sees_all", on, "by", v.ID)
	}
	return err
}

// IsCitizenID reports whether s is the id of a file of the citizen file
// (newID("c-")), a form hub/api reserves for them on a ticket: see
// api.IsCitizenID.
func IsCitizenID(s string) bool { return api.IsCitizenID(s) }

// newID returns a random identifier with a prefix: "c-" citizens, "r-"
// requests. 80 random bits, base32, lower case.
func newID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
