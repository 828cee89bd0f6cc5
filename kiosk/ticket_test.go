package kiosk

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/internal/qrscan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update, then look at the PNGs)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s changed (run go test -update and look at the PNG)", name)
	}
}

// decodeQR reads the QR code of a rendered ticket, as a phone would.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	text, err := qrscan.Scan(img)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestTicketsPrintAsDesigned(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 41, 0, 0, time.FixedZone("CET", 3600))
	three, zero, wait := 3, 0, 12*time.Minute
	url := "http://guichet.mairie.local:8080/t/XxyrcyETU1hMsVfYKX5EQg"
	cases := []struct {
		name  string
		paper int
		info  TicketInfo
		want  []string
	}{
		{"walk-in-80", 80, TicketInfo{Number: "E042", Service: "État civil", IssuedAt: at, Ahead: &three, Wait: &wait, URL: url, Lang: "fr"},
			[]string{"Votre numéro", "E042", "État civil", "lundi 23 novembre 2026 à 9 h 41", "3 personnes avant vous", "Attente estimée : environ 12 min", "Suivez votre attente"}},
		{"walk-in-58", 58, TicketInfo{Number: "E042", Service: "État civil", IssuedAt: at, Ahead: &three, Wait: &wait, URL: url, Lang: "fr"},
			[]string{"E042", "lundi 23 novembre 2026", "à 9 h 41"}},
		{"priority", 80, TicketInfo{Number: "S007", Service: "Action sociale (CCAS)", Priority: "priority", IssuedAt: at, Ahead: &zero, Wait: &wait, URL: url, Lang: "fr"},
			[]string{"S007", "Public prioritaire", "Vous êtes la prochaine personne"}},
		{"appointment", 80, TicketInfo{Number: "P003", Service: "Passeports et cartes d'identité", Priority: "appointment", AppointmentAt: at.Add(20 * time.Minute), IssuedAt: at, Ahead: &zero, URL: url, Lang: "fr"},
			[]string{"P003", "Rendez-vous à 10 h 01", "Attente estimée : indisponible"}},
		{"english", 80, TicketInfo{Number: "A012", Service: "General enquiries", IssuedAt: at, Ahead: &three, Wait: &wait, URL: url, Lang: "en"},
			[]string{"Your number", "A012", "Monday 23 November 2026, 09:41", "3 people ahead of you", "Estimated wait: about 12 min"}},
		{"offline", 80, TicketInfo{Number: "E051", Service: "État civil", IssuedAt: at, Wait: &wait, URL: url, Lang: "fr"},
			[]string{"E051", "Attente estimée : environ 12 min"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := Layout{Site: "Mairie de Villeneuve", Format: printer.GenericFormat(c.paper)}
			b, err := l.Ticket(c.info)
			if err != nil {
				t.Fatal(err)
			}
			goldenFile(t, "ticket-"+c.name+".bin", b)
			pages, err := virtual.Render(b, l.Format)
			if err != nil || len(pages) != 1 || !pages[0].Cut {
				t.Fatalf("rendered %d pages, %v", len(pages), err)
			}
			p := pages[0]
			var pic bytes.Buffer
			if err := png.Encode(&pic, p.Image); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, "ticket-"+c.name+".png", pic.Bytes())
			text := strings.ReplaceAll(p.Text(), "\u00a0", " ") // what a reader sees
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("no %q on the ticket:\n%s", w, text)
				}
			}
			if got := decodeQR(t, p.Image); got != c.info.URL {
				t.Fatalf("the QR code says %q, want %q", got, c.info.URL)
			}
		})
	}
}

