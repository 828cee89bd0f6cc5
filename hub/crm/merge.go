package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"guichet/hub/audit"
)

// Duplicate is a file that may be the same person as another, and why.
type Duplicate struct {
	Citizen Citizen  `json:"citizen"`
	Reasons []string `json:"reasons"` // "téléphone", "courriel", "nom et date de naissance"
}

// Duplicates lists the files that may be the same person as citizen: the
// same phone number, the same e-mail address, or the same names and birth
// date once accents, case, hyphens and spaces are set aside (the birth name
// standing for the family name, or first and family names transposed,
// count too). An agent decides, and merges with Merge.
func (s *Store) Duplicates(ctx context.Context, v Viewer, citizen string) ([]Duplicate, error) {
	if err := s.checkViewer(v); err != nil {
		return nil, err
	}
	n, id, err := s.resolve(ctx, s.db.R, citizen)
	if err != nil {
		return nil, s.deny(ctx, v, "citizen.duplicates", "citizen", citizen, "no such record")
	}
	if err := s.record(ctx, v, "citizen.duplicates", "citizen", id, audit.Allowed, ""); err != nil {
		return nil, err
	}
	c, err := loadCitizen(s.db.R, n)
	if err != nil {
		return nil, err
	}
	return s.duplicates(ctx, c)
}

func (s *Store) duplicates(ctx context.Context, c Citizen) ([]Duplicate, error) {
	reasons := map[int64][]string{}
	var order []int64
	add := func(q string, arg any, why string) error {
		rows, err := s.db.R.QueryContext(ctx, q, arg)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n int64
			var id string
			if err := rows.Scan(&n, &id); err != nil {
				return err
			}
			if id == c.ID {
				continue
			}
			if _, ok := reasons[n]; !ok {
				order = append(order, n)
			}
			if !contains(reasons[n], why) {
				reasons[n] = append(reasons[n], why)
			}
		}
		return rows.Err()
	}
	for _, p := range c.Phones {
		if err := add(`SELECT c.n, c.id FROM phones p JOIN citizens c ON c.n = p.citizen WHERE p.e164 = ? LIMIT 50`, p, "téléphone"); err != nil {
			return nil, fmt.Errorf("duplicates: %w", err)
		}
	}
	if c.Email != "" {
		if err := add(strings.Replace(qByEmail, "SELECT n", "SELECT n, id", 1)+` LIMIT 50`, c.Email, "courriel"); err != nil {
			return nil, fmt.Errorf("duplicates: %w", err)
		}
	}
	if c.BirthDate != "" {
		for _, k := range c.nameKeys() {
			if err := add(strings.Replace(qByNameKey, "SELECT n", "SELECT n, id", 1)+` LIMIT 50`, k, "nom et date de naissance"); err != nil {
				return nil, fmt.Errorf("duplicates: %w", err)
			}
		}
	}
	out := make([]Duplicate, 0, len(order))
	for _, n := range order {
		d, err := loadCitizen(s.db.R, n)
		if err != nil {
			return nil, fmt.Errorf("duplicates: %w", err)
		}
		out = append(out, Duplicate{Citizen: d, Reasons: reasons[n]})
	}
	return out, nil
}

// Merge merges the file away into the file keep, an agent's decision: the
// timeline entries and requests of away move to keep, both histories
// whole; keep's empty fields take away's values; keep gains away's phone
// numbers. The merge is an entry in keep's timeline and an audit entry;
// away keeps no personal data and redirects to keep from then on.
func (s *Store) Merge(ctx context.Context, v Viewer, keep, away string) (Citizen, error) {
	if err := s.checkViewer(v); err != nil {
		return Citizen{}, err
	}
	kn, kid, err := s.resolve(ctx, s.db.R, keep)
	if err != nil {
		return Citizen{}, s.deny(ctx, v, "citizen.merge", "citizen", keep, "no such record")
	}
	an, aid, err := s.resolve(ctx, s.db.R, away)
	if err != nil {
		return Citizen{}, s.deny(ctx, v, "citizen.merge", "citizen", away, "no such record")
	}
	if kn == an {
		return Citizen{}, fmt.Errorf("%w: %s and %s are already the same file", ErrInvalid, keep, away)
	}
	if err := s.record(ctx, v, "citizen.merge", "citizen", kid, audit.Allowed, "from="+aid); err != nil {
		return Citizen{}, err
	}
	var out Citizen
	err = s.write(ctx, "merge", func(tx *sql.Tx) error {
		k, err := loadCitizen(tx, kn)
		if err != nil {
			return err
		}
		a, err := loadCitizen(tx, an)
		if err != nil {
			return err
		}
		for _, f := range []struct{ dst, src *string }{{&k.BirthName, &a.BirthName}, {&k.FirstNames, &a.FirstNames},
			{&k.BirthDate, &a.BirthDate}, {&k.Email, &a.Email}, {&k.Address, &a.Address}, {&k.Language, &a.Language}} {
			if *f.dst == "" {
				*f.dst = *f.src
			}
		}
		for _, p := range a.Phones {
			if !contains(k.Phones, p) && len(k.Phones) < maxPhones*2 {
				k.Phones = append(k.Phones, p)
			}
		}
		for _, q := range []string{`UPDATE entries SET citizen = ? WHERE citizen = ?`, `UPDATE requests SET citizen = ? WHERE citizen = ?`} {
			if _, err := tx.Exec(q, kn, an); err != nil {
				return err
			}
		}
		now := s.clock().UTC()
		if _, err := tx.Exec(`UPDATE citizens SET birth_name = ?, first_names = ?, birth_date = ?, email = ?, address = ?,
			language = ?, name_key = ?, updated_at = ?, last_at = max(last_at, ?) WHERE n = ?`,
			k.BirthName, k.FirstNames, k.BirthDate, k.Email, k.Address, k.Language, k.nameKeys()[0], ms(now), ms(a.LastAt), kn); err != nil {
			return err
		}
		if err := indexCitizen(tx, kn, &k); err != nil {
			return err
		}
		if err := forget(tx, an); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE citizens SET merged_into = ? WHERE n = ?`, kid, an); err != nil {
			return err
		}
		if _, err := insertEntry(tx, kn, Entry{Kind: EntryMerge, Sector: SectorAccueil, At: now, Agent: agentOf(v), Merge: &Merge{From: aid}}, aid); err != nil {
			return err
		}
		out, err = loadCitizen(tx, kn)
		return err
	})
	if err != nil {
		return Citizen{}, fmt.Errorf("merge %s into %s: %w", aid, kid, err)
	}
	s.log.Info("crm: files merged", "keep", kid, "away", aid, "by", v.ID)
	return out, nil
}

// forget wipes a citizen row's personal data, its phones and its name
// index entry, keeping the row (its id may still redirect).
func forget(tx *sql.Tx, n int64) error {
	for _, q := range []string{
		`UPDATE citizens SET family_name = '', birth_name = '', first_names = '', birth_date = '', email = '', address = '',
			language = '', sms_consent = 0, sms_consent_at = 0, email_consent = 0, email_consent_at = 0, name_key = '' WHERE n = ?`,
		`DELETE FROM phones WHERE citizen = ?`,
		`DELETE FROM names WHERE docid = ?`,
	} {
		if _, err := tx.Exec(q, n); err != nil {
			return err
		}
	}
	return nil
}
