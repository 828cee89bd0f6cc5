package kiosk

import (
	"strings"
	"testing"
	"time"

	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
)

// formats are every model on every paper it takes.
func formats(t testing.TB) []printer.Format {
	var out []printer.Format
	for _, p := range printer.Profiles() {
		for _, mm := range p.Papers() {
			f, err := printer.NewFormat(p, mm, printer.CodePage{})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, f)
		}
	}
	return out
}

// FuzzTicket: whatever the site's and service's names, the number and the
// ticket page's address, a ticket is laid out for every printer model as
// one page the model reads (no command it lacks, no control byte in the
// text), cut where the model cuts, with the number on its own line; the
// only refusal is an address too long for a QR code.
func FuzzTicket(f *testing.F) {
	f.Add("Mairie de Villeneuve-lès-Avignon", "État civil — Légalisation", "E042", "http://guichet.mairie.local:8080/t/XxyrcyETU1hMsVfYKX5EQg", int32(3), int32(12*60), uint8(0), uint8(0))
	f.Add("", "", "A1", "", int32(-1), int32(-5), uint8(1), uint8(1))
	f.Add(strings.Repeat("Très long nom de mairie ", 20), "\x1b@\x1dV\x00 Passeports", "Z99999", "https://x/"+strings.Repeat("a", 500), int32(1<<30), int32(1<<30), uint8(2), uint8(2))
	f.Add("\u202eeiriaM", "日本語のサービス", "A042\n\x1b", "javascript:alert(1)", int32(0), int32(59), uint8(7), uint8(3))
	all := formats(f)
	at := time.Date(2026, 11, 23, 9, 41, 0, 0, time.FixedZone("CET", 3600))
	f.Fuzz(func(t *testing.T, site, service, number, url string, ahead, waitS int32, model, kind uint8) {
		if len(site)+len(service)+len(number) > 600 || len(url) > 3000 {
			return // names the site file bounds (config.MaxName); rendering megabytes of text is slow, not wrong
		}
		fm := all[int(model)%len(all)]
		a, w := int(ahead), time.Duration(waitS)*time.Second
		info := TicketInfo{Number: number, Service: service, IssuedAt: at, URL: url, Lang: []string{"fr", "en"}[kind%2],
			Priority: []string{"", "priority", "appointment", "none"}[kind%4], AppointmentAt: at.Add(w)}
		if kind&4 == 0 {
			info.Ahead, info.Wait = &a, &w
		}
		l := Layout{Site: site, Format: fm}
		job, err := l.Ticket(info)
		if err != nil {
			if len(url) < 200 {
				t.Fatalf("%s: a ticket with an address of %d bytes refused: %v", fm.Profile.ID, len(url), err)
			}
			return
		}
		pages, err := virtual.Render(job, fm)
		if err != nil {
			t.Fatalf("%s reads no ticket: %v", fm.Profile.ID, err)
		}
		if len(pages) != 1 || pages[0].Cut != (fm.Profile.Cut != printer.CutNone) {
			t.Fatalf("%s: %d pages, cut %v", fm.Profile.ID, len(pages), len(pages) > 0 && pages[0].Cut)
		}
		want := strings.TrimRight(fm.CodePage.Decode(fm.CodePage.Encode(number)), " ")
		if n := len(fm.CodePage.Encode(number)); n >= 1 && n <= 6 && want != "" { // a number of the hub fits a line
			found := false
			for _, line := range pages[0].Lines {
				found = found || line == want
			}
			if !found {
				t.Fatalf("%s: the number %q is on no line of its own:\n%s", fm.Profile.ID, want, pages[0].Text())
			}
		}
	})
}
