package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/internal/qrscan"
)

func TestPrinterTestPrintsEveryAccentTheModelAndASampleTicket(t *testing.T) {
	for _, c := range []struct {
		model, codepage string
		pages           int
	}{
		{"hp-a779", "wpc1252", 2},            // Windows-1252 at ESC t 8, QR drawn by the printer
		{"bixolon-srp350", "pc858", 2},       // no Windows-1252, QR as an image
		{"pos-58", "wpc1252", 1},             // no cutter: one strip of paper
		{"star-tsp650-escpos", "wpc1252", 2}, // ESC GS t 32
	} {
		t.Run(c.model, func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			at := func() time.Time { return time.Date(2026, 12, 1, 10, 5, 0, 0, time.UTC) }
			err := printerTest(context.Background(), []string{"--printer", "virtual:" + dir + "?model=" + c.model}, &out, at)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "("+c.model+")") || !strings.Contains(out.String(), "status: ") {
				t.Fatalf("output:\n%s", out.String())
			}
			pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
			if len(pngs) != c.pages || strings.Count(out.String(), "picture: ") != c.pages {
				t.Fatalf("%d pictures, want %d:\n%s", len(pngs), c.pages, out.String())
			}
			job, err := os.ReadFile(filepath.Join(dir, "000001.bin"))
			if err != nil {
				t.Fatal(err)
			}
			sp, _ := printer.ParseSpec("virtual:" + dir + "?model=" + c.model)
			pages, err := virtual.Render(job, sp.Format)
			if err != nil {
				t.Fatal(err)
			}
			test := pages[0]
			text := strings.Join(test.Lines, " ") // lines wrapped or not
			cp, _ := printer.CodePageByName(c.codepage)
			for _, l := range printer.Accents {
				if want := cp.Decode(cp.Encode(l)); !strings.Contains(text, want) {
					t.Errorf("no %q on the test page:\n%s", want, text)
				}
			}
			for _, w := range []string{"Modèle : ", c.model, "Page de code : " + c.codepage, "Règle de "} {
				if !strings.Contains(text, w) {
					t.Errorf("no %q on the test page:\n%s", w, text)
				}
			}
			if got, err := qrscan.Scan(test.Image); err != nil || got != "GUICHET TEST "+c.model {
				t.Errorf("test page QR %q %v", got, err)
			}
			all := ""
			for _, p := range pages {
				all += strings.Join(p.Lines, " ") + " "
			}
			if !strings.Contains(all, "Votre numéro E042") {
				t.Errorf("no sample ticket:\n%s", all)
			}
		})
	}
}

func TestPrinterTestNamesTheKnownModelsForAnUnknownOne(t *testing.T) {
	var out bytes.Buffer
	err := printerTest(context.Background(), []string{"--printer", "virtual:" + t.TempDir() + "?model=tm-t20"}, &out, time.Now)
	if err == nil || !strings.Contains(err.Error(), `unknown printer model "tm-t20"; known models: generic, epson-tm-t20ii, epson-tm-t20iii`) {
		t.Fatalf("%v", err)
	}
}

func TestPrinterListShowsEveryModel(t *testing.T) {
	var out bytes.Buffer
	if err := runPrinter(context.Background(), []string{"list"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, p := range printer.Profiles() {
		if !strings.Contains(out.String(), p.ID+" ") {
			t.Errorf("%s not listed:\n%s", p.ID, out.String())
		}
	}
	if !strings.Contains(out.String(), "wpc1252 (ESC t 8)") {
		t.Errorf("HP's code page number not shown:\n%s", out.String())
	}
}
