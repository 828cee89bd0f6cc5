package devices

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"guichet/hub/api"
)

// What each role may do, in one place. A device acts only for itself: it
// publishes on cmd/{itself} and on device/{itself}/state, and reads only
// its reply and lease, its counter, and the public board, queue and config.
// Its last will is held to the same rights as its publishes. Both brokers
// enforce these rules: the embedded one through hub/broker's hook,
// Mosquitto through the files MosquittoFiles and MosquittoConf write.

var opsOf = map[string][]string{
	api.RoleKiosk:       {api.OpIssueTicket, api.OpCheckin, api.OpCancel},
	api.RoleDisplay:     {},
	api.RoleCounter:     {api.OpCallNext, api.OpRecall, api.OpStart, api.OpFinish, api.OpNoShow, api.OpTransfer, api.OpPause, api.OpResume, api.OpOpen, api.OpClose},
	api.RoleIntegration: {api.OpIssueTicket},
}

// Limits the brokers hold every client to. A device keeps at most one
// retained message — its state — so what devices can make the broker keep
// is bounded by the number of devices times MaxState.
const (
	// MaxPayload is the largest payload the broker routes, from anyone
	// (the hub's own retained configuration included). A command has its
	// own, smaller limit, api.MaxCommandSize, answered with an error reply.
	MaxPayload = 256 << 10
	// MaxPacket is the largest MQTT packet read: a larger one cuts the
	// connection before its payload is read.
	MaxPacket = MaxPayload + 8<<10
	// MaxState is the largest state (and last will) a device may publish.
	MaxState = 4 << 10
	// MaxQueued is how many messages the broker keeps for a session that
	// has not acknowledged them (a consumer away, or slow): beyond it, new
	// messages for that session are dropped, with a log line. A consumer
	// away longer reads what it missed with GET /api/v1/events?after=.
	MaxQueued = 8000
)

// Reasons a publish or a will is refused.
var (
	ErrNotYours    = errors.New("not a topic the device may publish on")
	ErrTooLarge    = errors.New("payload too large")
	ErrNotAState   = errors.New("not a device state")
	ErrWillOnline  = errors.New("a last will must say the device is offline")
	ErrWillNotMine = errors.New("a last will goes on the device's own state topic only")
)

// CanDo reports whether d may send op.
func CanDo(d *Device, op string) bool { return slices.Contains(opsOf[d.Role], op) }

// CanPublish reports whether d may publish on topic: its own command and
// state topics.
func CanPublish(t api.Topics, d *Device, topic string) bool {
	kind, id, ok := t.Parse(topic)
	return ok && id == d.ID && (kind == api.KindCmd || kind == api.KindDeviceState)
}

// CheckPublish says why d may not publish payload on topic, or nil if it
// may. Commands are checked further by the hub when it runs them; a state
// must be a JSON object of at most MaxState bytes (or empty, to clear it).
func CheckPublish(t api.Topics, d *Device, topic string, payload []byte) error {
	if !CanPublish(t, d, topic) {
		return ErrNotYours
	}
	if len(payload) > MaxPayload {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(payload), MaxPayload)
	}
	if kind, _, _ := t.Parse(topic); kind == api.KindDeviceState && len(payload) > 0 {
		_, err := ParseState(payload)
		return err
	}
	return nil
}

// CheckWill says why d may not leave a last will of payload on topic, or
// nil if it may: a will is the device's own state, saying it is offline.
// A broker publishes a will on the device's behalf after it is gone, so
// it is checked when the device connects.
func CheckWill(t api.Topics, d *Device, topic string, payload []byte) error {
	if topic != t.DeviceState(d.ID) {
		return ErrWillNotMine
	}
	st, err := ParseState(payload)
	if err != nil {
		return err
	}
	if st.Online {
		return ErrWillOnline
	}
	return nil
}

// OtherSitesState reports whether topic is d's own state topic under
// another site's root: a device set up with a wrong site.
func OtherSitesState(t api.Topics, d *Device, topic string) bool {
	rest, ok := strings.CutPrefix(topic, api.Root+"/")
	if !ok {
		return false
	}
	site, path, ok := strings.Cut(rest, "/")
	return ok && site != t.Site && site != "" && path == "device/"+d.ID+"/state"
}

// ParseState decodes a device state: a JSON object of at most MaxState
// bytes whose text is valid Unicode (see api.CheckText). Fields it does not
// know are ignored: a newer device may send more.
func ParseState(payload []byte) (api.DeviceState, error) {
	var st api.DeviceState
	if len(payload) > MaxState {
		return st, fmt.Errorf("%w: a state of %d bytes, at most %d", ErrTooLarge, len(payload), MaxState)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(payload), []byte("{")) {
		return st, fmt.Errorf("%w: not a JSON object", ErrNotAState)
	}
	if err := api.CheckText(payload); err != nil {
		return st, fmt.Errorf("%w: %v", ErrNotAState, err)
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return st, fmt.Errorf("%w: %v", ErrNotAState, err)
	}
	if st.Since != nil && (st.Since.UTC().Year() < 2000 || st.Since.UTC().Year() > 2200) {
		return st, fmt.Errorf("%w: since %s out of range", ErrNotAState, st.Since.Format(time.RFC3339))
	}
	if err := checkHealth(st.Health); err != nil {
		return st, fmt.Errorf("%w: health: %v", ErrNotAState, err)
	}
	return st, nil
}

