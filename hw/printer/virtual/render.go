// Package virtual is a printer that renders ESC/POS to pictures: it
// interprets the bytes a real thermal printer would receive, as the model
// of a printer profile would (its dots per line, its code page numbers, the
// cut commands it has, QR codes or not), and writes a PNG (and the raw
// bytes) per ticket, one pixel a dot. A command the model lacks is an
// error, not a guess. The demo prints to it, and tests read what it
// printed — text, QR codes — from the bytes we emit, not from what we
// meant to emit.
package virtual

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"guichet/hw/printer"
)

// Page is one ticket, from the start of the job or the last cut to a cut.
type Page struct {
	Image *image.Gray
	Lines []string // the text of each printed line, decoded
	QR    []string // the data of each QR code printed
	Cut   bool     // ended by a cut (false: the job ended without one)
}

// Text returns the page's lines joined by newlines.
func (p *Page) Text() string { return strings.Join(p.Lines, "\n") }

const (
	lineSpacing = 30 // dots between lines of ordinary text (ESC 2)
	margin      = 16 // dots of white around the rendered paper
)

type style struct {
	bold, underline, reverse, fontB bool
	w, h                            int // magnification 1–8
}

type glyph struct {
	r     rune
	style style
}

// renderer is the printer's state while it interprets a job.
type renderer struct {
	prof    printer.Profile
	dots    int
	cp      printer.CodePage
	justify int
	st      style
	spacing int
	line    []glyph
	qr      struct {
		module int
		level  qrcode.RecoveryLevel
		data   []byte
	}
	canvas *image.Gray
	y      int
	page   Page
	pages  []Page
	status []byte // DLE EOT requests seen
}

// Render interprets job as the model of f on f's paper would, and returns
// its pages. (The job selects its own code page: f's is not used.)
func Render(job []byte, f printer.Format) ([]Page, error) {
	if f.Dots() <= 0 {
		return nil, fmt.Errorf("%s takes no %d mm paper", f.Profile.Name, f.PaperMM)
	}
	r := &renderer{prof: f.Profile, dots: f.Dots()}
	r.reset()
	r.newPage()
	if err := r.run(job); err != nil {
		return nil, err
	}
	r.flushLine(false)
	if r.y > 0 || len(r.page.Lines) > 0 {
		r.endPage(false)
	}
	return r.pages, nil
}

func (r *renderer) reset() {
	cp, ok := r.prof.CodePageAt(0)
	if !ok {
		cp = printer.PC437
	}
	r.cp, r.justify, r.st, r.spacing = cp, 0, style{w: 1, h: 1}, lineSpacing
	r.qr.module, r.qr.level, r.qr.data = 3, qrcode.Low, nil
}

func (r *renderer) newPage() {
	r.canvas = whiteGray(r.dots, 4000)
	r.y = 0
	r.page = Page{}
}

func (r *renderer) endPage(cut bool) {
	h := r.y + 8
	out := whiteGray(r.dots+2*margin, h+2*margin)
	copyGray(out, margin, margin, r.canvas, h)
	r.page.Image, r.page.Cut = out, cut
	r.pages = append(r.pages, r.page)
	r.newPage()
}

// grow makes room for n more rows.
func (r *renderer) grow(n int) {
	if r.y+n <= r.canvas.Bounds().Dy() {
		return
	}
	bigger := whiteGray(r.dots, 2*(r.y+n))
	copyGray(bigger, 0, 0, r.canvas, r.canvas.Bounds().Dy())
	r.canvas = bigger
}

// whiteGray returns a white picture of w×h dots. (draw.Draw fills and
// copies grey pictures a pixel at a time through colour conversions: a
// ticket took 200 ms to render, most of it there.)
func whiteGray(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	return img
}

// copyGray copies the first rows of src into dst at (x, y); src's rows
// fit dst's.
func copyGray(dst *image.Gray, x, y int, src *image.Gray, rows int) {
	w := src.Bounds().Dx()
	for row := 0; row < rows && row < src.Bounds().Dy(); row++ {
		copy(dst.Pix[dst.PixOffset(x, y+row):][:w], src.Pix[src.PixOffset(0, row):][:w])
	}
}

func errAt(i int, format string, args ...any) error {
	return fmt.Errorf("byte %d: %s", i, fmt.Sprintf(format, args...))
}

