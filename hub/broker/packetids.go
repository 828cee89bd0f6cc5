package broker

import (
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// mochi (v2.7.9) keeps a client's messages in flight both ways in one map
// keyed by packet id, though the client and the broker number their
// packets each on their own: when a client publishes at QoS 1 with the id
// of a message the broker sent it and that it has not acknowledged yet,
// mochi drops that message from the session (processPublish deletes the
// id before it records its own acknowledgement). An integration that
// publishes — a command, its state — while events are in flight to it
// would not get them again after a cut: at least once would not hold.
//
// The hook parks such a message when the client's publish is read, and
// puts it back once that publish is done (or the connection ends). A
// client's packets are handled one at a time, on its connection's
// goroutine, so nothing else acknowledges the message meanwhile. QoS 2
// publishes keep their id in flight until PUBREL and are not handled: the
// contract is QoS 1.

// parked holds, per client, the messages set aside while one of its
// publishes is handled.
type parked map[uint16]packets.Packet

// OnPacketRead parks the message a publish of cl is about to drop.
func (h *hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Type != packets.Publish || pk.FixedHeader.Qos != 1 || cl.Net.Inline {
		return pk, nil
	}
	out, ok := cl.State.Inflight.Get(pk.PacketID)
	if !ok || out.FixedHeader.Type != packets.Publish {
		return pk, nil
	}
	p, _ := h.parked.LoadOrStore(cl, parked{})
	p.(parked)[pk.PacketID] = out
	return pk, nil
}

// OnPublished puts back what OnPacketRead parked for this publish.
func (h *hook) OnPublished(cl *mqtt.Client, pk packets.Packet) {
	if cl.Net.Inline {
		return
	}
	if p, ok := h.parked.Load(cl); ok {
		h.unpark(cl, p.(parked), pk.PacketID)
	}
}

// unpark puts message id back in cl's session, unless the id was given to
// another message meanwhile (it cannot be while the client's publish is
// handled, but a broken invariant must not lose the newer one).
func (h *hook) unpark(cl *mqtt.Client, p parked, id uint16) {
	out, ok := p[id]
	if !ok {
		return
	}
	delete(p, id)
	if cl.IsTakenOver() {
		// A new connection took the session over while this publish was
		// handled: the message was not among those it copied.
		h.handOver(cl.ID, out)
		return
	}
	if _, taken := cl.State.Inflight.Get(id); taken {
		h.b.log.Warn("mqtt message in flight lost: its packet id was reused", "client", cl.ID, "id", id, "topic", out.TopicName)
		return
	}
	cl.State.Inflight.Set(out)
	if h.b.sessions != nil && persistent(cl) {
		h.b.sessions.queue(op{table: tMsg, client: cl.ID, id: id, keep: true})
	}
	if cl.IsTakenOver() {
		// Taken over between the check above and the Set: the new
		// connection may not have it (at least once: twice at worst).
		h.handOver(cl.ID, out)
	}
}

// unparkAll puts back whatever is parked, when cl's connection ends.
func (h *hook) unparkAll(cl *mqtt.Client) {
	p, ok := h.parked.LoadAndDelete(cl)
	if !ok {
		return
	}
	for id := range p.(parked) {
		h.unpark(cl, p.(parked), id)
	}
}
