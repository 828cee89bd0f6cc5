package broker

import (
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"guichet/hub/api"
)

// A session whose client is away keeps, of a retained topic — the hub's
// board, queue, config, counters and leases, the devices' states — only
// the newest message: each one replaces the one before, and the client
// wants the current value, which is also what it gets when it subscribes
// again. A screen away for a day would otherwise come back to thousands of
// stale boards and queue summaries, held meanwhile in the hub's memory and
// in broker.db. Replies and events, where every message counts, are all
// kept (up to devices.MaxQueued).

// OnQosPublish drops, from the session of an away client, the older
// messages of a retained topic it has just queued a newer one for.
func (h *hook) OnQosPublish(cl *mqtt.Client, pk packets.Packet, _ int64, _ int) {
	if cl.Net.Inline || !cl.Closed() || pk.FixedHeader.Type != packets.Publish || !h.latestOnly(pk.TopicName) {
		return
	}
	for _, old := range cl.State.Inflight.GetAll(false) {
		if old.PacketID == pk.PacketID || old.FixedHeader.Type != packets.Publish || old.TopicName != pk.TopicName {
			continue
		}
		if cl.State.Inflight.Delete(old.PacketID) {
			atomic.AddInt64(&h.b.srv.Info.Inflight, -1)
			if h.b.sessions != nil && persistent(cl) {
				h.b.sessions.queue(op{table: tMsg, client: cl.ID, id: old.PacketID})
			}
		}
	}
}

// latestOnly reports whether only the newest message of topic matters.
func (h *hook) latestOnly(topic string) bool {
	switch kind, _, _ := h.b.bus.Topics().Parse(topic); kind {
	case api.KindBoard, api.KindQueue, api.KindConfig, api.KindCounter, api.KindLease, api.KindDeviceState:
		return true
	}
	return false
}
