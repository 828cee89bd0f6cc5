package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Purge deletes the entries older than before (the retention rule: one year
// by default, after the CNIL's recommendation on logging) and appends an
// anchor entry, by the given actor, that records the sequence number and
// hash of the last entry deleted: the chain that remains verifies from its
// first entry. It returns how many entries it deleted.
func (l *Log) Purge(ctx context.Context, before time.Time, by Entry) (int64, error) {
	if err := check(&Entry{Action: ActionPurged, Actor: by.Actor, Role: by.Role, Addr: by.Addr}); err != nil {
		return 0, err
	}
	p := &purgeReq{before: before, by: by}
	if err := l.submit(ctx, &op{purge: p}); err != nil {
		return 0, err
	}
	return p.n, nil
}

// Report is what Verify found.
type Report struct {
	Entries int64  `json:"entries"` // entries read
	First   int64  `json:"first"`   // the first sequence number present
	Last    int64  `json:"last"`    // the last one
	Head    string `json:"head"`    // the last entry's hash, hex: keep it elsewhere to detect a truncated tail
	Broken  int64  `json:"broken"`  // the first entry that does not verify; 0 when the chain is whole
	Reason  string `json:"reason,omitempty"`
}

// OK tells whether the chain verified.
func (r Report) OK() bool { return r.Broken == 0 }

// Verify walks the chain from its first entry and reports the first entry
// whose hash, previous hash or sequence number is not what the chain says.
// A chain that starts after 1 must hold the anchor of the purge that
// removed its beginning.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	rows, err := l.db.R.QueryContext(ctx, `SELECT seq, at, actor, role, addr, action, object, object_id, outcome, detail, prev, hash
		FROM entries ORDER BY seq`)
	if err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	defer rows.Close()
	var r Report
	var prev []byte
	var firstPrev []byte
	anchored := false
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return r, fmt.Errorf("audit verify: %w", err)
		}
		r.Entries++
		if r.Entries == 1 {
			r.First, firstPrev = e.Seq, e.Prev
			if e.Seq == 1 {
				anchored = bytes.Equal(e.Prev, genesis)
				if !anchored {
					return r.broken(e.Seq, "the first entry does not start the chain"), rows.Close()
				}
			}
		} else {
			if e.Seq != r.Last+1 {
				return r.broken(r.Last+1, fmt.Sprintf("entries %d to %d are missing", r.Last+1, e.Seq-1)), rows.Close()
			}
			if !bytes.Equal(e.Prev, prev) {
				return r.broken(e.Seq, "its previous hash is not the hash of the entry before it"), rows.Close()
			}
		}
		if !bytes.Equal(e.hash(), e.Hash) {
			return r.broken(e.Seq, "its content does not match its hash"), rows.Close()
		}
		if e.Action == ActionPurged && !anchored {
			var through, count int64
			var h []byte
			var before string
			if _, err := fmt.Sscanf(e.Detail, "through=%d hash=%x count=%d before=%s", &through, &h, &count, &before); err == nil &&
				through == r.First-1 && bytes.Equal(h, firstPrev) {
				anchored = true
			}
		}
		prev, r.Last = e.Hash, e.Seq
		r.Head = fmt.Sprintf("%x", e.Hash)
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("audit verify: %w", err)
	}
	if r.Entries > 0 && !anchored {
		return r.broken(r.First, fmt.Sprintf("the chain starts at %d and no purge anchor records entry %d", r.First, r.First-1)), nil
	}
	return r, nil
}

func (r Report) broken(seq int64, why string) Report {
	r.Broken, r.Reason = seq, why
	return r
}

// VerifyFile verifies the audit log at path, which must exist.
func VerifyFile(ctx context.Context, path string, o Options) (Report, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Report{}, fmt.Errorf("no audit log at %s", path)
		}
		return Report{}, err
	}
	l, err := Open(path, o)
	if err != nil {
		return Report{}, err
	}
	defer l.Close()
	return l.Verify(ctx)
}

type scanner interface{ Scan(...any) error }

func scan(s scanner) (Entry, error) {
	var e Entry
	var at int64
	var outcome string
	if err := s.Scan(&e.Seq, &at, &e.Actor, &e.Role, &e.Addr, &e.Action, &e.Object, &e.ObjectID, &outcome, &e.Detail, &e.Prev, &e.Hash); err != nil {
		return e, err
	}
	e.At, e.Outcome = time.Unix(0, at).UTC(), Outcome(outcome)
	return e, nil
}

// Filter selects entries to read.
type Filter struct {
	ObjectID string // only entries on this object, when set
	Actor    string // only entries by this account, when set
	Outcome  Outcome
	Limit    int // 100 if zero; at most 10,000
}

// Entries returns the newest entries that match f, newest first: for the
// data protection officer, who reads who saw a citizen's file.
func (l *Log) Entries(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 10_000)
	q := `SELECT seq, at, actor, role, addr, action, object, object_id, outcome, detail, prev, hash FROM entries WHERE 1=1`
	var args []any
	if f.ObjectID != "" {
		q += ` AND object_id = ?`
		args = append(args, f.ObjectID)
	}
	if f.Actor != "" {
		q += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if f.Outcome != "" {
		q += ` AND outcome = ?`
		args = append(args, string(f.Outcome))
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := l.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("audit entries: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