// run interprets the bytes of a job.
func (r *renderer) run(b []byte) error {
	need := func(i, n int) error {
		if i+n > len(b) {
			return errAt(i, "command cut short")
		}
		return nil
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\n':
			r.flushLine(true)
			i++
		case c == '\r':
			i++
		case c == 0x10: // DLE EOT n: real-time status request
			if err := need(i, 3); err != nil {
				return err
			}
			if b[i+1] != 0x04 || b[i+2] < 1 || b[i+2] > 4 {
				return errAt(i, "unknown DLE command % x", b[i:i+3])
			}
			r.status = append(r.status, b[i+2])
			i += 3
		case c == 0x1b:
			n, err := r.esc(b, i)
			if err != nil {
				return err
			}
			i += n
		case c == 0x1d:
			n, err := r.gs(b, i)
			if err != nil {
				return err
			}
			i += n
		case c < 0x20 || c == 0x7f:
			return errAt(i, "unknown control byte 0x%02x", c)
		default:
			for _, ch := range r.cp.Decode(b[i : i+1]) {
				r.line = append(r.line, glyph{ch, r.st})
			}
			i++
		}
	}
	return nil
}

func (r *renderer) esc(b []byte, i int) (int, error) {
	if i+1 >= len(b) {
		return 0, errAt(i, "ESC cut short")
	}
	arg := func() (byte, error) {
		if i+2 >= len(b) {
			return 0, errAt(i, "ESC %c cut short", b[i+1])
		}
		return b[i+2], nil
	}
	switch b[i+1] {
	case '@':
		r.flushLine(false)
		r.reset()
		return 2, nil
	case '2':
		r.spacing = lineSpacing
		return 2, nil
	case 0x1d: // ESC GS t n: Star's code page command
		if i+3 >= len(b) || b[i+2] != 't' {
			return 0, errAt(i, "ESC GS: only ESC GS t n is emulated")
		}
		if r.prof.Select != printer.SelectStar {
			return 0, errAt(i, "ESC GS t is not in the command set of %s", r.prof.Name)
		}
		if err := r.selectTable(i, b[i+3]); err != nil {
			return 0, err
		}
		return 4, nil
	}
	n, err := arg()
	if err != nil {
		return 0, err
	}
	switch b[i+1] {
	case 't':
		if r.prof.Select != printer.SelectESCt {
			return 0, errAt(i, "ESC t: %s selects its code pages with %s, numbered otherwise", r.prof.Name, r.prof.Select)
		}
		if err := r.selectTable(i, n); err != nil {
			return 0, err
		}
	case 'a':
		if n > 2 && (n < '0' || n > '2') {
			return 0, errAt(i, "justification %d", n)
		}
		r.justify = int(n % '0' % 3)
	case 'E':
		r.st.bold = n&1 == 1
	case '-':
		r.st.underline = n%'0' != 0
	case 'M':
		r.st.fontB = n%'0' == 1
	case '!':
		r.st.fontB, r.st.bold, r.st.underline = n&0x01 != 0, n&0x08 != 0, n&0x80 != 0
		r.st.h, r.st.w = 1+int(n>>4&1), 1+int(n>>5&1)
	case 'V', '{': // rotation, upside-down: accepted, not rendered
	case '3':
		r.spacing = int(n)
	case 'd':
		r.flushLine(false)
		r.feed(int(n) * r.spacing)
	case 'J':
		r.flushLine(false)
		r.feed(int(n))
	default:
		return 0, errAt(i, "unknown command ESC %q", b[i+1])
	}
	return 3, nil
}

// selectTable selects the model's code page n.
func (r *renderer) selectTable(i int, n byte) error {
	cp, ok := r.prof.CodePageAt(n)
	if !ok {
		return errAt(i, "code page %d: not a table of %s that is emulated", n, r.prof.Name)
	}
	r.cp = cp
	return nil
}

// cutAllowed reports whether the model has cut function m of GS V.
func (r *renderer) cutAllowed(m byte) bool {
	switch m {
	case 0, '0', 65: // full cut
		return r.prof.Cut == printer.CutFull
	case 1, '1', 66: // partial cut (a full-cut-only cutter cuts in full)
		return r.prof.Cut != printer.CutNone
	}
	return false
}

