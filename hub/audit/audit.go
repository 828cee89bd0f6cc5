// Package audit is the tamper-evident log of who read or changed what in the
// citizen file: every read of a citizen's record and every action, allowed
// or denied, by whom (account and role), when, from where, on which object.
//
// It lives in its own SQLite file (audit.db), apart from the event log and
// from the citizen file, so that neither a purge of the file nor a rebuild
// of the queue touches it. The log is append-only and hash-chained: each
// entry's hash is SHA-256 over a canonical encoding of its fields and the
// previous entry's hash, so changing, inserting or removing an entry in the
// middle breaks every hash after it, and Verify reports the first broken
// one. A retention purge removes the oldest entries and appends an anchor
// entry that records the hash of the last entry it removed, so the chain
// that remains still verifies from its first entry.
//
// Entries carry identifiers only (account ids, object ids, sectors): never
// names, phone numbers or the text of a note.
//
// One writer goroutine owns every change and commits what is waiting in one
// transaction (group commit); Append returns once its entry is durable.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"guichet/internal/privdb"
)

// Outcome says whether an access was allowed.
type Outcome string

// Outcomes.
const (
	Allowed Outcome = "allowed"
	Denied  Outcome = "denied"
)

// ActionPurged is the action of the anchor entry a retention purge appends.
const ActionPurged = "audit.purged"

// Entry is one access or action.
type Entry struct {
	Seq      int64     `json:"seq"` // assigned by the log, from 1
	At       time.Time `json:"at"`  // assigned by the log's clock when zero
	Actor    string    `json:"actor"`
	Role     string    `json:"role"`
	Addr     string    `json:"addr"`   // where from: an IP address, a device id
	Action   string    `json:"action"` // "citizen.read", "note.add", "citizen.erase"…
	Object   string    `json:"object"` // kind of object: "citizen", "note", "request"…
	ObjectID string    `json:"object_id"`
	Outcome  Outcome   `json:"outcome"`
	Detail   string    `json:"detail,omitempty"` // identifiers only, never personal data
	Prev     []byte    `json:"prev"`             // the previous entry's hash
	Hash     []byte    `json:"hash"`
}

// Limits on the fields, so that one caller cannot bloat the log.
const (
	maxField  = 200
	maxDetail = 1000
)

// Hash returns the entry's hash: SHA-256 over its canonical encoding, which
// is, in this order, the sequence number and the time in Unix nanoseconds
// as 8-byte big-endian integers, then every text field (actor, role, addr,
// action, object, object id, outcome, detail), each as its length in bytes
// (uvarint) followed by its UTF-8 bytes, then the previous hash, length-
// prefixed likewise. Length prefixes make the encoding unambiguous: no two
// different entries encode to the same bytes.
func (e *Entry) hash() []byte {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(e.Seq))
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(e.At.UnixNano()))
	h.Write(b[:])
	var l [binary.MaxVarintLen64]byte
	field := func(s []byte) {
		n := binary.PutUvarint(l[:], uint64(len(s)))
		h.Write(l[:n])
		h.Write(s)
	}
	for _, s := range []string{e.Actor, e.Role, e.Addr, e.Action, e.Object, e.ObjectID, string(e.Outcome), e.Detail} {
		field([]byte(s))
	}
	field(e.Prev)
	return h.Sum(nil)
}

// genesis is the previous hash of the first entry ever written.
var genesis = make([]byte, sha256.Size)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit log closed")

// Options configures a Log.
type Options struct {
	Log      *slog.Logger
	Clock    func() time.Time // time.Now if nil
	MaxBatch int              // entries per commit; 256 if zero
}

// Log is the audit log of one site.
type Log struct {
	db    *privdb.DB
	log   *slog.Logger
	clock func() time.Time
	max   int

	ops  chan *op
	stop chan struct{}
	done chan struct{}

	// Writer only.
	last     int64
	lastHash []byte
}

type op struct {
	entry  *Entry
	purge  *purgeReq
	result chan error
}

type purgeReq struct {
	before time.Time
	by     Entry
	n      int64
}

var migrations = []string{
	// 1: the chain.
	`CREATE TABLE entries (
		seq       INTEGER PRIMARY KEY,
		at        INTEGER NOT NULL,
		actor     TEXT NOT NULL,
		role      TEXT NOT NULL,
		addr      TEXT NOT NULL,
		action    TEXT NOT NULL,
		object    TEXT NOT NULL,
		object_id TEXT NOT NULL,
		outcome   TEXT NOT NULL,
		detail    TEXT NOT NULL,
		prev      BLOB NOT NULL,
		hash      BLOB NOT NULL
	);
	CREATE INDEX entries_object ON entries(object_id);
	CREATE INDEX entries_at ON entries(at);`,
}

// Open opens or creates the audit log at path and starts its writer.
func Open(path string, o Options) (*Log, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	db, err := privdb.Open(path, migrations, o.Log)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	l := &Log{db: db, log: o.Log, clock: o.Clock, max: o.MaxBatch,
		ops: make(chan *op, 1024), stop: make(chan struct{}), done: make(chan struct{})}
	err = db.W.QueryRow(`SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1`).Scan(&l.last, &l.lastHash)
	if errors.Is(err, sql.ErrNoRows) {
		l.last, l.lastHash = 0, genesis
	} else if err != nil {
		db.Close()
		return nil, fmt.Errorf("audit: read the chain's head: %w", err)
	}
	go l.run()
	return l, nil
}

// Close stops the writer after the entries already queued.
func (l *Log) Close() error {
	select {
	case <-l.stop:
		return nil
	default:
	}
	close(l.stop)
	<-l.done
	return l.db.Close()
}

// Append adds an entry and returns once it is durable. The log assigns its
// sequence number, its time (when zero) and its hashes.
func (l *Log) Append(ctx context.Context, e Entry) error {
	if err := check(&e); err != nil {
		return err
	}
	return l.submit(ctx, &op{entry: &e})
}

func (l *Log) submit(ctx context.Context, o *op) error {
	o.result = make(chan error, 1)
	select {
	case l.ops <- o:
	case <-l.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-o.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func check(e *Entry) error {
	for _, f := range []struct{ name, v string }{{"actor", e.Actor}, {"role", e.Role}, {"addr", e.Addr},
		{"action", e.Action}, {"object", e.Object}, {"object id", e.ObjectID}} {
		if len(f.v) > maxField {
			return fmt.Errorf("audit entry: %s longer than %d bytes", f.name, maxField)
		}
	}
	if len(e.Detail) > maxDetail {
		return fmt.Errorf("audit entry: detail longer than %d bytes", maxDetail)
	}
	if e.Action == "" {
		return errors.New("audit entry: no action")
	}
	switch e.Outcome {
	case Allowed, Denied:
	case "":
		e.Outcome = Allowed
	default:
		return fmt.Errorf("audit entry: outcome %q is neither allowed nor denied", e.Outcome)
	}
	return nil
}
