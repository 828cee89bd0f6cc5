package forecast

import (
	"fmt"
	"math"
	"time"
)

// Arrival is a ticket taken: its service and when.
type Arrival struct {
	Service string
	At      time.Time
}

// Period is a stretch of the town's calendar that changes the demand: the
// school holidays of the site's zone, the passport and ID-card spring
// season, an election's weeks. Days from From to To, both included (dates
// in the site's zone; only the date counts). Periods of the same Kind share
// one factor.
type Period struct {
	Kind     string // "vacances", "passeports", "élections"…
	From, To time.Time
}

// Model is the demand learnt from the log: per service, weekday and hour,
// the tickets of an ordinary day; per service and kind of period, how many
// times the ordinary demand comes then.
type Model struct {
	loc     *time.Location
	periods []Period
	base    map[string]*[7][24]float64 // service → weekday → hour → tickets
	factor  map[string]map[string]float64
}

// Learn fits a model on the arrivals of the days [from, to) in loc: the
// weekly shape is the mean, per weekday and hour, over the ordinary days
// (outside every period) of that weekday; a period kind's factor is the
// tickets of its days over what the weekly shape predicts for them. A
// weekday with no ordinary day in the history has no demand.
func Learn(arrivals []Arrival, from, to time.Time, loc *time.Location, periods []Period) (*Model, error) {
	if loc == nil {
		return nil, fmt.Errorf("learn the demand: no time zone")
	}
	from, to = date(from, loc), date(to, loc)
	if !to.After(from) {
		return nil, fmt.Errorf("learn the demand: empty history %s to %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	m := &Model{loc: loc, periods: periods, base: map[string]*[7][24]float64{}, factor: map[string]map[string]float64{}}
	// Ordinary days per weekday, and the period days.
	var ordinary [7]int
	periodDays := map[string][]time.Time{}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if k := m.kind(d); k != "" {
			periodDays[k] = append(periodDays[k], d)
		} else {
			ordinary[d.Weekday()]++
		}
	}
	counts := map[string]map[time.Time]*[24]float64{} // service → day → hour → tickets
	for _, a := range arrivals {
		t := a.At.In(loc)
		d := date(t, loc)
		if d.Before(from) || !d.Before(to) {
			continue
		}
		if counts[a.Service] == nil {
			counts[a.Service] = map[time.Time]*[24]float64{}
		}
		h := counts[a.Service][d]
		if h == nil {
			h = new([24]float64)
			counts[a.Service][d] = h
		}
		h[t.Hour()]++
	}
	for svc, days := range counts {
		b := new([7][24]float64)
		for d, h := range days {
			if m.kind(d) != "" || ordinary[d.Weekday()] == 0 {
				continue
			}
			for hr, n := range h {
				b[d.Weekday()][hr] += n / float64(ordinary[d.Weekday()])
			}
		}
		m.base[svc] = b
		m.factor[svc] = map[string]float64{}
		for k, ds := range periodDays {
			var seen, expected float64
			for _, d := range ds {
				for hr := range 24 {
					expected += b[d.Weekday()][hr]
					if h := days[d]; h != nil {
						seen += h[hr]
					}
				}
			}
			if expected > 0 {
				m.factor[svc][k] = seen / expected
			}
		}
	}
	return m, nil
}

// Expected is the tickets of service expected in the hour starting at t.
func (m *Model) Expected(service string, t time.Time) float64 {
	b := m.base[service]
	if b == nil {
		return 0
	}
	t = t.In(m.loc)
	n := b[t.Weekday()][t.Hour()]
	if k := m.kind(date(t, m.loc)); k != "" {
		if f, ok := m.factor[service][k]; ok {
			n *= f
		}
	}
	return n
}

// Factor is how many times the ordinary demand of service comes in periods
// of kind (1 when the history has none).
func (m *Model) Factor(service, kind string) float64 {
	if f, ok := m.factor[service][kind]; ok {
		return f
	}
	return 1
}

// kind is the kind of the first period day d falls in, "" for none.
func (m *Model) kind(d time.Time) string {
	for _, p := range m.periods {
		if !d.Before(date(p.From, m.loc)) && !d.After(date(p.To, m.loc)) {
			return p.Kind
		}
	}
	return ""
}

// Backtest compares the model's hourly forecast with the arrivals of the
// days [from, to): the mean absolute percentage error over the hours of a
// service that had at least minTickets tickets (hours with fewer make the
// percentage meaningless), and how many hours it counted.
func (m *Model) Backtest(arrivals []Arrival, from, to time.Time, minTickets float64) (mape float64, hours int) {
	return backtest(m.Expected, m.loc, arrivals, from, to, minTickets)
}

func backtest(expected func(service string, t time.Time) float64, loc *time.Location, arrivals []Arrival, from, to time.Time, minTickets float64) (mape float64, hours int) {
	from, to = date(from, loc), date(to, loc)
	type slot struct {
		svc string
		at  time.Time
	}
	seen := map[slot]float64{}
	for _, a := range arrivals {
		t := a.At.In(loc)
		if d := date(t, loc); d.Before(from) || !d.Before(to) {
			continue
		}
		seen[slot{a.Service, t.Truncate(time.Hour)}]++
	}
	var sum float64
	for s, n := range seen {
		if n < minTickets {
			continue
		}
		sum += math.Abs(expected(s.svc, s.at)-n) / n
		hours++
	}
	if hours == 0 {
		return 0, 0
	}
	return sum / float64(hours), hours
}

// date is t's day at midnight in loc.
func date(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