// checkHealth bounds what a device says of its board, so that nothing
// accepted breaks a view or an alert later: a boot time a view can encode,
// a temperature a CPU can have, sizes and a wear estimate in range.
func checkHealth(h *api.DeviceHealth) error {
	switch {
	case h == nil:
		return nil
	case h.BootedAt != nil && (h.BootedAt.UTC().Year() < 2000 || h.BootedAt.UTC().Year() > 2200):
		return fmt.Errorf("booted_at %s out of range", h.BootedAt.Format(time.RFC3339))
	case h.TempC != nil && !(*h.TempC >= -60 && *h.TempC <= 150):
		return fmt.Errorf("temp_c %g out of range", *h.TempC)
	case h.DiskFreeMB != nil && (*h.DiskFreeMB < 0 || *h.DiskFreeMB > 1<<40):
		return fmt.Errorf("disk_free_mb %d out of range", *h.DiskFreeMB)
	case h.WearPct != nil && (*h.WearPct < 0 || *h.WearPct > 110):
		return fmt.Errorf("wear_pct %d out of range", *h.WearPct)
	case h.Update != nil && !slices.Contains(api.UpdateStates, h.Update.State):
		return fmt.Errorf("update state %.20q unknown", h.Update.State)
	case h.Update != nil && h.Update.Version != "" && !updateVersionRe.MatchString(h.Update.Version):
		return fmt.Errorf("update version %.20q: not a version", h.Update.Version)
	case h.Update != nil && h.Update.Reason != "" && !updateReasonRe.MatchString(h.Update.Reason):
		return fmt.Errorf("update reason %.20q: not a reason code", h.Update.Reason)
	}
	return nil
}

// What a device's update state may say: a version as releases name them,
// a reason code as firmware/update gives them.
var (
	updateVersionRe = regexp.MustCompile(`^v?[0-9][0-9A-Za-z.+-]{0,63}$`)
	updateReasonRe  = regexp.MustCompile(`^[a-z_]{1,32}$`)
)

// ClientIDSep separates a device id from the rest of an MQTT client id.
// It cannot appear in a device id, so a client id names one device only.
const ClientIDSep = "@"

// clientSuffixRe is what may follow ClientIDSep: a short, plain name.
var clientSuffixRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)

// ClientDevice returns the device an MQTT client id belongs to: a device
// connects with its id as client id ("kiosk-hall"), or with its id,
// ClientIDSep and a name of its choice ("kiosk-hall@watch") to hold
// another session at the same time — a person watching with
// mosquitto_sub. ok is false for any other client id.
func ClientDevice(clientID string) (device string, ok bool) {
	device, suffix, found := strings.Cut(clientID, ClientIDSep)
	if !api.ValidDeviceID(device) || found && !clientSuffixRe.MatchString(suffix) {
		return "", false
	}
	return device, true
}

// CanRead reports whether d may subscribe to filter or receive a message
// on a topic of that name.
func CanRead(t api.Topics, d *Device, filter string) bool {
	switch filter {
	case t.Reply(d.ID), t.Board(), t.Queue(), t.Config():
		return true
	case t.Lease(d.ID):
		return d.Role == api.RoleKiosk
	case t.Counter(d.Counter):
		return d.Role == api.RoleCounter
	}
	if d.Role != api.RoleIntegration {
		return false
	}
	// Integrations follow the events and every device's state.
	if rest, ok := strings.CutPrefix(filter, t.EventsFilter()[:len(t.EventsFilter())-1]); ok && rest != "" {
		return true
	}
	kind, _, ok := t.Parse(filter)
	return filter == t.DeviceStateFilter() || ok && kind == api.KindDeviceState
}

// ReadTopics lists the topics (or filters) d reads, for broker ACL files.
func ReadTopics(t api.Topics, d *Device) []string {
	out := []string{t.Reply(d.ID), t.Board(), t.Queue(), t.Config()}
	switch d.Role {
	case api.RoleKiosk:
		out = append(out, t.Lease(d.ID))
	case api.RoleCounter:
		out = append(out, t.Counter(d.Counter))
	case api.RoleIntegration:
		out = append(out, t.EventsFilter(), t.DeviceStateFilter())
	}
	return out
}

// WriteTopics lists the topics d publishes on, for broker ACL files.
func WriteTopics(t api.Topics, d *Device) []string {
	return []string{t.Cmd(d.ID), t.DeviceState(d.ID)}
}
