package console

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"guichet/hub/forecast"
	"guichet/hub/queue"
	"guichet/hub/stats"
	"guichet/hub/store"
)

// Forecast page's settings: the share of citizens to serve within their
// service's target wait, and the hours of the hourly comparison that count
// (an hour with fewer tickets makes a percentage meaningless).
const (
	ForecastShare      = 0.8
	forecastMinTickets = 3
)

// forecastView is the reception manager's staffing forecast: next week's
// tickets and agents per service, hour and weekday, learnt from the event
// log; and last week's forecast beside what happened.
type forecastView struct {
	frame
	Weeks            int
	From             string // the week's first day, YYYY-MM-DD (the form's)
	Error            string
	Learnt           int    // tickets of the history
	HistFrom, HistTo string // the history's first and last day, as lang writes dates
	Days             []string
	Services         []forecastTable // tickets and agents
	Staff            *forecastTable  // agents of every service, per hour
	Past             *pastWeek
	Share            string
}

// forecastTable is a service's week: an hour per row, a day per column.
type forecastTable struct {
	ID, Name, Target string
	Rows             []forecastRow
	Totals           []string // tickets per day
}

type forecastRow struct {
	Hour  string
	Cells []forecastCell
}

// forecastCell is an hour of a day: the tickets expected, the agents they
// need, and a shade (0–5) by the tickets (or agents) against the table's
// busiest hour.
type forecastCell struct {
	Tickets string
	Agents  int
	Heat    int
	Empty   bool
}

// pastWeek is last week's forecast (learnt from the weeks before it)
// beside the tickets that came, per service and day.
type pastWeek struct {
	From, To string
	Days     []string
	Rows     []pastRow
	Hourly   string // the mean absolute percentage error per hour, over the hours that count
	Hours    int
	Note     string // why there is nothing to compare
}

type pastRow struct {
	Name      string
	Cells     []pastCell
	Forecast  string
	Actual    string
	Deviation string
}

type pastCell struct {
	Forecast, Actual, Deviation string
	Far                         bool // off by more than a quarter
	Empty                       bool
}

// forecastPage shows the staffing forecast of the week starting ?from=
// (next Monday by default), learnt from the ?weeks= weeks (12) before today.
func (p *Pages) forecastPage(w http.ResponseWriter, r *http.Request) {
	v := forecastView{frame: p.frame(r, "forecast", "fc_title"), Weeks: 12}
	l := v.Lang
	f := stats.FormatFor(l)
	v.Share = strconv.Itoa(int(ForecastShare * 100))
	var site queue.Site
	p.o.Hub.Read(func(e *queue.Engine) { site = *e.Site() })
	loc := site.Location
	now := p.o.Hub.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	from := nextMonday(today)
	bad := func(msg string) {
		v.Error = msg
		w.WriteHeader(http.StatusBadRequest)
		p.render(w, "forecast.html", v)
	}
	v.From = from.Format(time.DateOnly)
	if q := r.URL.Query().Get("weeks"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 104 {
			bad(T(l, "fc_bad_weeks"))
			return
		}
		v.Weeks = n
	}
	if q := r.URL.Query().Get("from"); q != "" {
		d, err := time.ParseInLocation(time.DateOnly, q, loc)
		if err != nil {
			v.From = q
			bad(T(l, "fc_bad_from"))
			return
		}
		from, v.From = d, q
	}
	// One read of the log: the history of the forecast, and that of last
	// week's (the weeks before last week), which starts a week earlier.
	lastMonday := nextMonday(today).AddDate(0, 0, -14)
	histFrom := today.AddDate(0, 0, -7*v.Weeks)
	arrivals, err := arrivalsBetween(r.Context(), p.o.Hub.Store(), lastMonday.AddDate(0, 0, -7*v.Weeks), today)
	if err != nil {
		if r.Context().Err() == nil {
			p.log.Error("forecast page: read the log", "err", err)
		}
		http.Error(w, T(l, "e_unavailable"), http.StatusInternalServerError)
		return
	}
	var needs []forecast.Need
	for _, s := range site.Services {
		needs = append(needs, forecast.Need{Service: s.ID, Mean: s.ServiceTime, Target: s.SLA})
	}
	for _, a := range arrivals {
		if !a.At.Before(histFrom) {
			v.Learnt++
		}
	}
	v.HistFrom, v.HistTo = histFrom.Format(f.Date), today.AddDate(0, 0, -1).Format(f.Date)
	if m, err := forecast.Learn(arrivals, histFrom, today, loc, nil); err != nil {
		p.log.Warn("forecast page: learn", "err", err)
	} else if plan, err := m.Plan(from, 7, needs, ForecastShare); err != nil {
		p.log.Warn("forecast page: plan", "err", err)
		v.Error = T(l, "fc_no_plan")
	} else {
		p.weekTables(&v, plan, site, from, f)
	}
	v.Past = p.pastWeek(arrivals, site, lastMonday, v.Weeks, f, l)
	p.render(w, "forecast.html", v)
}

