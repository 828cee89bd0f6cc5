package printer

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzEncode: whatever text is printed, in any code page: no byte of it is
// a control (no text can carry a printer command), each character gives
// one to three bytes (never lost, never a line's worth), and text the page
// holds reads back the same.
func FuzzEncode(f *testing.F) {
	for _, seed := range []string{"État civil — Légalisation", "Œuvre « sociale » – 12 €", "l’été…", "ŸÀÇ ñ ß ø Å",
		"\x1b@\x1dV\x00", "a\u0085b\u009bc", "\xff\xfe", "日本語", "👍🏽", "e\u0301", "\u00a0\u202f", ""} {
		for i := range codePages {
			f.Add(uint8(i), seed)
		}
	}
	f.Fuzz(func(t *testing.T, page uint8, s string) {
		cp := codePages[int(page)%len(codePages)]
		b := cp.Encode(s)
		for i, c := range b {
			if c < 0x20 || c == 0x7f {
				t.Fatalf("%s: Encode(%q) holds control byte 0x%02x at %d", cp.Name, s, c, i)
			}
		}
		n := utf8.RuneCountInString(s)
		if len(b) < n || len(b) > 3*n {
			t.Fatalf("%s: %d characters gave %d bytes", cp.Name, n, len(b))
		}
		if string(cp.Encode(s)) != string(b) {
			t.Fatalf("%s: Encode(%q) is not a function of its input", cp.Name, s)
		}
		held := utf8.ValidString(s)
		for _, r := range s {
			if c, ok := cp.cmap.EncodeRune(r); !ok || c < 0x20 || c == 0x7f || r >= 0x80 && r < 0xa0 {
				held = false
			}
		}
		if held && cp.Decode(b) != s {
			t.Fatalf("%s: %q printed as %q", cp.Name, s, cp.Decode(b))
		}
	})
}

// FuzzWrap: a line of text wrapped to a paper's columns gives lines of at
// most that many bytes, each the text's next bytes in order, with only
// spaces left out between them; and it breaks no earlier than it must:
// the next word, after the spaces that separate it, would not fit.
func FuzzWrap(f *testing.F) {
	for _, seed := range []string{"Passeports et cartes d'identité", "a  b   c", "   ", "", "unmotbienpluslongquelaligne et puis", "  ab cd"} {
		f.Add(seed, uint8(16))
	}
	f.Fuzz(func(t *testing.T, s string, cols uint8) {
		b := []byte(s)
		c := int(cols)%64 + 1
		lines := wrap(b, c)
		skip := func(i int) int {
			for i < len(b) && b[i] == ' ' {
				i++
			}
			return i
		}
		pos := 0
		starts := make([]int, len(lines))
		for i, l := range lines {
			if len(l) > c {
				t.Fatalf("wrap(%q, %d): line %d is %q", s, c, i, l)
			}
			if i > 0 {
				pos = skip(pos)
			}
			if !bytes.HasPrefix(b[pos:], l) {
				t.Fatalf("wrap(%q, %d) = %q: line %d is not the text's next bytes", s, c, lines, i)
			}
			starts[i], pos = pos, pos+len(l)
		}
		if rest := b[pos:]; len(bytes.Trim(rest, " ")) > 0 {
			t.Fatalf("wrap(%q, %d) = %q: lost %q", s, c, lines, rest)
		}
		for i := 0; i+1 < len(lines); i++ {
			end, next := starts[i]+len(lines[i]), starts[i+1]
			w := bytes.IndexByte(append(append([]byte(nil), lines[i+1]...), ' '), ' ')
			if len(lines[i]) > 0 && w > 0 && next-starts[i]+w <= c {
				t.Fatalf("wrap(%q, %d) = %q: broke after %q (at %d) though %q fits", s, c, lines, lines[i], end, lines[i+1][:w])
			}
		}
	})
}
