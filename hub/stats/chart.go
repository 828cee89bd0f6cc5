package stats

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// Chart is one of a report's charts: an SVG picture drawn by the server
// (no script, nothing fetched) with its title and a description for screen
// readers, and the same numbers as a table for the page to show beside it.
type Chart struct {
	Name    string     `json:"name"` // "hours", "waits", "waits-by-hour"
	Title   string     `json:"title"`
	Desc    string     `json:"desc"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	SVG     []byte     `json:"-"`
}

// ChartNames are the charts Charts draws, in order.
var ChartNames = []string{"hours", "waits", "waits-by-hour"}

// Colours: a blue and an orange that stay apart for the colour-blind, on white.
const (
	colVisit  = "#1f5fa8"
	colPhone  = "#d9731a"
	colTarget = "#b3261e"
	colGrid   = "#d0d4da"
	colText   = "#1d232b"
)

// Charts draws the charts of r in lang ("fr" or "en"); targets are the
// targets of the report's services (the one of its service filter).
func Charts(r *Report, site *Site, lang string) []Chart {
	f := FormatFor(lang)
	return []Chart{hoursChart(r, f), waitsChart(r, site, f), waitsByHourChart(r, site, f)}
}

// ChartByName returns the chart of r called name, or false.
func ChartByName(r *Report, site *Site, lang, name string) (Chart, bool) {
	for _, c := range Charts(r, site, lang) {
		if c.Name == name {
			return c, true
		}
	}
	return Chart{}, false
}

func tr(f Format, fr, en string) string {
	if f.Lang == "en" {
		return en
	}
	return fr
}

// period says which days a report covers, in words.
func period(r *Report, f Format) string {
	d := func(s string) string {
		t, _ := time.Parse(time.DateOnly, s)
		return t.Format(f.Date)
	}
	if r.Query.From == r.Query.To {
		return tr(f, "le ", "on ") + d(r.Query.From)
	}
	return fmt.Sprintf(tr(f, "du %s au %s", "from %s to %s"), d(r.Query.From), d(r.Query.To))
}

// span returns the hours to draw: from the first with tickets to the last,
// or 08:00 to 18:00 when none has any.
func span(hours []Hour, has func(Hour) bool) []Hour {
	lo, hi := -1, -1
	for i, h := range hours {
		if has(h) {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	if lo < 0 {
		for i, h := range hours {
			if h.Hour == 8 && lo < 0 {
				lo = i
			}
			if h.Hour == 17 {
				hi = i
			}
		}
		if lo < 0 || hi < lo {
			lo, hi = 0, len(hours)-1
		}
	}
	return hours[lo : hi+1]
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten; ticks is how
// many gridlines divide it.
func niceMax(v float64) (top float64, ticks int) {
	if v <= 0 {
		return 1, 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			top = m * p
			break
		}
	}
	switch top / p {
	case 1, 10:
		ticks = 5
	case 2:
		ticks = 4
	default:
		ticks = 5
	}
	return top, ticks
}

// svg builds one chart's picture: a plot area with gridlines and axes.
type svg struct {
	b            strings.Builder
	w, h         float64
	left, right  float64
	top, bottom  float64
	ymax         float64
	xcount       int
	title, desc  string
	name, yLabel string
	legend       [][2]string // colour, label
	dashedLegend [][2]string
}

func newSVG(name, title, desc, yLabel string, xcount int, ymax float64) *svg {
	s := &svg{w: 760, h: 360, left: 56, right: 16, top: 48, bottom: 64, name: name, title: title, desc: desc, yLabel: yLabel, xcount: max(xcount, 1)}
	s.ymax = ymax
	return s
}

func esc(s string) string { return html.EscapeString(s) }

func (s *svg) plotW() float64 { return s.w - s.left - s.right }
func (s *svg) plotH() float64 { return s.h - s.top - s.bottom }

// x is the left edge of slot i; slot its width.
func (s *svg) x(i float64) float64 { return s.left + i*s.slot() }
func (s *svg) slot() float64       { return s.plotW() / float64(s.xcount) }
func (s *svg) y(v float64) float64 { return s.top + s.plotH()*(1-v/s.ymax) }

func (s *svg) start(ticks int, tickLabel func(float64) string) {
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-labelledby="%s-title %s-desc" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
		s.w, s.h, s.w, s.h, s.name, s.name)
	fmt.Fprintf(&s.b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, s.name, esc(s.title), s.name, esc(s.desc))
	fmt.Fprintf(&s.b, `<rect width="100%%" height="100%%" fill="#fff"/>`)
	fmt.Fprintf(&s.b, `<text x="%g" y="20" font-size="15" font-weight="bold" fill="%s">%s</text>`, s.left, colText, esc(s.title))
	for i := 0; i <= ticks; i++ {
		v := s.ymax * float64(i) / float64(ticks)
		y := s.y(v)
		fmt.Fprintf(&s.b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="1"/>`, s.left, s.w-s.right, y, y, colGrid)
		fmt.Fprintf(&s.b, `<text x="%g" y="%.1f" text-anchor="end" fill="%s">%s</text>`, s.left-6, y+4, colText, esc(tickLabel(v)))
	}
	fmt.Fprintf(&s.b, `<text x="14" y="%g" transform="rotate(-90 14 %g)" text-anchor="middle" fill="%s">%s</text>`,
		s.top+s.plotH()/2, s.top+s.plotH()/2, colText, esc(s.yLabel))
}

