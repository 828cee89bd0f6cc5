package kiosk

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
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
			l := Layout{Site: "Mairie de Villeneuve", PaperMM: c.paper, CodePage: printer.WPC1252}
			b, err := l.Ticket(c.info)
			if err != nil {
				t.Fatal(err)
			}
			goldenFile(t, "ticket-"+c.name+".bin", b)
			pages, err := virtual.Render(b, printer.Dots(c.paper))
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
