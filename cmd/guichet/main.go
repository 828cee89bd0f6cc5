// Command guichet is the one binary of the Guichet appliance: the hub, the
// devices (added by their roles) and the demo. It parses flags and wires
// packages together; nothing else lives here.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

var version = "dev"

const usage = `guichet — one queue for the town hall's reception desk

Usage:
  guichet demo    [--simulate] [--speed N] [--data DIR] [--http ADDR]   a whole site in one process
  guichet hub     --config FILE [--data DIR] [--http ADDR] [--mqtt ADDR | --mqtt-url URL]
  guichet kiosk   --hub URL --site ID --device ID [--printer SPEC] [--http ADDR] [--buttons …]
  guichet display --hub URL --site ID --device ID [--http ADDR] [--langs fr,en] [--quiet 19:00-08:30]
  guichet counter --hub URL --site ID --device ID --counter N [--buttons …] [--led PIN] [--screen SPEC]
  guichet device  add|list|disable|enable|secret …          manage devices (MQTT credentials)
  guichet enroll  [--dir /etc/guichet] [--start] HUB_URL CODE   join a hub with a one-time code (writes ROLE.env, ROLE.secret)
  guichet account add|list|passwd|role|disable|enable|signout …   manage people's accounts
  guichet printer list | test --printer SPEC                printer models; print a test page
  guichet release keygen|sign|verify|publish …              signed updates: keys, bundles, the hub's shelf
  guichet mosquitto --config FILE [--out DIR]               files for an external Mosquitto
  guichet backup  [--data DIR] OUT                          copy the hub's database, while it runs
  guichet restore [--data DIR] BACKUP                       put a backup in place, the hub stopped
  guichet store   check [--data DIR] [--config FILE]        check a data directory deeply
  guichet audit   verify [--data DIR]                       check the audit log's hash chain
  guichet stats   [--data DIR] --from DAY --to DAY [--csv FILE]   statistics of a day or range; CSV for a spreadsheet
  guichet forecast [--data DIR] [--config FILE] [--period TYPE:DAY:DAY]   agents needed per hour next week
  guichet events  export [--data DIR] --from DAY --to DAY [--format csv|ndjson]   the event log, for a warehouse
  guichet config  sample | check --config FILE | export [--data DIR]
                                                            a sample; check a site file; print the running site as a file
  guichet bench   e2e|display …                             counter button → screen latency; the screen page over a day
  guichet version

Run "guichet <command> -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "hub":
		err = runHub(ctx, args)
	case "demo":
		err = runDemo(ctx, args)
	case "config":
		err = runConfig(args, os.Stdout)
	case "device":
		err = runDevice(args, os.Stdout)
	case "enroll":
		err = runEnroll(ctx, args, os.Stdout)
	case "account":
		err = runAccount(ctx, args, os.Stdin, os.Stdout)
	case "kiosk":
		err = runKiosk(ctx, args)
	case "display":
		err = runDisplay(ctx, args)
	case "counter":
		err = runCounter(ctx, args)
	case "printer":
		err = runPrinter(ctx, args, os.Stdout)
	case "release":
		err = runRelease(args, os.Stdout)
	case "bench":
		err = runBench(ctx, args, os.Stdout)
	case "mosquitto":
		err = runMosquitto(args, os.Stdout)
	case "backup":
		err = runBackup(ctx, args, os.Stdout)
	case "restore":
		err = runRestore(args, os.Stdout)
	case "store":
		err = runStore(args, os.Stdout)
	case "audit":
		err = runAudit(ctx, args, os.Stdout)
	case "stats":
		err = runStats(ctx, args, os.Stdout)
	case "forecast":
		err = runForecast(ctx, args, os.Stdout)
	case "events":
		err = runEvents(ctx, args, os.Stdout)
	case "version", "--version", "-v":
		fmt.Println("guichet", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "guichet: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "guichet:", err)
		os.Exit(1)
	}
	if c := exitCode.Load(); c != 0 {
		os.Exit(int(c)) // stopped for an update: systemd starts it again
	}
}

// newLogger returns a text logger at level ("debug", "info", "warn", "error").
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
