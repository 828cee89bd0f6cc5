package virtual

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guichet/hw/printer"
)

func TestRenderRefusesBytesAPrinterWouldMisread(t *testing.T) {
	for name, b := range map[string][]byte{
		"unknown ESC":        {0x1b, 'Z', 1},
		"unknown GS":         {0x1d, 'Z', 1},
		"stray control byte": {'A', 0x07, '\n'},
		"QR size too big":    {0x1d, '(', 'k', 3, 0, '1', 'C', 40},
		"QR level as size":   {0x1d, '(', 'k', 3, 0, '1', 'E', 6}, // hennedo/escpos's bug
		"QR print, no data":  {0x1d, '(', 'k', 3, 0, '1', 'Q', '0'},
		"raster cut short":   {0x1d, 'v', '0', 0, 2, 0, 2, 0, 0xff},
		"unknown code page":  {0x1b, 't', 99},
		"GS ! cut short":     {0x1d, '!'},
		// The generic printer's command set: ESC t, GS V 66 only.
		"Star's code page command": {0x1b, 0x1d, 't', 32},
		"full cut (GS V 65)":       {0x1d, 'V', 65, 0},
		"full cut (GS V 0)":        {0x1d, 'V', 0},
	} {
		if _, err := Render(b, printer.GenericFormat(80)); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}

func TestRenderSplitsPagesAtCuts(t *testing.T) {
	job := []byte("one\n\x1dVB\x03two\n\x1dV\x01three\n")
	pages, err := Render(job, printer.GenericFormat(80))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 3 || !pages[0].Cut || !pages[1].Cut || pages[2].Cut {
		t.Fatalf("%d pages", len(pages))
	}
	for i, want := range []string{"one", "two", "three"} {
		if pages[i].Text() != want {
			t.Fatalf("page %d: %q", i, pages[i].Text())
		}
	}
	if pages[0].Image.Bounds().Dx() != 576+2*margin {
		t.Fatalf("page width %d", pages[0].Image.Bounds().Dx())
	}
}

func TestRenderDrawsRasterImages(t *testing.T) {
	// An 16×2 picture: left half black.
	job := []byte{0x1d, 'v', '0', 0, 2, 0, 2, 0, 0xff, 0x00, 0xff, 0x00}
	pages, err := Render(job, printer.GenericFormat(80))
	if err != nil {
		t.Fatal(err)
	}
	img := pages[0].Image
	if img.GrayAt(margin+3, margin+1).Y != 0 || img.GrayAt(margin+12, margin+1).Y != 255 {
		t.Fatal("raster bits not drawn where they belong")
	}
}

func TestPrinterWritesPicturesAndRefusesWhenNotReady(t *testing.T) {
	dir := t.TempDir()
	p, err := New(dir, 58)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Print(ctx, []byte("A001\n\x1dVB\x00")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"000001.png", "000001.bin"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	p.SetStatus(printer.Status{PaperOut: true})
	if err := p.Print(ctx, []byte("A002\n")); !errors.Is(err, printer.ErrNotReady) || !strings.Contains(err.Error(), "paper out") {
		t.Fatalf("printed with no paper: %v", err)
	}
	if st, _ := p.Status(ctx); !st.PaperOut {
		t.Fatalf("status %v", st)
	}
	// A new virtual printer on the same directory goes on numbering.
	p2, _ := New(dir, 58)
	if err := p2.Print(ctx, []byte("A003\n\x1dVB\x00")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "000002.png")); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRenderTicket renders a ticket of 80 mm with its QR code drawn
// by the printer: what the demo's virtual printer and every ticket test
// pay per ticket.
func BenchmarkRenderTicket(b *testing.B) {
	f := printer.GenericFormat(80)
	d := printer.NewDoc(f)
	d.Line("Mairie de Villeneuve-lès-Avignon", printer.Style{Bold: true, Justify: printer.Center})
	d.Big("E042", 8)
	d.Line("État civil — Légalisation", printer.Style{Bold: true, Height: 2, Justify: printer.Center})
	d.QR("http://guichet.mairie.local:8080/t/XxyrcyETU1hMsVfYKX5EQg", 6, printer.QRLevelM)
	d.Line("Suivez votre attente sur votre téléphone", printer.Style{Small: true, Justify: printer.Center})
	d.Feed(3)
	d.Cut()
	job, err := d.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(job, f); err != nil {
			b.Fatal(err)
		}
	}
}

// A device's virtual printer keeps no page in memory (they are on disk): a
// page is a ~0.5 MB image, and a kiosk kept 50 of them (+30 MB of RSS).
// Tests keep the last DefaultKeep.
func TestPrinterKeepsOnlyThePagesItIsAskedTo(t *testing.T) {
	dir := t.TempDir()
	p, err := New(dir, 80)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		if err := p.Print(ctx, []byte("A001\n\x1dVB\x00")); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(p.Pages()); n != 3 {
		t.Fatalf("%d pages kept by default, want 3", n)
	}
	p.SetKeep(1)
	if n := len(p.Pages()); n != 1 {
		t.Fatalf("%d pages kept after SetKeep(1)", n)
	}
	p.SetKeep(0)
	if err := p.Print(ctx, []byte("A004\n\x1dVB\x00")); err != nil {
		t.Fatal(err)
	}
	if n := len(p.Pages()); n != 0 {
		t.Fatalf("%d pages kept after SetKeep(0)", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "000004.png")); err != nil {
		t.Fatal("the page kept nowhere:", err)
	}
}
