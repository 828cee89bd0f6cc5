// Package deskscreen drives the small display at a counter, through
// periph.io's drivers: a 128×64 SSD1306 OLED (the current number in large
// figures, the counter and its state above and below) or a four-character
// HT16K33 alphanumeric display (the number alone).
package deskscreen

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/devices/v3/ht16k33"
	"periph.io/x/devices/v3/ssd1306"
	"periph.io/x/devices/v3/ssd1306/image1bit"
	"periph.io/x/host/v3"
)

// Frame is what the desk display shows.
type Frame struct {
	Top    string // "Guichet 3"
	Big    string // "A042"
	Bottom string // "Appelé", "En pause"…
	Short  string // four characters for a segment display: "A042", "PAUS"
	Alert  bool   // something needs the agent's eye: shown inverted
}

// Screen is a desk display.
type Screen interface {
	Show(Frame) error
}

// OLED is an SSD1306 display.
type OLED struct {
	dev  *ssd1306.Dev
	w, h int
}

// OLEDAddr is the usual SSD1306 module's I²C address; 0x3D is the other.
const OLEDAddr = 0x3C

// NewOLED opens an SSD1306 of w×h pixels at addr on an I²C bus.
func NewOLED(bus i2c.Bus, addr uint16, w, h int) (*OLED, error) {
	if addr != OLEDAddr {
		bus = movedBus{bus, addr}
	}
	dev, err := ssd1306.NewI2C(bus, &ssd1306.Opts{W: w, H: h})
	if err != nil {
		return nil, fmt.Errorf("SSD1306: %w", err)
	}
	return &OLED{dev: dev, w: w, h: h}, nil
}

// movedBus sends to addr what periph's SSD1306 driver sends to its fixed
// address, 0x3C (a module with its address jumper moved answers at 0x3D).
type movedBus struct {
	i2c.Bus
	addr uint16
}

func (b movedBus) Tx(addr uint16, w, r []byte) error {
	if addr == OLEDAddr {
		addr = b.addr
	}
	return b.Bus.Tx(addr, w, r)
}

// Show implements Screen.
func (o *OLED) Show(f Frame) error {
	img := Render(f, o.w, o.h)
	return o.dev.Draw(img.Bounds(), img, image.Point{})
}

var (
	fontOnce sync.Once
	fonts    map[string]*opentype.Font
	faces    = map[string]font.Face{}
	facesMu  sync.Mutex
)

// face is a compiled-in Go font at px pixels: "bold" for the number,
// "regular" for the lines (Latin-1 and more: accents show).
func face(name string, px int) font.Face {
	fontOnce.Do(func() {
		fonts = map[string]*opentype.Font{}
		for n, ttf := range map[string][]byte{"bold": gobold.TTF, "regular": goregular.TTF} {
			f, err := opentype.Parse(ttf)
			if err != nil {
				panic(err) // compiled in: cannot fail
			}
			fonts[n] = f
		}
	})
	key := fmt.Sprint(name, px)
	facesMu.Lock()
	defer facesMu.Unlock()
	if f, ok := faces[key]; ok {
		return f
	}
	f, err := opentype.NewFace(fonts[name], &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	faces[key] = f
	return f
}

// Render draws a frame as the OLED shows it: the top line, the number as
// large as fits, the bottom line; inverted on an alert.
func Render(f Frame, w, h int) *image1bit.VerticalLSB {
	img := image1bit.NewVerticalLSB(image.Rect(0, 0, w, h))
	ink := image1bit.On
	if f.Alert {
		ink = image1bit.Off
		draw.Draw(img, img.Bounds(), &image.Uniform{C: image1bit.On}, image.Point{}, draw.Src)
	}
	// text draws s centred, its glyphs' top at y; it returns their bottom.
	text := func(fc font.Face, s string, y int) int {
		b, adv := font.BoundString(fc, s)
		stamp(img, fc, s, fixed.P(max((w-adv.Ceil())/2, 0), y-b.Min.Y.Floor()), ink)
		return y + (b.Max.Y - b.Min.Y).Ceil()
	}
	line := 12 // pixels of a text line
	if h < 64 {
		line = 10
	}
	small := face("regular", line)
	top := fit(small, f.Top, w)
	bottom := fit(small, f.Bottom, w)
	// Lines sit on fixed bands so that the number does not jump around.
	text(small, top, 1)
	asc := small.Metrics().Ascent.Ceil()
	b, adv := font.BoundString(small, bottom)
	stamp(img, small, bottom, fixed.P(max((w-adv.Ceil())/2, 0), h-1-b.Max.Y.Ceil()), ink)
	// The number: the largest size that fits between the lines.
	lo, hi := asc+3, h-line-3
	room := hi - lo
	for px := room * 2; px >= 8; px-- {
		fc := face("bold", px)
		b, adv := font.BoundString(fc, f.Big)
		if adv.Ceil() <= w-4 && (b.Max.Y-b.Min.Y).Ceil() <= room {
			text(fc, f.Big, lo+(room-(b.Max.Y-b.Min.Y).Ceil())/2)
			break
		}
	}
	return img
}

// stamp draws s at dot in ink, lighting every pixel the glyphs cover by
// three eighths or more. A one-bit screen would otherwise keep only the
// pixels covered by half: at 12 pixels the thin strokes of the accents are
// lighter than that, and à, â and a came out alike. Lower, the dot of the i
// joins its stem.
func stamp(dst *image1bit.VerticalLSB, fc font.Face, s string, dot fixed.Point26_6, ink image1bit.Bit) {
	mask := image.NewAlpha(dst.Bounds())
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: fc, Dot: dot}
	d.DrawString(s)
	for y := mask.Rect.Min.Y; y < mask.Rect.Max.Y; y++ {
		for x := mask.Rect.Min.X; x < mask.Rect.Max.X; x++ {
			if mask.AlphaAt(x, y).A >= 0x60 {
				dst.SetBit(x, y, ink)
			}
		}
	}
}

