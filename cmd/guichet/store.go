//go:build !device

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"guichet/hub/config"
	"guichet/hub/queue"
	"guichet/hub/store"
)

const storeUsage = `usage: guichet store check [--data DIR] [--config FILE]
Checks a hub's data directory deeply, without changing it (the hub may run):
SQLite's integrity check, the directory's marker against the database, every
event of the log, the snapshots (with --config: the newest one against the
whole log replayed). Exits 1 if anything is wrong.`

// runStore runs "guichet store check".
func runStore(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return errors.New(storeUsage)
	}
	fs := flag.NewFlagSet("store check", flag.ContinueOnError)
	data := fs.String("data", "data", "data directory of the hub")
	cfgPath := fs.String("config", "", "site configuration: also check the site and the snapshots against the log")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New(storeUsage)
	}
	var site *queue.Site
	if *cfgPath != "" {
		_, s, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		site = &s
	}
	r, err := store.Check(*data, site)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Data directory: %s\n", *data)
	if r.Marker != nil {
		fmt.Fprintf(out, "Marker:   store id %s, site %q\n", r.Marker.StoreID, r.Marker.Site)
	} else {
		fmt.Fprintf(out, "Marker:   none\n")
	}
	fmt.Fprintf(out, "Database: %s: store id %s, site %q, created %s, schema %d\n", r.DB, r.Identity.StoreID, r.Identity.Site, r.Identity.CreatedAt, r.Schema)
	fmt.Fprintf(out, "Log:      %d events, the last is %d; snapshots at %v\n", r.Events, r.LastSeq, r.Snapshots)
	fmt.Fprintln(out, "Checked:")
	for _, c := range r.Checked {
		fmt.Fprintf(out, "  - %s\n", c)
	}
	if site == nil {
		fmt.Fprintln(out, "  (give --config to check the snapshots against the log)")
	}
	if r.OK() {
		fmt.Fprintln(out, "OK: nothing wrong found.")
		return nil
	}
	fmt.Fprintln(out, "PROBLEMS:")
	for _, p := range r.Problems {
		fmt.Fprintf(out, "  - %s\n", p)
	}
	fmt.Fprintln(out, "Keep this copy aside, restore the last good backup (docs/operations.md, \"Backup and restore\"), and check the backup too.")
	return fmt.Errorf("%d problem(s) found in %s", len(r.Problems), r.DB)
}

const backupUsage = `usage: guichet backup [--data DIR] OUT
Copies the hub's database into the new file OUT, while the hub runs, with
SQLite's online backup: one consistent state, holding every operation
acknowledged before the backup started. OUT is created 0600 and never
overwritten. To restore it: stop the hub, guichet restore --data DIR OUT,
start the hub.`

// runBackup runs "guichet backup".
func runBackup(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	data := fs.String("data", "data", "data directory of the hub")
	dst, err := parseOneArg(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return errors.New(backupUsage)
	}
	info, err := store.Backup(ctx, filepath.Join(*data, store.DBFile), dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Backup written: %s (%.1f MB, %d pages), events up to %d, store id %s, site %q, in %s.\n",
		info.Path, float64(info.Bytes)/1e6, info.Pages, info.LastSeq, info.StoreID, info.Site, info.Took.Round(time.Millisecond))
	fmt.Fprintf(out, "To restore it: stop the hub; guichet restore --data %s %s; start the hub.\n", *data, info.Path)
	return nil
}

const restoreUsage = `usage: guichet restore [--data DIR] BACKUP
Makes BACKUP (a file written by guichet backup) the database of the data
directory, with the hub stopped: checks the backup (integrity, and that it is
this directory's database), sets the database in place aside with its -wal
and -shm files in DIR/replaced-<time>/, and copies the backup in. Then start
the hub. Into a new, empty directory, it restores a site on another machine.`

// runRestore runs "guichet restore".
func runRestore(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	data := fs.String("data", "data", "data directory of the hub")
	src, err := parseOneArg(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return errors.New(restoreUsage)
	}
	info, err := store.Restore(*data, src, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Restored %s into %s: events up to %d, store id %s, site %q.\n", src, *data, info.LastSeq, info.StoreID, info.Site)
	if info.Aside != "" {
		fmt.Fprintf(out, "The database it replaced is in %s (with its -wal and -shm); delete it once the hub runs well.\n", info.Aside)
	}
	fmt.Fprintln(out, "Start the hub. What was acknowledged after the backup was taken is not in it.")
	return nil
}

// parseOneArg parses fs's flags with one positional argument before,
// between or after them, and returns that argument.
func parseOneArg(fs *flag.FlagSet, args []string) (string, error) {
	var arg string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		if arg != "" {
			return "", errors.New("one argument expected")
		}
		arg, args = fs.Arg(0), fs.Args()[1:]
	}
	if arg == "" || strings.HasPrefix(arg, "-") {
		return "", errors.New("one argument expected")
	}
	return arg, nil
}
