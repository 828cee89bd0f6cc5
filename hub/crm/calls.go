package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"guichet/hub/audit"
)

// The calls store: the telephony link's calls, with the caller's number.
// The event log knows a call by its PBX id and its ticket only; the number
// is personal data and lives here, in the citizen file, under the calls'
// retention (Retention.Calls), erased with the citizen's file and exported
// with it.
//
// A call is recorded when it joins a queue (OpenCall), connected, and
// ended once (EndCall): its end files it in the timeline of the citizen
// whose ticket it was (attached by an agent) or, failing that, of the one
// citizen whose phone numbers include the caller's; when none or several
// match, the record keeps the number alone, and an agent who attaches the
// ticket later files it then (AttachCall). Either way a call is filed once.

// CallRecord is one call as the calls store keeps it.
type CallRecord struct {
	Ticket      string        `json:"ticket"`           // the call's phone ticket: the record's key
	CallID      string        `json:"call_id"`          // the PBX's id
	Number      string        `json:"number,omitempty"` // as the PBX sent it; "" when withheld
	E164        string        `json:"e164,omitempty"`   // the number normalised; "" when it is not one
	Queue       string        `json:"queue"`
	Service     string        `json:"service"`
	Display     string        `json:"display,omitempty"` // the ticket's number, "A042"
	JoinedAt    time.Time     `json:"joined_at"`
	ConnectedAt time.Time     `json:"connected_at,omitzero"`
	EndedAt     time.Time     `json:"ended_at,omitzero"` // zero while the call is present
	Agent       string        `json:"agent,omitempty"`
	Outcome     string        `json:"outcome,omitempty"` // "answered", "abandoned", "transferred"…; "" while present
	Wait        time.Duration `json:"wait"`
	Talk        time.Duration `json:"talk"`
	Inferred    bool          `json:"inferred,omitempty"` // its end was not seen (the link was down)
	Citizen     string        `json:"citizen,omitempty"`  // the file it is filed in
	Callback    string        `json:"callback,omitempty"` // its callback ticket
	// The agent's wrap-up (wrapup.go): what came of it, a short note.
	WrapUp     WrapUp    `json:"wrapup,omitempty"`
	WrapUpNote string    `json:"wrapup_note,omitempty"`
	WrapUpBy   string    `json:"wrapup_by,omitempty"`
	WrapUpAt   time.Time `json:"wrapup_at,omitzero"`
}

// CallEnd is how a call ended.
type CallEnd struct {
	At       time.Time
	Outcome  string // "answered", "abandoned", "transferred"…
	Agent    string
	Wait     time.Duration
	Talk     time.Duration
	Inferred bool
	Callback string // its callback ticket, if one was issued
	// Citizen is the file its ticket was attached to by an agent, if any:
	// it wins over the number.
	Citizen string
	Sector  Sector // the sector of the call's service
	Display string // the ticket's number, "A042", if the record lacks it
}

// ErrCallUnknown is returned for a call the store has no record of.
var ErrCallUnknown = errors.New("no record of this call")

const callCols = `ticket, call_id, number, e164, queue, service, display, joined_at, connected_at, ended_at, agent, outcome,
	wait_ms, talk_ms, inferred, citizen, callback, wrapup, wrapup_note, wrapup_by, wrapup_at`

func scanCall(r interface{ Scan(...any) error }) (CallRecord, error) {
	var c CallRecord
	var joined, connected, ended, wait, talk, wrapped int64
	err := r.Scan(&c.Ticket, &c.CallID, &c.Number, &c.E164, &c.Queue, &c.Service, &c.Display, &joined, &connected, &ended,
		&c.Agent, &c.Outcome, &wait, &talk, &c.Inferred, &c.Citizen, &c.Callback, &c.WrapUp, &c.WrapUpNote, &c.WrapUpBy, &wrapped)
	c.JoinedAt, c.ConnectedAt, c.EndedAt, c.WrapUpAt = fromMS(joined), fromMS(connected), fromMS(ended), fromMS(wrapped)
	c.Wait, c.Talk = time.Duration(wait)*time.Millisecond, time.Duration(talk)*time.Millisecond
	return c, err
}