// fit cuts s to what the face shows in w pixels.
func fit(face font.Face, s string, w int) string {
	for font.MeasureString(face, s).Ceil() > w && s != "" {
		r := []rune(s)
		s = string(r[:len(r)-1])
	}
	return s
}

// Alnum is a four-character HT16K33 alphanumeric display.
type Alnum struct{ dev *ht16k33.Display }

// NewAlnum opens an HT16K33 display on an I²C bus.
func NewAlnum(bus i2c.Bus, addr uint16) (*Alnum, error) {
	d, err := ht16k33.NewAlphaNumericDisplay(bus, addr)
	if err != nil {
		return nil, fmt.Errorf("HT16K33: %w", err)
	}
	return &Alnum{dev: d}, nil
}

// Show implements Screen: the frame's four characters, right-aligned.
func (a *Alnum) Show(f Frame) error {
	_, err := a.dev.WriteString(Four(f.Short))
	return err
}

// Four is what a four-character display shows of s: ASCII (accents
// dropped), the last four characters, right-aligned. Full stops are left
// out: the driver draws them as the previous digit's point, and one in
// first place makes it index before the string.
func Four(s string) string {
	s, _, _ = transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	b := make([]byte, 0, 4)
	for _, r := range strings.ToUpper(s) {
		if r >= 0x20 && r < 0x7f && r != '.' {
			b = append(b, byte(r))
		}
	}
	if len(b) > 4 {
		b = b[len(b)-4:]
	}
	return fmt.Sprintf("%4s", b)
}

// Open opens the display a --screen flag names: "ssd1306:BUS" (optionally
// ?w=128&h=32&addr=0x3D), "ht16k33:BUS?addr=0x70"; BUS is the I²C bus's name or
// number ("1" on a Raspberry Pi), empty for the first. "" opens none.
func Open(spec string) (Screen, io.Closer, error) {
	if spec == "" || spec == "none" {
		return nil, nil, nil
	}
	kind, rest, _ := strings.Cut(spec, ":")
	busName, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, nil, fmt.Errorf("--screen %q: %w", spec, err)
	}
	num := func(key string, def int) (int, error) {
		if q.Get(key) == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(q.Get(key), 0, 32)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--screen %q: %s must be a positive number", spec, key)
		}
		return int(n), nil
	}
	// The options are checked before the hardware is touched.
	var w, h, addr int
	switch kind {
	case "ssd1306":
		var err1, err2, err3 error
		w, err1 = num("w", 128)
		h, err2 = num("h", 64)
		addr, err3 = num("addr", OLEDAddr)
		err = errors.Join(err1, err2, err3)
	case "ht16k33":
		addr, err = num("addr", int(ht16k33.I2CAddr))
	default:
		err = fmt.Errorf("--screen %q: ssd1306:BUS or ht16k33:BUS", spec)
	}
	if err == nil && addr > 0x7F {
		err = fmt.Errorf("--screen %q: an I²C address is at most 0x7F", spec)
	}
	if err != nil {
		return nil, nil, err
	}
	if _, err := host.Init(); err != nil {
		return nil, nil, fmt.Errorf("I²C: %w", err)
	}
	bus, err := i2creg.Open(busName)
	if err != nil {
		return nil, nil, fmt.Errorf("I²C bus %q: %w", busName, err)
	}
	var s Screen
	if kind == "ssd1306" {
		s, err = NewOLED(bus, uint16(addr), w, h)
	} else {
		s, err = NewAlnum(bus, uint16(addr))
	}
	if err != nil {
		bus.Close()
		return nil, nil, err
	}
	return s, bus, nil
}
