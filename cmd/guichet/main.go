// Command guichet is the binary of the Guichet appliance: the hub, the
// devices (added by their roles) and the demo. It parses flags and wires
// packages together; nothing else lives here.
//
// Built with -tags device it is the device binary (package guichet-device,
// docs/install.md): the kiosk, display and counter roles, enrollment, the
// update launcher and the printer's test, without the hub's code — every
// file of a hub command is tagged !device.
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

// usage is the help: the device roles every build has, then the hub's
// commands in the hub's build (flavour_hub.go; flavour_device.go leaves
// them out).
var usage = `guichet — one queue for the town hall's reception desk (` + flavour + ` build)

Usage:
  guichet kiosk   --hub URL --site ID --device ID [--printer SPEC] [--http ADDR] [--buttons …]
  guichet display --hub URL --site ID --device ID [--http ADDR] [--langs fr,en] [--quiet 19:00-08:30]
  guichet counter --hub URL --site ID --device ID --counter N [--buttons …] [--led PIN] [--screen SPEC]
  guichet enroll  [--dir /etc/guichet] [--start] HUB_URL CODE   join a hub with a one-time code (writes ROLE.env, ROLE.secret)
  guichet printer list | test --printer SPEC                printer models; print a test page
` + hubUsage + `  guichet version

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
	cmd, args := os.Args[1], os.Args[2:]
	switch cmd {
	case "enroll":
		err = runEnroll(ctx, args, os.Stdout)
	case "kiosk":
		err = runKiosk(ctx, args)
	case "display":
		err = runDisplay(ctx, args)
	case "counter":
		err = runCounter(ctx, args)
	case "printer":
		err = runPrinter(ctx, args, os.Stdout)
	case "version", "--version", "-v":
		fmt.Println("guichet", version, flavour)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		var ok bool
		if ok, err = runHubCommand(ctx, cmd, args); !ok {
			fmt.Fprintf(os.Stderr, "guichet: unknown command %q%s\n\n%s", cmd, notHere(cmd), usage)
			os.Exit(2)
		}
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
