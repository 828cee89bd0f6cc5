package crm

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"guichet/hub/audit"
)

// PurgeItem is what one retention rule removes.
type PurgeItem struct {
	Rule  string   `json:"rule"` // "ticket_link", "calls", "visits", "sector:social", "citizens"…
	What  string   `json:"what"` // in French, for the elimination record
	IDs   []string `json:"ids"`  // entries, requests or citizens
	Count int      `json:"count"`
	// Entries are the timeline entries removed with the citizens or
	// requests this rule removes.
	Entries int `json:"entries,omitempty"`
	// Removed is how many the real run removed: Count, unless the data
	// changed between the plan and the removal (a file seen again, a
	// request reopened), which each removal checks again.
	Removed int `json:"removed"`

	cutoff int64            // the rule's limit, Unix ms
	lastAt map[string]int64 // citizens: the last interaction the plan saw
}

// PurgePlan is what a purge removes, rule by rule.
type PurgePlan struct {
	At     time.Time   `json:"at"`
	DryRun bool        `json:"dry_run"`
	Items  []PurgeItem `json:"items"`
}

// Purge applies the retention rules as of now. With dryRun it changes
// nothing and returns exactly what the real run at the same instant would
// remove. The plan is read from one snapshot of the file, without holding
// the writer; the real run then removes what it lists in chunks of
// purgeChunk rows, each its own transaction, so that agents' writes pass
// between them, and each removal checks its rule again (a file that got a
// new interaction meanwhile stays). Each chunk writes its elimination
// record (what, how many, under which rule: the public-archives law's
// record; Eliminations sums a run's chunks by rule). Then the name index is
// rewritten and the write-ahead log truncated, so that the removed data are
// gone from the file's bytes (secure_delete zeroes the freed pages). Only
// the DPO and the system (the hub's daily purge) run it; requests under
// instruction are never removed, nor the files that hold them.
func (s *Store) Purge(ctx context.Context, v Viewer, dryRun bool) (PurgePlan, error) {
	if err := s.checkViewer(v); err != nil {
		return PurgePlan{}, err
	}
	if v.Role != RoleDPO && v.Role != RoleSystem {
		s.record(ctx, v, "crm.purge", "crm", "", audit.Denied, "")
		return PurgePlan{}, ErrForbidden
	}
	now := s.clock().UTC()
	plan, err := s.planSnapshot(ctx, now)
	if err != nil {
		return PurgePlan{}, fmt.Errorf("purge: %w", err)
	}
	if dryRun {
		plan.DryRun = true
		return plan, s.record(ctx, v, "crm.purge_dry_run", "crm", "", audit.Allowed, plan.summary())
	}
	if err := s.apply(ctx, &plan, v); err != nil {
		return plan, fmt.Errorf("purge: %w", err)
	}
	if err := s.scrub(); err != nil {
		s.log.Error("crm: purge: scrub", "err", err)
	}
	if err := s.record(ctx, v, "crm.purge", "crm", "", audit.Allowed, plan.summary()); err != nil {
		return plan, err
	}
	s.log.Info("crm: purge done", "summary", plan.summary())
	return plan, nil
}

func (p PurgePlan) summary() string {
	var b strings.Builder
	for _, it := range p.Items {
		if p.DryRun {
			fmt.Fprintf(&b, "%s=%d ", it.Rule, it.Count)
		} else {
			fmt.Fprintf(&b, "%s=%d ", it.Rule, it.Removed)
		}
	}
	return strings.TrimSpace(b.String())
}

// planSnapshot computes the plan from one read-only snapshot of the file.
func (s *Store) planSnapshot(ctx context.Context, now time.Time) (PurgePlan, error) {
	tx, err := s.db.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return PurgePlan{}, err
	}
	defer tx.Rollback()
	return s.plan(tx, now)
}

