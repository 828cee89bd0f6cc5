package api

import (
	"regexp"
	"strings"
)

// Root is the first part of every topic; the version changes only when the
// contract breaks.
const Root = "guichet/v1"

// deviceIDRe is what a device id (and MQTT client id, username) may be.
var deviceIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ValidDeviceID reports whether id can name a device: lower-case letters,
// digits, '-', '_', '.', at most 64 characters, no MQTT wildcard or slash.
func ValidDeviceID(id string) bool { return deviceIDRe.MatchString(id) }

// Topics builds the topics of one site: guichet/v1/{site}/...
type Topics struct{ Site string }

func (t Topics) prefix() string { return Root + "/" + t.Site + "/" }

// Cmd is where device publishes its commands.
func (t Topics) Cmd(device string) string { return t.prefix() + "cmd/" + device }

// Reply is where the hub answers device.
func (t Topics) Reply(device string) string { return t.prefix() + "reply/" + device }

// Board is the retained waiting-room board.
func (t Topics) Board() string { return t.prefix() + "board" }

// Queue is the retained queue summary.
func (t Topics) Queue() string { return t.prefix() + "queue" }

// Config is the retained site configuration for devices.
func (t Topics) Config() string { return t.prefix() + "config" }

// Counter is a counter's retained state.
func (t Topics) Counter(id string) string { return t.prefix() + "counter/" + id }

// Lease is the retained offline number blocks of a kiosk.
func (t Topics) Lease(device string) string { return t.prefix() + "lease/" + device }

// DeviceState is a device's retained state; its last will says offline.
func (t Topics) DeviceState(device string) string {
	return t.prefix() + "device/" + device + "/state"
}

// Event is where the hub publishes CloudEvents of type typ.
func (t Topics) Event(typ string) string { return t.prefix() + "events/" + typ }

// CmdFilter matches every device's commands.
func (t Topics) CmdFilter() string { return t.prefix() + "cmd/+" }

// DeviceStateFilter matches every device's state.
func (t Topics) DeviceStateFilter() string { return t.prefix() + "device/+/state" }

// EventsFilter matches every event.
func (t Topics) EventsFilter() string { return t.prefix() + "events/#" }

// Kind of a topic of this site, as Parse tells it.
const (
	KindCmd         = "cmd"
	KindReply       = "reply"
	KindBoard       = "board"
	KindQueue       = "queue"
	KindConfig      = "config"
	KindCounter     = "counter"
	KindLease       = "lease"
	KindDeviceState = "device_state"
	KindDevice      = "device" // device/{id}/... other than state
	KindEvent       = "events"
)

// Parse says what a topic of this site is, and the device, counter or event
// type it names. ok is false for topics outside the site or the contract.
func (t Topics) Parse(topic string) (kind, id string, ok bool) {
	rest, found := strings.CutPrefix(topic, t.prefix())
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 1 && (parts[0] == KindBoard || parts[0] == KindQueue || parts[0] == KindConfig):
		return parts[0], "", true
	case len(parts) == 2 && (parts[0] == KindCmd || parts[0] == KindReply || parts[0] == KindLease || parts[0] == KindCounter) && parts[1] != "":
		return parts[0], parts[1], true
	case len(parts) == 3 && parts[0] == "device" && parts[2] == "state" && parts[1] != "":
		return KindDeviceState, parts[1], true
	case len(parts) >= 3 && parts[0] == "device" && parts[1] != "":
		return KindDevice, parts[1], true
	case len(parts) >= 2 && parts[0] == KindEvent:
		return KindEvent, strings.Join(parts[1:], "/"), true
	}
	return "", "", false
}