// xLabels writes the label of each slot, fewer when they would overlap.
func (s *svg) xLabels(labels []string) {
	every := 1
	for float64(every)*s.slot() < 7.5*float64(maxLen(labels)) {
		every++
	}
	for i, l := range labels {
		if i%every != 0 {
			continue
		}
		fmt.Fprintf(&s.b, `<text x="%.1f" y="%g" text-anchor="middle" fill="%s">%s</text>`, s.x(float64(i)+0.5), s.h-s.bottom+16, colText, esc(l))
	}
	fmt.Fprintf(&s.b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s"/>`, s.left, s.w-s.right, s.y(0), s.y(0), colText)
}

// xCaption names the horizontal axis, under its labels.
func (s *svg) xCaption(c string) {
	fmt.Fprintf(&s.b, `<text x="%g" y="%g" text-anchor="middle" fill="%s">%s</text>`, s.left+s.plotW()/2, s.h-s.bottom+32, colText, esc(c))
}

func maxLen(l []string) int {
	n := 1
	for _, s := range l {
		n = max(n, len([]rune(s)))
	}
	return n
}

func (s *svg) legendAt() {
	x := s.left
	y := s.h - 8
	for _, l := range s.legend {
		fmt.Fprintf(&s.b, `<rect x="%g" y="%g" width="12" height="12" fill="%s"/><text x="%g" y="%g" fill="%s">%s</text>`, x, y-10, l[0], x+16, y, colText, esc(l[1]))
		x += 28 + 7*float64(len([]rune(l[1])))
	}
	for _, l := range s.dashedLegend {
		fmt.Fprintf(&s.b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s" stroke-width="2" stroke-dasharray="5 3"/><text x="%g" y="%g" fill="%s">%s</text>`,
			x, x+14, y-4, y-4, l[0], x+18, y, colText, esc(l[1]))
		x += 30 + 7*float64(len([]rune(l[1])))
	}
}

func (s *svg) end() []byte {
	s.legendAt()
	s.b.WriteString(`</svg>`)
	return []byte(s.b.String())
}

func intLabel(v float64) string { return fmt.Sprint(int(math.Round(v))) }

// hoursChart: tickets per hour, visits and calls stacked.
func hoursChart(r *Report, f Format) Chart {
	c := Chart{Name: "hours", Title: tr(f, "Tickets par heure", "Tickets per hour"),
		Columns: []string{tr(f, "Heure", "Hour"), tr(f, "Visites", "Visits"), tr(f, "Appels", "Calls"), "Total"}}
	hours := span(r.Hours, func(h Hour) bool { return h.Visits+h.Phone > 0 })
	top, busiest := 0, Hour{}
	labels := make([]string, len(hours))
	for i, h := range hours {
		labels[i] = h.Label
		if n := h.Visits + h.Phone; n > top {
			top, busiest = n, h
		}
		c.Rows = append(c.Rows, []string{h.Label, fmt.Sprint(h.Visits), fmt.Sprint(h.Phone), fmt.Sprint(h.Visits + h.Phone)})
	}
	c.Desc = fmt.Sprintf(tr(f, "Tickets pris par heure %s : %d visites et %d appels.", "Tickets taken per hour %s: %d visits and %d calls."),
		period(r, f), r.Total.Visits, r.Total.Phone)
	if top > 0 {
		c.Desc += fmt.Sprintf(tr(f, " Heure la plus chargée : %s (%d tickets).", " Busiest hour: %s (%d tickets)."), busiest.Label, top)
	}
	ymax, ticks := niceMax(float64(top))
	if ymax < 5 {
		ymax, ticks = 5, 5
	}
	s := newSVG("hours", c.Title, c.Desc, tr(f, "tickets", "tickets"), len(hours), ymax)
	s.start(ticks, intLabel)
	for i, h := range hours {
		x, w := s.x(float64(i))+s.slot()*0.15, s.slot()*0.7
		yv, yp := s.y(float64(h.Visits)), s.y(float64(h.Visits+h.Phone))
		fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s : %d %s</title></rect>`,
			x, yv, w, s.y(0)-yv, colVisit, esc(h.Label), h.Visits, tr(f, "visites", "visits"))
		fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s : %d %s</title></rect>`,
			x, yp, w, yv-yp, colPhone, esc(h.Label), h.Phone, tr(f, "appels", "calls"))
	}
	s.xLabels(labels)
	s.xCaption(tr(f, "heure de prise du ticket", "hour the ticket was taken"))
	s.legend = [][2]string{{colVisit, tr(f, "Visites", "Visits")}, {colPhone, tr(f, "Appels", "Calls")}}
	c.SVG = s.end()
	return c
}

