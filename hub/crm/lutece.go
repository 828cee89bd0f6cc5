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

// LuteceNotification is a Lutece GRU notification, as the notificationstore
// plugin takes it (POST …/rest/notificationstore/v3/notification) and
// publishes it (its REST API's swagger, and the grubusiness library's
// Notification, Demand and Customer classes): "date" is in milliseconds
// since the epoch; the customer's fields are Jackson's default names
// (camelCase), with snake_case accepted too. The import reads it; the
// outbound connector (cloud/lutece) writes it.
type LuteceNotification struct {
	Date       json.Number       `json:"date"`
	Demand     *LuteceDemand     `json:"demand"`
	Backoffice *LuteceBackoffice `json:"backoffice,omitempty"`
	Dashboard  *LuteceDashboard  `json:"mydashboard,omitempty"`
}

// LuteceDemand is a notification's demand: a citizen's case in the GRU.
type LuteceDemand struct {
	ID          json.RawMessage `json:"id"` // a string, sometimes a number
	TypeID      json.RawMessage `json:"type_id"`
	SubtypeID   json.RawMessage `json:"subtype_id,omitempty"`
	Reference   string          `json:"reference,omitempty"`
	StatusID    *int            `json:"status_id,omitempty"`
	MaxStep     int             `json:"max_step,omitempty"`
	CurrentStep int             `json:"current_step,omitempty"`
	Customer    *LuteceCustomer `json:"customer,omitempty"`
}

// LuteceCustomer is the citizen of a demand.
type LuteceCustomer struct {
	ID             string `json:"id,omitempty"`
	Firstname      string `json:"firstname,omitempty"`
	Lastname       string `json:"lastname,omitempty"`
	Familyname     string `json:"familyname,omitempty"`
	Email          string `json:"email,omitempty"`
	MobilePhone    string `json:"mobilePhone,omitempty"`
	MobilePhone2   string `json:"mobile_phone,omitempty"`
	FixedPhone     string `json:"fixedPhoneNumber,omitempty"`
	FixedPhone2    string `json:"fixed_phone_number,omitempty"`
	BirthDate      string `json:"birthDate,omitempty"`
	BirthDate2     string `json:"birth_date,omitempty"`
	ConnectionID   string `json:"connection_id,omitempty"`
	CustomerID     string `json:"customer_id,omitempty"`
	AttributeNames any    `json:"attributeNames,omitempty"`
}

// LuteceBackoffice is what the agents' back office shows of a notification.
type LuteceBackoffice struct {
	Message    string `json:"message,omitempty"`
	StatusText string `json:"status_text,omitempty"`
}

// LuteceDashboard is what the citizen's dashboard shows of it.
type LuteceDashboard struct {
	StatusID   *int   `json:"status_id,omitempty"`
	StatusText string `json:"status_text,omitempty"`
	Subject    string `json:"subject,omitempty"`
}

// GRU's generic statuses (grubusiness EnumGenericStatus).
const (
	LuteceCancelled  = 10 // annulé
	LuteceInProgress = 11 // en cours
	LuteceDone       = 15 // terminé
)

// luteceStatus maps GRU's generic statuses (grubusiness EnumGenericStatus)
// to ours.
var luteceStatus = map[int]Status{
	10: StatusCancelled,  // annulé
	11: StatusInProgress, // en cours
	12: StatusInProgress, // à régler
	13: StatusIncomplete, // à compléter
	14: StatusDone,       // acquitté
	15: StatusDone,       // terminé
}

func rawString(r json.RawMessage) string {
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(r, &n) == nil {
		return n.String()
	}
	return ""
}

// parseLutece reads a Lutece GRU notification (the object inside
// {"notification": …}).
func parseLutece(b []byte) (Inbound, error) {
	var l LuteceNotification
	if err := json.Unmarshal(b, &l); err != nil {
		return Inbound{}, fmt.Errorf("%w: Lutece notification: %v", ErrInvalid, err)
	}
	d := l.Demand
	if d == nil {
		return Inbound{}, fmt.Errorf("%w: Lutece notification without demand", ErrInvalid)
	}
	id, typ := rawString(d.ID), rawString(d.TypeID)
	if id == "" || typ == "" {
		return Inbound{}, fmt.Errorf("%w: Lutece demand without id or type_id", ErrInvalid)
	}
	in := Inbound{Reference: typ + ":" + id, Kind: typ, Title: d.Reference, StepNo: d.CurrentStep, MaxSteps: d.MaxStep,
		Status: StatusInProgress}
	if ms, err := l.Date.Int64(); err == nil && ms > 0 {
		in.At = time.UnixMilli(ms).UTC()
	}
	st := d.StatusID
	if (st == nil || luteceStatus[*st] == "") && l.Dashboard != nil {
		st = l.Dashboard.StatusID
	}
	if st != nil && luteceStatus[*st] != "" {
		in.Status = luteceStatus[*st]
	}
	switch {
	case l.Dashboard != nil && l.Dashboard.StatusText != "":
		in.Step = l.Dashboard.StatusText
	case l.Backoffice != nil && l.Backoffice.StatusText != "":
		in.Step = l.Backoffice.StatusText
	}
	if c := d.Customer; c != nil {
		in.Citizen = Identity{FamilyName: c.Lastname, FirstNames: c.Firstname, Email: c.Email,
			BirthDate: luteceDate(first(c.BirthDate, c.BirthDate2))}
		if c.Familyname != "" && !strings.EqualFold(c.Familyname, c.Lastname) {
			// GRU's lastname is the birth name; familyname the name in use.
			in.Citizen.FamilyName, in.Citizen.BirthName = c.Familyname, c.Lastname
		}
		for _, p := range []string{c.MobilePhone, c.MobilePhone2, c.FixedPhone, c.FixedPhone2} {
			if strings.TrimSpace(p) != "" {
				in.Citizen.Phones = append(in.Citizen.Phones, p)
			}
		}
	}
	return in, nil
}

