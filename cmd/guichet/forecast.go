//go:build !device

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"guichet/hub/config"
	"guichet/hub/forecast"
	"guichet/hub/queue"
	"guichet/hub/store"
)

const forecastUsage = `usage: guichet forecast [--data DIR] [--config FILE] [--weeks N] [--until AAAA-MM-JJ] [--from AAAA-MM-JJ]
                       [--days N] [--share 0.8] [--period TYPE:AAAA-MM-JJ:AAAA-MM-JJ]...
Prévision des besoins en agents : les tickets attendus par service et par
heure pour les --days jours à partir de --from (lundi prochain par défaut),
appris des --weeks semaines du journal du hub jusqu'à --until (hier), et les agents qu'il
faut à chaque heure pour servir --share des usagers dans le délai cible du
service (Erlang A : la patience des usagers, apprise des abandons du journal ;
Erlang C pour un service qui en a trop peu). --period (répétable) déclare une période du calendrier de
la commune : vacances scolaires de la zone, saison des passeports, élections ;
les périodes d'un même TYPE partagent un facteur appris de l'historique.
The staffing forecast: tickets per service and hour, agents needed per hour.`

// runForecast runs "guichet forecast".
func runForecast(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("forecast", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), forecastUsage) }
	data := fs.String("data", "data", "data directory of the hub")
	cfgPath := fs.String("config", "guichet.yaml", "site configuration: services, service times, target waits, time zone")
	weeks := fs.Int("weeks", 12, "weeks of history to learn from")
	until := fs.String("until", "", "last day of the history, AAAA-MM-JJ (yesterday if empty)")
	from := fs.String("from", "", "first day of the forecast, AAAA-MM-JJ (next Monday if empty)")
	days := fs.Int("days", 6, "days forecast")
	share := fs.Float64("share", 0.8, "share of citizens to serve within the target wait")
	var periods periodFlags
	fs.Var(&periods, "period", "a period of the calendar, TYPE:AAAA-MM-JJ:AAAA-MM-JJ (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New(forecastUsage)
	}
	if *weeks < 1 || *weeks > 104 {
		return fmt.Errorf("--weeks %d: from 1 to 104", *weeks)
	}
	_, site, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	loc := site.Location
	start := nextMonday(time.Now().In(loc))
	if *from != "" {
		if start, err = time.ParseInLocation(time.DateOnly, *from, loc); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
	}
	ps, err := periods.parse(loc)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.OpenDir(*data, store.DirOptions{Log: log})
	if err != nil {
		return err
	}
	defer st.Close()
	// The history: the weeks before today (the forecast may start later).
	histTo := time.Now().In(loc)
	histTo = time.Date(histTo.Year(), histTo.Month(), histTo.Day(), 0, 0, 0, 0, loc)
	if *until != "" {
		last, err := time.ParseInLocation(time.DateOnly, *until, loc)
		if err != nil {
			return fmt.Errorf("--until: %w", err)
		}
		histTo = last.AddDate(0, 0, 1)
	}
	histFrom := histTo.AddDate(0, 0, -7**weeks)
	arrivals, waits, err := readArrivals(ctx, st, histFrom, histTo)
	if err != nil {
		return err
	}
	patience := forecast.Patience(waits)
	m, err := forecast.Learn(arrivals, histFrom, histTo, loc, ps)
	if err != nil {
		return err
	}
	var needs []forecast.Need
	for _, s := range site.Services {
		needs = append(needs, forecast.Need{Service: s.ID, Mean: s.ServiceTime, Target: s.SLA, Patience: patience[s.ID]})
	}
	plan, err := m.Plan(start, *days, needs, *share)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Prévision du %s, %d jours, apprise de %d tickets (%s – %s) ; agents pour servir %.0f %% dans le délai cible.\n",
		start.Format(time.DateOnly), *days, len(arrivals), histFrom.Format(time.DateOnly), histTo.AddDate(0, 0, -1).Format(time.DateOnly), 100**share)
	var ps2 []string
	for _, s := range site.Services {
		if p, ok := patience[s.ID]; ok {
			ps2 = append(ps2, fmt.Sprintf("%s %.0f min", s.ID, p.Minutes()))
		}
	}
	if len(ps2) > 0 {
		fmt.Fprintf(out, "Patience moyenne apprise des abandons (Erlang A) : %s ; les autres services : Erlang C.\n", strings.Join(ps2, ", "))
	} else {
		fmt.Fprintf(out, "Trop peu d'abandons dans le journal (moins de %d par service) : Erlang C.\n", forecast.MinGaveUp)
	}
	printPlan(out, plan, site)
	return nil
}

