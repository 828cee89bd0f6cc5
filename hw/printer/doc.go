package printer

import (
	"bytes"
	"fmt"
	"image"

	"github.com/hennedo/escpos"
)

// Doc builds an ESC/POS job. It uses hennedo/escpos for what it gets right
// (initialise, styles and justification, raster images, feeds, cut) and
// writes its own bytes where it does not:
//   - its Write sends GS ! from the style, 0xFF when no size was set: Doc
//     always sets a size of at least 1×1;
//   - its Size stops at 5×: Doc's Big writes GS ! itself, up to 8×;
//   - its QRCode sends the module size where the error-correction level
//     belongs: Doc's QR writes the whole GS ( k sequence;
//   - it selects no code page and its WriteWEU drops a whole string for one
//     unmappable rune: Doc sends ESC t and encodes text itself.
type Doc struct {
	buf  bytes.Buffer
	e    *escpos.Escpos
	cp   CodePage
	dots int
	err  error
}

// Style is how a line of text prints.
type Style struct {
	Bold    bool
	Width   uint8 // 1 to 5
	Height  uint8 // 1 to 5
	Justify uint8 // escpos.JustifyLeft, JustifyCenter, JustifyRight
	Small   bool  // font B (9×17 dots instead of 12×24)
}

// Justifications.
const (
	Left   = escpos.JustifyLeft
	Center = escpos.JustifyCenter
	Right  = escpos.JustifyRight
)

// NewDoc starts a job for paper paperMM wide: the printer initialised,
// code page cp selected.
func NewDoc(cp CodePage, paperMM int) *Doc {
	d := &Doc{cp: cp, dots: Dots(paperMM)}
	d.e = escpos.New(&d.buf)
	d.check(d.e.Initialize())
	d.raw(0x1b, 't', cp.Number)
	return d
}

func (d *Doc) check(_ int, err error) {
	if err != nil && d.err == nil {
		d.err = err
	}
}

func (d *Doc) raw(b ...byte) { d.check(d.e.WriteRaw(b)) }

func clamp(v, lo, hi uint8) uint8 { return max(lo, min(v, hi)) }

// Line prints text, wrapped at word boundaries to the paper's width, and a
// line feed.
func (d *Doc) Line(text string, st Style) {
	font, cell := byte(0), 12
	if st.Small {
		font, cell = 1, 9
	}
	d.raw(0x1b, 'M', font)
	d.e.Style = escpos.Style{Bold: st.Bold, Justify: st.Justify,
		Width: clamp(st.Width, 1, 5), Height: clamp(st.Height, 1, 5)}
	for _, l := range wrap(d.cp.Encode(text), d.dots/(cell*int(d.e.Style.Width))) {
		d.check(d.e.Write(string(l) + "\n"))
	}
}

// wrap cuts b into lines of at most cols bytes, at spaces where it can.
func wrap(b []byte, cols int) [][]byte {
	var lines [][]byte
	for len(b) > cols && cols > 0 {
		cut := bytes.LastIndexByte(b[:cols+1], ' ')
		if cut <= 0 {
			cut = cols
		}
		lines = append(lines, bytes.TrimRight(b[:cut], " "))
		b = bytes.TrimLeft(b[cut:], " ")
	}
	return append(lines, b)
}

// Big prints one short line magnified mag times (1 to 8), bold and centred:
// the ticket number.
func (d *Doc) Big(text string, mag uint8) {
	m := clamp(mag, 1, 8) - 1
	d.raw(0x1b, 'M', 0, 0x1b, 'a', Center, 0x1b, 'E', 1, 0x1d, '!', m<<4|m)
	d.check(d.e.WriteRaw(d.cp.Encode(text)))
	d.raw('\n', 0x1d, '!', 0, 0x1b, 'E', 0)
}

// QR error-correction levels.
const (
	QRLevelL, QRLevelM, QRLevelQ, QRLevelH byte = '0', '1', '2', '3'
)

// QR prints data as a QR code (model 2), centred, module dots wide (1–16).
func (d *Doc) QR(data string, module uint8, level byte) {
	if len(data) > 7089 {
		d.err = fmt.Errorf("QR data of %d bytes", len(data))
		return
	}
	n := len(data) + 3
	d.raw(0x1b, 'a', Center)
	d.raw(0x1d, '(', 'k', 4, 0, '1', 'A', '2', 0)                     // model 2
	d.raw(0x1d, '(', 'k', 3, 0, '1', 'C', clamp(module, 1, 16))       // module size
	d.raw(0x1d, '(', 'k', 3, 0, '1', 'E', clamp(level, '0', '3'))     // error correction
	d.raw(0x1d, '(', 'k', byte(n), byte(n>>8), '1', 'P', '0')         // store…
	d.check(d.e.WriteRaw([]byte(data)))                               // …the data
	d.raw(0x1d, '(', 'k', 3, 0, '1', 'Q', '0', '\n', 0x1b, 'a', Left) // print
}

// Image prints a picture as a raster image (GS v 0), centred.
func (d *Doc) Image(img image.Image) {
	d.raw(0x1b, 'a', Center)
	d.check(d.e.PrintImage(img))
	d.raw(0x1b, 'a', Left)
}

// Feed feeds lines blank lines.
func (d *Doc) Feed(lines uint8) { d.check(d.e.LineFeedD(lines)) }

// Cut feeds the paper to the cutter and cuts.
func (d *Doc) Cut() { d.check(d.e.Cut()) }

// Bytes returns the job.
func (d *Doc) Bytes() ([]byte, error) {
	if err := d.e.Print(); err != nil && d.err == nil {
		d.err = err
	}
	return d.buf.Bytes(), d.err
}