// weekTables lays the plan out: a table per service, and the agents of
// all services per hour; the days and hours without a ticket expected are
// left out.
func (p *Pages) weekTables(v *forecastView, plan []forecast.Slot, site queue.Site, from time.Time, f stats.Format) {
	type key struct {
		svc     string
		day, hr int
	}
	slots := map[key]forecast.Slot{}
	var days, hours []int
	for _, s := range plan {
		d := daysFrom(from, s.Start)
		slots[key{s.Service, d, s.Start.Hour()}] = s
		if !slices.Contains(days, d) {
			days = append(days, d)
		}
		if !slices.Contains(hours, s.Start.Hour()) {
			hours = append(hours, s.Start.Hour())
		}
	}
	slices.Sort(days)
	slices.Sort(hours)
	for _, d := range days {
		v.Days = append(v.Days, dayName(from.AddDate(0, 0, d), v.Lang))
	}
	staff := forecastTable{Name: T(v.Lang, "fc_all")}
	agents := map[[2]int]int{}
	maxAgents := 0
	for _, s := range site.Services {
		t := forecastTable{ID: s.ID, Name: s.Name(v.Lang), Target: duration(v.Lang, s.SLA)}
		most := 0.0
		totals := make([]float64, len(days))
		for _, h := range hours {
			for i, d := range days {
				sl := slots[key{s.ID, d, h}]
				most = math.Max(most, sl.Tickets)
				totals[i] += sl.Tickets
				agents[[2]int{d, h}] += sl.Agents
				maxAgents = max(maxAgents, agents[[2]int{d, h}])
			}
		}
		if most == 0 {
			continue
		}
		for _, h := range hours {
			row := forecastRow{Hour: strconv.Itoa(h) + " h"}
			for _, d := range days {
				sl, ok := slots[key{s.ID, d, h}]
				if !ok {
					row.Cells = append(row.Cells, forecastCell{Empty: true})
					continue
				}
				row.Cells = append(row.Cells, forecastCell{Tickets: f.Num(sl.Tickets), Agents: sl.Agents, Heat: heat(sl.Tickets, most)})
			}
			t.Rows = append(t.Rows, row)
		}
		for _, n := range totals {
			t.Totals = append(t.Totals, f.Num(n))
		}
		v.Services = append(v.Services, t)
	}
	for _, h := range hours {
		row := forecastRow{Hour: strconv.Itoa(h) + " h"}
		for _, d := range days {
			n, ok := agents[[2]int{d, h}]
			row.Cells = append(row.Cells, forecastCell{Agents: n, Heat: heat(float64(n), float64(maxAgents)), Empty: !ok || n == 0})
		}
		staff.Rows = append(staff.Rows, row)
	}
	if len(hours) > 0 {
		v.Staff = &staff
	}
}

