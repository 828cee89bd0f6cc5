package printer_test

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s changed:\ngot  % x\nwant % x", name, got, want)
	}
}

// printed renders a document's bytes on the generic printer and returns
// its one page.
func printed(t *testing.T, b []byte) virtual.Page {
	t.Helper()
	pages, err := virtual.Render(b, printer.GenericFormat(80))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 {
		t.Fatalf("%d pages", len(pages))
	}
	return pages[0]
}

const french = "Carte d'identité — État civil, 1er étage, œuvre, 5 €"

func TestFrenchPrintsEveryCharacter(t *testing.T) {
	for _, cp := range []printer.CodePage{printer.WPC1252, printer.PC858, printer.PC850} {
		t.Run(cp.Name, func(t *testing.T) {
			f := printer.GenericFormat(80)
			f.CodePage = cp
			d := printer.NewDoc(f)
			d.Line(french, printer.Style{})
			d.Cut()
			b, err := d.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			n, _ := f.Table()
			if !bytes.Contains(b, []byte{0x1b, 't', n}) {
				t.Fatalf("no ESC t %d selecting the code page", n)
			}
			got := strings.Join(printed(t, b).Lines, " ")
			want := french
			switch cp.Name {
			case "pc858": // no œ, no em dash
				want = "Carte d'identité - État civil, 1er étage, oeuvre, 5 €"
			case "pc850": // no € either
				want = "Carte d'identité - État civil, 1er étage, oeuvre, 5 EUR"
			}
			if got != want {
				t.Fatalf("printed %q\nwant    %q", got, want)
			}
		})
	}
}

func TestUnmappableCharacterIsReplacedNotTheLineLost(t *testing.T) {
	got := string(printer.WPC1252.Decode(printer.WPC1252.Encode("Łódź, rue du Château 東京")))
	if got != "?ódz, rue du Château ??" {
		t.Fatalf("got %q", got)
	}
}

func TestTextCannotCarryPrinterCommands(t *testing.T) {
	d := printer.NewDoc(printer.GenericFormat(80))
	d.Line("État civil\x1dVA\x00\x1b@\n\r", printer.Style{})
	b, _ := d.Bytes()
	pages, err := virtual.Render(b, printer.GenericFormat(80))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 || pages[0].Cut || pages[0].Lines[0] != "État civil VA  @" {
		t.Fatalf("pages %d, lines %q", len(pages), pages[0].Lines)
	}
}

func TestStatusBitsRoundTrip(t *testing.T) {
	for _, s := range []printer.Status{{}, {PaperLow: true}, {PaperOut: true}, {CoverOpen: true}, {Offline: true}, {Error: true}} {
		b := printer.StatusBytes(s)
		if got := printer.StatusFrom(b[0], b[1], b[2], b[3]); got != s {
			t.Errorf("%v → % x → %v", s, b, got)
		}
		if s.OK() != (s == printer.Status{} || s == printer.Status{PaperLow: true}) {
			t.Errorf("%v: OK() = %v", s, s.OK())
		}
	}
}

