package crm

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// fold returns the words of a name as search and duplicate detection compare
// them: lower case, without accents (é→e, ç→c), ligatures spelt out (œ→oe,
// æ→ae, ß→ss), hyphens, apostrophes and dots as word breaks.
// "Jean-Pierre" → [jean pierre]; "D'Artagnan" → [d artagnan];
// "LEFÈBVRE" → [lefebvre].
func fold(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent: dropped
		case r == 'œ' || r == 'Œ':
			b.WriteString("oe")
		case r == 'æ' || r == 'Æ':
			b.WriteString("ae")
		case r == 'ß':
			b.WriteString("ss")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// nameKey is the form two names that differ only by accents, case, hyphens,
// apostrophes or spaces share: "Jean-Pierre" and "jean pierre" → "jeanpierre".
func nameKey(s string) string { return strings.Join(fold(s), "") }

// searchText is what the full-text index holds for a name: its words and,
// when it has several, the words joined, so that "Dartagnan" finds
// "D'Artagnan" and "Jeanpierre" finds "Jean-Pierre".
func searchText(s string) string {
	w := fold(s)
	if len(w) > 1 {
		w = append(w, strings.Join(w, ""))
	}
	return strings.Join(w, " ")
}
