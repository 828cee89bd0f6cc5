package printer

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// CodePage is a printer character table: what ESC t selects and how runes
// map to its bytes.
type CodePage struct {
	Name   string
	Number byte // n of ESC t n, Epson numbering
	cmap   *charmap.Charmap
}

// Code pages French needs; WPC1252 is the default (é è à ç ù œ € –).
var (
	WPC1252 = CodePage{"wpc1252", 16, charmap.Windows1252}
	PC858   = CodePage{"pc858", 19, charmap.CodePage858} // PC850 with €
	PC850   = CodePage{"pc850", 2, charmap.CodePage850}
	PC437   = CodePage{"pc437", 0, charmap.CodePage437}
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

// CodePageByNumber returns the code page ESC t n selects.
func CodePageByNumber(n byte) (CodePage, bool) {
	for _, c := range codePages {
		if c.Number == n {
			return c, true
		}
	}
	return CodePage{}, false
}

// near replaces typography a code page may lack by something close.
var near = map[rune]string{
	'‘': "'", '’': "'", '‚': ",", '“': "\"", '”': "\"", '„': "\"", '«': "\"", '»': "\"",
	'–': "-", '—': "-", '…': "...", '\u00a0': " ", '\u202f': " ", 'œ': "oe", 'Œ': "OE", '€': "EUR",
}

// Encode turns text into the code page's bytes. A rune the page lacks
// becomes something close or '?': a line is never lost for one character.
// Control characters become spaces, so no text can carry a printer command.
func (c CodePage) Encode(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			out = append(out, ' ')
			continue
		}
		if b, ok := c.cmap.EncodeRune(r); ok {
			out = append(out, b)
			continue
		}
		if alt, ok := near[r]; ok {
			for _, a := range alt {
				b, ok := c.cmap.EncodeRune(a)
				if !ok {
					b = '?'
				}
				out = append(out, b)
			}
			continue
		}
		out = append(out, '?')
	}
	return out
}

// Decode turns the code page's bytes back into text (for the virtual printer).
func (c CodePage) Decode(b []byte) string {
	var sb strings.Builder
	for _, x := range b {
		sb.WriteRune(c.cmap.DecodeByte(x))
	}
	return sb.String()
}
