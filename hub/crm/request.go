package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"guichet/hub/audit"
)

// Status is where a request stands.
type Status string

// Statuses of a request.
const (
	StatusReceived   Status = "recue"      // registered, not yet looked at
	StatusIncomplete Status = "incomplete" // documents asked for (CRPA L114-5)
	StatusInProgress Status = "en_cours"   // under instruction
	StatusAccepted   Status = "acceptee"   // decided: yes
	StatusRejected   Status = "rejetee"    // decided: no
	StatusDone       Status = "terminee"   // closed otherwise (delivered, withdrawn…)
	StatusCancelled  Status = "annulee"
)

// Open tells whether a request in this status is still under instruction.
func (st Status) Open() bool {
	return st == StatusReceived || st == StatusIncomplete || st == StatusInProgress
}

func (st Status) valid() bool {
	switch st {
	case StatusReceived, StatusIncomplete, StatusInProgress, StatusAccepted, StatusRejected, StatusDone, StatusCancelled:
		return true
	}
	return false
}

// Channels a request arrives by.
const (
	ChannelCounter  = "guichet"
	ChannelLetter   = "courrier"
	ChannelEmail    = "courriel"
	ChannelPhone    = "telephone"
	ChannelPlatform = "plateforme" // another platform, through Import
)

// Request is a citizen's request ("demande") and the dates the law makes
// the town keep.
type Request struct {
	ID          string       `json:"id"`
	Citizen     string       `json:"citizen"`
	Kind        string       `json:"kind"`
	Sector      Sector       `json:"sector"`
	Title       string       `json:"title,omitempty"`
	Channel     string       `json:"channel"`
	Status      Status       `json:"status"`
	Step        string       `json:"step,omitempty"`
	StepNo      int          `json:"step_no,omitempty"`
	MaxSteps    int          `json:"max_steps,omitempty"`
	ReceivedAt  time.Time    `json:"received_at"`
	AckedAt     time.Time    `json:"acknowledged_at,omitzero"`
	ClosedAt    time.Time    `json:"closed_at,omitzero"`
	Suspensions []Suspension `json:"suspensions,omitempty"`
	Source      string       `json:"source,omitempty"`
	ExternalRef string       `json:"external_ref,omitempty"`
	UpdatedAt   time.Time    `json:"updated_at"`
	Implicit    Implicit     `json:"implicit_decision"`
}

// NewRequest is a request being registered.
type NewRequest struct {
	Kind       string
	Title      string
	Channel    string    // ChannelCounter, ChannelLetter…
	ReceivedAt time.Time // now if zero
}

// implicit computes the request's implicit decision from its kind.
func (s *Store) implicit(r *Request) {
	k, ok := s.site.kind(r.Kind)
	if !ok || !r.Status.Open() {
		r.Implicit = Implicit{Regime: RegimeNone}
		if ok && !r.Status.Open() {
			r.Implicit.Regime = k.Regime
		}
		return
	}
	r.Implicit = ImplicitDecision(k.Regime, k.Delay, r.ReceivedAt, r.Suspensions, s.site.Location)
}

// OpenRequest registers a request of a citizen, received at the counter, by
// letter or by e-mail, in the sector of its kind.
func (s *Store) OpenRequest(ctx context.Context, v Viewer, citizen string, nr NewRequest) (Request, error) {
	if err := s.checkViewer(v); err != nil {
		return Request{}, err
	}
	k, ok := s.site.kind(nr.Kind)
	if !ok {
		return Request{}, fmt.Errorf("%w: unknown kind of request %q", ErrInvalid, nr.Kind)
	}
	switch nr.Channel {
	case ChannelCounter, ChannelLetter, ChannelEmail, ChannelPhone, ChannelPlatform:
	default:
		return Request{}, fmt.Errorf("%w: channel %q", ErrInvalid, nr.Channel)
	}
	title, err := text("title", nr.Title, 300)
	if err != nil {
		return Request{}, err
	}
	if !s.sees(v, k.Sector) {
		s.record(ctx, v, "request.open", "citizen", citizen, audit.Denied, "sector="+string(k.Sector))
		return Request{}, fmt.Errorf("%w: not an agent of sector %s", ErrForbidden, k.Sector)
	}
	now := s.clock().UTC()
	if nr.ReceivedAt.IsZero() {
		nr.ReceivedAt = now
	}
	if nr.ReceivedAt.After(now.Add(time.Minute)) {
		return Request{}, fmt.Errorf("%w: received in the future", ErrInvalid)
	}
	if err := checkTime("received_at", nr.ReceivedAt, now); err != nil {
		return Request{}, err
	}
	r := Request{ID: newID("r-"), Kind: k.ID, Sector: k.Sector, Title: title, Channel: nr.Channel, Status: StatusReceived,
		ReceivedAt: nr.ReceivedAt.UTC(), UpdatedAt: now}
	n, id, err := s.resolve(ctx, s.db.R, citizen)
	if err != nil {
		return Request{}, s.deny(ctx, v, "request.open", "citizen", citizen, "no such record")
	}
	r.Citizen = id
	if err := s.record(ctx, v, "request.open", "request", r.ID, audit.Allowed, "citizen="+id+" sector="+string(k.Sector)); err != nil {
		return Request{}, err
	}
	err = s.write(ctx, "open request", func(tx *sql.Tx) error { return s.insertRequest(tx, n, &r, v) })
	if err != nil {
		return Request{}, fmt.Errorf("open request: %w", err)
	}
	return r, nil
}

