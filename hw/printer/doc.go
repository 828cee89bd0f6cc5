package printer

import (
	"bytes"
	"fmt"
	"image"
	"image/color"

	"github.com/hennedo/escpos"
	"github.com/skip2/go-qrcode"
)

// Doc builds an ESC/POS job for one printer format. It uses hennedo/escpos
// for what it gets right (initialise, styles and justification, feeds) and
// writes its own bytes where it does not:
//   - its Write sends GS ! from the style, 0xFF when no size was set: Doc
//     always sets a size of at least 1×1;
//   - its Size stops at 5×: Doc's Big writes GS ! itself, up to 8×;
//   - its QRCode sends the module size where the error-correction level
//     belongs: Doc's QR writes the whole GS ( k sequence;
//   - it selects no code page and its WriteWEU drops a whole string for one
//     unmappable rune: Doc sends the model's code page command and encodes
//     text itself;
//   - its Cut sends GS V 65, which several cheap printers lack: Doc cuts
//     as the model's profile says;
//   - its PrintImage crops a picture to a multiple of 8 dots: Doc pads it.
//
// What the model lacks is done another way: a QR code on a printer that
// does not draw them is sent as a raster image; text is wrapped to the
// model's columns; a job that cannot fit the paper is an error.
type Doc struct {
	buf bytes.Buffer
	e   *escpos.Escpos
	f   Format
	err error
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

// NewDoc starts a job in format f: the printer initialised, the code page
// selected.
func NewDoc(f Format) *Doc {
	d := &Doc{f: f}
	d.e = escpos.New(&d.buf)
	d.check(d.e.Initialize())
	if f.Dots() == 0 {
		d.fail(fmt.Errorf("%s takes no %d mm paper", f.Profile.Name, f.PaperMM))
	}
	sel, err := f.SelectBytes()
	if err != nil {
		d.fail(err)
	}
	d.raw(sel...)
	return d
}

// Format returns the format the job is built for.
func (d *Doc) Format() Format { return d.f }

func (d *Doc) check(_ int, err error) { d.fail(err) }

func (d *Doc) fail(err error) {
	if err != nil && d.err == nil {
		d.err = err
	}
}

func (d *Doc) raw(b ...byte) { d.check(d.e.WriteRaw(b)) }

func clamp(v, lo, hi uint8) uint8 { return max(lo, min(v, hi)) }

// Line prints text, wrapped at word boundaries to the model's columns, and
// a line feed.
func (d *Doc) Line(text string, st Style) {
	font, cell := byte(0), 12
	if st.Small {
		font, cell = 1, 9
	}
	d.raw(0x1b, 'M', font)
	d.e.Style = escpos.Style{Bold: st.Bold, Justify: st.Justify,
		Width: clamp(st.Width, 1, 5), Height: clamp(st.Height, 1, 5)}
	for _, l := range wrap(d.f.CodePage.Encode(text), d.f.TextDots()/(cell*int(d.e.Style.Width))) {
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

// BigFit is the largest magnification (1 to max) at which n characters of
// font A fit on one line of the format.
func (f Format) BigFit(n int, most uint8) uint8 {
	m := most
	for m > 1 && n*12*int(m) > f.TextDots() {
		m--
	}
	return max(m, 1)
}

// Big prints one short line magnified mag times (1 to 8), bold and centred:
// the ticket number. A line that would not fit is magnified less.
func (d *Doc) Big(text string, mag uint8) {
	b := d.f.CodePage.Encode(text)
	m := d.f.BigFit(len(b), clamp(mag, 1, 8)) - 1
	d.raw(0x1b, 'M', 0, 0x1b, 'a', Center, 0x1b, 'E', 1, 0x1d, '!', m<<4|m)
	d.check(d.e.WriteRaw(b))
	d.raw('\n', 0x1d, '!', 0, 0x1b, 'E', 0)
}

// QR error-correction levels.
const (
	QRLevelL, QRLevelM, QRLevelQ, QRLevelH byte = '0', '1', '2', '3'
)

// QR prints data as a QR code (model 2), centred, module dots wide (1–16):
// drawn by the printer (GS ( k) where the model can, sent as a raster image
// where it cannot. A module size too large for the paper is made smaller.
func (d *Doc) QR(data string, module uint8, level byte) {
	if len(data) > 7089 {
		d.fail(fmt.Errorf("QR data of %d bytes", len(data)))
		return
	}
	level = clamp(level, '0', '3')
	q, err := qrcode.New(data, []qrcode.RecoveryLevel{qrcode.Low, qrcode.Medium, qrcode.High, qrcode.Highest}[level-'0'])
	if err != nil {
		d.fail(fmt.Errorf("QR code: %w", err))
		return
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	module = clamp(module, 1, 16)
	for module > 1 && len(bm)*int(module) > d.f.Dots() {
		module--
	}
	if len(bm)*int(module) > d.f.Dots() {
		d.fail(fmt.Errorf("QR code of %d modules wider than %d dots", len(bm), d.f.Dots()))
		return
	}
	if !d.f.Profile.QR {
		d.Image(qrImage(bm, int(module)))
		d.raw(0x1b, 'J', 8) // the gap a printer leaves under its own QR codes
		return
	}
	n := len(data) + 3
	d.raw(0x1b, 'a', Center)
	d.raw(0x1d, '(', 'k', 4, 0, '1', 'A', '2', 0)                     // model 2
	d.raw(0x1d, '(', 'k', 3, 0, '1', 'C', module)                     // module size
	d.raw(0x1d, '(', 'k', 3, 0, '1', 'E', level)                      // error correction
	d.raw(0x1d, '(', 'k', byte(n), byte(n>>8), '1', 'P', '0')         // store…
	d.check(d.e.WriteRaw([]byte(data)))                               // …the data
	d.raw(0x1d, '(', 'k', 3, 0, '1', 'Q', '0', '\n', 0x1b, 'a', Left) // print
}

// qrImage draws a QR code's modules, module dots each, without a border.
func qrImage(bm [][]bool, module int) *image.Gray {
	size := len(bm) * module
	img := image.NewGray(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			c := color.Gray{Y: 255}
			if bm[y/module][x/module] {
				c = color.Gray{}
			}
			img.SetGray(x, y, c)
		}
	}
	return img
}

// Image prints a picture as a raster image (GS v 0), centred: dark pixels
// print, light and transparent ones do not. A picture wider than the paper
// is an error.
func (d *Doc) Image(img image.Image) {
	b := img.Bounds()
	if b.Dx() > d.f.Dots() {
		d.fail(fmt.Errorf("image %d dots wide on %d-dot paper", b.Dx(), d.f.Dots()))
		return
	}
	if b.Dx() == 0 || b.Dy() == 0 || b.Dy() > 0xffff {
		d.fail(fmt.Errorf("image of %d×%d dots", b.Dx(), b.Dy()))
		return
	}
	wb := (b.Dx() + 7) / 8
	d.raw(0x1b, 'a', Center)
	d.raw(0x1d, 'v', '0', 0, byte(wb), byte(wb>>8), byte(b.Dy()), byte(b.Dy()>>8))
	row := make([]byte, wb)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		clear(row)
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(img.At(x, y)) {
				i := x - b.Min.X
				row[i/8] |= 0x80 >> (i % 8)
			}
		}
		d.raw(row...)
	}
	d.raw(0x1b, 'a', Left)
}

// dark reports whether a pixel prints: luminance under half, on white.
func dark(c color.Color) bool {
	r, g, b, a := c.RGBA()
	// Composite on white: a transparent pixel is white.
	w := 0xffff - a
	lum := (299*(r+w) + 587*(g+w) + 114*(b+w)) / 1000
	return lum < 0x8000
}

// Feed feeds lines blank lines.
func (d *Doc) Feed(lines uint8) { d.check(d.e.LineFeedD(lines)) }

// Cut ends the ticket as the model can: GS V 66 0 (cut), GS V 65 0 (full
// cut) where its profile says it has it, or, with no cutter, a feed that
// brings the ticket past the tear bar.
func (d *Doc) Cut() {
	switch d.f.Profile.Cut {
	case CutFull:
		d.raw(0x1d, 'V', 65, 0)
	case CutNone:
		d.Feed(3)
	default:
		d.raw(0x1d, 'V', 66, 0)
	}
}

// Bytes returns the job, or what made it unprintable.
func (d *Doc) Bytes() ([]byte, error) {
	if err := d.e.Print(); err != nil && d.err == nil {
		d.err = err
	}
	return d.buf.Bytes(), d.err
}
