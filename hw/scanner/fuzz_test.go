package scanner

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzClean: whatever a scanner sends on a line, Clean refuses it or keeps
// a code of at most MaxCode bytes of printable text — valid UTF-8, no
// control, format or line-separator character (each could forge a log
// line or hide what the code is) — that Clean keeps as it is. A line that
// is not UTF-8 is refused.
func FuzzClean(f *testing.F) {
	for _, seed := range []string{"RDV-1234\r\n", " ANTS-77 \n", "\x1b[2J\r\n", "a\x00b", "caf\xe9", "é\u200bé", "\u202eRDV",
		"a\u2028b", strings.Repeat("9", MaxCode), strings.Repeat("é", MaxCode/2+1), "\ufeffRDV-1", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		code, ok := Clean(line)
		if !ok {
			if code != "" {
				t.Fatalf("refused %q with code %q", line, code)
			}
			return
		}
		if code == "" || len(code) > MaxCode || !utf8.ValidString(line) {
			t.Fatalf("Clean(%q) = %q", line, code)
		}
		for _, r := range code {
			if !unicode.IsPrint(r) && r != ' ' {
				t.Fatalf("Clean(%q) = %q keeps %U", line, code, r)
			}
		}
		if again, ok := Clean(code); !ok || again != code {
			t.Fatalf("Clean(%q) = %q, then %q %v", line, code, again, ok)
		}
	})
}