// pastWeek is last week (Monday lastMonday to Sunday) as the forecast
// learnt from the weeks weeks before it saw it, beside what came.
func (p *Pages) pastWeek(arrivals []forecast.Arrival, site queue.Site, lastMonday time.Time, weeks int, f stats.Format, l string) *pastWeek {
	loc := site.Location
	end := lastMonday.AddDate(0, 0, 7)
	pw := &pastWeek{From: lastMonday.Format(f.Date), To: end.AddDate(0, 0, -1).Format(f.Date)}
	m, err := forecast.Learn(arrivals, lastMonday.AddDate(0, 0, -7*weeks), lastMonday, loc, nil)
	if err != nil {
		pw.Note = T(l, "fc_past_none")
		return pw
	}
	actual := map[string]*[7]float64{}
	for _, a := range arrivals {
		t := a.At.In(loc)
		if t.Before(lastMonday) || !t.Before(end) {
			continue
		}
		if actual[a.Service] == nil {
			actual[a.Service] = new([7]float64)
		}
		actual[a.Service][daysFrom(lastMonday, t)]++
	}
	var cols []int
	rows := map[string]*[7]float64{}
	for _, s := range site.Services {
		fc := new([7]float64)
		for d := range 7 {
			day := lastMonday.AddDate(0, 0, d)
			for h := range 24 {
				fc[d] += m.Expected(s.ID, time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, loc))
			}
		}
		rows[s.ID] = fc
		for d := range 7 {
			if a := actual[s.ID]; (fc[d] >= 0.05 || a != nil && a[d] > 0) && !slices.Contains(cols, d) {
				cols = append(cols, d)
			}
		}
	}
	slices.Sort(cols)
	if len(cols) == 0 {
		pw.Note = T(l, "fc_past_none")
		return pw
	}
	for _, d := range cols {
		pw.Days = append(pw.Days, dayName(lastMonday.AddDate(0, 0, d), l))
	}
	for _, s := range site.Services {
		fc, act := rows[s.ID], actual[s.ID]
		if act == nil {
			act = new([7]float64)
		}
		row := pastRow{Name: s.Name(l)}
		var sf, sa float64
		for _, d := range cols {
			sf, sa = sf+fc[d], sa+act[d]
			c := pastCell{Forecast: f.Num(fc[d]), Actual: strconv.Itoa(int(act[d])), Empty: fc[d] < 0.05 && act[d] == 0}
			c.Deviation, c.Far = deviation(fc[d], act[d], l)
			row.Cells = append(row.Cells, c)
		}
		if sf < 0.05 && sa == 0 {
			continue
		}
		row.Forecast, row.Actual = f.Num(sf), strconv.Itoa(int(sa))
		row.Deviation, _ = deviation(sf, sa, l)
		pw.Rows = append(pw.Rows, row)
	}
	mape, hours := m.Backtest(arrivals, lastMonday, end, forecastMinTickets)
	if hours > 0 {
		pw.Hourly, pw.Hours = f.Num(mape*100)+map[bool]string{true: "%", false: " %"}[l == "en"], hours
	}
	return pw
}

// deviation says how far the forecast was from what came, as a signed
// percentage of what came ("+12 %"), and whether by more than a quarter.
func deviation(forecast, actual float64, lang string) (string, bool) {
	if actual == 0 {
		return T(lang, "dash"), forecast >= 1
	}
	d := (forecast - actual) / actual * 100
	s := strconv.Itoa(int(math.Round(d)))
	if d >= 0 {
		s = "+" + s
	}
	if lang != "en" {
		s += " "
	}
	return s + "%", math.Abs(d) > 25
}

// daysFrom is the number of days from the day of from to that of t, in
// from's zone, whatever daylight-saving change lies between.
func daysFrom(from, t time.Time) int {
	t = t.In(from.Location())
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, from.Location())
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, from.Location())
	return int(math.Round(day.Sub(start).Hours() / 24))
}

// heat is a shade from 1 (quiet) to 5 (the busiest), 0 for none.
func heat(n, most float64) int {
	if n <= 0 || most <= 0 {
		return 0
	}
	return max(1, int(math.Ceil(n/most*5)))
}

// dayName says a day as "lun. 07/12" (fr) or "Mon 07/12" (en).
func dayName(d time.Time, lang string) string {
	names := map[string][]string{"fr": {"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."}, "en": {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}}
	n, ok := names[lang]
	if !ok {
		n = names["fr"]
	}
	return n[d.Weekday()] + " " + d.Format("02/01")
}

// nextMonday is the first Monday after day d: the manager plans the
// coming week.
func nextMonday(d time.Time) time.Time {
	n := (8 - int(d.Weekday())) % 7
	if n == 0 {
		n = 7
	}
	return d.AddDate(0, 0, n)
}

// arrivalsBetween reads the tickets issued between from and to.
func arrivalsBetween(ctx context.Context, st *store.Store, from, to time.Time) ([]forecast.Arrival, error) {
	arrivals, _, err := forecast.FromLog(func(after int64, limit int) ([]queue.Event, error) {
		return st.EventsBetween(ctx, from, to, after, limit)
	})
	if err != nil {
		return nil, fmt.Errorf("read the log from %s to %s: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	return arrivals, nil
}
