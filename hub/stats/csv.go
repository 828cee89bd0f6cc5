package stats

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"guichet/hub/queue"
)

// CSV kinds.
const (
	KindDetail  = "detail"  // one row per finished ticket ("détail")
	KindSummary = "summary" // one row per service and day ("synthèse")
)

// Format is how a CSV file writes numbers and dates for a spreadsheet in
// one language. French (the default) is what LibreOffice Calc and Excel
// open as numbers and dates in a French locale: ';' between fields (the
// comma is the decimal mark), decimal comma, dates JJ/MM/AAAA. English uses
// ',' and a decimal point, and ISO dates (AAAA-MM-JJ): an English-locale
// spreadsheet reads them without guessing which of day and month comes
// first. Both are UTF-8 with a byte-order mark (without it Excel reads
// UTF-8 as Windows-1252 and breaks "État civil") and CRLF line ends.
type Format struct {
	Lang    string // "fr" or "en"
	Comma   rune
	Decimal byte
	Date    string // time layout of a day
}

// FormatFor returns the format of lang ("en", else French).
func FormatFor(lang string) Format {
	if lang == "en" {
		return Format{Lang: "en", Comma: ',', Decimal: '.', Date: time.DateOnly}
	}
	return Format{Lang: "fr", Comma: ';', Decimal: ',', Date: "02/01/2006"}
}

// Num writes v with one decimal; "" for NaN.
func (f Format) Num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64)
	if f.Decimal != '.' {
		s = strings.Replace(s, ".", string(f.Decimal), 1)
	}
	return s
}

// ParseNum reads a number Num wrote; NaN for "".
func (f Format) ParseNum(s string) (float64, error) {
	if s == "" {
		return math.NaN(), nil
	}
	return strconv.ParseFloat(strings.Replace(s, string(f.Decimal), ".", 1), 64)
}

// text makes a name safe in a spreadsheet: one that starts like a formula
// (= + - @) is prefixed with an apostrophe, so it stays text.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

var outcomeWords = map[string]map[Outcome]string{
	"fr": {Served: "servi", NoShow: "absent", Cancelled: "annulé", Abandoned: "abandon", Voided: "annulé par la borne"},
	"en": {Served: "served", NoShow: "no-show", Cancelled: "cancelled", Abandoned: "abandoned", Voided: "voided by the kiosk"},
}

var channelWords = map[string]map[queue.Channel]string{
	"fr": {queue.Visit: "visite", queue.Phone: "téléphone"},
	"en": {queue.Visit: "visit", queue.Phone: "phone"},
}

var yesNo = map[string][2]string{"fr": {"non", "oui"}, "en": {"no", "yes"}}

// DetailHeader and SummaryHeader are the CSV files' first rows, by language.
var (
	DetailHeader = map[string][]string{
		"fr": {"Date", "Heure de prise", "Numéro", "Service demandé", "Service final", "Canal", "Appel", "Fin",
			"Attente (min)", "Traitement (min)", "Issue", "Agent", "Guichet", "Transferts", "Rappels", "Hors ligne", "Dans l'objectif"},
		"en": {"Date", "Issued", "Number", "Service asked", "Final service", "Channel", "Called", "Ended",
			"Wait (min)", "Service time (min)", "Outcome", "Agent", "Counter", "Transfers", "Recalls", "Offline", "Within target"},
	}
	SummaryHeader = map[string][]string{
		"fr": {"Date", "Service", "Tickets", "Visites", "Appels", "Servis", "Absents", "Annulations", "Abandons",
			"Transferts émis", "Transferts reçus", "Attente moyenne (min)", "Attente médiane (min)", "Attente 90e centile (min)",
			"Traitement moyen (min)", "Traitement médian (min)", "Traitement 90e centile (min)",
			"Dans l'objectif (%)", "Objectif (min)"},
		"en": {"Date", "Service", "Tickets", "Visits", "Calls", "Served", "No-shows", "Cancellations", "Abandoned",
			"Transfers out", "Transfers in", "Mean wait (min)", "Median wait (min)", "90th percentile wait (min)",
			"Mean service time (min)", "Median service time (min)", "90th percentile service time (min)",
			"Within target (%)", "Target (min)"},
	}
)

// WriteCSV writes the tickets q selects as CSV of kind (KindDetail or
// KindSummary) in lang's format, after catching the projection up.
func (p *Projection) WriteCSV(ctx context.Context, w io.Writer, q Query, kind, lang string) error {
	if err := q.Check(); err != nil {
		return err
	}
	if kind != KindDetail && kind != KindSummary {
		return fmt.Errorf("kind: %q is neither %s nor %s", kind, KindDetail, KindSummary)
	}
	if _, err := p.CatchUp(ctx); err != nil {
		return err
	}
	f := FormatFor(lang)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("\ufeff")
	cw := csv.NewWriter(bw)
	cw.Comma, cw.UseCRLF = f.Comma, true
	var err error
	if kind == KindDetail {
		err = p.writeDetail(ctx, cw, q, f)
	} else {
		err = p.writeSummary(ctx, cw, q, f)
	}
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return bw.Flush()
}

