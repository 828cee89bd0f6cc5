package crm

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxImportBody is the largest body Import reads.
const MaxImportBody = 64 << 10

// ErrTooLarge is returned for a body over MaxImportBody.
var ErrTooLarge = errors.New("too large")

// Identity is who another platform says the requester is.
type Identity struct {
	FamilyName string   `json:"family_name"`
	BirthName  string   `json:"birth_name,omitempty"`
	FirstNames string   `json:"first_names,omitempty"`
	BirthDate  string   `json:"birth_date,omitempty"` // YYYY-MM-DD
	Email      string   `json:"email,omitempty"`
	Phones     []string `json:"phones,omitempty"`
}

// Inbound is a request, or a new status of one, pushed by another
// platform. Our own JSON is this struct; a Lutece GRU notification is read
// into it.
type Inbound struct {
	Reference  string    `json:"reference"`      // the platform's id: with the source, the idempotency key
	Kind       string    `json:"kind,omitempty"` // one of the site's kinds, or its External name
	Title      string    `json:"title,omitempty"`
	Status     Status    `json:"status,omitempty"`
	Step       string    `json:"step,omitempty"`
	StepNo     int       `json:"step_no,omitempty"`
	MaxSteps   int       `json:"max_steps,omitempty"`
	At         time.Time `json:"at,omitzero"`          // when this status was reached
	ReceivedAt time.Time `json:"received_at,omitzero"` // when the platform received the request
	Citizen    Identity  `json:"citizen"`
}

// ImportOutcome is what an import did.
type ImportOutcome string

// Outcomes of an import.
const (
	ImportCreated   ImportOutcome = "created"   // a new request in a citizen's file
	ImportUpdated   ImportOutcome = "updated"   // a new status or step of a known request
	ImportUnchanged ImportOutcome = "unchanged" // the same again: nothing to do
	ImportPending   ImportOutcome = "pending"   // no single citizen matches: an agent decides
)

// ImportResult is the answer to an import.
type ImportResult struct {
	Outcome    ImportOutcome `json:"outcome"`
	Request    string        `json:"request,omitempty"`
	Citizen    string        `json:"citizen,omitempty"`
	NewCitizen bool          `json:"new_citizen,omitempty"` // the file was created for it
	Pending    string        `json:"pending,omitempty"`
	Candidates int           `json:"candidates,omitempty"` // for a pending import
}

// Import takes a request or a status update pushed by another platform,
// idempotently: (source, reference) names one request, whatever number of
// times it is sent. source is the platform's name as the caller
// authenticated it, never read from the body. The body is our JSON
// (Inbound) or a Lutece GRU notification ({"notification": {"date",
// "demand": {"id", "type_id", "reference", "status_id", "max_step",
// "current_step", "customer": {…}}, …}}), at most MaxImportBody bytes.
//
// A new request goes to the citizen that the identity matches — by e-mail,
// by phone, or by names and birth date — when exactly one does; to a new
// file when none does and the identity names the person; otherwise to the
// list of pending imports an agent resolves (ResolvePending). A request
// already known gets the new status and step as a step of its timeline.
func (s *Store) Import(ctx context.Context, v Viewer, source string, body []byte) (ImportResult, error) {
	res, err := s.importBody(ctx, v, source, body)
	if err != nil && (errors.Is(err, ErrInvalid) || errors.Is(err, ErrTooLarge)) {
		// The error, for the platform, may quote its input; the log says
		// only which platform and what kind of refusal.
		reason := "invalid"
		if errors.Is(err, ErrTooLarge) {
			reason = "too_large"
		}
		s.log.Info("crm: import refused", "source", source, "reason", reason, "bytes", len(body))
	}
	return res, err
}