func (r *renderer) gs(b []byte, i int) (int, error) {
	if i+2 >= len(b) {
		return 0, errAt(i, "GS cut short")
	}
	n := b[i+2]
	switch b[i+1] {
	case '!':
		r.st.w, r.st.h = 1+int(n>>4&7), 1+int(n&7)
		return 3, nil
	case 'B':
		r.st.reverse = n&1 == 1
		return 3, nil
	case 'H', 'f', 'h', 'w': // barcode settings
		return 3, nil
	case 'V':
		r.flushLine(false)
		if !r.cutAllowed(n) {
			return 0, errAt(i, "GS V %d is not in the command set of %s (cut: %s)", n, r.prof.Name, r.prof.Cut)
		}
		if n == 65 || n == 66 {
			if i+3 >= len(b) {
				return 0, errAt(i, "GS V %d cut short", n)
			}
			r.feed(int(b[i+3]))
			r.endPage(true)
			return 4, nil
		}
		r.endPage(true)
		return 3, nil
	case '(':
		return r.gsParen(b, i)
	case 'v':
		return r.raster(b, i)
	}
	return 0, errAt(i, "unknown command GS %q", b[i+1])
}

// gsParen interprets GS ( k, the QR code functions.
func (r *renderer) gsParen(b []byte, i int) (int, error) {
	if i+6 >= len(b) || b[i+2] != 'k' {
		return 0, errAt(i, "only GS ( k is emulated")
	}
	if !r.prof.QR {
		return 0, errAt(i, "GS ( k: %s draws no QR codes", r.prof.Name)
	}
	plen := int(b[i+3]) | int(b[i+4])<<8
	if plen < 2 || i+5+plen > len(b) {
		return 0, errAt(i, "GS ( k of %d bytes cut short", plen)
	}
	p := b[i+5 : i+5+plen]
	if p[0] != '1' {
		return 0, errAt(i, "GS ( k symbol %q: only QR (49) is emulated", p[0])
	}
	switch p[1] {
	case 'A': // model
		if plen != 4 || (p[2] != '1' && p[2] != '2') {
			return 0, errAt(i, "QR model % x", p)
		}
	case 'C': // module size
		if plen != 3 || p[2] < 1 || p[2] > 16 {
			return 0, errAt(i, "QR module size % x: 1 to 16", p)
		}
		r.qr.module = int(p[2])
	case 'E': // error correction
		if plen != 3 || p[2] < '0' || p[2] > '3' {
			return 0, errAt(i, "QR error correction % x: '0' to '3'", p)
		}
		r.qr.level = []qrcode.RecoveryLevel{qrcode.Low, qrcode.Medium, qrcode.High, qrcode.Highest}[p[2]-'0']
	case 'P': // store
		if p[2] != '0' {
			return 0, errAt(i, "QR store % x", p[:3])
		}
		r.qr.data = append([]byte(nil), p[3:]...)
	case 'Q': // print
		if err := r.printQR(); err != nil {
			return 0, errAt(i, "%v", err)
		}
	default:
		return 0, errAt(i, "QR function %q", p[1])
	}
	return 5 + plen, nil
}