func minutes(d time.Duration) float64 { return d.Minutes() }

func (p *Projection) writeDetail(ctx context.Context, cw *csv.Writer, q Query, f Format) error {
	if err := cw.Write(DetailHeader[f.Lang]); err != nil {
		return err
	}
	clock := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(p.loc).Format("15:04")
	}
	yn := yesNo[f.Lang]
	rec := make([]string, len(DetailHeader[f.Lang]))
	var werr error
	err := p.each(ctx, q, func(t *Ticket) {
		if werr != nil {
			return
		}
		wait, called := t.Wait()
		st, served := t.ServiceTime()
		within := ""
		if target := p.site.Target(t.ServiceIn); target > 0 && called {
			within = yn[b2i(wait <= target)]
		}
		rec = append(rec[:0],
			t.Issued.In(p.loc).Format(f.Date), clock(t.Issued), t.Display(),
			text(p.site.ServiceName(t.ServiceIn, f.Lang)), text(p.site.ServiceName(t.Service, f.Lang)),
			channelWords[f.Lang][t.Channel], clock(t.FirstCalled), clock(t.Ended),
			numIf(f, minutes(wait), called), numIf(f, minutes(st), served),
			outcomeWords[f.Lang][t.Outcome], text(p.site.AgentName(t.Agent)), text(p.site.CounterName(t.Counter)),
			strconv.Itoa(t.Transfers), strconv.Itoa(t.Recalls), yn[b2i(t.Offline)], within)
		werr = cw.Write(rec)
	})
	if err != nil {
		return err
	}
	return werr
}

func numIf(f Format, v float64, ok bool) string {
	if !ok {
		return ""
	}
	return f.Num(v)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// summaryKey is one row of the summary: a day and a service.
type summaryKey struct{ day, service string }

// daySummaries computes the summary of each service on each day of q,
// counting each number where it happened, as Report does.
func (p *Projection) daySummaries(ctx context.Context, q Query) ([]summaryKey, map[summaryKey]*acc, error) {
	g := map[summaryKey]*acc{}
	get := func(k summaryKey) *acc {
		a := g[k]
		if a == nil {
			a = &acc{}
			g[k] = a
		}
		return a
	}
	err := p.each(ctx, q, func(t *Ticket) {
		if q.Service == "" || t.ServiceIn == q.Service {
			get(summaryKey{t.Day, t.ServiceIn}).demand(t, p.site.Target(t.ServiceIn))
		}
		if q.Service == "" || t.Service == q.Service {
			get(summaryKey{t.Day, t.Service}).outcome(t)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	keys := make([]summaryKey, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].day != keys[j].day {
			return keys[i].day < keys[j].day
		}
		return keys[i].service < keys[j].service
	})
	return keys, g, nil
}

func (p *Projection) writeSummary(ctx context.Context, cw *csv.Writer, q Query, f Format) error {
	if err := cw.Write(SummaryHeader[f.Lang]); err != nil {
		return err
	}
	keys, g, err := p.daySummaries(ctx, q)
	if err != nil {
		return err
	}
	nan := math.NaN()
	mins := func(d Dist, v float64) float64 {
		if d.N == 0 {
			return nan
		}
		return v / 60
	}
	for _, k := range keys {
		s := g[k].summary(k.service, "", nil)
		day, _ := time.ParseInLocation(time.DateOnly, k.day, p.loc)
		share, target := nan, nan
		if s.Share != nil {
			share = *s.Share * 100
		}
		if t := p.site.Target(k.service); t > 0 {
			target = minutes(t)
		}
		c := s.Counts
		rec := []string{day.Format(f.Date), text(p.site.ServiceName(k.service, f.Lang)),
			strconv.Itoa(c.Tickets), strconv.Itoa(c.Visits), strconv.Itoa(c.Phone), strconv.Itoa(c.Served),
			strconv.Itoa(c.NoShows), strconv.Itoa(c.Cancelled), strconv.Itoa(c.Abandoned),
			strconv.Itoa(c.TransfersOut), strconv.Itoa(c.TransfersIn),
			f.Num(mins(s.Wait, s.Wait.Mean)), f.Num(mins(s.Wait, s.Wait.Median)), f.Num(mins(s.Wait, s.Wait.P90)),
			f.Num(mins(s.ServiceTime, s.ServiceTime.Mean)), f.Num(mins(s.ServiceTime, s.ServiceTime.Median)), f.Num(mins(s.ServiceTime, s.ServiceTime.P90)),
			f.Num(share), f.Num(target)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return nil
}
