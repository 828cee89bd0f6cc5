package devices

import (
	"slices"
	"strings"

	"guichet/hub/api"
)

// What each role may do, in one place. A device acts only for itself: it
// publishes on cmd/{itself} and device/{itself}/…, and reads only its
// reply and lease, its counter, and the public board, queue and config.

var opsOf = map[string][]string{
	api.RoleKiosk:       {api.OpIssueTicket, api.OpCheckin, api.OpCancel},
	api.RoleDisplay:     {},
	api.RoleCounter:     {api.OpCallNext, api.OpRecall, api.OpStart, api.OpFinish, api.OpNoShow, api.OpTransfer, api.OpPause, api.OpResume, api.OpOpen, api.OpClose},
	api.RoleIntegration: {api.OpIssueTicket},
}

// CanDo reports whether d may send op.
func CanDo(d *Device, op string) bool { return slices.Contains(opsOf[d.Role], op) }

// CanPublish reports whether d may publish on topic.
func CanPublish(t api.Topics, d *Device, topic string) bool {
	kind, id, ok := t.Parse(topic)
	if !ok || id != d.ID {
		return false
	}
	return kind == api.KindCmd || kind == api.KindDeviceState || kind == api.KindDevice
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

// WriteTopics lists the topics (or filters) d publishes on.
func WriteTopics(t api.Topics, d *Device) []string {
	return []string{t.Cmd(d.ID), strings.TrimSuffix(t.DeviceState(d.ID), "/state") + "/#"}
}