func (s *Store) insertRequest(tx *sql.Tx, n int64, r *Request, v Viewer) error {
	s.implicit(r)
	susp, _ := json.Marshal(r.Suspensions)
	if _, err := tx.Exec(`INSERT INTO requests(id, citizen, kind, sector, title, channel, status, step, step_no, max_steps,
		received_at, closed_at, decision_at, suspensions, source, external_ref, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, n, r.Kind, string(r.Sector), r.Title, r.Channel, string(r.Status), r.Step, r.StepNo, r.MaxSteps,
		ms(r.ReceivedAt), ms(r.ClosedAt), ms(r.Implicit.At), susp, r.Source, r.ExternalRef, ms(r.UpdatedAt)); err != nil {
		return err
	}
	_, err := insertEntry(tx, n, Entry{Kind: EntryRequest, Sector: r.Sector, At: r.ReceivedAt, Agent: agentOf(v),
		Step: &Step{Request: r.ID, Kind: r.Kind, Status: r.Status, Label: r.Step, No: r.StepNo, Of: r.MaxSteps}}, r.ID)
	return err
}

func agentOf(v Viewer) string {
	if v.Role == RoleSystem {
		return ""
	}
	return v.ID
}

const requestCols = `r.id, c.id, r.citizen, r.kind, r.sector, r.title, r.channel, r.status, r.step, r.step_no, r.max_steps,
	r.received_at, r.acked_at, r.closed_at, r.suspensions, r.source, r.external_ref, r.updated_at`

func (s *Store) scanRequest(row interface{ Scan(...any) error }) (Request, int64, error) {
	var r Request
	var n, rec, ack, closed, upd int64
	var sector, status string
	var susp []byte
	err := row.Scan(&r.ID, &r.Citizen, &n, &r.Kind, &sector, &r.Title, &r.Channel, &status, &r.Step, &r.StepNo, &r.MaxSteps,
		&rec, &ack, &closed, &susp, &r.Source, &r.ExternalRef, &upd)
	if err != nil {
		return r, 0, err
	}
	r.Sector, r.Status = Sector(sector), Status(status)
	r.ReceivedAt, r.AckedAt, r.ClosedAt, r.UpdatedAt = fromMS(rec), fromMS(ack), fromMS(closed), fromMS(upd)
	if err := json.Unmarshal(susp, &r.Suspensions); err != nil {
		return r, 0, fmt.Errorf("request %s suspensions: %w", r.ID, err)
	}
	s.implicit(&r)
	return r, n, nil
}

// Request returns one request; one of a sector v does not see is not found,
// and the denial is audited.
func (s *Store) Request(ctx context.Context, v Viewer, id string) (Request, error) {
	if err := s.checkViewer(v); err != nil {
		return Request{}, err
	}
	r, _, err := s.scanRequest(s.db.R.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests r JOIN citizens c ON c.n = r.citizen WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, s.deny(ctx, v, "request.read", "request", id, "no such record")
	}
	if err != nil {
		return Request{}, fmt.Errorf("request %s: %w", id, err)
	}
	if !s.sees(v, r.Sector) {
		return Request{}, s.deny(ctx, v, "request.read", "request", id, "sector="+string(r.Sector))
	}
	if err := s.record(ctx, v, "request.read", "request", id, audit.Allowed, "citizen="+r.Citizen); err != nil {
		return Request{}, err
	}
	return r, nil
}

// Requests returns a citizen's requests that v may see, newest first.
func (s *Store) Requests(ctx context.Context, v Viewer, citizen string) ([]Request, error) {
	if err := s.checkViewer(v); err != nil {
		return nil, err
	}
	n, id, err := s.resolve(ctx, s.db.R, citizen)
	if err != nil {
		return nil, s.deny(ctx, v, "citizen.requests", "citizen", citizen, "no such record")
	}
	if err := s.record(ctx, v, "citizen.requests", "citizen", id, audit.Allowed, ""); err != nil {
		return nil, err
	}
	return s.queryRequests(ctx, v, `r.citizen = ?`, []any{n}, `r.received_at DESC`, 1000)
}

func (s *Store) queryRequests(ctx context.Context, v Viewer, where string, args []any, order string, limit int) ([]Request, error) {
	if !s.seesAll(v) {
		if len(v.Sectors) == 0 {
			return nil, nil
		}
		where += ` AND r.sector IN (?` + strings.Repeat(`, ?`, len(v.Sectors)-1) + `)`
		for _, sec := range v.Sectors {
			args = append(args, string(sec))
		}
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+requestCols+` FROM requests r JOIN citizens c ON c.n = r.citizen
		WHERE `+where+` ORDER BY `+order+` LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		r, _, err := s.scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DueWithin lists the open requests of v's sectors whose implicit decision
// is born within d from now, soonest first: the supervision's list.
func (s *Store) DueWithin(ctx context.Context, v Viewer, d time.Duration) ([]Request, error) {
	if err := s.checkViewer(v); err != nil {
		return nil, err
	}
	if err := s.record(ctx, v, "requests.due", "request", "", audit.Allowed, fmt.Sprintf("within=%s", d)); err != nil {
		return nil, err
	}
	now := s.clock()
	return s.queryRequests(ctx, v, `r.closed_at = 0 AND r.decision_at != 0 AND r.decision_at <= ?`,
		[]any{ms(now.Add(d))}, `r.decision_at, r.id`, 1000)
}

// Change is what an agent or a platform changes in a request.
type Change struct {
	Status   Status // unchanged if empty
	Step     string // the step's label, unchanged if empty
	StepNo   int
	MaxSteps int
	At       time.Time // when it happened; now if zero
}

// UpdateRequest moves a request on: its status, its step. Every change is a
// step in the citizen's timeline.
func (s *Store) UpdateRequest(ctx context.Context, v Viewer, id string, c Change) (Request, error) {
	if c.Status != "" && !c.Status.valid() {
		return Request{}, fmt.Errorf("%w: status %q", ErrInvalid, c.Status)
	}
	step, err := text("step", c.Step, 300)
	if err != nil {
		return Request{}, err
	}
	if err := checkTime("at", c.At, s.clock()); err != nil {
		return Request{}, err
	}
	c.Step = step
	return s.changeRequest(ctx, v, id, "request.update", func(r *Request, now time.Time) (bool, error) {
		changed := false
		if c.Status != "" && c.Status != r.Status {
			r.Status, changed = c.Status, true
		}
		if c.Step != "" && (c.Step != r.Step || c.StepNo != r.StepNo) {
			r.Step, r.StepNo, changed = c.Step, c.StepNo, true
		}
		if c.MaxSteps != 0 && c.MaxSteps != r.MaxSteps {
			r.MaxSteps, changed = c.MaxSteps, true
		}
		return changed, nil
	}, c.At)
}

// AskDocuments records that the town asked for missing documents, to come
// by due (CRPA L114-5): the implicit decision's date moves as deadline.go
// says.
func (s *Store) AskDocuments(ctx context.Context, v Viewer, id, pieces string, due time.Time) (Request, error) {
	p, err := text("pieces", pieces, 1000)
	if err != nil || p == "" {
		return Request{}, fmt.Errorf("%w: name the missing pieces (at most 1,000 characters)", ErrInvalid)
	}
	return s.changeRequest(ctx, v, id, "request.ask_documents", func(r *Request, now time.Time) (bool, error) {
		if !r.Status.Open() {
			return false, fmt.Errorf("%w: request %s is closed", ErrInvalid, r.ID)
		}
		if !due.After(now) || checkTime("due", due, now) != nil {
			return false, fmt.Errorf("%w: the date for the documents must be in the future, within ten years", ErrInvalid)
		}
		r.Suspensions = append(r.Suspensions, Suspension{Asked: now, Due: due.UTC(), Pieces: p})
		r.Status = StatusIncomplete
		return true, nil
	}, time.Time{})
}

// DocumentsReceived records that the missing documents came at at.
func (s *Store) DocumentsReceived(ctx context.Context, v Viewer, id string, at time.Time) (Request, error) {
	return s.changeRequest(ctx, v, id, "request.documents_received", func(r *Request, now time.Time) (bool, error) {
		if at.IsZero() {
			at = now
		}
		if at.After(now.Add(time.Minute)) { // it would move the legal date on a promise
			return false, fmt.Errorf("%w: documents received in the future", ErrInvalid)
		}
		if err := checkTime("at", at, now); err != nil {
			return false, err
		}
		for i := len(r.Suspensions) - 1; i >= 0; i-- {
			if sp := &r.Suspensions[i]; sp.Received.IsZero() {
				if at.Before(sp.Asked) {
					return false, fmt.Errorf("%w: documents received before they were asked for", ErrInvalid)
				}
				sp.Received = at.UTC()
				if r.Status == StatusIncomplete {
					r.Status = StatusInProgress
				}
				return true, nil
			}
		}
		return false, fmt.Errorf("%w: request %s awaits no documents", ErrInvalid, r.ID)
	}, time.Time{})
}

// changeRequest loads a request in the writer, checks v's rights, applies
// fn and stores the result with a step in the timeline.
func (s *Store) changeRequest(ctx context.Context, v Viewer, id, action string, fn func(r *Request, now time.Time) (bool, error), at time.Time) (Request, error) {
	if err := s.checkViewer(v); err != nil {
		return Request{}, err
	}
	cur, _, err := s.scanRequest(s.db.R.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests r JOIN citizens c ON c.n = r.citizen WHERE r.id = ?`, id))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Request{}, fmt.Errorf("%s %s: %w", action, id, err)
	}
	if err != nil || !s.sees(v, cur.Sector) {
		detail := "no such record"
		if err == nil {
			detail = "sector=" + string(cur.Sector)
		}
		return Request{}, s.deny(ctx, v, action, "request", id, detail)
	}
	if err := s.record(ctx, v, action, "request", id, audit.Allowed, "citizen="+cur.Citizen); err != nil {
		return Request{}, err
	}
	var out Request
	err = s.write(ctx, action, func(tx *sql.Tx) error {
		r, n, err := s.scanRequest(tx.QueryRow(`SELECT `+requestCols+` FROM requests r JOIN citizens c ON c.n = r.citizen WHERE r.id = ?`, id))
		if err != nil {
			return err
		}
		now := s.clock().UTC()
		if at.IsZero() {
			at = now
		}
		changed, err := fn(&r, now)
		if err != nil || !changed {
			out = r
			return err
		}
		out, err = s.storeChange(tx, n, r, at, v)
		return err
	})
	if err != nil {
		return Request{}, fmt.Errorf("%s %s: %w", action, id, err)
	}
	return out, nil
}

// storeChange writes a changed request and its step entry.
func (s *Store) storeChange(tx *sql.Tx, n int64, r Request, at time.Time, v Viewer) (Request, error) {
	r.UpdatedAt = s.clock().UTC()
	if !r.Status.Open() && r.ClosedAt.IsZero() {
		r.ClosedAt = at.UTC()
	} else if r.Status.Open() {
		r.ClosedAt = time.Time{}
	}
	s.implicit(&r)
	susp, _ := json.Marshal(r.Suspensions)
	if _, err := tx.Exec(`UPDATE requests SET status = ?, step = ?, step_no = ?, max_steps = ?, closed_at = ?, decision_at = ?,
		suspensions = ?, updated_at = ? WHERE id = ?`, string(r.Status), r.Step, r.StepNo, r.MaxSteps, ms(r.ClosedAt),
		ms(r.Implicit.At), susp, ms(r.UpdatedAt), r.ID); err != nil {
		return r, err
	}
	_, err := insertEntry(tx, n, Entry{Kind: EntryRequest, Sector: r.Sector, At: at.UTC(), Agent: agentOf(v),
		Step: &Step{Request: r.ID, Kind: r.Kind, Status: r.Status, Label: r.Step, No: r.StepNo, Of: r.MaxSteps}}, r.ID)
	return r, err
}

// ChangedSince lists the requests changed (registered, moved on) after
// since, oldest change first, at most limit: the hub's repair of the
// request events a crash lost (hub/citizens). The system only.
func (s *Store) ChangedSince(ctx context.Context, v Viewer, since time.Time, limit int) ([]Request, error) {
	if err := s.systemOnly(ctx, v, "requests.changed_since"); err != nil {
		return nil, err
	}
	return s.queryRequests(ctx, v, `r.updated_at > ?`, []any{ms(since)}, `r.updated_at, r.id`, limit)
}

// RequestForLog returns one request for the hub to write its event in the
// log (hub/citizens): the system only, and not audited — the hub reads it
// for its own bookkeeping, no one is shown it.
func (s *Store) RequestForLog(ctx context.Context, v Viewer, id string) (Request, error) {
	if err := s.systemOnly(ctx, v, "request.for_log"); err != nil {
		return Request{}, err
	}
	r, _, err := s.scanRequest(s.db.R.QueryRowContext(ctx, `SELECT `+requestCols+` FROM requests r JOIN citizens c ON c.n = r.citizen WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, fmt.Errorf("%w: request %s", ErrNotFound, id)
	}
	if err != nil {
		return Request{}, fmt.Errorf("request %s: %w", id, err)
	}
	return r, nil
}
