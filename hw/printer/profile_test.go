package printer_test

import (
	"bytes"
	"context"
	"image"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/internal/qrscan"
)

// frenchLetters are the letters French writes with accents: every profile
// must print them all as themselves.
const frenchLetters = "àâäçéèêëîïôöùûüÿÀÂÄÇÉÈÊËÎÏÔÖÙÛÜ"

func TestEveryProfileIsCompleteAndConsistent(t *testing.T) {
	all := printer.Profiles()
	if len(all) < 15 {
		t.Fatalf("%d profiles", len(all))
	}
	seen := map[string]bool{}
	id := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for _, p := range all {
		t.Run(p.ID, func(t *testing.T) {
			if !id.MatchString(p.ID) || seen[p.ID] {
				t.Errorf("id %q: lower case, digits and dashes, once", p.ID)
			}
			seen[p.ID] = true
			if p.Name == "" || len(p.Source) < 40 {
				t.Errorf("name %q, source %q: every profile says what it is and where its values come from", p.Name, p.Source)
			}
			if p.DPI != 180 && p.DPI != 203 {
				t.Errorf("dpi %d", p.DPI)
			}
			if len(p.Paper) == 0 {
				t.Error("no paper")
			}
			for mm, m := range p.Paper {
				if mm != 80 && mm != 58 {
					t.Errorf("paper %d mm", mm)
				}
				// The printable width is less than the paper.
				if most := mm * p.DPI * 100 / 2540; m.Dots <= 0 || m.Dots > most {
					t.Errorf("%d mm: %d dots, at most %d at %d dpi", mm, m.Dots, most, p.DPI)
				}
				if m.Columns <= 0 || m.Columns*12 > m.Dots {
					t.Errorf("%d mm: %d columns of 12 dots do not fit %d dots", mm, m.Columns, m.Dots)
				}
			}
			switch p.Cut {
			case printer.CutPartial, printer.CutFull, printer.CutNone:
			default:
				t.Errorf("cut %q", p.Cut)
			}
			if p.Select != printer.SelectESCt && p.Select != printer.SelectStar {
				t.Errorf("select %q", p.Select)
			}
			numbers := map[int]string{}
			for name, n := range p.Tables {
				if _, err := printer.CodePageByName(name); err != nil {
					t.Error(err)
				}
				if n < 0 || n > 255 {
					t.Errorf("%s at %d", name, n)
				}
				if other, dup := numbers[n]; dup {
					t.Errorf("%s and %s both at %d", name, other, n)
				}
				numbers[n] = name
			}
			cp := p.CodePage()
			if _, ok := p.Tables[cp.Name]; !ok {
				t.Fatalf("no code page French can use: %v", p.Tables)
			}
			if got := cp.Decode(cp.Encode(frenchLetters)); got != frenchLetters {
				t.Errorf("%s prints %q for %q", cp.Name, got, frenchLetters)
			}
		})
	}
	if !seen["generic"] {
		t.Error("no generic profile")
	}
}

// TestEveryModelPrintsTheSampleAsItsOwn builds the sample document for
// every model and paper, and prints it on a virtual printer of that model:
// it must render (no command the model lacks), cut where the model cuts,
// print the French text as the model's code page allows, and its QR code
// must scan, drawn by the printer or sent as an image.
func TestEveryModelPrintsTheSampleAsItsOwn(t *testing.T) {
	for _, p := range printer.Profiles() {
		for _, mm := range p.Papers() {
			f, err := printer.NewFormat(p, mm, printer.CodePage{})
			if err != nil {
				t.Fatal(err)
			}
			t.Run(p.ID+"-"+strconv.Itoa(mm), func(t *testing.T) {
				d := printer.NewDoc(f)
				d.Line(french, printer.Style{})
				d.Big("A042", 8)
				d.QR("http://guichet.mairie.local:8080/t/XxyrcyETU1hMsVfYKX5EQg", 6, printer.QRLevelM)
				d.Cut()
				b, err := d.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				pages, err := virtual.Render(b, f)
				if err != nil {
					t.Fatalf("%s refuses it: %v", p.Name, err)
				}
				if len(pages) != 1 || pages[0].Cut != (p.Cut != printer.CutNone) {
					t.Fatalf("%d pages, cut %v", len(pages), len(pages) > 0 && pages[0].Cut)
				}
				pg := pages[0]
				if pg.Image.Bounds().Dx() != f.Dots()+32 {
					t.Errorf("page %d dots wide, want %d", pg.Image.Bounds().Dx()-32, f.Dots())
				}
				want := french
				switch f.CodePage.Name {
				case "pc858":
					want = "Carte d'identité - État civil, 1er étage, oeuvre, 5 €"
				case "pc850":
					want = "Carte d'identité - État civil, 1er étage, oeuvre, 5 EUR"
				}
				if got := strings.Join(pg.Lines[:len(pg.Lines)-1], " "); !strings.HasPrefix(got, want) {
					t.Errorf("printed %q, want %q", got, want)
				}
				if !slices.Contains(pg.Lines, "A042") {
					t.Errorf("no number in %q", pg.Lines)
				}
				qr, err := qrscan.Scan(pg.Image)
				if err != nil || qr != "http://guichet.mairie.local:8080/t/XxyrcyETU1hMsVfYKX5EQg" {
					t.Errorf("QR %q %v", qr, err)
				}
				if native := bytes.Contains(b, []byte{0x1d, '(', 'k'}); native != p.QR {
					t.Errorf("GS ( k sent: %v, model draws QR codes: %v", native, p.QR)
				}
			})
		}
	}
}

