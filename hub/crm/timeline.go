package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"guichet/hub/audit"
)

// EntryKind is what a timeline entry records.
type EntryKind string

// Kinds of timeline entries.
const (
	EntryVisit   EntryKind = "visit"   // a ticket attached to the citizen at the counter
	EntryCall    EntryKind = "call"    // a phone call
	EntryNote    EntryKind = "note"    // an agent's note
	EntryMail    EntryKind = "mail"    // a letter or an e-mail received
	EntryRequest EntryKind = "request" // a request opened, or one of its steps
	EntryMerge   EntryKind = "merge"   // another file merged into this one
)

// Entry is one line of a citizen's timeline.
type Entry struct {
	ID      int64     `json:"id"`
	Citizen string    `json:"citizen"`
	Kind    EntryKind `json:"kind"`
	Sector  Sector    `json:"sector"`
	At      time.Time `json:"at"`
	Agent   string    `json:"agent,omitempty"` // account id
	Visit   *Visit    `json:"visit,omitempty"`
	Call    *Call     `json:"call,omitempty"`
	Note    *Note     `json:"note,omitempty"`
	Mail    *Mail     `json:"mail,omitempty"`
	Step    *Step     `json:"step,omitempty"`
	Merge   *Merge    `json:"merge,omitempty"`
}