func (r *renderer) printQR() error {
	r.flushLine(false)
	if len(r.qr.data) == 0 {
		return fmt.Errorf("QR print with no data stored")
	}
	q, err := qrcode.New(string(r.qr.data), r.qr.level)
	if err != nil {
		return err
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	size := len(bm) * r.qr.module
	if size > r.dots {
		return fmt.Errorf("QR of %d dots on %d-dot paper", size, r.dots)
	}
	r.grow(size + 8)
	x0 := r.offset(size)
	for y, row := range bm {
		for x, on := range row {
			if on {
				r.black(x0+x*r.qr.module, r.y+y*r.qr.module, x0+(x+1)*r.qr.module, r.y+(y+1)*r.qr.module)
			}
		}
	}
	r.y += size + 8
	r.page.QR = append(r.page.QR, string(r.qr.data))
	return nil
}

// raster interprets GS v 0 m xL xH yL yH d…
func (r *renderer) raster(b []byte, i int) (int, error) {
	if i+8 > len(b) || b[i+2] != '0' {
		return 0, errAt(i, "only GS v 0 is emulated")
	}
	m := b[i+3]
	wb := int(b[i+4]) | int(b[i+5])<<8
	h := int(b[i+6]) | int(b[i+7])<<8
	if i+8+wb*h > len(b) {
		return 0, errAt(i, "raster image of %d×%d bytes cut short", wb, h)
	}
	sx, sy := 1+int(m&1), 1+int(m>>1&1)
	if wb*8*sx > r.dots {
		return 0, errAt(i, "raster image %d dots wide on %d-dot paper", wb*8*sx, r.dots)
	}
	r.flushLine(false)
	r.grow(h * sy)
	x0 := r.offset(wb * 8 * sx)
	data := b[i+8 : i+8+wb*h]
	for y := 0; y < h; y++ {
		for x := 0; x < wb*8; x++ {
			if data[y*wb+x/8]&(0x80>>(x%8)) != 0 {
				r.black(x0+x*sx, r.y+y*sy, x0+(x+1)*sx, r.y+(y+1)*sy)
			}
		}
	}
	r.y += h * sy
	return 8 + wb*h, nil
}

// black prints the dots of the rectangle from (x0, y0) to (x1, y1), within
// the canvas: as draw.Draw of image.Black would, a hundred times faster
// (a ticket is tens of thousands of such dots).
func (r *renderer) black(x0, y0, x1, y1 int) {
	b := r.canvas.Bounds()
	x0, y0, x1, y1 = max(x0, b.Min.X), max(y0, b.Min.Y), min(x1, b.Max.X), min(y1, b.Max.Y)
	for y := y0; y < y1; y++ {
		row := r.canvas.Pix[r.canvas.PixOffset(x0, y):]
		clear(row[:max(x1-x0, 0)])
	}
}

func (r *renderer) offset(width int) int {
	switch r.justify {
	case 1:
		return (r.dots - width) / 2
	case 2:
		return r.dots - width
	}
	return 0
}

func (r *renderer) feed(dots int) {
	r.grow(dots)
	r.y += dots
}

func cell(st style) (w, h int) {
	if st.fontB {
		return 9, 17
	}
	return 12, 24
}

// flushLine prints the line buffer, wrapping at the paper's width; with
// always, an empty buffer still advances one line (LF).
func (r *renderer) flushLine(always bool) {
	if len(r.line) == 0 {
		if always {
			r.feed(r.spacing)
			r.page.Lines = append(r.page.Lines, "")
		}
		return
	}
	glyphs := r.line
	r.line = nil
	for len(glyphs) > 0 {
		width, n, height := 0, 0, 0
		for n < len(glyphs) {
			cw, ch := cell(glyphs[n].style)
			cw *= glyphs[n].style.w
			if width+cw > r.dots && n > 0 {
				break
			}
			width += cw
			height = max(height, ch*glyphs[n].style.h)
			n++
		}
		r.drawLine(glyphs[:n], width, height)
		glyphs = glyphs[n:]
	}
}

func (r *renderer) drawLine(gs []glyph, width, height int) {
	advance := max(r.spacing, height+6)
	r.grow(advance)
	x := r.offset(width)
	var text strings.Builder
	for _, g := range gs {
		img := glyphImage(g.r, g.style)
		cw, ch := cell(g.style)
		top := r.y + height - ch*g.style.h // align on the baseline of the tallest
		for py := 0; py < ch; py++ {
			for px := 0; px < cw; px++ {
				on := img.GrayAt(px, py).Y < 128
				if g.style.underline && py == ch-1 {
					on = true
				}
				if g.style.reverse {
					on = !on
				}
				if on {
					r.black(x+px*g.style.w, top+py*g.style.h, x+(px+1)*g.style.w, top+(py+1)*g.style.h)
				}
			}
		}
		x += cw * g.style.w
		text.WriteRune(g.r)
	}
	r.y += advance
	r.page.Lines = append(r.page.Lines, strings.TrimRight(text.String(), " "))
}

// Glyphs are drawn with the Go Mono fonts, fitted to the printer's cells.
var (
	fontsOnce sync.Once
	faces     map[[2]bool]font.Face // [bold, fontB]
	glyphMu   sync.Mutex
	glyphs    = map[glyph]*image.Gray{}
)

func face(bold, fontB bool) font.Face {
	fontsOnce.Do(func() {
		faces = map[[2]bool]font.Face{}
		for _, b := range []bool{false, true} {
			data := gomono.TTF
			if b {
				data = gomonobold.TTF
			}
			f, err := opentype.Parse(data)
			if err != nil {
				panic(err)
			}
			for _, small := range []bool{false, true} {
				size := 20.0 // Go Mono advances 0.6 em: 12 dots
				if small {
					size = 15 // 9 dots
				}
				fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
				if err != nil {
					panic(err)
				}
				faces[[2]bool{b, small}] = fc
			}
		}
	})
	return faces[[2]bool{bold, fontB}]
}

func glyphImage(ch rune, st style) *image.Gray {
	key := glyph{ch, style{bold: st.bold, fontB: st.fontB}}
	glyphMu.Lock()
	defer glyphMu.Unlock()
	if img := glyphs[key]; img != nil {
		return img
	}
	w, h := cell(st)
	img := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	base := 19
	if st.fontB {
		base = 13
	}
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face(st.bold, st.fontB), Dot: fixed.P(0, base)}
	d.DrawString(string(ch))
	glyphs[key] = img
	return img
}