// TestTheOldJobDoesNotPrintOnEveryModel prints the sample document as
// Guichet built it before printer profiles (testdata/doc-before-profiles.bin:
// ESC t 16, GS ( k, GS V 65) on the models whose command sets differ: each
// refuses it for the reason the issue reported.
func TestTheOldJobDoesNotPrintOnEveryModel(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "doc-before-profiles.bin"))
	if err != nil {
		t.Fatal(err)
	}
	for id, why := range map[string]string{
		"pos-80":             "GS V 65 is not in the command set",
		"xprinter-xp-80":     "GS V 65 is not in the command set",
		"pos-58":             "draws no QR codes",
		"bixolon-srp350":     "code page 16: not a table of Bixolon SRP-350",
		"hp-a779":            "code page 16: not a table of HP A779",
		"star-tsp100-escpos": "selects its code pages with ESC GS t",
		"metapace-t1":        "code page 16",
		"epson-tm-t88iii":    "draws no QR codes",
	} {
		p, err := printer.ProfileByID(id)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := printer.NewFormat(p, 0, printer.CodePage{})
		_, err = virtual.Render(old, f)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: %v, want %q", id, err, why)
		}
	}
}

func TestModelWithoutStatusIsNotAskedAndStaysReady(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	w := &virtual.Wire{Mute: true} // a cheap 58 mm printer: DLE EOT unanswered
	go func() {
		if c, err := ln.Accept(); err == nil {
			w.Serve(c)
		}
	}()
	sp, err := printer.ParseSpec("tcp:" + ln.Addr().String() + "?model=pos-58")
	if err != nil {
		t.Fatal(err)
	}
	p, err := printer.Open(sp)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	start := time.Now()
	st, err := p.Status(context.Background())
	if err != nil || !st.OK() || !st.Unknown {
		t.Fatalf("status %v, %v: a model without status must be ready and unknown", st, err)
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Fatal("the model was asked and waited for")
	}
	d := printer.NewDoc(sp.Format)
	d.Line("A001", printer.Style{})
	d.Cut()
	job, _ := d.Bytes()
	if err := p.Print(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if got := w.WaitBytes(len(job), 2*time.Second); !bytes.Equal(got, job) {
		t.Fatalf("the wire got % x", got)
	}
}

func TestTextFallsBackToASCIIWhereTheCodePageLacksALetter(t *testing.T) {
	// PC437 has é è ç É but no À, Œ, € or dashes: those become their
	// ASCII look-alikes, the line stays.
	got := printer.PC437.Decode(printer.PC437.Encode("À l'Hôtel de Ville — ÉTÉ, ŒUVRE « 5 € »"))
	if want := "A l'Hôtel de Ville - ÉTÉ, OEUVRE « 5 EUR »"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestTicketLayoutFitsTheDotsOfEveryPaper(t *testing.T) {
	for _, c := range []struct {
		id    string
		paper int
		dots  int
		mag   uint8 // of a 6-character number
	}{
		{"generic", 80, 576, 8},
		{"generic", 58, 384, 5},
		{"epson-tm-t88v", 80, 512, 7},
		{"epson-tm-t88iii", 58, 360, 5},
		{"rongta-rp332", 80, 576, 7}, // 42 columns: text keeps to 504 dots
	} {
		p, _ := printer.ProfileByID(c.id)
		f, err := printer.NewFormat(p, c.paper, printer.CodePage{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Dots() != c.dots || f.BigFit(6, 8) != c.mag {
			t.Errorf("%s %d mm: %d dots, magnification %d; want %d, %d", c.id, c.paper, f.Dots(), f.BigFit(6, 8), c.dots, c.mag)
		}
		d := printer.NewDoc(f)
		d.Big("A12345", 8)
		d.Image(image.NewGray(image.Rect(0, 0, c.dots+1, 8)))
		if _, err := d.Bytes(); err == nil || !strings.Contains(err.Error(), "wider") && !strings.Contains(err.Error(), "dots wide") {
			t.Errorf("%s: an image wider than the paper: %v", c.id, err)
		}
		d = printer.NewDoc(f)
		d.Big("A12345", 8)
		b, err := d.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := virtual.Render(b, f); err != nil {
			t.Errorf("%s: %v", c.id, err)
		}
	}
}

func TestEveryModelIsInTheKioskDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "kiosk.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range printer.Profiles() {
		if !bytes.Contains(doc, []byte("`"+p.ID+"`")) {
			t.Errorf("docs/kiosk.md does not list model %s", p.ID)
		}
	}
}
