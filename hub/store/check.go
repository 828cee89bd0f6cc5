package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"guichet/hub/queue"
)

// Report is what Check found in a data directory.
type Report struct {
	DB        string
	Marker    *Marker // nil when the directory has none
	Identity  Marker  // what the database says it is
	Schema    int
	Events    int64
	LastSeq   int64
	Snapshots []int64 // sequences of the snapshots kept
	Checked   []string
	Problems  []string // empty: sound
}

// OK reports whether nothing is wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, a ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
}

// Check examines a data directory without changing anything, more deeply
// than a start does: SQLite's full integrity check (indexes against their
// tables too), the marker against the database, every event of the log
// decoded in order, every snapshot decoded and none ahead of the log; and,
// given the site (its configuration), the newest snapshot against the log:
// the queue rebuilt from the snapshot and the events after it must be the
// queue rebuilt from the whole log. A hub may run meanwhile. The error is
// for what prevented checking at all; what is wrong is in Report.Problems.
func Check(dir string, site *queue.Site) (*Report, error) {
	r := &Report{DB: filepath.Join(dir, DBFile)}
	m, err := ReadMarker(dir)
	if err != nil {
		r.problem("%v", err)
	}
	r.Marker = m
	fi, err := os.Stat(r.DB)
	switch {
	case err != nil:
		r.problem("%s: %v", r.DB, err)
		return r, nil
	case fi.Size() == 0:
		r.problem("%s is empty", r.DB)
		return r, nil
	}
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(r.DB)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return r, fmt.Errorf("open %s: %w", r.DB, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	s := &Store{path: r.DB, w: db}

	problems, err := s.pragmaCheck("integrity_check")
	r.Checked = append(r.Checked, "SQLite integrity check (every page, every index)")
	if err != nil {
		r.problem("integrity check: %v", err)
		return r, nil
	}
	for _, p := range problems {
		r.problem("integrity check: %s", p)
	}
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&r.Schema); err != nil {
		r.problem("schema version: %v", err)
		return r, nil
	}
	if r.Schema > SchemaVersion {
		r.problem("schema %d is newer than this build's (%d): check it with a newer guichet", r.Schema, SchemaVersion)
		return r, nil
	}
	if r.Identity, err = s.Identity(); err != nil {
		r.problem("%v", err)
	}
	r.Checked = append(r.Checked, "the data directory's marker against the database")
	switch {
	case m == nil:
		r.Checked = append(r.Checked, "(no marker: the next start writes it from the database)")
	case r.Identity.StoreID == "":
		// A database from before markers: the next start gives it the marker's id.
	case r.Identity.StoreID != m.StoreID:
		r.problem("the database's store id %s is not the marker's (%s): it belongs to another data directory", r.Identity.StoreID, m.StoreID)
	}
	if site != nil {
		r.Checked = append(r.Checked, "the database's site against the configuration's")
		if r.Identity.Site != "" && r.Identity.Site != site.ID {
			r.problem("the database holds site %q, the configuration is for site %q", r.Identity.Site, site.ID)
		}
	}

	r.Checked = append(r.Checked, "every event of the log decoded, in order")
	if err := r.readLog(s, nil); err != nil {
		r.problem("%v", err)
		return r, nil
	}
	r.Checked = append(r.Checked, "every snapshot decoded, none ahead of the log")
	snaps, err := r.readSnapshots(s)
	if err != nil {
		r.problem("%v", err)
		return r, nil
	}
	if site == nil || len(snaps) == 0 {
		return r, nil
	}
	r.Checked = append(r.Checked, "the newest snapshot against the whole log, replayed")
	newest := snaps[len(snaps)-1]
	full, err := queue.New(*site)
	if err != nil {
		return r, fmt.Errorf("site: %w", err)
	}
	if err := r.readLog(s, func(ev queue.Event) { full.Apply(ev) }); err != nil {
		r.problem("%v", err)
		return r, nil
	}
	fromSnap, _ := queue.New(*site)
	fromSnap.Restore(newest.snap)
	if err := r.readLogAfter(s, newest.seq, func(ev queue.Event) { fromSnap.Apply(ev) }); err != nil {
		r.problem("%v", err)
		return r, nil
	}
	a, _ := json.Marshal(full.Snapshot())
	b, _ := json.Marshal(fromSnap.Snapshot())
	if !bytes.Equal(a, b) {
		r.problem("the snapshot at event %d does not match the log: the queue rebuilt from it is not the queue the log gives. "+
			"With the hub stopped, delete the snapshots (sqlite3 %s 'DELETE FROM snapshots'): the next start replays the whole log", newest.seq, r.DB)
	}
	return r, nil
}

type snapshotAt struct {
	seq  int64
	snap queue.Snapshot
}

// readSnapshots decodes every snapshot, oldest first.
func (r *Report) readSnapshots(s *Store) ([]snapshotAt, error) {
	rows, err := s.w.Query(`SELECT seq, state FROM snapshots ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read snapshots: %w", err)
	}
	defer rows.Close()
	var out []snapshotAt
	for rows.Next() {
		var sa snapshotAt
		var data []byte
		if err := rows.Scan(&sa.seq, &data); err != nil {
			return nil, fmt.Errorf("read snapshots: %w", err)
		}
		r.Snapshots = append(r.Snapshots, sa.seq)
		if err := json.Unmarshal(data, &sa.snap); err != nil {
			r.problem("the snapshot at event %d cannot be decoded (%v): the hub replays the log instead", sa.seq, err)
			continue
		}
		if sa.seq > r.LastSeq {
			r.problem("the snapshot at event %d is ahead of the log, which ends at event %d: events are missing", sa.seq, r.LastSeq)
			continue
		}
		out = append(out, sa)
	}
	return out, rows.Err()
}

// readLog reads the whole log in order, counting it, and hands each event
// to apply when not nil.
func (r *Report) readLog(s *Store, apply func(queue.Event)) error {
	r.Events, r.LastSeq = 0, 0
	return r.scan(s, 0, func(ev queue.Event) {
		r.Events++
		r.LastSeq = ev.Seq
		if apply != nil {
			apply(ev)
		}
	})
}

func (r *Report) readLogAfter(s *Store, after int64, apply func(queue.Event)) error {
	return r.scan(s, after, apply)
}

func (r *Report) scan(s *Store, after int64, fn func(queue.Event)) error {
	rows, err := s.w.Query(`SELECT seq, payload FROM events WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return fmt.Errorf("read the log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev queue.Event
		var payload []byte
		if err := rows.Scan(&ev.Seq, &payload); err != nil {
			return fmt.Errorf("read the log after event %d: %w", after, err)
		}
		seq := ev.Seq
		if err := json.Unmarshal(payload, &ev); err != nil {
			return fmt.Errorf("event %d cannot be decoded: %v", seq, err)
		}
		ev.Seq = seq
		after = seq
		fn(ev)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the log after event %d: %w", after, err)
	}
	return nil
}
