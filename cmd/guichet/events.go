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
	"time"

	"guichet/cloud"
	"guichet/hub/config"
	"guichet/hub/store"
)

const eventsUsage = `usage: guichet events export [--data DIR] --from DAY|TIME --to DAY|TIME
                      [--format csv|ndjson] [--out FILE] [--config FILE]
Writes the events of the hub's log that happened from --from to --to (days,
AAAA-MM-JJ, in the site's time zone, --to's day included; or RFC 3339
times, --to excluded), for a town's data warehouse: NDJSON (one CloudEvent a
line, as integrations receive them) or CSV (one event a row, columns named
as the events' fields). No personal data: never the free-text citizen, a
QR token, an appointment code or the account events. It reads the log
whether the hub runs or not. Without --config, the services, counters and
agents are shown by their ids. docs/integrations.md describes the columns.`

// runEvents runs "guichet events".
func runEvents(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return errors.New(eventsUsage)
	}
	fs := flag.NewFlagSet("events export", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), eventsUsage) }
	data := fs.String("data", "data", "data directory of the hub")
	from := fs.String("from", "", "first day (AAAA-MM-JJ) or time (RFC 3339)")
	to := fs.String("to", "", "last day (included) or time (excluded)")
	format := fs.String("format", cloud.NDJSON, "csv or ndjson")
	outPath := fs.String("out", "-", "file to write (- for the standard output)")
	cfgPath := fs.String("config", "", "site configuration: names of services, counters and agents")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || *from == "" || *to == "" {
		return errors.New(eventsUsage)
	}
	if *format != cloud.CSV && *format != cloud.NDJSON {
		return fmt.Errorf("--format: %q is neither csv nor ndjson", *format)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.OpenDir(*data, store.DirOptions{Log: log})
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := st.Identity()
	if err != nil {
		return err
	}
	site := cloud.Site{ID: id.Site}
	if *cfgPath != "" {
		_, s, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		site = cloud.SiteOf(&s)
	} else if facts, ok, err := st.SiteFacts(); err == nil && ok {
		if site.Location, err = time.LoadLocation(facts.Timezone); err != nil {
			return fmt.Errorf("the recorded time zone %q: %w", facts.Timezone, err)
		}
	}
	if site.Location == nil {
		site.Location = time.Local
	}
	start, err := when(*from, site.Location, false)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	end, err := when(*to, site.Location, true)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if !end.After(start) {
		return errors.New("--to must come after --from")
	}
	w := out
	if *outPath != "-" {
		f, err := os.OpenFile(*outPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	ob := cloud.New(cloud.Options{Log: st, Logger: log, Site: func() cloud.Site { return site }})
	n, err := ob.Export(ctx, w, *format, start, end)
	if err != nil {
		return err
	}
	if *outPath != "-" {
		fmt.Fprintf(os.Stderr, "%d événements écrits dans %s\n", n, *outPath)
	}
	return nil
}

// when reads a day (its start; with end, the next day's) or an RFC 3339 time.
func when(v string, loc *time.Location, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a day (2026-12-01) nor a time (2026-12-01T08:00:00+01:00)", v)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