// TestTicketsPrintOnEveryPrinterModel prints a ticket for every model and
// paper it takes, on a virtual printer of that model: it renders (no
// command the model lacks), it cuts where the model cuts, what a citizen
// reads is there in French, and the QR code scans. One model of each
// family (dpi and dots, code page command and numbers, cut, QR drawn or
// sent as an image) is pinned in golden files, to be looked at as pictures.
func TestTicketsPrintOnEveryPrinterModel(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 41, 0, 0, time.FixedZone("CET", 3600))
	three, wait := 3, 12*time.Minute
	info := TicketInfo{Number: "E042", Service: "État civil — Légalisation", IssuedAt: at, Ahead: &three, Wait: &wait,
		URL: "http://guichet.mairie.local:8080/t/XxyrcyETU1hMsVfYKX5EQg", Lang: "fr"}
	families := map[string]bool{
		"epson-tm-t20iii-80":    true, // 203 dpi, 576 dots, ESC t 16, GS V 65, GS ( k
		"epson-tm-t88v-80":      true, // 180 dpi, 512 dots
		"epson-tm-t88iii-58":    true, // 180 dpi, 360 dots, QR as an image
		"star-tsp100-escpos-80": true, // ESC GS t 32, GS V 66, QR as an image
		"bixolon-srp350-80":     true, // no Windows-1252: PC858 (ESC t 19), 504 dots
		"hp-a779-80":            true, // Windows-1252 is ESC t 8, 528 dots
		"pos-58-58":             true, // 384 dots, no cutter, QR as an image
		"rongta-rp332-80":       true, // 42 columns on 576 dots
	}
	for _, p := range printer.Profiles() {
		for _, mm := range p.Papers() {
			name := p.ID + "-" + strconv.Itoa(mm)
			t.Run(name, func(t *testing.T) {
				f, err := printer.NewFormat(p, mm, printer.CodePage{})
				if err != nil {
					t.Fatal(err)
				}
				l := Layout{Site: "Mairie de Villeneuve-lès-Avignon", Format: f}
				b, err := l.Ticket(info)
				if err != nil {
					t.Fatal(err)
				}
				pages, err := virtual.Render(b, f)
				if err != nil {
					t.Fatalf("%s refuses the ticket: %v", p.Name, err)
				}
				if len(pages) != 1 || pages[0].Cut != (p.Cut != printer.CutNone) {
					t.Fatalf("%d pages", len(pages))
				}
				pg := pages[0]
				if families[name] {
					delete(families, name)
					goldenFile(t, "model-"+name+".bin", b)
					var pic bytes.Buffer
					if err := png.Encode(&pic, pg.Image); err != nil {
						t.Fatal(err)
					}
					goldenFile(t, "model-"+name+".png", pic.Bytes())
				}
				// What a reader sees, lines wrapped or not.
				text := strings.ReplaceAll(strings.Join(pg.Lines, " "), "\u00a0", " ")
				service := "État civil — Légalisation"
				if _, ok := p.Tables["wpc1252"]; !ok {
					service = "État civil - Légalisation"
				}
				for _, w := range []string{"Votre numéro", "E042", "3 personnes avant vous", "Attente estimée : environ 12 min", "Villeneuve-lès-Avignon"} {
					if !strings.Contains(text, w) {
						t.Errorf("no %q on the ticket:\n%s", w, text)
					}
				}
				if !strings.Contains(text, service) {
					t.Errorf("no %q on the ticket:\n%s", service, text)
				}
				if got := decodeQR(t, pg.Image); got != info.URL {
					t.Fatalf("the QR code says %q", got)
				}
			})
		}
	}
	for name := range families {
		t.Errorf("no model %s to pin", name)
	}
}

// BenchmarkTicket builds a ticket for a model that draws its QR codes and
// for one that gets them as an image, and reports the bytes a ticket sends
// (at 19200 baud, a serial printer takes about 520 µs a byte).
func BenchmarkTicket(b *testing.B) {
	at := time.Date(2026, 11, 23, 9, 41, 0, 0, time.UTC)
	three, wait := 3, 12*time.Minute
	info := TicketInfo{Number: "E042", Service: "État civil", IssuedAt: at, Ahead: &three, Wait: &wait,
		URL: "http://guichet.mairie.local:8080/t/XxyrcyETU1hMsVfYKX5EQg", Lang: "fr"}
	for _, id := range []string{"epson-tm-t20iii", "star-tsp100-escpos", "pos-58"} {
		b.Run(id, func(b *testing.B) {
			p, _ := printer.ProfileByID(id)
			f, _ := printer.NewFormat(p, 0, printer.CodePage{})
			l := Layout{Site: "Mairie de Villeneuve", Format: f}
			var n int
			for b.Loop() {
				job, err := l.Ticket(info)
				if err != nil {
					b.Fatal(err)
				}
				n = len(job)
			}
			b.ReportMetric(float64(n), "bytes/ticket")
		})
	}
}
