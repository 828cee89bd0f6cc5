package printer

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// CodePage is a printer character table: how runes map to its bytes. The
// number ESC t selects it with depends on the model (Profile.Tables).
type CodePage struct {
	Name string
	cmap *charmap.Charmap
}

// Code pages French needs; WPC1252 is the best (é è à ç ù œ € « » – —).
var (
	WPC1252 = CodePage{"wpc1252", charmap.Windows1252}
	PC858   = CodePage{"pc858", charmap.CodePage858} // PC850 with €
	PC850   = CodePage{"pc850", charmap.CodePage850}
	PC437   = CodePage{"pc437", charmap.CodePage437}
)

var codePages = []CodePage{WPC1252, PC858, PC850, PC437}

// CodePageByName returns a code page by name.
func CodePageByName(name string) (CodePage, error) {
	for _, c := range codePages {
		if c.Name == strings.ToLower(name) {
			return c, nil
		}
	}
	return CodePage{}, fmt.Errorf("unknown code page %q (wpc1252, pc858, pc850 or pc437)", name)
}

// near replaces typography a code page may lack by something close.
var near = map[rune]string{
	'‘': "'", '’': "'", '‚': ",", '“': "\"", '”': "\"", '„': "\"", '«': "\"", '»': "\"",
	'–': "-", '—': "-", '…': "...", '\u00a0': " ", '\u202f': " ", 'œ': "oe", 'Œ': "OE",
	'æ': "ae", 'Æ': "AE", '€': "EUR",
}

// Encode turns text into the code page's bytes. It is a pure function of
// its input (fuzzed as such). A rune the page lacks becomes something close
// — typography and ligatures by their ASCII look-alikes (’ → ', « → ",
// œ → oe, € → EUR), a letter with an accent by its letter without (À → A,
// Ÿ → Y) — and '?' only when nothing is close: a line is never lost for
// one character. Control characters become spaces, so no text can carry a
// printer command.
func (c CodePage) Encode(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		out = c.appendRune(out, r)
	}
	return out
}

func (c CodePage) appendRune(out []byte, r rune) []byte {
	if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
		return append(out, ' ')
	}
	if b, ok := c.cmap.EncodeRune(r); ok {
		return append(out, b)
	}
	if alt, ok := near[r]; ok {
		for _, a := range alt {
			b, ok := c.cmap.EncodeRune(a)
			if !ok {
				b = '?'
			}
			out = append(out, b)
		}
		return out
	}
	// A letter with accents: its base letter, if the page has it.
	if d := []rune(norm.NFD.String(string(r))); len(d) > 1 && !unicode.Is(unicode.Mn, d[0]) {
		if b, ok := c.cmap.EncodeRune(d[0]); ok && d[0] >= 0x20 {
			return append(out, b)
		}
	}
	return append(out, '?')
}

// Decode turns the code page's bytes back into text (for the virtual printer).
func (c CodePage) Decode(b []byte) string {
	var sb strings.Builder
	for _, x := range b {
		sb.WriteRune(c.cmap.DecodeByte(x))
	}
	return sb.String()
}
