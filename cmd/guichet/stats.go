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
	"strings"
	"text/tabwriter"
	"time"

	"guichet/hub/config"
	"guichet/hub/queue"
	"guichet/hub/stats"
	"guichet/hub/store"
)

const statsUsage = `usage: guichet stats [--data DIR] [--from AAAA-MM-JJ] [--to AAAA-MM-JJ]
                    [--service S] [--agent A] [--channel visit|phone]
                    [--csv FILE [--kind summary|detail]] [--lang fr|en] [--config FILE]
Prints the statistics of the days from --from to --to (the site's local days,
today by default; at most 400 days): tickets, waits, service times, the share
called within target, no-shows, cancellations, abandoned calls, transfers;
per service and agent. --csv also writes them as a CSV file for a
spreadsheet: the summary (one row per service and day) or the detail (one row
per ticket), in French (';', decimal comma) or English. It reads the hub's
log, whether the hub runs or not, and keeps its projection in DIR/stats.db.
Without --config, names and targets are those the hub last recorded.
docs/statistics.md says how each number is computed.`

// runStats runs "guichet stats".
func runStats(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), statsUsage) }
	data := fs.String("data", "data", "data directory of the hub")
	from := fs.String("from", "", "first day, AAAA-MM-JJ (today if empty)")
	to := fs.String("to", "", "last day, AAAA-MM-JJ (--from if empty)")
	service := fs.String("service", "", "only this service")
	agent := fs.String("agent", "", "only this agent")
	channel := fs.String("channel", "", "only this channel: visit or phone")
	csvPath := fs.String("csv", "", "also write the statistics as CSV to this file (- for the standard output)")
	kind := fs.String("kind", stats.KindSummary, "CSV: summary (one row per service and day) or detail (one row per ticket)")
	lang := fs.String("lang", "fr", "language of the output and the CSV: fr or en")
	cfgPath := fs.String("config", "", "site configuration: names and targets of the services")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New(statsUsage)
	}
	if *lang != "fr" && *lang != "en" {
		return fmt.Errorf("--lang: %q is neither fr nor en", *lang)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var site *queue.Site
	if *cfgPath != "" {
		_, s, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		site = &s
	}
	st, err := store.OpenDir(*data, store.DirOptions{Log: log})
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := stats.Open(ctx, stats.Options{Store: st, Site: site, Log: log})
	if errors.Is(err, stats.ErrNoSite) {
		// No site file and none recorded: the zone the hub recorded, the
		// services by their letters, without targets.
		facts, ok, ferr := st.SiteFacts()
		if ferr != nil || !ok {
			return fmt.Errorf("%w; no hub recorded the time zone either", err)
		}
		loc, lerr := time.LoadLocation(facts.Timezone)
		if lerr != nil {
			return fmt.Errorf("the recorded time zone %q: %w", facts.Timezone, lerr)
		}
		fmt.Fprintln(os.Stderr, "guichet stats: no --config and no site recorded: services by their letters, targets unknown")
		p, err = stats.Open(ctx, stats.Options{Store: st, Site: &queue.Site{Location: loc}, Log: log})
	}
	if err != nil {
		return err
	}
	defer p.Close()
	today := time.Now().In(mustZone(p.Site().Zone)).Format(time.DateOnly)
	v := map[string][]string{}
	for k, s := range map[string]string{"from": *from, "to": *to, "service": *service, "agent": *agent, "channel": *channel} {
		if s != "" {
			v[k] = []string{s}
		}
	}
	q, err := stats.ParseQuery(v, today)
	if err != nil {
		return err
	}
	start := time.Now()
	r, err := p.Report(ctx, q)
	if err != nil {
		return err
	}
	printStats(out, r, p.Site(), *lang, time.Since(start))
	if *csvPath == "" {
		return nil
	}
	w := out
	if *csvPath != "-" {
		f, err := os.OpenFile(*csvPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := p.WriteCSV(ctx, w, q, *kind, *lang); err != nil {
		return err
	}
	if *csvPath != "-" {
		fmt.Fprintf(out, "\n%s %s\n", map[string]string{"fr": "CSV écrit :", "en": "CSV written:"}[*lang], *csvPath)
	}
	return nil
}

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.Local
	}
	return l
}

