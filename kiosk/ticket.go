package kiosk

import (
	"image"
	"time"

	"guichet/hub/api"
	"guichet/hw/printer"
)

// TicketInfo is what a printed ticket says.
type TicketInfo struct {
	Number        string    // "E042"
	Service       string    // its name, in the citizen's language
	Priority      string    // none, priority, appointment
	AppointmentAt time.Time // for an appointment
	IssuedAt      time.Time // site-local
	Ahead         *int
	Wait          *time.Duration
	// WaitLow and WaitHigh are the range of the wait the hub sent; the
	// ticket prints it ("entre 10 et 20 min") when WaitHigh is set, else
	// Wait alone.
	WaitLow, WaitHigh time.Duration
	URL               string // the mobile ticket page; no QR code if empty
	Lang              string
}

// Layout is how a kiosk prints: the site's name, a logo, the printer's
// model, paper and code page.
type Layout struct {
	Site   string
	Format printer.Format // the generic printer on 80 mm paper if zero
	Logo   image.Image    // optional, at most the paper's width
}

// Ticket returns the ESC/POS bytes of a ticket, laid out for the dots of
// the printer's line: the number as large as fits, text wrapped to its
// columns, the QR code drawn by the printer or sent as an image.
func (l Layout) Ticket(t TicketInfo) ([]byte, error) {
	lang := t.Lang
	f := l.Format
	if f.Profile.ID == "" {
		f = printer.GenericFormat(80)
	}
	d := printer.NewDoc(f)
	if l.Logo != nil {
		d.Image(l.Logo)
	}
	d.Line(l.Site, printer.Style{Bold: true, Justify: printer.Center})
	d.Feed(1)
	d.Line(T(lang, "your_number"), printer.Style{Justify: printer.Center})
	// On 58 mm paper (under 500 dots), a smaller number and QR code.
	mag, module := uint8(8), uint8(6)
	if f.Dots() < 500 {
		mag, module = 6, 5
	}
	d.Big(t.Number, mag) // smaller if it does not fit
	d.Line(t.Service, printer.Style{Bold: true, Height: 2, Justify: printer.Center})
	switch t.Priority {
	case "priority":
		d.Line(T(lang, "priority"), printer.Style{Justify: printer.Center})
	case "appointment":
		d.Line(T(lang, "appointment", Clock(lang, t.AppointmentAt)), printer.Style{Justify: printer.Center})
	}
	d.Line(Date(lang, t.IssuedAt), printer.Style{Justify: printer.Center})
	d.Feed(1)
	if t.Ahead != nil {
		d.Line(Ahead(lang, *t.Ahead), printer.Style{Justify: printer.Center, Bold: true})
	}
	if t.Wait != nil {
		text := Wait(lang, *t.Wait)
		if t.WaitHigh > 0 {
			text = api.FormatWait(lang, int(t.WaitLow.Seconds()), int(t.WaitHigh.Seconds()))
		}
		d.Line(T(lang, "wait", text), printer.Style{Justify: printer.Center})
	} else {
		d.Line(T(lang, "wait_unknown"), printer.Style{Justify: printer.Center})
	}
	if t.URL != "" {
		d.Feed(1)
		d.QR(t.URL, module, printer.QRLevelM)
		d.Line(T(lang, "follow"), printer.Style{Justify: printer.Center, Small: true})
	}
	d.Feed(1)
	d.Line(T(lang, "privacy"), printer.Style{Justify: printer.Center, Small: true})
	d.Feed(3)
	d.Cut()
	return d.Bytes()
}

// SampleTicket is a ticket that belongs to no site, to try a printer: what
// a citizen would get at now in format f.
func SampleTicket(f printer.Format, now time.Time) ([]byte, error) {
	three, wait := 3, 13*time.Minute
	l := Layout{Site: "Mairie de Villeneuve-lès-Avignon", Format: f}
	return l.Ticket(TicketInfo{Number: "E042", Service: "État civil — Légalisation", IssuedAt: now,
		Ahead: &three, Wait: &wait, WaitLow: 7 * time.Minute, WaitHigh: 21 * time.Minute, URL: "https://guichet.example/t/exemple", Lang: "fr"})
}