// target is the target the report's waits are held to, to mark on a
// chart: its service's, or the one all services share; ok is false when
// services differ (each service's own chart marks its own).
func target(r *Report, site *Site) (t time.Duration, ok bool) {
	for _, sv := range site.Services {
		if r.Query.Service != "" && sv.ID != r.Query.Service {
			continue
		}
		if sv.Target <= 0 || ok && sv.Target != t {
			return 0, false
		}
		t, ok = sv.Target, true
	}
	return t, ok
}

func minutesLabel(f Format, d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(f.Num(d.Minutes()), "0"), string(f.Decimal)) + " min"
}

// waitsChart: the distribution of waits, the target marked.
func waitsChart(r *Report, site *Site, f Format) Chart {
	d := r.Total.Wait
	c := Chart{Name: "waits", Title: tr(f, "Répartition des temps d'attente", "Distribution of waits"),
		Columns: []string{tr(f, "Attente", "Wait"), tr(f, "Tickets", "Tickets")}}
	labels := make([]string, len(d.Buckets))
	top := 0
	for i, b := range d.Buckets {
		if b.To == 0 {
			labels[i] = fmt.Sprintf("≥ %g", b.From/60)
		} else {
			labels[i] = fmt.Sprintf("%g–%g", b.From/60, b.To/60)
		}
		top = max(top, b.N)
		c.Rows = append(c.Rows, []string{labels[i] + " min", fmt.Sprint(b.N)})
	}
	tg, marked := target(r, site)
	c.Desc = fmt.Sprintf(tr(f, "Temps d'attente avant le premier appel %s, par tranches de 5 minutes : %d tickets appelés, médiane %s, 90e centile %s.",
		"Wait before the first call %s, in 5-minute bands: %d tickets called, median %s, 90th percentile %s."),
		period(r, f), d.N, minutesLabel(f, secs(d.Median)), minutesLabel(f, secs(d.P90)))
	if marked {
		c.Desc += fmt.Sprintf(tr(f, " Objectif : %s.", " Target: %s."), minutesLabel(f, tg))
	}
	if r.Total.Share != nil {
		c.Desc += fmt.Sprintf(tr(f, " Dans l'objectif : %s %%.", " Within target: %s %%."), f.Num(*r.Total.Share*100))
	}
	ymax, ticks := niceMax(float64(top))
	if ymax < 5 {
		ymax, ticks = 5, 5
	}
	s := newSVG("waits", c.Title, c.Desc, tr(f, "tickets", "tickets"), len(d.Buckets), ymax)
	s.start(ticks, intLabel)
	for i, b := range d.Buckets {
		x, w := s.x(float64(i))+1, s.slot()-2
		y := s.y(float64(b.N))
		fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s min : %d</title></rect>`,
			x, y, w, s.y(0)-y, colVisit, esc(labels[i]), b.N)
	}
	if len(d.Buckets) > 0 {
		width := d.Buckets[len(d.Buckets)-1].From / float64(len(d.Buckets)-1) // seconds per bucket
		if marked {
			x := s.x(tg.Seconds() / width)
			fmt.Fprintf(&s.b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="%s" stroke-width="2" stroke-dasharray="5 3"/><text x="%.1f" y="%g" fill="%s">%s</text>`,
				x, x, s.top-6, s.y(0), colTarget, x+4, s.top+6, colTarget, esc(tr(f, "objectif ", "target ")+minutesLabel(f, tg)))
		}
	}
	s.xLabels(labels)
	s.xCaption(tr(f, "attente avant le premier appel (minutes)", "wait before the first call (minutes)"))
	s.legend = [][2]string{{colVisit, tr(f, "Tickets appelés", "Tickets called")}}
	if marked {
		s.dashedLegend = [][2]string{{colTarget, tr(f, "Objectif", "Target")}}
	}
	c.SVG = s.end()
	return c
}