func (s *Store) importBody(ctx context.Context, v Viewer, source string, body []byte) (ImportResult, error) {
	if err := s.checkViewer(v); err != nil {
		return ImportResult{}, err
	}
	if v.Role != RoleSystem {
		return ImportResult{}, fmt.Errorf("%w: imports come through the hub", ErrForbidden)
	}
	if len(body) > MaxImportBody {
		return ImportResult{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(body), MaxImportBody)
	}
	source = strings.TrimSpace(source)
	if source == "" || len(source) > 50 {
		return ImportResult{}, fmt.Errorf("%w: the source is 1 to 50 characters", ErrInvalid)
	}
	in, err := parseInbound(source, body)
	if err != nil {
		return ImportResult{}, err
	}
	k, err := s.checkInbound(source, &in)
	if err != nil {
		return ImportResult{}, err
	}
	// The audit entry names the platform's key (the request's id is known
	// only once stored) and is written while the request is.
	var res ImportResult
	err = s.audited(ctx, v, "request.import", "external_request", source+":"+in.Reference, "source="+source, func() error {
		return s.write(ctx, "import", func(tx *sql.Tx) error {
			var err error
			res, err = s.importTx(tx, source, in, k, v)
			return err
		})
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import %s %s: %w", source, in.Reference, err)
	}
	return res, nil
}

func parseInbound(source string, body []byte) (Inbound, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return Inbound{}, fmt.Errorf("%w: the body is not a JSON object", ErrInvalid)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return Inbound{}, fmt.Errorf("%w: malformed JSON: %v", ErrInvalid, err)
	}
	if _, ok := probe["notification"]; ok {
		return parseLutece(probe["notification"])
	}
	if _, ok := probe["demand"]; ok {
		return parseLutece(body)
	}
	var in Inbound
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Inbound{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return in, nil
}

// checkInbound validates an inbound request and finds its kind.
func (s *Store) checkInbound(source string, in *Inbound) (Kind, error) {
	in.Reference = strings.TrimSpace(in.Reference)
	if in.Reference == "" || len(in.Reference) > 100 {
		return Kind{}, fmt.Errorf("%w: the reference is 1 to 100 characters", ErrInvalid)
	}
	if in.Status == "" {
		in.Status = StatusReceived
	}
	if !in.Status.valid() {
		return Kind{}, fmt.Errorf("%w: status %q", ErrInvalid, in.Status)
	}
	var err error
	if in.Title, err = text("title", in.Title, 300); err != nil {
		return Kind{}, err
	}
	if in.Step, err = text("step", in.Step, 300); err != nil {
		return Kind{}, err
	}
	if in.StepNo < 0 || in.MaxSteps < 0 || in.MaxSteps > 1000 {
		return Kind{}, fmt.Errorf("%w: steps", ErrInvalid)
	}
	now := s.clock().UTC()
	if err := checkTime("at", in.At, now); err != nil {
		return Kind{}, err
	}
	if err := checkTime("received_at", in.ReceivedAt, now); err != nil {
		return Kind{}, err
	}
	if in.At.IsZero() || in.At.After(now.Add(time.Hour)) {
		in.At = now
	}
	if in.ReceivedAt.IsZero() || in.ReceivedAt.After(in.At) {
		in.ReceivedAt = in.At
	}
	c := Citizen{FamilyName: in.Citizen.FamilyName, BirthName: in.Citizen.BirthName, FirstNames: in.Citizen.FirstNames,
		BirthDate: in.Citizen.BirthDate, Email: in.Citizen.Email, Phones: in.Citizen.Phones}
	named := len(fold(c.FamilyName)) > 0
	if !named {
		c.FamilyName = "x" // checked below: an identity without name can still match by e-mail or phone
	}
	if err := c.normalize(now); err != nil {
		return Kind{}, fmt.Errorf("citizen: %w", err)
	}
	if !named {
		c.FamilyName = ""
	}
	in.Citizen = Identity{FamilyName: c.FamilyName, BirthName: c.BirthName, FirstNames: c.FirstNames, BirthDate: c.BirthDate,
		Email: c.Email, Phones: c.Phones}
	if in.Citizen.FamilyName == "" && in.Citizen.Email == "" && len(in.Citizen.Phones) == 0 {
		return Kind{}, fmt.Errorf("%w: the citizen has no name, e-mail or phone", ErrInvalid)
	}
	if in.Kind == "" {
		in.Kind = KindExternal
	}
	k, ok := s.site.kind(in.Kind)
	if !ok {
		k = s.site.external(source, in.Kind)
	}
	return k, nil
}

func (s *Store) importTx(tx *sql.Tx, source string, in Inbound, k Kind, v Viewer) (ImportResult, error) {
	// A request already known: a status update.
	r, n, err := s.scanRequest(tx.QueryRow(`SELECT `+requestCols+` FROM requests r JOIN citizens c ON c.n = r.citizen
		WHERE r.source = ? AND r.source != '' AND r.external_ref = ?`, source, in.Reference))
	switch {
	case err == nil:
		res := ImportResult{Outcome: ImportUnchanged, Request: r.ID, Citizen: r.Citizen}
		if r.Status == in.Status && r.Step == in.Step && r.StepNo == in.StepNo && r.MaxSteps == in.MaxSteps {
			return res, nil
		}
		r.Status, r.Step, r.StepNo, r.MaxSteps = in.Status, in.Step, in.StepNo, in.MaxSteps
		if _, err := s.storeChange(tx, n, r, in.At, v); err != nil {
			return res, err
		}
		res.Outcome = ImportUpdated
		return res, nil
	case !errors.Is(err, sql.ErrNoRows):
		return ImportResult{}, err
	}
	raw, _ := json.Marshal(in)
	// Already waiting for an agent: keep the newest status, once.
	var pid string
	if err := tx.QueryRow(`SELECT id FROM pending_imports WHERE source = ? AND external_ref = ?`, source, in.Reference).Scan(&pid); err == nil {
		_, err := tx.Exec(`UPDATE pending_imports SET inbound = ? WHERE id = ?`, raw, pid)
		return ImportResult{Outcome: ImportPending, Pending: pid}, err
	}
	cands, err := matchIdentity(tx, in.Citizen)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Outcome: ImportCreated}
	switch {
	case len(cands) == 1:
		n = cands[0]
	case len(cands) == 0 && in.Citizen.FamilyName != "" && in.Citizen.FirstNames != "":
		now := s.clock().UTC()
		c := Citizen{ID: newID("c-"), FamilyName: in.Citizen.FamilyName, BirthName: in.Citizen.BirthName, FirstNames: in.Citizen.FirstNames,
			BirthDate: in.Citizen.BirthDate, Email: in.Citizen.Email, Phones: in.Citizen.Phones, CreatedAt: now, UpdatedAt: now, LastAt: in.At}
		if n, err = insertCitizen(tx, &c); err != nil {
			return ImportResult{}, err
		}
		res.NewCitizen = true
	default:
		ids := make([]string, 0, len(cands))
		for _, cn := range cands {
			var id string
			if err := tx.QueryRow(`SELECT id FROM citizens WHERE n = ?`, cn).Scan(&id); err != nil {
				return ImportResult{}, err
			}
			ids = append(ids, id)
		}
		cj, _ := json.Marshal(ids)
		pid := newID("p-")
		_, err := tx.Exec(`INSERT INTO pending_imports(id, source, external_ref, received_at, inbound, candidates) VALUES (?, ?, ?, ?, ?, ?)`,
			pid, source, in.Reference, ms(s.clock()), raw, cj)
		return ImportResult{Outcome: ImportPending, Pending: pid, Candidates: len(ids)}, err
	}
	return s.createImported(tx, n, source, in, k, v, res)
}

