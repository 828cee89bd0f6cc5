package deskscreen

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/devices/v3/ssd1306/image1bit"
)

// oledRAM plays the SSD1306's display RAM from the bytes sent on the bus:
// page and column commands place the cursor, data bytes set eight vertical
// pixels each.
func oledRAM(t *testing.T, ops []i2ctest.IO, w, h int) *image1bit.VerticalLSB {
	return oledRAMAt(t, ops, OLEDAddr, w, h)
}

func oledRAMAt(t *testing.T, ops []i2ctest.IO, addr uint16, w, h int) *image1bit.VerticalLSB {
	img := image1bit.NewVerticalLSB(image.Rect(0, 0, w, h))
	page, col := 0, 0
	for _, op := range ops {
		if op.Addr != addr {
			t.Fatalf("write to I²C address %#x", op.Addr)
		}
		switch {
		case len(op.W) == 4 && op.W[0] == 0x00 && op.W[1]&0xF8 == 0xB0: // page, low and high column
			page, col = int(op.W[1]&7), int(op.W[2]&0x0F)|int(op.W[3]&0x0F)<<4
		case len(op.W) > 1 && op.W[0] == 0x40:
			for _, b := range op.W[1:] {
				for bit := 0; bit < 8; bit++ {
					img.SetBit(col, page*8+bit, image1bit.Bit(b&(1<<bit) != 0))
				}
				col++
			}
		}
	}
	return img
}

func lit(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c, _, _, _ := img.At(x, y).RGBA(); c > 0 {
				n++
			}
		}
	}
	return n
}

func artifact(t *testing.T, name string, img image.Image) {
	dir := "../../testdata-out"
	os.MkdirAll(dir, 0o755)
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	big := image.NewGray(image.Rect(0, 0, img.Bounds().Dx()*4, img.Bounds().Dy()*4))
	for y := 0; y < big.Bounds().Dy(); y++ {
		for x := 0; x < big.Bounds().Dx(); x++ {
			big.Set(x, y, img.At(x/4, y/4))
		}
	}
	png.Encode(f, big)
}

func TestOLEDShowsTheFrameOnTheBus(t *testing.T) {
	bus := &i2ctest.Record{}
	o, err := NewOLED(bus, OLEDAddr, 128, 64)
	if err != nil {
		t.Fatal(err)
	}
	f := Frame{Top: "Guichet 3", Big: "A042", Bottom: "Appelé · rappel 1"}
	if err := o.Show(f); err != nil {
		t.Fatal(err)
	}
	got := oledRAM(t, bus.Ops, 128, 64)
	want := Render(f, 128, 64)
	if diff := lit(want, want.Bounds()) - lit(got, got.Bounds()); diff != 0 || !equal(got, want) {
		t.Fatalf("the display RAM differs from the frame (%d pixels)", diff)
	}
	artifact(t, "desk-oled", got)
	// Accents are drawn: "Appelé" is not "Appele".
	if equal(Render(Frame{Bottom: "Appelé"}, 128, 64), Render(Frame{Bottom: "Appele"}, 128, 64)) {
		t.Fatal("the accent is not drawn")
	}
	// The number is large: it fills most of the band between the lines.
	band := image.Rect(0, 14, 128, 50)
	if n := lit(got, band); n < 400 {
		t.Fatalf("only %d pixels lit for the number", n)
	}
	if lit(got, image.Rect(0, 0, 128, 13)) == 0 || lit(got, image.Rect(0, 51, 128, 64)) == 0 {
		t.Fatal("a text line is missing")
	}

	// Only what changes is sent again; an alert shows inverted.
	bus.Ops = nil
	f.Alert, f.Bottom = true, "Personne en attente"
	if err := o.Show(f); err != nil {
		t.Fatal(err)
	}
	if len(bus.Ops) == 0 {
		t.Fatal("nothing sent for a changed frame")
	}
	bus.Ops = nil
	if err := o.Show(f); err != nil || len(bus.Ops) != 0 {
		t.Fatalf("an unchanged frame sent %d writes (%v)", len(bus.Ops), err)
	}
	inv := Render(f, 128, 64)
	if n := lit(inv, inv.Bounds()); n < 128*64/2 {
		t.Fatalf("an alert frame is not inverted: %d pixels lit", n)
	}
	artifact(t, "desk-oled-alert", inv)
}

func equal(a, b *image1bit.VerticalLSB) bool {
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			if a.BitAt(x, y) != b.BitAt(x, y) {
				return false
			}
		}
	}
	return true
}

// The HT16K33's segments for the characters used below (Adafruit's
// 14-segment font, which the display's datasheet wiring follows).
var segments = map[uint16]rune{0x0: ' ', 0xf7: 'A', 0xc3f: '0', 0xe6: '4', 0xdb: '2', 0xf3: 'P', 0x3e: 'U', 0xed: 'S', 0xc0: '-', 0xf9: 'E'}