func (s *Store) systemOnly(ctx context.Context, v Viewer, action string) error {
	if err := s.checkViewer(v); err != nil {
		return err
	}
	if v.Role != RoleSystem {
		s.record(ctx, v, action, "call", "", audit.Denied, "role")
		return ErrForbidden
	}
	return nil
}

// OpenCall records a call that joined a queue. The number is kept as the
// PBX sent it and, when it is one, in E.164. Recording a ticket's call
// again changes nothing. The hub (system) alone records calls.
func (s *Store) OpenCall(ctx context.Context, v Viewer, c CallRecord) error {
	if err := s.systemOnly(ctx, v, "call.open"); err != nil {
		return err
	}
	if c.Ticket == "" || c.CallID == "" {
		return fmt.Errorf("%w: a call record needs its ticket and call id", ErrInvalid)
	}
	if len(c.Number) > 64 {
		return fmt.Errorf("%w: a number is at most 64 characters", ErrInvalid)
	}
	if c.Number != "" {
		c.E164, _ = NormalizePhone(c.Number)
	}
	return s.write(ctx, "call.open", func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT OR IGNORE INTO calls(ticket, call_id, number, e164, queue, service, display, joined_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.Ticket, c.CallID, c.Number, c.E164, c.Queue, c.Service, c.Display, ms(c.JoinedAt))
		return err
	})
}

// ConnectCall records who took a call, and when.
func (s *Store) ConnectCall(ctx context.Context, v Viewer, ticket, agent string, at time.Time) error {
	if err := s.systemOnly(ctx, v, "call.connect"); err != nil {
		return err
	}
	return s.write(ctx, "call.connect", func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE calls SET agent = ?, connected_at = ? WHERE ticket = ? AND ended_at = 0`, agent, ms(at), ticket)
		return err
	})
}

// EndCall records a call's end, once: it returns the record, and whether
// this was its end (false when it had ended already: nothing changed). In
// the same transaction the call is filed in the timeline of the citizen
// its ticket was attached to or, failing that, of the one citizen the
// caller's number belongs to.
func (s *Store) EndCall(ctx context.Context, v Viewer, ticket string, end CallEnd) (CallRecord, bool, error) {
	if err := s.systemOnly(ctx, v, "call.end"); err != nil {
		return CallRecord{}, false, err
	}
	if end.Outcome == "" || end.Wait < 0 || end.Talk < 0 {
		return CallRecord{}, false, fmt.Errorf("%w: a call's end needs an outcome and non-negative durations", ErrInvalid)
	}
	rec, err := s.readCall(ctx, s.db.R, ticket)
	if err != nil {
		return CallRecord{}, false, err
	}
	if !rec.EndedAt.IsZero() {
		return rec, false, nil
	}
	citizen := end.Citizen
	if citizen == "" {
		if citizen, err = s.ownerOf(ctx, rec.E164); err != nil {
			return CallRecord{}, false, err
		}
	}
	var n int64
	if citizen != "" {
		if n, citizen, err = s.resolve(ctx, s.db.R, citizen); err != nil {
			n, citizen = 0, "" // erased meanwhile: kept with the number alone
		}
	}
	if citizen != "" && !s.knownSector(end.Sector) {
		end.Sector = SectorAccueil
	}
	if citizen != "" {
		if err := s.record(ctx, v, "timeline.call", "citizen", citizen, audit.Allowed, "sector="+string(end.Sector)); err != nil {
			return CallRecord{}, false, err
		}
	}
	at := end.At
	if at.IsZero() {
		at = s.clock()
	}
	ended := false
	err = s.write(ctx, "call.end", func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE calls SET ended_at = ?, outcome = ?, agent = CASE WHEN ? != '' THEN ? ELSE agent END,
			wait_ms = ?, talk_ms = ?, inferred = ?, callback = ?, citizen = ?, display = CASE WHEN ? != '' THEN ? ELSE display END
			WHERE ticket = ? AND ended_at = 0`,
			ms(at), end.Outcome, end.Agent, end.Agent, end.Wait.Milliseconds(), end.Talk.Milliseconds(), end.Inferred,
			end.Callback, citizen, end.Display, end.Display, ticket)
		if err != nil {
			return err
		}
		if c, _ := res.RowsAffected(); c == 0 {
			return nil // ended meanwhile
		}
		ended = true
		if citizen == "" {
			return nil
		}
		rec.Agent, rec.Display = cmpOr(end.Agent, rec.Agent), cmpOr(end.Display, rec.Display)
		// A wrap-up written before the end (the agent was quick) goes with it.
		if err := tx.QueryRow(`SELECT wrapup, wrapup_note FROM calls WHERE ticket = ?`, ticket).Scan(&rec.WrapUp, &rec.WrapUpNote); err != nil {
			return err
		}
		_, err = insertContact(tx, n, callEntry(rec, end, citizen), ticket)
		return err
	})
	if err != nil {
		return CallRecord{}, false, fmt.Errorf("end call %s: %w", ticket, err)
	}
	rec, err = s.readCall(ctx, s.db.R, ticket)
	return rec, ended, err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// callEntry is the timeline entry of an ended call.
