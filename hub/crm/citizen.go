package crm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"guichet/hub/audit"
)

// Consent is a citizen's consent to be contacted on a channel, and when it
// was given or withdrawn.
type Consent struct {
	Given bool      `json:"given"`
	At    time.Time `json:"at,omitzero"`
}

// Citizen is who a citizen is. It is seen by every role: an agent needs it
// to greet and identify the person at the counter or on the line.
type Citizen struct {
	ID           string    `json:"id"`
	FamilyName   string    `json:"family_name"`          // nom d'usage
	BirthName    string    `json:"birth_name,omitempty"` // nom de naissance
	FirstNames   string    `json:"first_names"`
	BirthDate    string    `json:"birth_date,omitempty"` // YYYY-MM-DD
	Phones       []string  `json:"phones,omitempty"`     // E.164
	Email        string    `json:"email,omitempty"`
	Address      string    `json:"address,omitempty"` // postal address, lines separated by "\n"
	Language     string    `json:"language,omitempty"`
	SMSConsent   Consent   `json:"sms_consent"`
	EmailConsent Consent   `json:"email_consent"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	LastAt       time.Time `json:"last_interaction_at"`
	// RedirectedFrom is the id asked for, when it was merged into this one.
	RedirectedFrom string `json:"redirected_from,omitempty"`
}

// ErrInvalid wraps every refusal of bad input.
var ErrInvalid = errors.New("invalid")

const (
	maxName    = 100
	maxAddress = 500
	maxPhones  = 5
)

// normalize checks c and puts it in the stored form: trimmed names, phones
// in E.164, e-mail in lower case.
func (c *Citizen) normalize(now time.Time) error {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"family name", &c.FamilyName, maxName}, {"birth name", &c.BirthName, maxName}, {"first names", &c.FirstNames, maxName},
		{"address", &c.Address, maxAddress}, {"language", &c.Language, 10}, {"e-mail", &c.Email, 254}} {
		*f.v = strings.TrimSpace(*f.v)
		if !utf8.ValidString(*f.v) || utf8.RuneCountInString(*f.v) > f.max {
			return fmt.Errorf("%w: %s longer than %d characters or not UTF-8", ErrInvalid, f.name, f.max)
		}
	}
	if len(fold(c.FamilyName)) == 0 {
		return fmt.Errorf("%w: a family name is required", ErrInvalid)
	}
	if c.BirthDate != "" {
		d, err := time.Parse(time.DateOnly, c.BirthDate)
		if err != nil || d.After(now) || d.Year() < 1880 {
			return fmt.Errorf("%w: birth date %q is not a past date written YYYY-MM-DD", ErrInvalid, c.BirthDate)
		}
	}
	if c.Email != "" {
		a, err := mail.ParseAddress(c.Email)
		if err != nil || a.Address != c.Email {
			return fmt.Errorf("%w: e-mail address is not one", ErrInvalid)
		}
		c.Email = strings.ToLower(c.Email)
	}
	if len(c.Phones) > maxPhones {
		return fmt.Errorf("%w: more than %d phone numbers", ErrInvalid, maxPhones)
	}
	var phones []string
	for _, p := range c.Phones {
		e, err := NormalizePhone(p)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if !contains(phones, e) {
			phones = append(phones, e)
		}
	}
	c.Phones = phones
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// nameKeys are the keys under which c's duplicates are filed: family name,
// first names and birth date, folded; the birth name in place of the family
// name; family and first names transposed.
func (c *Citizen) nameKeys() []string {
	k := func(a, b string) string {
		if nameKey(a) == "" {
			return ""
		}
		return nameKey(a) + "|" + nameKey(b) + "|" + c.BirthDate
	}
	var out []string
	for _, x := range []string{k(c.FamilyName, c.FirstNames), k(c.BirthName, c.FirstNames), k(c.FirstNames, c.FamilyName)} {
		if x != "" && !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// CreateCitizen files a new citizen and returns them with the files that
// may be the same person (see Duplicates).
func (s *Store) CreateCitizen(ctx context.Context, v Viewer, c Citizen) (Citizen, []Duplicate, error) {
	if err := s.checkViewer(v); err != nil {
		return Citizen{}, nil, err
	}
	now := s.clock().UTC()
	if err := c.normalize(now); err != nil {
		return Citizen{}, nil, err
	}
	c.ID, c.CreatedAt, c.UpdatedAt, c.LastAt, c.RedirectedFrom = newID("c-"), now, now, now, ""
	stampConsent(&c.SMSConsent, Consent{}, now)
	stampConsent(&c.EmailConsent, Consent{}, now)
	if err := s.record(ctx, v, "citizen.create", "citizen", c.ID, audit.Allowed, ""); err != nil {
		return Citizen{}, nil, err
	}
	err := s.write(ctx, "create citizen", func(tx *sql.Tx) error {
		_, err := insertCitizen(tx, &c)
		return err
	})
	if err != nil {
		return Citizen{}, nil, fmt.Errorf("create citizen: %w", err)
	}
	dups, err := s.duplicates(ctx, c)
	if err != nil {
		return c, nil, err
	}
	return c, dups, nil
}

func stampConsent(c *Consent, old Consent, now time.Time) {
	if c.Given != old.Given || (c.Given && old.At.IsZero()) {
		if c.At.IsZero() || c.At.After(now) {
			c.At = now
		}
	} else {
		c.At = old.At
	}
}

func insertCitizen(tx *sql.Tx, c *Citizen) (int64, error) {
	res, err := tx.Exec(`INSERT INTO citizens(id, family_name, birth_name, first_names, birth_date, email, address, language,
		sms_consent, sms_consent_at, email_consent, email_consent_at, name_key, created_at, updated_at, last_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.FamilyName, c.BirthName, c.FirstNames, c.BirthDate, c.Email, c.Address, c.Language,
		c.SMSConsent.Given, ms(c.SMSConsent.At), c.EmailConsent.Given, ms(c.EmailConsent.At), c.nameKeys()[0],
		ms(c.CreatedAt), ms(c.UpdatedAt), ms(c.LastAt))
	if err != nil {
		return 0, err
	}
	n, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	return n, indexCitizen(tx, n, c)
}