func TestAlnumShowsFourCharacters(t *testing.T) {
	bus := &i2ctest.Record{}
	a, err := NewAlnum(bus, 0x70)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ short, want string }{
		{"A042", "A042"}, {"PAUSE", "AUSE"}, {"--", "  --"}, {".A", "   A"}, {"Pé", "  PE"},
	} {
		bus.Ops = nil
		if err := a.Show(Frame{Short: c.short}); err != nil {
			t.Fatal(err)
		}
		shown := []rune("????")
		for _, op := range bus.Ops {
			if op.Addr != 0x70 {
				t.Fatalf("write to I²C address %#x", op.Addr)
			}
			if len(op.W) == 3 && op.W[0]%2 == 0 && op.W[0] < 8 {
				r, ok := segments[uint16(op.W[1])|uint16(op.W[2])<<8]
				if !ok {
					r = '?'
				}
				shown[op.W[0]/2] = r
			}
		}
		if string(shown) != c.want {
			t.Fatalf("%q shown as %q, want %q", c.short, string(shown), c.want)
		}
	}
}

func TestFourDropsAccentsAndKeepsTheEnd(t *testing.T) {
	for in, want := range map[string]string{"A042": "A042", "Fermé": "ERME", "é": "   E", "AB1234": "1234", "": "    ", "a.b": "  AB"} {
		if got := Four(in); got != want {
			t.Errorf("Four(%q) = %q, want %q", in, got, want)
		}
	}
}

// A module whose address jumper is moved answers at 0x3D: everything goes
// there, and the picture is the same.
func TestOLEDAtTheOtherAddress(t *testing.T) {
	bus := &i2ctest.Record{}
	o, err := NewOLED(bus, 0x3D, 128, 32)
	if err != nil {
		t.Fatal(err)
	}
	f := Frame{Top: "Guichet 3", Big: "A042"}
	if err := o.Show(f); err != nil {
		t.Fatal(err)
	}
	if got := oledRAMAt(t, bus.Ops, 0x3D, 128, 32); !equal(got, Render(f, 128, 32)) {
		t.Fatal("the display RAM differs from the frame")
	}
}

// A bad --screen is refused, saying why, before any hardware is opened.
func TestOpenRefusesABadScreenFlag(t *testing.T) {
	for spec, why := range map[string]string{
		"lcd:1":                  "ssd1306:BUS or ht16k33:BUS",
		"ssd1306:1?w=wide":       "w must be a positive number",
		"ssd1306:1?h=-8":         "h must be a positive number",
		"ssd1306:1?addr=0x3D0":   "at most 0x7F",
		"ht16k33:1?addr=seventy": "addr must be a positive number",
		"ssd1306:1?addr=%zz":     "invalid URL escape",
	} {
		if _, _, err := Open(spec); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("--screen %s: %v, want %q", spec, err, why)
		}
	}
	if s, c, err := Open(""); s != nil || c != nil || err != nil {
		t.Errorf(`--screen "": %v %v %v, want no screen`, s, c, err)
	}
}

// At the lines' 12 pixels, a one-bit screen kept only the pixels a glyph
// covers by half: à and â differed by one pixel, è and ë by two. Every
// accented letter must differ from its base letter and from its other
// accented forms by two pixels at least, and the i keep its dot apart.
func TestSmallAccentsAreLegible(t *testing.T) {
	letters := []string{"e", "é", "è", "ê", "ë", "a", "à", "â", "c", "ç", "u", "ù", "û", "o", "ô", "i", "î"}
	imgs := map[string][]byte{}
	for _, l := range letters {
		img := Render(Frame{Bottom: l}, 128, 64)
		imgs[l] = append([]byte(nil), img.Pix...)
	}
	for i, a := range letters {
		for _, b := range letters[i+1:] {
			if []rune(baseLetter(a))[0] != []rune(baseLetter(b))[0] {
				continue // different letters: no question
			}
			if d := differing(imgs[a], imgs[b]); d < 2 {
				t.Errorf("%q and %q differ by %d pixels on the desk display", a, b, d)
			}
		}
	}
	// The i: its dot, a gap, its stem.
	img := Render(Frame{Bottom: "i"}, 128, 64)
	var rows []bool
	for y := 0; y < 64; y++ {
		lit := false
		for x := 0; x < 128; x++ {
			lit = lit || bool(img.BitAt(x, y))
		}
		rows = append(rows, lit)
	}
	runs := 0
	for y := range rows {
		if rows[y] && (y == 0 || !rows[y-1]) {
			runs++
		}
	}
	if runs != 2 {
		t.Errorf("the i is drawn in %d pieces, want its dot and its stem", runs)
	}
}

// baseLetter is the base letter of an accented French letter.
func baseLetter(s string) string {
	return strings.NewReplacer("é", "e", "è", "e", "ê", "e", "ë", "e", "à", "a", "â", "a", "ç", "c", "ù", "u", "û", "u", "ô", "o", "î", "i").Replace(s)
}

func differing(a, b []byte) int {
	n := 0
	for i := range a {
		for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
			n++
		}
	}
	return n
}
