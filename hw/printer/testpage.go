package printer

import (
	"fmt"
	"strings"
)

// Accents are the characters French needs that ASCII lacks, as the test
// page prints them.
var Accents = []string{
	"à â ä ç é è ê ë î ï ô ö ù û ü ÿ œ æ",
	"À Â Ä Ç É È Ê Ë Î Ï Ô Ö Ù Û Ü Ÿ Œ Æ",
	"« » € – — ’",
}

// TestPage returns a job that shows how a printer prints in format f, in
// French: the model and what its profile chose (paper and dots, code page
// and its number, cut, QR code, status), every accented letter and sign
// French needs, with those the code page lacks and what replaces them, a
// ruler as long as a line, and a QR code. It ends with a cut.
func TestPage(f Format) ([]byte, error) {
	d := NewDoc(f)
	p := f.Profile
	n, _ := f.Table()
	m := p.Paper[f.PaperMM]
	left := Style{}
	d.Line("GUICHET — PAGE DE TEST", Style{Bold: true, Height: 2, Justify: Center})
	d.Feed(1)
	d.Line("Modèle : "+p.Name+" ("+p.ID+")", left)
	d.Line(fmt.Sprintf("Papier : %d mm, %d points par ligne à %d dpi, %d colonnes", f.PaperMM, m.Dots, p.DPI, m.Columns), left)
	d.Line(fmt.Sprintf("Page de code : %s (%s %d)", f.CodePage.Name, p.Select, n), left)
	d.Line("Coupe : "+cutText(p.Cut), left)
	d.Line("QR code : "+yesNo(p.QR, "dessiné par l'imprimante (GS ( k)", "envoyé en image (GS v 0)"), left)
	d.Line("État : "+yesNo(p.Status, "demandé à l'imprimante (DLE EOT)", "non demandé (ce modèle ne répond pas)"), left)
	d.Line("Source : "+p.Source, Style{Small: true})
	d.Feed(1)
	d.Line("Lettres et signes du français :", Style{Bold: true})
	for _, l := range Accents {
		d.Line(l, Style{Height: 2})
	}
	if r := replaced(f.CodePage); r != "" {
		d.Line("Absents de "+f.CodePage.Name+", remplacés par : "+r, Style{Small: true})
	} else {
		d.Line("Tous présents dans "+f.CodePage.Name+".", Style{Small: true})
	}
	d.Feed(1)
	d.Line(fmt.Sprintf("Règle de %d colonnes (une seule ligne) :", m.Columns), left)
	var ruler strings.Builder
	for i := 1; i <= m.Columns; i++ {
		ruler.WriteByte(byte('0' + i%10))
	}
	d.Line(ruler.String(), left)
	d.Feed(1)
	d.QR("GUICHET TEST "+p.ID, 6, QRLevelM)
	d.Line("Ce QR code se lit : « GUICHET TEST "+p.ID+" »", Style{Small: true, Justify: Center})
	d.Feed(3)
	d.Cut()
	return d.Bytes()
}

func cutText(c Cut) string {
	switch c {
	case CutFull:
		return "complète (GS V 65)"
	case CutNone:
		return "aucune, pas de massicot : détacher le ticket"
	}
	return "GS V 66"
}

// replaced is what prints instead of each accented character cp lacks.
func replaced(cp CodePage) string {
	var out []string
	for _, l := range Accents {
		for _, s := range strings.Fields(l) {
			if got := cp.Decode(cp.Encode(s)); got != s {
				out = append(out, got)
			}
		}
	}
	return strings.Join(out, " ")
}