func first(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// luteceDate reads a birth date written dd/MM/yyyy (Lutece's habit) or
// yyyy-MM-dd; anything else is passed on for normalize to refuse.
func luteceDate(s string) string {
	if t, err := time.Parse("02/01/2006", s); err == nil {
		return t.Format(time.DateOnly)
	}
	return s
}

// PendingImport is an imported request no single citizen matched.
type PendingImport struct {
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	Inbound    Inbound   `json:"inbound"`
	Candidates []string  `json:"candidates"` // citizen ids
	ReceivedAt time.Time `json:"received_at"`
}

// PendingImports lists the imports waiting for an agent, of the sectors v
// sees, oldest first.
func (s *Store) PendingImports(ctx context.Context, v Viewer) ([]PendingImport, error) {
	if err := s.checkViewer(v); err != nil {
		return nil, err
	}
	if err := s.record(ctx, v, "imports.pending", "pending_import", "", audit.Allowed, ""); err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, source, inbound, candidates, received_at FROM pending_imports ORDER BY received_at, id LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("pending imports: %w", err)
	}
	defer rows.Close()
	var out []PendingImport
	for rows.Next() {
		var p PendingImport
		var in, cands []byte
		var at int64
		if err := rows.Scan(&p.ID, &p.Source, &in, &cands, &at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(in, &p.Inbound); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(cands, &p.Candidates); err != nil {
			return nil, err
		}
		p.ReceivedAt = fromMS(at)
		if s.sees(v, s.site.external(p.Source, p.Inbound.Kind).Sector) {
			out = append(out, p)
		}
	}
	return out, rows.Err()
}

// ResolvePending attaches a pending import to the citizen an agent chose,
// or to a new file made from the import's identity when citizen is empty.
func (s *Store) ResolvePending(ctx context.Context, v Viewer, pending, citizen string) (ImportResult, error) {
	if err := s.checkViewer(v); err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	err := s.write(ctx, "resolve import", func(tx *sql.Tx) error {
		var source string
		var raw []byte
		err := tx.QueryRow(`SELECT source, inbound FROM pending_imports WHERE id = ?`, pending).Scan(&source, &raw)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var in Inbound
		if err := json.Unmarshal(raw, &in); err != nil {
			return err
		}
		k, ok := s.site.kind(in.Kind)
		if !ok {
			k = s.site.external(source, in.Kind)
		}
		if !s.sees(v, k.Sector) {
			return ErrNotFound
		}
		var n int64
		res = ImportResult{Outcome: ImportCreated}
		if citizen == "" {
			if in.Citizen.FamilyName == "" {
				return fmt.Errorf("%w: the import names nobody: choose a citizen", ErrInvalid)
			}
			now := s.clock().UTC()
			c := Citizen{ID: newID("c-"), FamilyName: in.Citizen.FamilyName, BirthName: in.Citizen.BirthName, FirstNames: in.Citizen.FirstNames,
				BirthDate: in.Citizen.BirthDate, Email: in.Citizen.Email, Phones: in.Citizen.Phones, CreatedAt: now, UpdatedAt: now, LastAt: in.At}
			if n, err = insertCitizen(tx, &c); err != nil {
				return err
			}
			res.NewCitizen = true
		} else {
			var merged string
			if err := tx.QueryRow(`SELECT n, merged_into FROM citizens WHERE id = ?`, citizen).Scan(&n, &merged); err != nil {
				return ErrNotFound
			}
			if merged != "" {
				if err := tx.QueryRow(`SELECT n FROM citizens WHERE id = ?`, merged).Scan(&n); err != nil {
					return ErrNotFound
				}
			}
		}
		if _, err := tx.Exec(`DELETE FROM pending_imports WHERE id = ?`, pending); err != nil {
			return err
		}
		res, err = s.createImported(tx, n, source, in, k, v, res)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return ImportResult{}, s.deny(ctx, v, "import.resolve", "pending_import", pending, "no such record or sector")
	}
	if err != nil {
		return ImportResult{}, fmt.Errorf("resolve import %s: %w", pending, err)
	}
	return res, s.record(ctx, v, "import.resolve", "request", res.Request, audit.Allowed, "pending="+pending+" citizen="+res.Citizen)
}
