package stats

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"guichet/hub/queue"
)

// MaxDays is the longest range a report covers.
const MaxDays = 400

// Query selects the tickets a report covers: those issued on the site's
// local days From to To (inclusive), optionally of one service, one agent,
// one channel.
type Query struct {
	From    string        `json:"from"` // "2006-01-02"
	To      string        `json:"to"`
	Service string        `json:"service,omitempty"`
	Agent   string        `json:"agent,omitempty"`
	Channel queue.Channel `json:"channel,omitempty"`
}

// Days returns how many days the query covers.
func (q Query) Days() int {
	f, err1 := time.Parse(time.DateOnly, q.From)
	t, err2 := time.Parse(time.DateOnly, q.To)
	if err1 != nil || err2 != nil {
		return 0
	}
	return int(t.Sub(f)/(24*time.Hour)) + 1
}

// Check says what is wrong with the query, nil if nothing.
func (q Query) Check() error {
	f, err := time.Parse(time.DateOnly, q.From)
	if err != nil {
		return fmt.Errorf("from: %q is not a date (AAAA-MM-JJ)", q.From)
	}
	t, err := time.Parse(time.DateOnly, q.To)
	if err != nil {
		return fmt.Errorf("to: %q is not a date (AAAA-MM-JJ)", q.To)
	}
	switch {
	case t.Before(f):
		return fmt.Errorf("to (%s) is before from (%s)", q.To, q.From)
	case q.Days() > MaxDays:
		return fmt.Errorf("%d days from %s to %s: a report covers at most %d days", q.Days(), q.From, q.To, MaxDays)
	case q.Channel != "" && !q.Channel.Valid():
		return fmt.Errorf("channel: %q is neither visit nor phone", q.Channel)
	case len(q.Service) > queue.MaxIDLen || len(q.Agent) > queue.MaxIDLen:
		return fmt.Errorf("service or agent: at most %d characters", queue.MaxIDLen)
	}
	return nil
}

// Dist describes a set of durations, in seconds: count, mean, median and
// 90th percentile (nearest rank: the smallest duration that at least half,
// or 90 %, of the set do not exceed), and how many fall in each bucket.
type Dist struct {
	N       int      `json:"n"`
	Mean    float64  `json:"mean"`
	Median  float64  `json:"median"`
	P90     float64  `json:"p90"`
	Buckets []Bucket `json:"buckets,omitempty"`
}

// Bucket counts the durations in [From, To) seconds; To is 0 for the last,
// open-ended one.
type Bucket struct {
	From float64 `json:"from"`
	To   float64 `json:"to,omitempty"`
	N    int     `json:"n"`
}

// Counts are the tickets of a summary, by what happened to them.
type Counts struct {
	Tickets      int `json:"tickets"` // issued, less those voided by their kiosk
	Visits       int `json:"visits"`
	Phone        int `json:"phone"`
	Offline      int `json:"offline"` // printed by a kiosk while the hub did not answer
	Served       int `json:"served"`
	NoShows      int `json:"noshows"`
	Cancelled    int `json:"cancelled"` // every cancellation, abandoned calls included
	Abandoned    int `json:"abandoned"` // phone tickets cancelled while waiting
	TransfersOut int `json:"transfers_out"`
	TransfersIn  int `json:"transfers_in"`
	Recalls      int `json:"recalls"`
	Voided       int `json:"voided"` // cancelled by the kiosk that issued them; in no other count
}

// Summary is the statistics of a set of tickets: the whole query, or one
// service, agent, channel or day of it.
type Summary struct {
	Key  string `json:"key,omitempty"`
	Name string `json:"name,omitempty"`
	Counts
	Wait        Dist `json:"wait"`         // issue → first call
	ServiceTime Dist `json:"service_time"` // call → served
	// WithinTarget of TargetBase tickets were called within their
	// service's target; Share is their ratio, nil without a target.
	WithinTarget int      `json:"within_target"`
	TargetBase   int      `json:"target_base"`
	Share        *float64 `json:"within_target_share"`
}