// indexCitizen writes c's phones and names index.
func indexCitizen(tx *sql.Tx, n int64, c *Citizen) error {
	if _, err := tx.Exec(`DELETE FROM phones WHERE citizen = ?`, n); err != nil {
		return err
	}
	for _, p := range c.Phones {
		if _, err := tx.Exec(`INSERT OR IGNORE INTO phones(e164, citizen) VALUES (?, ?)`, p, n); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(`DELETE FROM names WHERE docid = ?`, n); err != nil {
		return err
	}
	_, err := tx.Exec(`INSERT INTO names(docid, family, birth, first) VALUES (?, ?, ?, ?)`,
		n, searchText(c.FamilyName), searchText(c.BirthName), searchText(c.FirstNames))
	return err
}

// UpdateCitizen changes who a citizen is; the fields given replace the
// stored ones (consent dates are stamped when the consent changes).
func (s *Store) UpdateCitizen(ctx context.Context, v Viewer, c Citizen) (Citizen, error) {
	if err := s.checkViewer(v); err != nil {
		return Citizen{}, err
	}
	n, id, err := s.resolve(ctx, s.db.R, c.ID)
	if err != nil {
		return Citizen{}, s.deny(ctx, v, "citizen.update", "citizen", c.ID, "no such record")
	}
	now := s.clock().UTC()
	if err := c.normalize(now); err != nil {
		return Citizen{}, err
	}
	if err := s.record(ctx, v, "citizen.update", "citizen", id, audit.Allowed, ""); err != nil {
		return Citizen{}, err
	}
	err = s.write(ctx, "update citizen", func(tx *sql.Tx) error {
		old, err := loadCitizen(tx, n)
		if err != nil {
			return err
		}
		c.ID, c.CreatedAt, c.UpdatedAt, c.LastAt, c.RedirectedFrom = id, old.CreatedAt, now, old.LastAt, ""
		stampConsent(&c.SMSConsent, old.SMSConsent, now)
		stampConsent(&c.EmailConsent, old.EmailConsent, now)
		if _, err := tx.Exec(`UPDATE citizens SET family_name = ?, birth_name = ?, first_names = ?, birth_date = ?, email = ?,
			address = ?, language = ?, sms_consent = ?, sms_consent_at = ?, email_consent = ?, email_consent_at = ?,
			name_key = ?, updated_at = ? WHERE n = ?`,
			c.FamilyName, c.BirthName, c.FirstNames, c.BirthDate, c.Email, c.Address, c.Language,
			c.SMSConsent.Given, ms(c.SMSConsent.At), c.EmailConsent.Given, ms(c.EmailConsent.At), c.nameKeys()[0], ms(now), n); err != nil {
			return err
		}
		return indexCitizen(tx, n, &c)
	})
	if err != nil {
		return Citizen{}, fmt.Errorf("update citizen %s: %w", id, err)
	}
	return c, nil
}

// Citizen returns who a citizen is. A merged-away id redirects to the file
// it was merged into (RedirectedFrom says so).
func (s *Store) Citizen(ctx context.Context, v Viewer, id string) (Citizen, error) {
	if err := s.checkViewer(v); err != nil {
		return Citizen{}, err
	}
	n, to, err := s.resolve(ctx, s.db.R, id)
	if err != nil {
		return Citizen{}, s.deny(ctx, v, "citizen.read", "citizen", id, "no such record")
	}
	var c Citizen
	err = s.audited(ctx, v, "citizen.read", "citizen", to, "", func() (err error) { c, err = loadCitizen(s.db.R, n); return err })
	if err != nil {
		return Citizen{}, fmt.Errorf("read citizen %s: %w", to, err)
	}
	if to != id {
		c.RedirectedFrom = id
	}
	return c, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// resolve finds a citizen's row, following merges.
func (s *Store) resolve(ctx context.Context, q querier, id string) (n int64, to string, err error) {
	to = id
	for range 8 {
		var merged string
		if err := q.QueryRowContext(ctx, `SELECT n, merged_into FROM citizens WHERE id = ?`, to).Scan(&n, &merged); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return 0, "", ErrNotFound
			}
			return 0, "", err
		}
		if merged == "" {
			return n, to, nil
		}
		to = merged
	}
	return 0, "", fmt.Errorf("citizen %s: merges loop", id)
}

