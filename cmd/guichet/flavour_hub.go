//go:build !device

package main

import (
	"context"
	"os"
)

// flavour is this build's: "hub" holds every command, "device" only the
// device roles (built with -tags device).
const flavour = "hub"

const hubUsage = `  guichet demo    [--simulate] [--speed N] [--data DIR] [--http ADDR]   a whole site in one process
  guichet hub     --config FILE [--data DIR] [--http ADDR] [--mqtt ADDR | --mqtt-url URL]
  guichet device  add|list|disable|enable|secret …          manage devices (MQTT credentials)
  guichet account add|list|passwd|role|disable|enable|signout …   manage people's accounts
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
`

// runHubCommand runs a command of the hub's build; ok is false for a
// command it does not know.
func runHubCommand(ctx context.Context, cmd string, args []string) (ok bool, err error) {
	switch cmd {
	case "hub":
		err = runHub(ctx, args)
	case "demo":
		err = runDemo(ctx, args)
	case "config":
		err = runConfig(args, os.Stdout)
	case "device":
		err = runDevice(args, os.Stdout)
	case "account":
		err = runAccount(ctx, args, os.Stdin, os.Stdout)
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
	default:
		return false, nil
	}
	return true, err
}

// notHere says why a command is unknown: the hub's build knows them all.
func notHere(string) string { return "" }