func (s *Store) createImported(tx *sql.Tx, n int64, source string, in Inbound, k Kind, v Viewer, res ImportResult) (ImportResult, error) {
	r := Request{ID: newID("r-"), Kind: k.ID, Sector: k.Sector, Title: in.Title, Channel: ChannelPlatform, Status: in.Status,
		Step: in.Step, StepNo: in.StepNo, MaxSteps: in.MaxSteps, ReceivedAt: in.ReceivedAt.UTC(), Source: source,
		ExternalRef: in.Reference, UpdatedAt: s.clock().UTC()}
	if !r.Status.Open() {
		r.ClosedAt = in.At.UTC()
	}
	if err := tx.QueryRow(`SELECT id FROM citizens WHERE n = ?`, n).Scan(&r.Citizen); err != nil {
		return res, err
	}
	if err := s.insertRequest(tx, n, &r, v); err != nil {
		return res, err
	}
	res.Request, res.Citizen = r.ID, r.Citizen
	return res, nil
}

// matchIdentity returns the files an identity designates: by e-mail, by
// phone, and by names and birth date (accents, case, hyphens aside).
func matchIdentity(tx *sql.Tx, id Identity) ([]int64, error) {
	seen := map[int64]bool{}
	var out []int64
	add := func(q string, arg any) error {
		rows, err := tx.Query(q, arg)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				return err
			}
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		return rows.Err()
	}
	if id.Email != "" {
		if err := add(qByEmail+` LIMIT 20`, id.Email); err != nil {
			return nil, err
		}
	}
	for _, p := range id.Phones {
		if err := add(`SELECT citizen FROM phones WHERE e164 = ? LIMIT 20`, p); err != nil {
			return nil, err
		}
	}
	if id.FamilyName != "" && id.BirthDate != "" {
		c := Citizen{FamilyName: id.FamilyName, BirthName: id.BirthName, FirstNames: id.FirstNames, BirthDate: id.BirthDate}
		for _, k := range c.nameKeys() {
			if err := add(qByNameKey+` LIMIT 20`, k); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