func secs(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }

// waitsByHourChart: the median and 90th percentile of waits by hour of issue.
func waitsByHourChart(r *Report, site *Site, f Format) Chart {
	c := Chart{Name: "waits-by-hour", Title: tr(f, "Temps d'attente par heure", "Waits by hour"),
		Columns: []string{tr(f, "Heure", "Hour"), tr(f, "Tickets appelés", "Tickets called"), tr(f, "Médiane (min)", "Median (min)"), tr(f, "90e centile (min)", "90th percentile (min)")}}
	hours := span(r.Hours, func(h Hour) bool { return h.Waits > 0 })
	top := 0.0
	labels := make([]string, len(hours))
	worst := Hour{}
	for i, h := range hours {
		labels[i] = h.Label
		top = max(top, h.P90/60)
		if h.P90 > worst.P90 {
			worst = h
		}
		row := []string{h.Label, fmt.Sprint(h.Waits), "", ""}
		if h.Waits > 0 {
			row[2], row[3] = f.Num(h.Median/60), f.Num(h.P90/60)
		}
		c.Rows = append(c.Rows, row)
	}
	tg, marked := target(r, site)
	if marked {
		top = max(top, tg.Minutes())
	}
	c.Desc = fmt.Sprintf(tr(f, "Médiane et 90e centile des temps d'attente, par heure de prise du ticket, %s.",
		"Median and 90th percentile of waits, by hour the ticket was taken, %s."), period(r, f))
	if worst.Waits > 0 {
		c.Desc += fmt.Sprintf(tr(f, " Attente la plus longue à %s : 90e centile %s.", " Longest waits at %s: 90th percentile %s."),
			worst.Label, minutesLabel(f, secs(worst.P90)))
	}
	ymax, ticks := niceMax(top)
	if ymax < 10 {
		ymax, ticks = 10, 5
	}
	s := newSVG("waits-by-hour", c.Title, c.Desc, "minutes", len(hours), ymax)
	s.start(ticks, intLabel)
	if marked {
		y := s.y(tg.Minutes())
		fmt.Fprintf(&s.b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="5 3"/>`, s.left, s.w-s.right, y, y, colTarget)
	}
	line := func(val func(Hour) float64, colour, dash, what string) {
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				fmt.Fprintf(&s.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"%s/>`, strings.Join(pts, " "), colour, dash)
			}
			pts = pts[:0]
		}
		for i, h := range hours {
			if h.Waits == 0 {
				flush()
				continue
			}
			x, y := s.x(float64(i)+0.5), s.y(val(h)/60)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(&s.b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %s : %s</title></circle>`,
				x, y, colour, esc(h.Label), esc(what), esc(minutesLabel(f, secs(val(h)))))
		}
		flush()
	}
	line(func(h Hour) float64 { return h.Median }, colVisit, "", tr(f, "médiane", "median"))
	line(func(h Hour) float64 { return h.P90 }, colPhone, ` stroke-dasharray="8 4"`, tr(f, "90e centile", "90th percentile"))
	s.xLabels(labels)
	s.xCaption(tr(f, "heure de prise du ticket", "hour the ticket was taken"))
	s.legend = [][2]string{{colVisit, tr(f, "Médiane", "Median")}, {colPhone, tr(f, "90e centile", "90th percentile")}}
	if marked {
		s.dashedLegend = [][2]string{{colTarget, tr(f, "Objectif", "Target")}}
	}
	c.SVG = s.end()
	return c
}