// Hour is one hour of the report: the tickets issued in it, by channel,
// and their waits.
type Hour struct {
	Label  string  `json:"label"` // "09:00"; "02:00 UTC+2" when a day has it twice
	Hour   int     `json:"hour"`  // local clock hour
	Visits int     `json:"visits"`
	Phone  int     `json:"phone"`
	Waits  int     `json:"waits"`
	Median float64 `json:"wait_median"` // seconds
	P90    float64 `json:"wait_p90"`
}

// Report is the statistics of a query.
type Report struct {
	Query     Query     `json:"query"`
	Site      string    `json:"site"`
	Zone      string    `json:"zone"`
	Generated time.Time `json:"generated"`
	Total     Summary   `json:"total"`
	// Hours: for one day, each hour of that day as the clock showed it (23
	// in March, 25 in October); for a range, the 24 clock hours, summed
	// over its days.
	Hours    []Hour    `json:"hours"`
	Days     []Summary `json:"days"`
	Services []Summary `json:"services"`
	Agents   []Summary `json:"agents"`
	Channels []Summary `json:"channels"`
	// Open are the tickets issued in the range and not finished yet; they
	// are in no other number.
	Open int `json:"open"`
}

// acc gathers one summary. Each number is counted where it happened: a
// ticket's demand (its issue, its wait, the target it is held to, a
// transfer away) in the service it was issued for; its end (outcome,
// service time, a transfer received) in the service it ended in.
type acc struct {
	c            Counts
	waits, times []int64 // milliseconds
	within, base int
}

func (a *acc) demand(t *Ticket, target time.Duration) {
	if t.Outcome == Voided {
		a.c.Voided++
		return
	}
	a.c.Tickets++
	if t.Channel == queue.Phone {
		a.c.Phone++
	} else {
		a.c.Visits++
	}
	if t.Offline {
		a.c.Offline++
	}
	if t.Service != t.ServiceIn {
		a.c.TransfersOut++
	}
	w, called := t.Wait()
	if called {
		a.waits = append(a.waits, w.Milliseconds())
	}
	if target <= 0 {
		return
	}
	switch {
	case called:
		a.base++
		if w <= target {
			a.within++
		}
	case t.Ended.Sub(t.Issued) > target:
		a.base++ // left without a call, after waiting past the target
	}
}

func (a *acc) outcome(t *Ticket) {
	switch t.Outcome {
	case Voided:
		return
	case Served:
		a.c.Served++
		if d, ok := t.ServiceTime(); ok {
			a.times = append(a.times, d.Milliseconds())
		}
	case NoShow:
		a.c.NoShows++
	case Cancelled:
		a.c.Cancelled++
	case Abandoned:
		a.c.Cancelled++
		a.c.Abandoned++
	}
	if t.Service != t.ServiceIn {
		a.c.TransfersIn++
	}
	a.c.Recalls += t.Recalls
}

func (a *acc) summary(key, name string, edges []int64) Summary {
	s := Summary{Key: key, Name: name, Counts: a.c, Wait: dist(a.waits, edges), ServiceTime: dist(a.times, edges),
		WithinTarget: a.within, TargetBase: a.base}
	if a.base > 0 {
		v := float64(a.within) / float64(a.base)
		s.Share = &v
	}
	return s
}