const citizenCols = `n, id, family_name, birth_name, first_names, birth_date, email, address, language,
	sms_consent, sms_consent_at, email_consent, email_consent_at, created_at, updated_at, last_at`

type rowQuerier interface {
	QueryRow(q string, args ...any) *sql.Row
	Query(q string, args ...any) (*sql.Rows, error)
}

func loadCitizen(q rowQuerier, n int64) (Citizen, error) {
	c, err := scanCitizen(q.QueryRow(`SELECT `+citizenCols+` FROM citizens WHERE n = ?`, n))
	if err != nil {
		return c, err
	}
	rows, err := q.Query(`SELECT e164 FROM phones WHERE citizen = ? ORDER BY e164`, n)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return c, err
		}
		c.Phones = append(c.Phones, p)
	}
	return c, rows.Err()
}

// loadCitizens reads several citizens at once, by row number.
func loadCitizens(ctx context.Context, q querier, ns []int64) (map[int64]Citizen, error) {
	out := make(map[int64]Citizen, len(ns))
	if len(ns) == 0 {
		return out, nil
	}
	args := make([]any, len(ns))
	for i, n := range ns {
		args[i] = n
	}
	in := `(?` + strings.Repeat(`, ?`, len(ns)-1) + `)`
	rows, err := q.QueryContext(ctx, `SELECT `+citizenCols+` FROM citizens WHERE n IN `+in, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		c, n, err := scanCitizenN(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out[n] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT citizen, e164 FROM phones WHERE citizen IN `+in+` ORDER BY citizen, e164`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		var p string
		if err := rows.Scan(&n, &p); err != nil {
			return nil, err
		}
		c := out[n]
		c.Phones = append(c.Phones, p)
		out[n] = c
	}
	return out, rows.Err()
}

func scanCitizen(r interface{ Scan(...any) error }) (Citizen, error) {
	c, _, err := scanCitizenN(r)
	return c, err
}

func scanCitizenN(r interface{ Scan(...any) error }) (Citizen, int64, error) {
	var c Citizen
	var n, sAt, eAt, cAt, uAt, lAt int64
	err := r.Scan(&n, &c.ID, &c.FamilyName, &c.BirthName, &c.FirstNames, &c.BirthDate, &c.Email, &c.Address, &c.Language,
		&c.SMSConsent.Given, &sAt, &c.EmailConsent.Given, &eAt, &cAt, &uAt, &lAt)
	c.SMSConsent.At, c.EmailConsent.At = fromMS(sAt), fromMS(eAt)
	c.CreatedAt, c.UpdatedAt, c.LastAt = fromMS(cAt), fromMS(uAt), fromMS(lAt)
	return c, n, err
}
