package crm

import (
	"strings"
	"testing"
)

func TestLookupsUseTheirIndexes(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ q, index string }{
		{qByEmail, "citizens_email"},
		{qByNameKey, "citizens_name_key"},
		{`SELECT citizen FROM phones WHERE e164 = ?`, "PRIMARY KEY"},
		{`SELECT id FROM requests WHERE source = ? AND source != '' AND external_ref = ?`, "requests_external"},
		{`SELECT n FROM citizens WHERE email = ? AND merged_into = ''`, "SCAN"}, // the trap the constants avoid
		{`SELECT n FROM citizens WHERE merged_into = '' AND last_at < ?`, "citizens_last"},
		{`SELECT id FROM entries WHERE citizen = ? ORDER BY at DESC`, "entries_citizen"},
	} {
		rows, err := f.s.db.R.Query(`EXPLAIN QUERY PLAN `+tc.q, "x", "y")
		if err != nil {
			rows, err = f.s.db.R.Query(`EXPLAIN QUERY PLAN `+tc.q, "x")
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, tc.index) {
			t.Errorf("%s\n  plan %q does not use %s", tc.q, p, tc.index)
		}
	}
}
