package crm

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"guichet/hub/audit"
)

// Export is everything the file holds about one citizen (RGPD art. 15 and
// 20): who they are, their whole timeline and their requests, whatever the
// sector.
type Export struct {
	GeneratedAt time.Time `json:"generated_at"`
	Town        string    `json:"town"`
	Citizen     Citizen   `json:"citizen"`
	Merged      []string  `json:"merged_files,omitempty"` // ids merged into this file
	Timeline    []Entry   `json:"timeline"`
	Requests    []Request `json:"requests"`
	// Calls are the call records filed in the file or from one of its
	// numbers, with the number as the telephone system sent it.
	Calls []CallRecord `json:"calls,omitempty"`
	// Accesses are the audit log's entries about the file, its requests
	// and its calls, oldest first: who read or changed what, when (the
	// hub's side fills them: hub/citizens).
	Accesses []Access `json:"accesses,omitempty"`
	// Kinds names the kinds of the requests, in French, for the page.
	Kinds map[string]string `json:"-"`
}

// Access is one entry of the audit log about a citizen's file, as the
// export shows it: when, who (account and role), what, on which object,
// allowed or denied.
type Access struct {
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Role     string    `json:"role"`
	Action   string    `json:"action"`
	Object   string    `json:"object"`
	ObjectID string    `json:"object_id"`
	Outcome  string    `json:"outcome"`
}