// printStats writes the report as text, in lang.
func printStats(out io.Writer, r *stats.Report, site *stats.Site, lang string, took time.Duration) {
	f := stats.FormatFor(lang)
	fr := lang == "fr"
	t := func(frS, enS string) string {
		if fr {
			return frS
		}
		return enS
	}
	day := func(s string) string {
		d, _ := time.Parse(time.DateOnly, s)
		return d.Format(f.Date)
	}
	min := func(d stats.Dist, v float64) string {
		if d.N == 0 {
			return "—"
		}
		return f.Num(v/60) + " min"
	}
	share := func(s stats.Summary) string {
		if s.Share == nil {
			return "—"
		}
		return f.Num(*s.Share*100) + " %"
	}
	period := t("le ", "on ") + day(r.Query.From)
	if r.Query.To != r.Query.From {
		period = fmt.Sprintf(t("du %s au %s", "from %s to %s"), day(r.Query.From), day(r.Query.To))
	}
	var filters []string
	if r.Query.Service != "" {
		filters = append(filters, t("service ", "service ")+site.ServiceName(r.Query.Service, lang))
	}
	if r.Query.Agent != "" {
		filters = append(filters, t("agent ", "agent ")+site.AgentName(r.Query.Agent))
	}
	if r.Query.Channel != "" {
		filters = append(filters, t("canal ", "channel ")+string(r.Query.Channel))
	}
	title := t("Statistiques", "Statistics")
	if r.Site != "" {
		title += " — " + r.Site
	}
	fmt.Fprintf(out, "%s, %s (%s)", title, period, r.Zone)
	if len(filters) > 0 {
		fmt.Fprintf(out, ", %s", strings.Join(filters, ", "))
	}
	fmt.Fprintln(out)
	c := r.Total
	fmt.Fprintf(out, t("Tickets : %d (%d visites, %d appels ; %d imprimés hors ligne) ; encore en cours : %d\n",
		"Tickets: %d (%d visits, %d calls; %d printed offline); still open: %d\n"), c.Tickets, c.Visits, c.Phone, c.Offline, r.Open)
	fmt.Fprintf(out, t("Servis : %d ; absents : %d ; annulations : %d, dont abandons : %d ; transferts : %d ; rappels : %d\n",
		"Served: %d; no-shows: %d; cancellations: %d, abandoned calls among them: %d; transfers: %d; recalls: %d\n"),
		c.Served, c.NoShows, c.Cancelled, c.Abandoned, c.TransfersOut, c.Recalls)
	fmt.Fprintf(out, t("Temps d'attente : moyenne %s, médiane %s, 90e centile %s (%d tickets appelés)\n",
		"Wait: mean %s, median %s, 90th percentile %s (%d tickets called)\n"),
		min(c.Wait, c.Wait.Mean), min(c.Wait, c.Wait.Median), min(c.Wait, c.Wait.P90), c.Wait.N)
	fmt.Fprintf(out, t("Durée de traitement : moyenne %s, médiane %s, 90e centile %s (%d tickets servis)\n",
		"Service time: mean %s, median %s, 90th percentile %s (%d tickets served)\n"),
		min(c.ServiceTime, c.ServiceTime.Mean), min(c.ServiceTime, c.ServiceTime.Median), min(c.ServiceTime, c.ServiceTime.P90), c.ServiceTime.N)
	fmt.Fprintf(out, t("Taux de service dans l'objectif : %s (%d sur %d)\n", "Called within target: %s (%d of %d)\n"), share(c), c.WithinTarget, c.TargetBase)
	table := func(head string, rows []stats.Summary, name func(string) string) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintln(out)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", head, "Tickets", t("Servis", "Served"), t("Absents", "No-shows"),
			t("Annul.", "Cancel."), t("Attente méd.", "Median wait"), t("90e centile", "90th pct"), t("Dans l'objectif", "Within target"))
		for _, s := range rows {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", name(s.Key), s.Tickets, s.Served, s.NoShows, s.Cancelled,
				min(s.Wait, s.Wait.Median), min(s.Wait, s.Wait.P90), share(s))
		}
		tw.Flush()
	}
	table(t("Service", "Service"), r.Services, func(k string) string { return site.ServiceName(k, lang) })
	table(t("Agent", "Agent"), r.Agents, func(k string) string {
		if k == "" {
			return t("(sans agent)", "(no agent)")
		}
		return site.AgentName(k)
	})
	fmt.Fprintf(out, t("\n(calculé en %s)\n", "\n(computed in %s)\n"), took.Round(time.Millisecond))
}