func callEntry(rec CallRecord, end CallEnd, citizen string) Entry {
	return Entry{Citizen: citizen, Kind: EntryCall, Sector: end.Sector, At: rec.JoinedAt.UTC(), Agent: rec.Agent,
		Call: &Call{Number: rec.Display, Wait: end.Wait, Talk: end.Talk, Outcome: end.Outcome, WrapUp: rec.WrapUp, WrapUpNote: rec.WrapUpNote}}
}

// AttachCall files an ended call that went to no file in the timeline of
// the citizen an agent attached its ticket to. It reports whether it did:
// a call filed already, or still present (its end files it), is left.
func (s *Store) AttachCall(ctx context.Context, v Viewer, ticket, citizen string, sector Sector) (bool, error) {
	if err := s.systemOnly(ctx, v, "call.attach"); err != nil {
		return false, err
	}
	rec, err := s.readCall(ctx, s.db.R, ticket)
	if errors.Is(err, ErrCallUnknown) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if rec.EndedAt.IsZero() || rec.Citizen != "" {
		return false, nil
	}
	n, id, err := s.resolve(ctx, s.db.R, citizen)
	if err != nil {
		return false, nil // erased meanwhile
	}
	if !s.knownSector(sector) {
		sector = SectorAccueil
	}
	if err := s.record(ctx, v, "timeline.call", "citizen", id, audit.Allowed, "sector="+string(sector)); err != nil {
		return false, err
	}
	done := false
	err = s.write(ctx, "call.attach", func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE calls SET citizen = ? WHERE ticket = ? AND citizen = '' AND ended_at != 0`, id, ticket)
		if err != nil {
			return err
		}
		if c, _ := res.RowsAffected(); c == 0 {
			return nil
		}
		done = true
		_, err = insertContact(tx, n, callEntry(rec, CallEnd{Outcome: rec.Outcome, Wait: rec.Wait, Talk: rec.Talk, Sector: sector}, id), ticket)
		return err
	})
	return done, err
}

// ownerOf returns the one citizen whose phone numbers include e164, "" when
// none or several do.
func (s *Store) ownerOf(ctx context.Context, e164 string) (string, error) {
	if e164 == "" {
		return "", nil
	}
	owners, err := ids(s.db.R, `SELECT DISTINCT c.id FROM phones p JOIN citizens c ON c.n = p.citizen
		WHERE p.e164 = ? AND c.merged_into = '' LIMIT 2`, e164)
	if err != nil || len(owners) != 1 {
		return "", err
	}
	return owners[0], nil
}

func (s *Store) readCall(ctx context.Context, q *sql.DB, ticket string) (CallRecord, error) {
	c, err := scanCall(q.QueryRowContext(ctx, `SELECT `+callCols+` FROM calls WHERE ticket = ?`, ticket))
	if errors.Is(err, sql.ErrNoRows) {
		return CallRecord{}, fmt.Errorf("call of ticket %s: %w", ticket, ErrCallUnknown)
	}
	return c, err
}

// CallRecord returns the record of a ticket's call, with the caller's
// number: for the agent who takes it (the screen pop) or calls back. A
// read by an agent is audited.
func (s *Store) CallRecord(ctx context.Context, v Viewer, ticket string) (CallRecord, error) {
	if err := s.checkViewer(v); err != nil {
		return CallRecord{}, err
	}
	var c CallRecord
	read := func() (err error) { c, err = s.readCall(ctx, s.db.R, ticket); return err }
	if v.Role == RoleSystem {
		return c, read()
	}
	if err := s.audited(ctx, v, "call.read", "call", ticket, "", read); err != nil {
		if errors.Is(err, ErrCallUnknown) {
			return CallRecord{}, ErrNotFound
		}
		return CallRecord{}, err
	}
	return c, nil
}

// OpenCalls returns the calls not ended, oldest first: what the hub
// believed present when it stopped. The hub (system) alone reads them.
func (s *Store) OpenCalls(ctx context.Context, v Viewer) ([]CallRecord, error) {
	if err := s.systemOnly(ctx, v, "call.list"); err != nil {
		return nil, err
	}
	return s.queryCalls(ctx, `WHERE ended_at = 0 ORDER BY joined_at, ticket`)
}

// DropCall removes the record of a call whose ticket was never issued (the
// hub stopped between the two): the call is announced again if present.
func (s *Store) DropCall(ctx context.Context, v Viewer, ticket string) error {
	if err := s.systemOnly(ctx, v, "call.drop"); err != nil {
		return err
	}
	return s.write(ctx, "call.drop", func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM calls WHERE ticket = ? AND ended_at = 0 AND citizen = ''`, ticket)
		return err
	})
}

