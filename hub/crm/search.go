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

type candidate struct {
	n                   int64
	family, birth, firs []string
	score               int
}

func (s *Store) searchNames(ctx context.Context, words []string, limit int) ([]Match, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: no name in the search", ErrInvalid)
	}
	if len(words) > 8 {
		words = words[:8]
	}
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = w
		if len([]rune(w)) >= 2 {
			terms[i] += "*"
		}
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT docid, family, birth, first FROM names WHERE names MATCH ? LIMIT ?`,
		strings.Join(terms, " "), maxCandidates)
	if err != nil {
		return nil, err
	}
	var cands []candidate
	for rows.Next() {
		var c candidate
		var f, b, fi string
		if err := rows.Scan(&c.n, &f, &b, &fi); err != nil {
			rows.Close()
			return nil, err
		}
		c.family, c.birth, c.firs = strings.Fields(f), strings.Fields(b), strings.Fields(fi)
		c.score = score(words, c.family, c.birth, c.firs)
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	cands = best(cands, limit)
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.score != b.score {
			return b.score - a.score
		}
		if c := slices.Compare(a.family, b.family); c != 0 {
			return c
		}
		if c := slices.Compare(a.firs, b.firs); c != 0 {
			return c
		}
		return int(a.n - b.n)
	})
	if len(cands) > limit {
		cands = cands[:limit]
	}
	ns := make([]int64, len(cands))
	for i, cd := range cands {
		ns[i] = cd.n
	}
	cs, err := loadCitizens(ctx, s.db.R, ns)
	if err != nil {
		return nil, err
	}
	out := make([]Match, 0, len(cands))
	for _, cd := range cands {
		if c, ok := cs[cd.n]; ok {
			out = append(out, Match{Citizen: c, Score: cd.score, Why: "nom"})
		}
	}
	return out, nil
}

// best keeps the candidates whose score can be among the first limit: those
// at or above the limit-th best score (scores are small: a histogram finds
// it), so that only they are sorted.
func best(cands []candidate, limit int) []candidate {
	if len(cands) <= limit {
		return cands
	}
	var hist [64]int
	for _, c := range cands {
		hist[min(c.score, len(hist)-1)]++
	}
	threshold, seen := 0, 0
	for sc := len(hist) - 1; sc >= 0; sc-- {
		if seen += hist[sc]; seen >= limit {
			threshold = sc
			break
		}
	}
	out := cands[:0]
	for _, c := range cands {
		if c.score >= threshold {
			out = append(out, c)
		}
	}
	return out
}

// score is the rank of a name for the query's words (see Search).
func score(words, family, birth, first []string) int {
	total := 0
	for _, w := range words {
		total += wordScore(w, family, birth, first)
	}
	if len(words) > 1 {
		whole := strings.Join(words, "")
		for _, f := range [][]string{family, birth, first} {
			// The index holds a compound name's words joined as its last word.
			if len(f) > 1 && f[len(f)-1] == whole {
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