// printPlan writes the plan as a table: an hour per row, a service per
// column ("tickets / agents").
func printPlan(out io.Writer, plan []forecast.Slot, site queue.Site) {
	if len(plan) == 0 {
		fmt.Fprintln(out, "Aucun ticket attendu : pas d'historique sur ces jours de la semaine.")
		return
	}
	type row struct {
		at    time.Time
		cells map[string]forecast.Slot
	}
	byHour := map[time.Time]*row{}
	for _, s := range plan {
		r := byHour[s.Start]
		if r == nil {
			r = &row{at: s.Start, cells: map[string]forecast.Slot{}}
			byHour[s.Start] = r
		}
		r.cells[s.Service] = s
	}
	rows := make([]*row, 0, len(byHour))
	for _, r := range byHour {
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].at.Before(rows[j].at) })
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"jour", "heure"}
	for _, s := range site.Services {
		head = append(head, s.ID+" tickets", s.ID+" agents")
	}
	head = append(head, "agents")
	fmt.Fprintln(w, strings.Join(head, "\t")+"\t")
	for _, r := range rows {
		line := []string{r.at.Format("Mon 02/01"), r.at.Format("15h")}
		total := 0
		for _, s := range site.Services {
			c, ok := r.cells[s.ID]
			if !ok {
				line = append(line, "", "")
				continue
			}
			line = append(line, fmt.Sprintf("%.1f", c.Tickets), fmt.Sprint(c.Agents))
			total += c.Agents
		}
		line = append(line, fmt.Sprint(total))
		fmt.Fprintln(w, strings.Join(line, "\t")+"\t")
	}
	w.Flush()
}

// readArrivals reads the arrivals and the waits of the log from from to to.
func readArrivals(ctx context.Context, st *store.Store, from, to time.Time) ([]forecast.Arrival, []forecast.Wait, error) {
	arrivals, waits, err := forecast.FromLog(func(after int64, limit int) ([]queue.Event, error) {
		return st.EventsBetween(ctx, from, to, after, limit)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read the log: %w", err)
	}
	return arrivals, waits, nil
}

// nextMonday is the first Monday after t's day: the manager plans the
// coming week.
func nextMonday(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	n := (8 - int(d.Weekday())) % 7
	if n == 0 {
		n = 7
	}
	return d.AddDate(0, 0, n)
}

// periodFlags are the --period flags.
type periodFlags []string

func (p *periodFlags) String() string     { return strings.Join(*p, ",") }
func (p *periodFlags) Set(v string) error { *p = append(*p, v); return nil }

func (p periodFlags) parse(loc *time.Location) ([]forecast.Period, error) {
	var out []forecast.Period
	for _, v := range p {
		parts := strings.Split(v, ":")
		if len(parts) != 3 || parts[0] == "" {
			return nil, fmt.Errorf("--period %q: TYPE:AAAA-MM-JJ:AAAA-MM-JJ", v)
		}
		from, err1 := time.ParseInLocation(time.DateOnly, parts[1], loc)
		to, err2 := time.ParseInLocation(time.DateOnly, parts[2], loc)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("--period %q: %w", v, err)
		}
		if to.Before(from) {
			return nil, fmt.Errorf("--period %q: ends before it starts", v)
		}
		out = append(out, forecast.Period{Kind: parts[0], From: from, To: to})
	}
	return out, nil
}
