//go:build !device

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"guichet/hub/config"
	"guichet/hub/queue"
	"guichet/hub/store"
	"guichet/internal/sim"
)

// errConfigProblems makes `guichet config check` exit non-zero.
var errConfigProblems = errors.New("the configuration has problems (above)")

func runConfig(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: guichet config sample | guichet config check --config FILE | guichet config export --data DIR")
	}
	switch args[0] {
	case "sample":
		if len(args) != 1 {
			return errors.New("usage: guichet config sample")
		}
		_, err := out.Write(config.Sample)
		return err
	case "check":
		return runConfigCheck(args[1:], out)
	case "export":
		return runConfigExport(args[1:], out)
	}
	return fmt.Errorf("guichet config: unknown subcommand %q (sample, check, export)", args[0])
}

// runConfigCheck reads a site file and says what would go wrong with it: a
// file error (with its line), and the lanes — a service on a channel — that
// no counter with a skilled agent can take, whose tickets would wait
// forever. It also shows one way to seat the agents that serves every lane.
func runConfigCheck(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	path := fs.String("config", "", "site configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" && fs.NArg() == 1 {
		*path = fs.Arg(0)
	}
	if *path == "" {
		return errors.New("usage: guichet config check --config FILE")
	}
	cfg, site, err := config.Load(*path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: site %s (%s), %d services, %d counters, %d agents\n", *path, site.ID, site.Name,
		len(site.Services), len(site.Counters), len(site.Agents))
	problems := LaneProblems(&site)
	for _, p := range problems {
		fmt.Fprintln(out, "problem:", p)
	}
	for _, w := range cfg.TelephonyWarnings(&site) {
		fmt.Fprintln(out, "warning:", w)
	}
	staff := sim.Staff(&site)
	if left := site.Unserved(staff); len(problems) == 0 && len(left) > 0 {
		fmt.Fprintf(out, "note: with one agent per counter, %s stay unserved; check who sits where\n", laneList(&site, left))
	}
	fmt.Fprintln(out, "one agent per counter, as the demo seats them:")
	for _, c := range site.Counters {
		a := staff[c.ID]
		if a == "" {
			a = "(nobody)"
		}
		fmt.Fprintf(out, "  %-28s %s\n", c.Name, a)
	}
	if len(problems) > 0 {
		return errConfigProblems
	}
	fmt.Fprintln(out, "ok: every service can be served on every channel it takes")
	return nil
}

// LaneProblems names, in site order, every service and channel that no
// counter with a skilled agent can take, and why.
func LaneProblems(site *queue.Site) []string {
	var out []string
	for _, l := range site.Unserved(nil) {
		out = append(out, fmt.Sprintf("%s by %s: %s", serviceName(site, l.Service), channelName(l.Channel), why(site, l)))
	}
	return out
}

func why(site *queue.Site, l queue.Lane) string {
	counters := 0
	for i := range site.Counters {
		if c := &site.Counters[i]; c.Takes(l.Channel) && c.Serves(l.Service) {
			counters++
		}
	}
	if counters == 0 {
		return fmt.Sprintf("no counter takes %s for this service (add %q to a counter's channels, or this service to its services)", channelName(l.Channel), l.Channel)
	}
	return "no agent has a skill for this service (give one a skill level)"
}

func laneList(site *queue.Site, ls []queue.Lane) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, serviceName(site, l.Service)+" by "+channelName(l.Channel))
	}
	return strings.Join(parts, ", ")
}

func serviceName(site *queue.Site, id string) string {
	for i := range site.Services {
		if site.Services[i].ID == id {
			return fmt.Sprintf("%s (%s)", site.Services[i].Name("en"), id)
		}
	}
	return id
}

func channelName(c queue.Channel) string {
	if c == queue.Phone {
		return "phone"
	}
	return "visit"
}

// runConfigExport prints the site as the hub's log has it — the site file
// last loaded and every change made in the browser since — as a site file
// that guichet config check accepts and that, loaded, gives the same site.
// It reads the data directory beside a running hub, as the device commands do.
func runConfigExport(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("config export", flag.ContinueOnError)
	data := fs.String("data", "data", "the hub's data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("usage: guichet config export --data DIR")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.OpenDir(*data, store.DirOptions{Log: log})
	if err != nil {
		return err
	}
	defer st.Close()
	// An engine with no site of its own takes the log's: the last snapshot's
	// and every change after it.
	e, err := queue.New(queue.Site{ID: "-", Location: time.UTC})
	if err != nil {
		return err
	}
	if _, err := st.Load(e); err != nil {
		return fmt.Errorf("read the log of %s: %w", *data, err)
	}
	if e.SiteHash() == "" {
		return fmt.Errorf("the log of %s records no site: start the hub once with this version (it records its site file), then export", *data)
	}
	header := fmt.Sprintf("The site %s as the hub's log has it, at event %d (%s):\nthe site file last loaded and the changes made in the browser since.\nguichet config check reads it; loaded by a hub, it gives the same site.",
		e.Site().ID, st.LastSeq(), *data)
	b, err := config.Export(*e.Site(), header)
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}