// scrub rewrites the name index in one segment (FTS4 otherwise keeps a
// deleted name in its old segments until they merge) and truncates the WAL.
func (s *Store) scrub() error {
	err := s.write(context.Background(), "scrub", func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO names(names) VALUES ('optimize')`)
		return err
	})
	if err != nil {
		return err
	}
	return s.db.Checkpoint()
}

type sqlQuerier interface {
	Query(q string, args ...any) (*sql.Rows, error)
}

func ids(q sqlQuerier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// plan computes what the rules remove at now. Rules are disjoint: an entry
// a rule removes is not counted again by a later one.
func (s *Store) plan(tx *sql.Tx, now time.Time) (PurgePlan, error) {
	r := s.site.Retention
	before := func(d time.Duration) int64 { return ms(now.Add(-d)) }
	p := PurgePlan{At: now}
	// add lists a rule's rows; the query's last argument is its cutoff.
	add := func(rule, what, q string, args ...any) error {
		got, err := ids(tx, q, args...)
		if err != nil {
			return fmt.Errorf("rule %s: %w", rule, err)
		}
		cut, _ := args[len(args)-1].(int64)
		p.Items = append(p.Items, PurgeItem{Rule: rule, What: what, IDs: got, Count: len(got), cutoff: cut})
		return nil
	}
	if err := add("ticket_link", "tickets détachés des visites et des appels",
		`SELECT id FROM entries WHERE ref != '' AND (kind = 'visit' AND at >= ? OR kind = 'call' AND at >= ?) AND at < ? ORDER BY id`,
		before(r.Visits), before(r.Calls), before(r.TicketLink)); err != nil {
		return p, err
	}
	if err := add("visits", "visites (historique des contacts)",
		`SELECT id FROM entries WHERE kind = 'visit' AND at < ? ORDER BY id`, before(r.Visits)); err != nil {
		return p, err
	}
	if err := add("calls", "appels (historique des contacts)",
		`SELECT id FROM entries WHERE kind = 'call' AND at < ? ORDER BY id`, before(r.Calls)); err != nil {
		return p, err
	}
	if err := add("call_records", "journal des appels (numéros des appelants)",
		`SELECT ticket FROM calls WHERE (ended_at != 0 AND ended_at < ?1) OR (ended_at = 0 AND joined_at < ?1) ORDER BY ticket`,
		before(r.Calls)); err != nil {
		return p, err
	}
	for _, sec := range s.sectors() {
		cut := before(r.of(sec))
		if err := add("sector:"+string(sec), "notes, courriers et courriels du secteur "+string(sec),
			`SELECT id FROM entries WHERE kind IN ('note', 'mail', 'merge') AND sector = ? AND at < ? ORDER BY id`, string(sec), cut); err != nil {
			return p, err
		}
		if err := add("requests:"+string(sec), "demandes closes du secteur "+string(sec),
			`SELECT id FROM requests WHERE sector = ? AND closed_at != 0 AND closed_at < ? ORDER BY id`, string(sec), cut); err != nil {
			return p, err
		}
		it := &p.Items[len(p.Items)-1]
		if err := countRefs(tx, it, `SELECT count(*) FROM entries WHERE kind = 'request' AND ref = ?`); err != nil {
			return p, err
		}
	}
	cit, err := s.expiredCitizens(tx, now, p)
	if err != nil {
		return p, err
	}
	p.Items = append(p.Items, cit)
	if err := add("pending_imports", "demandes importées non rattachées",
		`SELECT id FROM pending_imports WHERE received_at < ? ORDER BY id`, before(r.PendingImports)); err != nil {
		return p, err
	}
	gone := map[string]bool{}
	for _, id := range cit.IDs {
		gone[id] = true
	}
	redirects, err := ids(tx, `SELECT id || ' ' || merged_into FROM citizens WHERE merged_into != '' ORDER BY id`)
	if err != nil {
		return p, err
	}
	red := PurgeItem{Rule: "redirects", What: "renvois de dossiers fusionnés vers un dossier supprimé"}
	for _, x := range redirects {
		from, to, _ := strings.Cut(x, " ")
		if gone[to] || !exists(tx, to) {
			red.IDs = append(red.IDs, from)
		}
	}
	red.Count = len(red.IDs)
	p.Items = append(p.Items, red)
	return p, nil
}

func exists(tx *sql.Tx, id string) bool {
	var one int
	return tx.QueryRow(`SELECT 1 FROM citizens WHERE id = ? AND merged_into = ''`, id).Scan(&one) == nil
}

func countRefs(tx *sql.Tx, it *PurgeItem, q string) error {
	for _, id := range it.IDs {
		var n int
		if err := tx.QueryRow(q, id).Scan(&n); err != nil {
			return err
		}
		it.Entries += n
	}
	return nil
}

// sectors returns every sector the site knows, sorted.
func (s *Store) sectors() []Sector {
	set := map[Sector]bool{SectorAccueil: true}
	for sec := range s.site.Offices {
		set[sec] = true
	}
	for _, k := range s.site.Kinds {
		set[k.Sector] = true
	}
	for sec := range s.site.Retention.Sectors {
		set[sec] = true
	}
	out := make([]Sector, 0, len(set))
	for sec := range set {
		out = append(out, sec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// expiredCitizens finds the files whose last interaction is older than the
// longest retention of the sectors they hold records of (contact history
// only: the contact history's retention), and that hold no request under
// instruction. Their entries not already removed by an earlier rule are
// counted with them.
func (s *Store) expiredCitizens(tx *sql.Tx, now time.Time, p PurgePlan) (PurgeItem, error) {
	r := s.site.Retention
	shortest := r.contact()
	for _, sec := range s.sectors() {
		shortest = min(shortest, r.of(sec))
	}
	it := PurgeItem{Rule: "citizens", What: "dossiers de citoyens sans interaction depuis la plus longue durée de leurs secteurs",
		lastAt: map[string]int64{}}
	rows, err := tx.Query(`SELECT c.n, c.id, c.last_at,
			(SELECT group_concat(DISTINCT sector) FROM (SELECT sector FROM entries WHERE citizen = c.n AND kind NOT IN ('visit', 'call', 'merge')
				UNION SELECT sector FROM requests WHERE citizen = c.n)),
			(SELECT count(*) FROM requests WHERE citizen = c.n AND closed_at = 0)
		FROM citizens c WHERE c.merged_into = '' AND c.last_at < ? ORDER BY c.id`, ms(now.Add(-shortest)))
	if err != nil {
		return it, fmt.Errorf("rule citizens: %w", err)
	}
	var ns []int64
	for rows.Next() {
		var n, last int64
		var id string
		var secs sql.NullString
		var open int
		if err := rows.Scan(&n, &id, &last, &secs, &open); err != nil {
			rows.Close()
			return it, fmt.Errorf("rule citizens: %w", err)
		}
		if open > 0 {
			continue
		}
		keep := r.contact()
		for _, sec := range strings.Split(secs.String, ",") {
			if sec != "" {
				keep = max(keep, r.of(Sector(sec)))
			}
		}
		if fromMS(last).Before(now.Add(-keep)) {
			it.IDs = append(it.IDs, id)
			it.lastAt[id] = last
			ns = append(ns, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return it, err
	}
	it.Count = len(it.IDs)
	removed := map[string]bool{}
	for _, pi := range p.Items {
		if strings.HasPrefix(pi.Rule, "requests:") {
			for _, id := range pi.IDs {
				removed["r"+id] = true
			}
			continue
		}
		if pi.Rule == "ticket_link" {
			continue
		}
		for _, id := range pi.IDs {
			removed["e"+id] = true
		}
	}
	for _, n := range ns {
		rows, err := tx.Query(`SELECT id, kind, ref FROM entries WHERE citizen = ?`, n)
		if err != nil {
			return it, err
		}
		for rows.Next() {
			var id int64
			var kind, ref string
			if err := rows.Scan(&id, &kind, &ref); err != nil {
				rows.Close()
				return it, err
			}
			if !removed["e"+strconv.FormatInt(id, 10)] && !(kind == string(EntryRequest) && removed["r"+ref]) {
				it.Entries++
			}
		}
		rows.Close()
	}
	return it, nil
}

// purgeChunk is how many rows one transaction of a purge removes.
const purgeChunk = 1000

// removal is how a rule removes one of its rows, checking the rule again:
// statements run in order with the row's id, the rule's cutoff and, for a
// citizen, the last interaction the plan saw; the first statement's count
// of changed rows is what the rule removed.
func removal(it *PurgeItem) ([]string, error) {
	switch {
	case it.Rule == "ticket_link":
		return []string{`UPDATE entries SET ref = '', body = json_remove(body, '$.ticket_id', '$.number')
			WHERE id = ?1 AND kind IN ('visit', 'call') AND ref != '' AND at < ?2`}, nil
	case it.Rule == "call_records":
		return []string{`DELETE FROM calls WHERE ticket = ?1 AND (ended_at != 0 AND ended_at < ?2 OR ended_at = 0 AND joined_at < ?2)`}, nil
	case it.Rule == "visits" || it.Rule == "calls" || strings.HasPrefix(it.Rule, "sector:"):
		return []string{`DELETE FROM entries WHERE id = ?1 AND at < ?2`}, nil
	case strings.HasPrefix(it.Rule, "requests:"):
		return []string{`DELETE FROM requests WHERE id = ?1 AND closed_at != 0 AND closed_at < ?2`,
			`DELETE FROM entries WHERE kind = 'request' AND ref = ?1 AND NOT EXISTS (SELECT 1 FROM requests WHERE id = ?1)`}, nil
	case it.Rule == "citizens":
		return []string{`DELETE FROM citizens WHERE id = ?1 AND last_at = ?3 AND merged_into = ''
				AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.citizen = citizens.n AND r.closed_at = 0)`,
			`DELETE FROM names WHERE docid = ?4`}, nil
	case it.Rule == "pending_imports":
		return []string{`DELETE FROM pending_imports WHERE id = ?1 AND received_at < ?2`}, nil
	case it.Rule == "redirects":
		return []string{`DELETE FROM citizens WHERE id = ?1 AND merged_into != ''
			AND NOT EXISTS (SELECT 1 FROM citizens t WHERE t.id = citizens.merged_into AND t.merged_into = '')`}, nil
	}
	return nil, fmt.Errorf("purge: unknown rule %s", it.Rule)
}

// highestParam returns the highest ?N in q: SQLite wants exactly that many
// arguments.
func highestParam(q string) int {
	hi := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			continue
		}
		n := 0
		for i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
			i++
			n = n*10 + int(q[i]-'0')
		}
		hi = max(hi, n)
	}
	return hi
}

// apply removes what the plan lists, chunk by chunk, and writes the
// elimination records; it sets each item's Removed.
func (s *Store) apply(ctx context.Context, p *PurgePlan, v Viewer) error {
	for i := range p.Items {
		it := &p.Items[i]
		stmts, err := removal(it)
		if err != nil {
			return err
		}
		nargs := make([]int, len(stmts))
		for k, q := range stmts {
			nargs[k] = highestParam(q)
		}
		for start := 0; start < len(it.IDs); start += purgeChunk {
			chunk := it.IDs[start:min(start+purgeChunk, len(it.IDs))]
			removed := 0
			err := s.write(ctx, "purge "+it.Rule, func(tx *sql.Tx) error {
				removed = 0
				for _, id := range chunk {
					var n int64
					if it.Rule == "citizens" {
						if err := tx.QueryRow(`SELECT n FROM citizens WHERE id = ?`, id).Scan(&n); err != nil {
							continue // gone meanwhile (erased)
						}
					}
					for k, q := range stmts {
						res, err := tx.Exec(q, []any{id, it.cutoff, it.lastAt[id], n}[:nargs[k]]...)
						if err != nil {
							return fmt.Errorf("purge %s %s: %w", it.Rule, id, err)
						}
						if k == 0 {
							if c, _ := res.RowsAffected(); c == 0 {
								break // the rule no longer holds for this row: kept
							}
							removed++
						}
					}
				}
				if removed == 0 {
					return nil
				}
				_, err := tx.Exec(`INSERT INTO eliminations(at, actor, rule, what, count) VALUES (?, ?, ?, ?, ?)`,
					ms(p.At), v.ID, it.Rule, it.What, removed)
				return err
			})
			if err != nil {
				return err
			}
			it.Removed += removed
		}
	}
	return nil
}

// Elimination is the record of one rule's removals.
type Elimination struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Rule  string    `json:"rule"`
	What  string    `json:"what"`
	Count int       `json:"count"`
}

// Eliminations returns the elimination records, newest first: for the DPO
// and the archivist.
func (s *Store) Eliminations(ctx context.Context, v Viewer, limit int) ([]Elimination, error) {
	if err := s.checkViewer(v); err != nil {
		return nil, err
	}
	if v.Role != RoleDPO && v.Role != RoleSystem {
		s.record(ctx, v, "crm.eliminations", "crm", "", audit.Denied, "")
		return nil, ErrForbidden
	}
	if err := s.record(ctx, v, "crm.eliminations", "crm", "", audit.Allowed, ""); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	// A run writes one row per chunk; its record is their sum, per rule.
	rows, err := s.db.R.QueryContext(ctx, `SELECT at, actor, rule, what, sum(count) FROM eliminations
		GROUP BY at, actor, rule, what ORDER BY max(id) DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("eliminations: %w", err)
	}
	defer rows.Close()
	var out []Elimination
	for rows.Next() {
		var e Elimination
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Rule, &e.What, &e.Count); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecordElimination writes the elimination record of a removal made
// outside the citizen file under its retention (the audit log's purge):
// the DPO and the system only.
func (s *Store) RecordElimination(ctx context.Context, v Viewer, rule, what string, count int) error {
	if err := s.checkViewer(v); err != nil {
		return err
	}
	if v.Role != RoleDPO && v.Role != RoleSystem {
		s.record(ctx, v, "crm.elimination", "crm", "", audit.Denied, "")
		return ErrForbidden
	}
	if rule == "" || what == "" || count < 0 {
		return fmt.Errorf("%w: an elimination record names its rule, what it removed and how many", ErrInvalid)
	}
	at := s.clock().UTC()
	return s.write(ctx, "elimination "+rule, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO eliminations(at, actor, rule, what, count) VALUES (?, ?, ?, ?, ?)`, ms(at), v.ID, rule, what, count)
		return err
	})
}