// Visit is a ticket attached to a citizen at the counter. After the
// retention's TicketLink the ticket is detached: TicketID and Number are
// removed, the visit stays in the contact history.
type Visit struct {
	TicketID   string    `json:"ticket_id,omitempty"`
	Number     string    `json:"number,omitempty"` // "A042"
	Service    string    `json:"service"`
	Counter    string    `json:"counter,omitempty"`
	IssuedAt   time.Time `json:"issued_at,omitzero"`
	CalledAt   time.Time `json:"called_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Agent is who served it, when the hub records it on their behalf
	// (the entry's agent).
	Agent string `json:"-"`
}

// Call is a phone call with the citizen.
type Call struct {
	Number  string        `json:"number,omitempty"` // the call's ticket number in the queue, if any
	Wait    time.Duration `json:"wait"`
	Talk    time.Duration `json:"talk"`
	Outcome string        `json:"outcome"` // "answered", "abandoned", "transferred", "callback"…
	// WrapUp and WrapUpNote are what the agent wrote after it (wrapup.go).
	WrapUp     WrapUp `json:"wrapup,omitempty"`
	WrapUpNote string `json:"wrapup_note,omitempty"`
	// Agent is who took it, when the hub records it on their behalf (the
	// entry's agent); Ticket is its ticket's id, which files it once.
	Agent  string `json:"-"`
	Ticket string `json:"-"`
}

// Note is an agent's note.
type Note struct {
	Text string `json:"text"`
}

// Mail is a letter or an e-mail received from the citizen.
type Mail struct {
	Channel  string `json:"channel"` // "letter" or "email"
	Subject  string `json:"subject"`
	Request  string `json:"request,omitempty"` // the request it belongs to
	Received string `json:"received_ref,omitempty"`
}

// Step is a request opened or moving on.
type Step struct {
	Request string `json:"request"`
	Kind    string `json:"kind"`
	Status  Status `json:"status"`
	Label   string `json:"label,omitempty"`
	No      int    `json:"no,omitempty"`
	Of      int    `json:"of,omitempty"`
}

// Merge records another file merged into this one.
type Merge struct {
	From string `json:"from"`
}

const maxText = 4000

func text(name, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return "", fmt.Errorf("%w: %s longer than %d characters or not UTF-8", ErrInvalid, name, max)
	}
	return s, nil
}

// The times a caller gives — when a request was received or a status
// reached, a visit or a call made, documents due — lie from 1970 to ten
// years from now: every view can then write them (encoding/json stops at
// year 9999, and a year 0 written in Paris is year -1 in UTC, which broke
// the request and the citizen's whole timeline).
var epoch = time.Unix(0, 0).UTC()

// MaxAhead is how far ahead of now a time the CRM takes may lie.
const MaxAhead = 10 * 366 * 24 * time.Hour

// checkTime refuses a time outside [1970, now + MaxAhead]; zero passes
// (the caller's "now").
func checkTime(name string, t, now time.Time) error {
	if !t.IsZero() && (t.Before(epoch) || t.After(now.Add(MaxAhead))) {
		return fmt.Errorf("%w: %s must lie between 1970 and ten years from now", ErrInvalid, name)
	}
	return nil
}

// RecordVisit attaches a ticket to a citizen: the hub calls it when a
// ticket attached to the citizen at the counter ends. A visit of a ticket
// is filed once: recorded again, the first entry is returned.
func (s *Store) RecordVisit(ctx context.Context, v Viewer, citizen string, sector Sector, at time.Time, visit Visit) (Entry, error) {
	if visit.Service == "" {
		return Entry{}, fmt.Errorf("%w: a visit needs its service", ErrInvalid)
	}
	return s.addEntry(ctx, v, citizen, Entry{Kind: EntryVisit, Sector: sector, At: at, Agent: visit.Agent, Visit: &visit}, visit.TicketID)
}

// RecordCall records a phone call with a citizen. A call with its ticket
// is filed once: recorded again, the first entry is returned.
func (s *Store) RecordCall(ctx context.Context, v Viewer, citizen string, sector Sector, at time.Time, call Call) (Entry, error) {
	if call.Wait < 0 || call.Talk < 0 || call.Outcome == "" {
		return Entry{}, fmt.Errorf("%w: a call needs an outcome and non-negative durations", ErrInvalid)
	}
	return s.addEntry(ctx, v, citizen, Entry{Kind: EntryCall, Sector: sector, At: at, Agent: call.Agent, Call: &call}, call.Ticket)
}

// AddNote writes an agent's note in a sector the agent works for.
func (s *Store) AddNote(ctx context.Context, v Viewer, citizen string, sector Sector, note string) (Entry, error) {
	t, err := text("note", note, maxText)
	if err != nil {
		return Entry{}, err
	}
	if t == "" {
		return Entry{}, fmt.Errorf("%w: empty note", ErrInvalid)
	}
	return s.addEntry(ctx, v, citizen, Entry{Kind: EntryNote, Sector: sector, At: s.clock(), Note: &Note{Text: t}}, "")
}

// RecordMail records a letter or an e-mail received from a citizen.
func (s *Store) RecordMail(ctx context.Context, v Viewer, citizen string, sector Sector, at time.Time, m Mail) (Entry, error) {
	if m.Channel != "letter" && m.Channel != "email" {
		return Entry{}, fmt.Errorf("%w: mail channel %q is neither letter nor email", ErrInvalid, m.Channel)
	}
	var err error
	if m.Subject, err = text("subject", m.Subject, 300); err != nil {
		return Entry{}, err
	}
	return s.addEntry(ctx, v, citizen, Entry{Kind: EntryMail, Sector: sector, At: at, Mail: &m}, m.Request)
}

func (s *Store) knownSector(sec Sector) bool {
	if _, ok := s.site.Offices[sec]; ok {
		return true
	}
	for _, k := range s.site.Kinds {
		if k.Sector == sec {
			return true
		}
	}
	return sec == SectorAccueil
}

// addEntry checks rights, audits and writes one entry.
func (s *Store) addEntry(ctx context.Context, v Viewer, citizen string, e Entry, ref string) (Entry, error) {
	if err := s.checkViewer(v); err != nil {
		return Entry{}, err
	}
	if !s.knownSector(e.Sector) {
		return Entry{}, fmt.Errorf("%w: unknown sector %q", ErrInvalid, e.Sector)
	}
	action := "timeline." + string(e.Kind)
	if !contactKind(e.Kind) && !s.sees(v, e.Sector) {
		s.record(ctx, v, action, "citizen", citizen, audit.Denied, "sector="+string(e.Sector))
		return Entry{}, fmt.Errorf("%w: not an agent of sector %s", ErrForbidden, e.Sector)
	}
	if err := checkTime("the time", e.At, s.clock()); err != nil {
		return Entry{}, err
	}
	if e.At.IsZero() {
		e.At = s.clock()
	}
	e.At = e.At.UTC()
	if v.Role != RoleSystem {
		e.Agent = v.ID // the hub (system) records on an agent's behalf: it names them
	}
	n, id, err := s.resolve(ctx, s.db.R, citizen)
	if err != nil {
		return Entry{}, s.deny(ctx, v, action, "citizen", citizen, "no such record")
	}
	e.Citizen = id
	if err := s.record(ctx, v, action, "citizen", id, audit.Allowed, "sector="+string(e.Sector)); err != nil {
		return Entry{}, err
	}
	err = s.write(ctx, action, func(tx *sql.Tx) error {
		var err error
		e.ID, err = insertContact(tx, n, e, ref)
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("%s %s: %w", action, id, err)
	}
	return e, nil
}

// insertContact inserts an entry, but a visit or a call of a ticket
// (ref) filed already: that entry's id is returned.
func insertContact(tx *sql.Tx, n int64, e Entry, ref string) (int64, error) {
	if ref != "" && (e.Kind == EntryVisit || e.Kind == EntryCall) {
		var id int64
		err := tx.QueryRow(`SELECT id FROM entries WHERE ref = ? AND ref != '' AND kind = ?`, ref, string(e.Kind)).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	return insertEntry(tx, n, e, ref)
}

func insertEntry(tx *sql.Tx, n int64, e Entry, ref string) (int64, error) {
	body, err := json.Marshal(e.body())
	if err != nil {
		return 0, err
	}
	res, err := tx.Exec(`INSERT INTO entries(citizen, kind, sector, at, agent, ref, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		n, string(e.Kind), string(e.Sector), ms(e.At), e.Agent, ref, body)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(`UPDATE citizens SET last_at = max(last_at, ?) WHERE n = ?`, ms(e.At), n); err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (e *Entry) body() any {
	switch {
	case e.Visit != nil:
		return e.Visit
	case e.Call != nil:
		return e.Call
	case e.Note != nil:
		return e.Note
	case e.Mail != nil:
		return e.Mail
	case e.Step != nil:
		return e.Step
	case e.Merge != nil:
		return e.Merge
	}
	return struct{}{}
}

func (e *Entry) setBody(b []byte) error {
	var dst any
	switch e.Kind {
	case EntryVisit:
		e.Visit = &Visit{}
		dst = e.Visit
	case EntryCall:
		e.Call = &Call{}
		dst = e.Call
	case EntryNote:
		e.Note = &Note{}
		dst = e.Note
	case EntryMail:
		e.Mail = &Mail{}
		dst = e.Mail
	case EntryRequest:
		e.Step = &Step{}
		dst = e.Step
	case EntryMerge:
		e.Merge = &Merge{}
		dst = e.Merge
	default:
		return nil
	}
	return json.Unmarshal(b, dst)
}

// visible returns the SQL condition and arguments selecting the entries v
// may see: the contact history, and the sectors v sees.
func (s *Store) visible(v Viewer) (string, []any) {
	if s.seesAll(v) {
		return "1=1", nil
	}
	cond := `kind IN ('visit', 'call', 'merge')`
	args := []any{}
	if len(v.Sectors) > 0 {
		cond = `(` + cond + ` OR sector IN (?` + strings.Repeat(`, ?`, len(v.Sectors)-1) + `))`
		for _, sec := range v.Sectors {
			args = append(args, string(sec))
		}
	}
	return cond, args
}

// Timeline returns the newest entries of a citizen's timeline that v may
// see, newest first, at most limit (50 if zero, 5,000 at most).
func (s *Store) Timeline(ctx context.Context, v Viewer, citizen string, limit int) ([]Entry, error) {
	if err := s.checkViewer(v); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 5000)
	n, id, err := s.resolve(ctx, s.db.R, citizen)
	if err != nil {
		return nil, s.deny(ctx, v, "citizen.timeline", "citizen", citizen, "no such record")
	}
	cond, args := s.visible(v)
	out := make([]Entry, 0, min(limit, 1000))
	err = s.audited(ctx, v, "citizen.timeline", "citizen", id, "", func() error {
		rows, err := s.db.R.QueryContext(ctx, `SELECT id, kind, sector, at, agent, body FROM entries
			WHERE citizen = ? AND `+cond+` ORDER BY at DESC, id DESC LIMIT ?`, append(append([]any{n}, args...), limit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				return err
			}
			e.Citizen = id
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("timeline %s: %w", id, err)
	}
	return out, nil
}

// scanEntry reads an entry from rows; the body is decoded in place, not
// copied first.
func scanEntry(r *sql.Rows) (Entry, error) {
	var e Entry
	var at int64
	var kind, sector string
	var body sql.RawBytes
	if err := r.Scan(&e.ID, &kind, &sector, &at, &e.Agent, &body); err != nil {
		return e, err
	}
	e.Kind, e.Sector, e.At = EntryKind(kind), Sector(sector), fromMS(at)
	return e, e.setBody(body)
}

// TimelineEntry returns one entry. An entry of a sector v does not see is
// not found, like one that does not exist, and the denial is audited.
func (s *Store) TimelineEntry(ctx context.Context, v Viewer, id int64) (Entry, error) {
	if err := s.checkViewer(v); err != nil {
		return Entry{}, err
	}
	var cid string
	row := s.db.R.QueryRowContext(ctx, `SELECT e.id, e.kind, e.sector, e.at, e.agent, e.body, c.id FROM entries e
		JOIN citizens c ON c.n = e.citizen WHERE e.id = ?`, id)
	var e Entry
	var at int64
	var kind, sector string
	var body []byte
	err := row.Scan(&e.ID, &kind, &sector, &at, &e.Agent, &body, &cid)
	sid := strconv.FormatInt(id, 10)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, s.deny(ctx, v, "entry.read", "entry", sid, "no such record")
	}
	if err != nil {
		return Entry{}, fmt.Errorf("entry %d: %w", id, err)
	}
	e.Kind, e.Sector, e.At, e.Citizen = EntryKind(kind), Sector(sector), fromMS(at), cid
	if !contactKind(e.Kind) && !s.sees(v, e.Sector) {
		return Entry{}, s.deny(ctx, v, "entry.read", "entry", sid, "sector="+sector)
	}
	if err := s.record(ctx, v, "entry.read", "entry", sid, audit.Allowed, "citizen="+cid); err != nil {
		return Entry{}, err
	}
	return e, e.setBody(body)
}
