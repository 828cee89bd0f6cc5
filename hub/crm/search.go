package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Match is a citizen a search found, with why.
type Match struct {
	Citizen Citizen `json:"citizen"`
	Score   int     `json:"score"`
	Why     string  `json:"why"` // "nom", "téléphone", "courriel"
}

// maxCandidates bounds the rows a name search ranks: a query of one common
// prefix ("ma") cannot make the desk wait.
const maxCandidates = 3000

// Search finds citizens by name, phone number or e-mail address.
//
// A query with an "@" is an e-mail address, matched whole, case aside. A
// query that reads as a phone number, whatever its writing, is matched on
// the E.164 form. Anything else is names: every word of the query must
// begin a word of the family, birth or first names, accents, case,
// hyphens and apostrophes aside, in any order (a transposed first and last
// name is found). Results are ranked: for each query word, 4 points when it
// is a whole word of the family name, 3 of the birth or first names, 2 when
// it only begins a word of the family name, 1 elsewhere; 3 more when the
// query's words are together one compound name ("Jean Pierre" for
// "Jean-Pierre"); ties go to the family name, then first names, then the
// file's order, so the order is stable.
func (s *Store) Search(ctx context.Context, v Viewer, q string, limit int) ([]Match, error) {
	if err := s.checkViewer(v); err != nil {
		return nil, err
	}
	q = strings.TrimSpace(q)
	if q == "" || len(q) > 200 {
		return nil, fmt.Errorf("%w: a search is 1 to 200 characters", ErrInvalid)
	}
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 200)
	var out []Match
	by, run := "name", func() (err error) { out, err = s.searchNames(ctx, fold(q), limit); return err }
	if strings.Contains(q, "@") {
		by, run = "email", func() (err error) {
			out, err = s.searchBy(ctx, qByEmail, strings.ToLower(q), "courriel", limit)
			return err
		}
	} else if p, perr := NormalizePhone(q); perr == nil {
		by, run = "phone", func() (err error) {
			out, err = s.searchBy(ctx, `SELECT citizen FROM phones WHERE e164 = ?`, p, "téléphone", limit)
			return err
		}
	}
	if err := s.audited(ctx, v, "citizen.search", "citizen", "", "by="+by, run); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return out, nil
}

func (s *Store) searchBy(ctx context.Context, q, arg, why string, limit int) ([]Match, error) {
	rows, err := s.db.R.QueryContext(ctx, q+` LIMIT ?`, arg, limit)
	if err != nil {
		return nil, err
	}
	var ns []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		ns = append(ns, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Match, 0, len(ns))
	for _, n := range ns {
		c, err := loadCitizen(s.db.R, n)
		if err != nil {
			return nil, err
		}
		out = append(out, Match{Citizen: c, Score: 10, Why: why})
	}
	return out, nil
}

func (s *Store) searchNames(ctx context.Context, words []string, limit int) ([]Match, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: no name in the search", ErrInvalid)
	}
	if len(words) > 8 {
		words = words[:8]
	}
	q, args := scoreSQL(words)
	rows, err := s.db.R.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	var ns []int64
	var scores []int
	for rows.Next() {
		var n int64
		var sc int
		if err := rows.Scan(&n, &sc); err != nil {
			rows.Close()
			return nil, err
		}
		ns, scores = append(ns, n), append(scores, sc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	cs, err := loadCitizens(ctx, s.db.R, ns)
	if err != nil {
		return nil, err
	}
	out := make([]Match, 0, len(ns))
	for i, n := range ns {
		if c, ok := cs[n]; ok {
			out = append(out, Match{Citizen: c, Score: scores[i], Why: "nom"})
		}
	}
	return out, nil
}

// scoreSQL writes the name search as one SQLite query: the full-text
// index finds the candidates (every word begins a word of a name), and the
// score of the rule above is computed and sorted inside SQLite, so that the
// thousands of candidates of a common name never cross into Go. The index
// holds the folded words separated by spaces, which makes " w " a whole
// word and " w" the beginning of one. score (below) is the same rule in Go,
// which the tests hold this query to.
func scoreSQL(words []string) (string, []any) {
	terms := make([]string, len(words))
	var expr []string
	var args []any
	field := func(col string) string { return `(' ' || ` + col + ` || ' ')` }
	for i, w := range words {
		terms[i] = w
		if len([]rune(w)) >= 2 {
			terms[i] += "*"
		}
		whole, start := "% "+w+" %", "% "+w+"%"
		expr = append(expr, `(CASE WHEN `+field("family")+` LIKE ? THEN 4
			WHEN `+field("birth")+` LIKE ? OR `+field("first")+` LIKE ? THEN 3
			WHEN `+field("family")+` LIKE ? THEN 2 ELSE 1 END)`)
		args = append(args, whole, whole, whole, start)
	}
	if len(words) > 1 {
		joined := "% " + strings.Join(words, "") + " %"
		expr = append(expr, `(CASE WHEN `+field("family")+` LIKE ? OR `+field("birth")+` LIKE ? OR `+field("first")+` LIKE ? THEN 3 ELSE 0 END)`)
		args = append(args, joined, joined, joined)
	}
	q := `SELECT docid, ` + strings.Join(expr, " + ") + ` AS score
		FROM (SELECT docid, family, birth, first FROM names WHERE names MATCH ? LIMIT ?)
		ORDER BY score DESC, family, first, docid LIMIT ?`
	// The MATCH and the cap come after the score's arguments in the text.
	return q, append(args, strings.Join(terms, " "), maxCandidates)
}

// score is the rank of a name for the query's words (see Search).
func score(words, family, birth, first []string) int {
	total := 0
	for _, w := range words {
		total += wordScore(w, family, birth, first)
	}
	if len(words) > 1 {
		// The index holds a compound name's words joined, as one more word.
		whole := strings.Join(words, "")
		for _, f := range [][]string{family, birth, first} {
			if slices.Contains(f, whole) {
				return total + 3
			}
		}
	}
	return total
}

func wordScore(w string, family, birth, first []string) int {
	best := 0
	try := func(words []string, whole, prefix int) {
		for _, x := range words {
			switch {
			case x == w:
				best = max(best, whole)
			case strings.HasPrefix(x, w):
				best = max(best, prefix)
			}
		}
	}
	try(family, 4, 2)
	try(birth, 3, 1)
	try(first, 3, 1)
	return best
}