// CallRecords returns the calls that joined since, newest first, at most
// limit (100 if zero): for supervision and the DPO. It holds callers'
// numbers: agents are refused, and every read is audited.
func (s *Store) CallRecords(ctx context.Context, v Viewer, since time.Time, limit int) ([]CallRecord, error) {
	if err := s.checkViewer(v); err != nil {
		return nil, err
	}
	if v.Role == RoleAgent {
		s.record(ctx, v, "call.list", "call", "", audit.Denied, "role")
		return nil, ErrForbidden
	}
	if limit <= 0 {
		limit = 100
	}
	var out []CallRecord
	err := s.audited(ctx, v, "call.list", "call", "", "", func() (err error) {
		out, err = s.queryCalls(ctx, `WHERE joined_at >= ? ORDER BY joined_at DESC, ticket LIMIT ?`, ms(since), min(limit, 10_000))
		return err
	})
	return out, err
}

func (s *Store) queryCalls(ctx context.Context, where string, args ...any) ([]CallRecord, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+callCols+` FROM calls `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	defer rows.Close()
	var out []CallRecord
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// callsOf lists the call records of a citizen: filed in their file, or
// from one of their numbers.
func callsOf(q sqlQuerier, citizen string, phones []string) ([]CallRecord, error) {
	args := []any{citizen}
	cond := `citizen = ?`
	if len(phones) > 0 {
		cond += ` OR (e164 IN (?` + strings.Repeat(`, ?`, len(phones)-1) + `) AND e164 != '')`
		for _, p := range phones {
			args = append(args, p)
		}
	}
	rows, err := q.Query(`SELECT `+callCols+` FROM calls WHERE `+cond+` ORDER BY joined_at, ticket`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CallRecord
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
