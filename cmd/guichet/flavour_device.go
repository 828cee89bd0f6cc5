//go:build device

package main

import (
	"context"
	"slices"
)

// flavour is this build's: "device" holds the device roles only (the
// package guichet-device); the hub's build holds every command.
const flavour = "device"

const hubUsage = ""

// hubCommands are the commands only the hub's build has.
var hubCommands = []string{"hub", "demo", "config", "device", "account", "release", "bench", "mosquitto",
	"backup", "restore", "store", "audit", "stats", "forecast", "events"}

// runHubCommand: the device build has none of the hub's commands.
func runHubCommand(context.Context, string, []string) (bool, error) { return false, nil }

// notHere says why a hub command is unknown here.
func notHere(cmd string) string {
	if slices.Contains(hubCommands, cmd) {
		return " (a command of the hub: this is the device build, package guichet-device; install guichet-hub)"
	}
	return ""
}