// dist describes ms (reordered in place); edges are the buckets' bounds in
// milliseconds (the last bucket is open).
func dist(ms []int64, edges []int64) Dist {
	d := Dist{N: len(ms)}
	if len(edges) > 0 {
		d.Buckets = make([]Bucket, len(edges))
		for i, e := range edges {
			d.Buckets[i].From = float64(e) / 1000
			if i+1 < len(edges) {
				d.Buckets[i].To = float64(edges[i+1]) / 1000
			}
		}
	}
	if len(ms) == 0 {
		return d
	}
	var sum int64
	for _, v := range ms {
		sum += v
		if len(edges) > 0 {
			i := sort.Search(len(edges), func(i int) bool { return edges[i] > v }) - 1
			d.Buckets[max(i, 0)].N++
		}
	}
	d.Mean = float64(sum) / float64(len(ms)) / 1000
	m := rankIndex(len(ms), 0.5)
	d.Median = float64(nth(ms, m)) / 1000
	// nth left everything from m on at or above ms[m]: the 90th percentile
	// is among them.
	d.P90 = float64(nth(ms[m:], rankIndex(len(ms), 0.9)-m)) / 1000
	return d
}

// rankIndex is the index, in sorted order, of the nearest-rank percentile
// p of n values: rank ⌈p·n⌉, counted from 1.
func rankIndex(n int, p float64) int {
	return min(max(int(math.Ceil(p*float64(n)))-1, 0), n-1)
}

// nth returns the value that would be at index k if a were sorted, and
// reorders a so that a[:k] are not above it and a[k:] not below
// (quickselect: linear on average, where sorting is n log n).
func nth(a []int64, k int) int64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		// Median of three as the pivot: sorted or constant input stays linear.
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// edges are the distribution's buckets: every 5 minutes up to an hour, or
// to twice the longest target if that is longer, then one for the rest.
func (s *Site) edges() []int64 {
	top := time.Hour
	for _, sv := range s.Services {
		top = max(top, (2*sv.Target+5*time.Minute-1)/(5*time.Minute)*(5*time.Minute))
	}
	var out []int64
	for e := time.Duration(0); e <= top; e += 5 * time.Minute {
		out = append(out, e.Milliseconds())
	}
	return out
}

// Report catches the projection up with the log, then computes the
// statistics of q.
func (p *Projection) Report(ctx context.Context, q Query) (*Report, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	if _, err := p.CatchUp(ctx); err != nil {
		return nil, err
	}
	r := &Report{Query: q, Site: p.site.Name, Zone: p.site.Zone, Generated: p.clock()}
	var total acc
	days, services, agents, channels := groups{}, groups{}, groups{}, groups{}
	hours, slotOf, err := p.hourSlots(q)
	if err != nil {
		return nil, err
	}
	hourAcc := make([]acc, len(hours))
	err = p.each(ctx, q, func(t *Ticket) {
		inS := q.Service == "" || t.ServiceIn == q.Service
		outS := q.Service == "" || t.Service == q.Service
		target := p.site.Target(t.ServiceIn)
		d, a, c := days.get(t.Day), agents.get(t.Agent), channels.get(string(t.Channel))
		if inS {
			total.demand(t, target)
			d.demand(t, target)
			services.get(t.ServiceIn).demand(t, target)
			a.demand(t, target)
			c.demand(t, target)
			if i := slotOf(t); i >= 0 && i < len(hourAcc) {
				hourAcc[i].demand(t, target)
			}
		}
		if outS {
			total.outcome(t)
			d.outcome(t)
			services.get(t.Service).outcome(t)
			a.outcome(t)
			c.outcome(t)
		}
	})
	if err != nil {
		return nil, err
	}
	edges := p.site.edges()
	r.Total = total.summary("", "", edges)
	for i := range hours {
		a := &hourAcc[i]
		h := &hours[i]
		h.Visits, h.Phone = a.c.Visits, a.c.Phone
		w := dist(a.waits, nil)
		h.Waits, h.Median, h.P90 = w.N, w.Median, w.P90
	}
	r.Hours = hours
	r.Days = days.summaries(edges, func(k string) string { return k })
	r.Services = services.summaries(edges, func(k string) string { return p.site.ServiceName(k, "fr") })
	if q.Service != "" {
		r.Services = slices.DeleteFunc(r.Services, func(s Summary) bool { return s.Key != q.Service })
	}
	r.Agents = agents.summaries(edges, p.site.AgentName)
	r.Channels = channels.summaries(edges, func(k string) string { return k })
	if r.Open, err = p.countOpen(ctx, q); err != nil {
		return nil, err
	}
	return r, nil
}