// Export gathers everything held about a citizen, for the DPO answering a
// request for access. The export is audited.
func (s *Store) Export(ctx context.Context, v Viewer, citizen string) (Export, error) {
	if err := s.checkViewer(v); err != nil {
		return Export{}, err
	}
	if v.Role != RoleDPO && v.Role != RoleSystem {
		s.record(ctx, v, "citizen.export", "citizen", citizen, audit.Denied, "role")
		return Export{}, ErrForbidden
	}
	n, id, err := s.resolve(ctx, s.db.R, citizen)
	if err != nil {
		return Export{}, s.deny(ctx, v, "citizen.export", "citizen", citizen, "no such record")
	}
	if err := s.record(ctx, v, "citizen.export", "citizen", id, audit.Allowed, ""); err != nil {
		return Export{}, err
	}
	x := Export{GeneratedAt: s.clock().UTC(), Town: s.site.Town, Kinds: map[string]string{}}
	for _, k := range s.site.Kinds {
		x.Kinds[k.ID] = k.Label
	}
	if x.Citizen, err = loadCitizen(s.db.R, n); err != nil {
		return Export{}, fmt.Errorf("export %s: %w", id, err)
	}
	if x.Merged, err = ids(s.db.R, `SELECT id FROM citizens WHERE merged_into = ? ORDER BY id`, id); err != nil {
		return Export{}, fmt.Errorf("export %s: %w", id, err)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, kind, sector, at, agent, body FROM entries WHERE citizen = ? ORDER BY at, id`, n)
	if err != nil {
		return Export{}, fmt.Errorf("export %s: %w", id, err)
	}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			rows.Close()
			return Export{}, fmt.Errorf("export %s: %w", id, err)
		}
		e.Citizen = id
		x.Timeline = append(x.Timeline, e)
	}
	rows.Close()
	if x.Requests, err = s.queryRequests(ctx, Viewer{ID: v.ID, Role: RoleSystem}, `r.citizen = ?`, []any{n}, `r.received_at`, 100_000); err != nil {
		return Export{}, fmt.Errorf("export %s: %w", id, err)
	}
	if x.Calls, err = callsOf(s.db.R, id, x.Citizen.Phones); err != nil {
		return Export{}, fmt.Errorf("export %s: %w", id, err)
	}
	return x, nil
}

//go:embed templates/*.html
var templates embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return frenchDateIn(t, paris())
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(paris()).Format("02/01/2006 15:04")
	},
	"lines": func(s string) []string { return strings.Split(s, "\n") },
	"fr":    func(table string, key any) string { return frenchWord(table, fmt.Sprint(key)) },
	"dur":   func(d time.Duration) string { return frenchDuration(d) },
	"day": func(ymd string) string { // YYYY-MM-DD → DD/MM/YYYY
		if d, err := time.Parse(time.DateOnly, ymd); err == nil {
			return d.Format("02/01/2006")
		}
		return ymd
	},
}).ParseFS(templates, "templates/*.html"))

// WriteExportHTML writes an export as a page a citizen can read, in French.
func WriteExportHTML(w io.Writer, x Export) error {
	return pages.ExecuteTemplate(w, "export.html", x)
}

// ErrRestricted is returned for an erasure the law does not allow yet.
var ErrRestricted = errors.New("erasure restricted")

// Tombstone says a citizen's file was erased; the hub puts it in the event
// stream ("citizen.erased") so that the central CRM erases too. It carries
// identifiers only.
type Tombstone struct {
	Citizen string    `json:"citizen"`
	Merged  []string  `json:"merged,omitempty"` // ids that redirected to it, erased with it
	At      time.Time `json:"at"`
	By      string    `json:"by"` // the DPO's account id
}

// Erase erases a citizen's file on their request (RGPD art. 17): the file,
// its timeline, its requests, the files merged into it, from the name index
// and from the file's bytes. The law's exception applies: while a request is
// under instruction the town must keep what it needs to decide (art. 17.3 b,
// a legal obligation; CRPA), so the erasure is refused with ErrRestricted,
// naming the open requests; it can be made once they are closed. Only the
// DPO erases. The erasure is audited and leaves an erasure record (ids
// only).
func (s *Store) Erase(ctx context.Context, v Viewer, citizen string) (Tombstone, error) {
	if err := s.checkViewer(v); err != nil {
		return Tombstone{}, err
	}
	if v.Role != RoleDPO {
		s.record(ctx, v, "citizen.erase", "citizen", citizen, audit.Denied, "role")
		return Tombstone{}, ErrForbidden
	}
	n, id, err := s.resolve(ctx, s.db.R, citizen)
	if err != nil {
		return Tombstone{}, s.deny(ctx, v, "citizen.erase", "citizen", citizen, "no such record")
	}
	open, err := ids(s.db.R, `SELECT id FROM requests WHERE citizen = ? AND closed_at = 0 ORDER BY id`, n)
	if err != nil {
		return Tombstone{}, fmt.Errorf("erase %s: %w", id, err)
	}
	if len(open) > 0 {
		s.record(ctx, v, "citizen.erase", "citizen", id, audit.Denied, "open_requests="+strings.Join(open, ","))
		return Tombstone{}, fmt.Errorf("%w: requests under instruction must be decided first (RGPD art. 17.3 b): %s",
			ErrRestricted, strings.Join(open, ", "))
	}
	if err := s.record(ctx, v, "citizen.erase", "citizen", id, audit.Allowed, ""); err != nil {
		return Tombstone{}, err
	}
	t := Tombstone{Citizen: id, At: s.clock().UTC(), By: v.ID}
	c, err := loadCitizen(s.db.R, n)
	if err != nil {
		return Tombstone{}, fmt.Errorf("erase %s: %w", id, err)
	}
	err = s.write(ctx, "erase", func(tx *sql.Tx) error {
		var err error
		if t.Merged, err = ids(tx, `SELECT id FROM citizens WHERE merged_into = ? ORDER BY id`, id); err != nil {
			return err
		}
		// The call records filed in the file or from its numbers go too.
		calls, err := callsOf(tx, id, c.Phones)
		if err != nil {
			return err
		}
		for _, cr := range calls {
			if _, err := tx.Exec(`DELETE FROM calls WHERE ticket = ?`, cr.Ticket); err != nil {
				return err
			}
		}
		for _, q := range []string{`DELETE FROM names WHERE docid = ?`, `DELETE FROM citizens WHERE n = ?`} {
			if _, err := tx.Exec(q, n); err != nil {
				return err
			}
		}
		for _, m := range append([]string{id}, t.Merged...) {
			if _, err := tx.Exec(`DELETE FROM citizens WHERE id = ?`, m); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT OR REPLACE INTO erasures(citizen, at, actor) VALUES (?, ?, ?)`, m, ms(t.At), v.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Tombstone{}, fmt.Errorf("erase %s: %w", id, err)
	}
	if err := s.scrub(); err != nil {
		s.log.Error("crm: erase: scrub", "err", err)
	}
	s.log.Info("crm: citizen erased", "citizen", id, "by", v.ID)
	return t, nil
}

var monthsFR = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

func paris() *time.Location {
	if loc, err := time.LoadLocation("Europe/Paris"); err == nil {
		return loc
	}
	return time.UTC
}