func TestParseSpec(t *testing.T) {
	generic := func(paper int, cp printer.CodePage) printer.Format {
		f := printer.GenericFormat(paper)
		f.CodePage = cp
		return f
	}
	hp, _ := printer.ProfileByID("hp-a779")
	quiet := printer.Generic()
	quiet.Status = false
	for in, want := range map[string]printer.Spec{
		"usb:/dev/usb/lp0":                       {Kind: "usb", Addr: "/dev/usb/lp0", Baud: 19200, Format: generic(80, printer.WPC1252)},
		"serial:/dev/ttyUSB0?baud=9600&paper=58": {Kind: "serial", Addr: "/dev/ttyUSB0", Baud: 9600, Format: generic(58, printer.WPC1252)},
		"tcp:192.0.2.10":                         {Kind: "tcp", Addr: "192.0.2.10:9100", Baud: 19200, Format: generic(80, printer.WPC1252)},
		"tcp:192.0.2.10:9101?codepage=pc858":     {Kind: "tcp", Addr: "192.0.2.10:9101", Baud: 19200, Format: generic(80, printer.PC858)},
		"virtual:/tmp/tickets":                   {Kind: "virtual", Addr: "/tmp/tickets", Baud: 19200, Format: generic(80, printer.WPC1252)},
		"usb:/dev/usb/lp0?model=HP-A779":         {Kind: "usb", Addr: "/dev/usb/lp0", Baud: 19200, Format: printer.Format{Profile: hp, PaperMM: 80, CodePage: printer.WPC1252}},
		"usb:/dev/usb/lp0?status=off":            {Kind: "usb", Addr: "/dev/usb/lp0", Baud: 19200, Format: printer.Format{Profile: quiet, PaperMM: 80, CodePage: printer.WPC1252}},
	} {
		got, err := printer.ParseSpec(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{"lp0", "usb:", "parallel:/dev/lp0", "serial:/dev/ttyS0?baud=fast", "tcp:h?paper=100", "tcp:h?codepage=klingon",
		"usb:/dev/usb/lp0?model=pos-58&paper=80", "usb:/dev/usb/lp0?model=bixolon-srp350&codepage=wpc1252", "usb:/dev/usb/lp0?modele=pos-58",
		"usb:/dev/usb/lp0?status=maybe"} {
		if _, err := printer.ParseSpec(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestUnknownModelIsRefusedWithTheKnownModels(t *testing.T) {
	_, err := printer.ParseSpec("usb:/dev/usb/lp0?model=epson-tm-t21")
	if err == nil {
		t.Fatal("an unknown model was accepted")
	}
	for _, p := range printer.Profiles() {
		if !strings.Contains(err.Error(), p.ID) {
			t.Errorf("the error does not name %s: %v", p.ID, err)
		}
	}
}

func TestModelOptionsTheModelLacksAreExplained(t *testing.T) {
	for spec, want := range map[string]string{
		"usb:/dev/usb/lp0?model=pos-58&paper=80":                 "takes 58 mm paper, not 80 mm",
		"usb:/dev/usb/lp0?model=bixolon-srp350&codepage=wpc1252": "has no code page wpc1252 (it has pc858, pc850, pc437)",
	} {
		_, err := printer.ParseSpec(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", spec, err, want)
		}
	}
}

// sampleDoc uses every feature of Doc.
func sampleDoc(t *testing.T) []byte {
	logo := image.NewGray(image.Rect(0, 0, 64, 16))
	for x := 0; x < 64; x++ {
		for y := 0; y < 16; y++ {
			if (x/8+y/8)%2 == 0 {
				logo.SetGray(x, y, color.Gray{})
			} else {
				logo.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	return sampleDocFor(t, printer.GenericFormat(80), logo)
}

// sampleDocFor is the sample document in format f.
func sampleDocFor(t *testing.T, f printer.Format, logo image.Image) []byte {
	t.Helper()
	d := printer.NewDoc(f)
	d.Image(logo)
	d.Line("Mairie de Villeneuve", printer.Style{Bold: true, Justify: printer.Center})
	d.Big("A042", 8)
	d.Line("État civil", printer.Style{Bold: true, Height: 2, Justify: printer.Center})
	d.QR("https://guichet.example/t/abc", 6, printer.QRLevelM)
	d.Line("Aucune donnée personnelle", printer.Style{Small: true, Justify: printer.Right})
	d.Feed(3)
	d.Cut()
	b, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDocBytes(t *testing.T) {
	b := sampleDoc(t)
	golden(t, "doc.bin", b)
	p := printed(t, b)
	if !p.Cut || len(p.QR) != 1 || p.QR[0] != "https://guichet.example/t/abc" || !strings.Contains(p.Text(), "A042") {
		t.Fatalf("page %+v", p)
	}
	// The QR bytes hennedo/escpos gets wrong: the error-correction level is
	// 'E' followed by the level, not the module size.
	if !bytes.Contains(b, []byte{0x1d, '(', 'k', 3, 0, '1', 'E', printer.QRLevelM}) {
		t.Fatal("QR error-correction command missing")
	}
	if bytes.Contains(b, []byte{0x1d, '!', 0xff}) {
		t.Fatal("GS ! 0xFF: a size was left unset")
	}
}

// transport runs one print and one status request through a byte link
// whose far end is the virtual printer's Wire.
func transport(t *testing.T, name string, p printer.Printer, w *virtual.Wire) {
	t.Helper()
	job := sampleDoc(t)
	ctx := context.Background()
	if err := p.Print(ctx, job); err != nil {
		t.Fatal(err)
	}
	st, err := p.Status(ctx)
	if err != nil || !st.OK() {
		t.Fatalf("status %v %v", st, err)
	}
	for _, fault := range []printer.Status{{PaperOut: true}, {CoverOpen: true}, {PaperLow: true}} {
		w.SetStatus(fault)
		st, err := p.Status(ctx)
		if err != nil || st != fault {
			t.Fatalf("fault %v reported as %v %v", fault, st, err)
		}
	}
	w.SetStatus(printer.Status{})
	got := w.WaitBytes(len(job)+4*3*4, 2*time.Second)
	golden(t, name+".bin", got)
	if !bytes.HasPrefix(got, job) {
		t.Fatal("the job did not go over the wire as built")
	}
	if _, err := virtual.Render(got[:len(job)], printer.GenericFormat(80)); err != nil {
		t.Fatalf("the wire's bytes do not render: %v", err)
	}
}

func TestTCPPrinter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	w := &virtual.Wire{}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			w.Serve(c)
		}
	}()
	sp, _ := printer.ParseSpec("tcp:" + ln.Addr().String())
	p, err := printer.Open(sp)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	transport(t, "tcp", p, w)
}

func ptyPrinter(t *testing.T, kind string) (printer.Printer, *virtual.Wire) {
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	w := &virtual.Wire{}
	go w.Serve(m)
	sp, err := printer.ParseSpec(kind + ":" + s.Name() + "?baud=19200")
	if err != nil {
		t.Fatal(err)
	}
	if kind == "usb" {
		// A pty in cooked mode would turn bytes into others: make it raw,
		// as a printer-class device is.
		if _, err := pty.GetsizeFull(s); err != nil {
			t.Fatal(err)
		}
		makeRaw(t, s)
	}
	p, err := printer.Open(sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, w
}

func TestSerialPrinter(t *testing.T) {
	p, w := ptyPrinter(t, "serial")
	transport(t, "serial", p, w)
}

func TestUSBPrinter(t *testing.T) {
	p, w := ptyPrinter(t, "usb")
	transport(t, "usb", p, w)
}

func TestPrinterThatDoesNotAnswerIsOffline(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			buf := make([]byte, 64)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}
	}()
	sp, _ := printer.ParseSpec("tcp:" + ln.Addr().String())
	p, err := printer.Open(sp)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	st, err := p.Status(context.Background())
	if err == nil || !st.Offline {
		t.Fatalf("a mute printer reported %v %v", st, err)
	}
}