type groups map[string]*acc

func (g groups) get(k string) *acc {
	a := g[k]
	if a == nil {
		a = &acc{}
		g[k] = a
	}
	return a
}

func (g groups) summaries(edges []int64, name func(string) string) []Summary {
	out := make([]Summary, 0, len(g))
	for k, a := range g {
		out = append(out, a.summary(k, name(k), edges))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// hourSlots lists the hours of the report and says in which one a ticket
// falls. For one day: each hour from local midnight to the next, as the
// clock showed it (the October day has two "02:00", told apart by their UTC
// offset; the March day has none). For a range: the 24 clock hours.
func (p *Projection) hourSlots(q Query) ([]Hour, func(*Ticket) int, error) {
	if q.From != q.To {
		hours := make([]Hour, 24)
		for h := range hours {
			hours[h] = Hour{Hour: h, Label: fmt.Sprintf("%02d:00", h)}
		}
		return hours, func(t *Ticket) int { return t.Hour }, nil
	}
	start, err := time.ParseInLocation(time.DateOnly, q.From, p.loc)
	if err != nil {
		return nil, nil, err
	}
	y, m, d := start.Date()
	end := time.Date(y, m, d+1, 0, 0, 0, 0, p.loc)
	var hours []Hour
	seen := map[string]int{}
	for at := start; at.Before(end); at = at.Add(time.Hour) {
		l := at.In(p.loc)
		h := Hour{Hour: l.Hour(), Label: l.Format("15:04")}
		seen[h.Label]++
		hours = append(hours, h)
	}
	for i := range hours {
		if seen[hours[i].Label] > 1 {
			at := start.Add(time.Duration(i) * time.Hour).In(p.loc)
			_, off := at.Zone()
			hours[i].Label += fmt.Sprintf(" UTC%+d", off/3600)
		}
	}
	return hours, func(t *Ticket) int {
		if t.Issued.Before(start) {
			return -1
		}
		return int(t.Issued.Sub(start) / time.Hour)
	}, nil
}

// scan calls fn with each finished ticket the query selects, in day order.
// The ticket is reused from one call to the next.
func (p *Projection) scan(ctx context.Context, q Query, fn func(*Ticket)) error {
	where, args := q.where()
	rows, err := p.db.QueryContext(ctx, `SELECT `+ticketCols+` FROM tickets WHERE `+where+` ORDER BY day, issued, id`, args...)
	if err != nil {
		return fmt.Errorf("statistics: read tickets: %w", err)
	}
	defer rows.Close()
	var t Ticket
	for rows.Next() {
		if err := rows.Scan(t.dests()...); err != nil {
			return fmt.Errorf("statistics: read ticket: %w", err)
		}
		t.fromScan()
		fn(&t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("statistics: read tickets: %w", err)
	}
	return nil
}

func (q Query) where() (string, []any) {
	w := []string{"day BETWEEN ? AND ?"}
	args := []any{q.From, q.To}
	if q.Service != "" {
		w = append(w, "(service = ? OR service_in = ?)")
		args = append(args, q.Service, q.Service)
	}
	if q.Agent != "" {
		w = append(w, "agent = ?")
		args = append(args, q.Agent)
	}
	if q.Channel != "" {
		w = append(w, "channel = ?")
		args = append(args, string(q.Channel))
	}
	return strings.Join(w, " AND "), args
}

func (p *Projection) countOpen(ctx context.Context, q Query) (int, error) {
	where, args := q.where()
	var n int
	if err := p.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM open WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("statistics: count open tickets: %w", err)
	}
	return n, nil
}
