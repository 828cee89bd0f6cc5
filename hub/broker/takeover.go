package broker

import (
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// A session taken over by a new connection — a consumer reconnecting with
// the same client id, or coming back to a session restored from broker.db
// — must not lose, nor receive out of protocol, what the hub publishes
// while the take-over is under way. mochi copies the old session's
// messages to the new connection, keeps delivering to the old one until
// the new one is registered, then clears the old one: a QoS 1 message
// published in that window was queued on the old session only and dropped
// with it (two events of the log never reached a Node-RED reconnecting
// while the hub, just restarted, published them). And once the new
// connection is registered, a message can be written to it before its
// CONNACK, which paho refuses, dropping the connection.
//
// So the hub's publishes (Broker.Publish) wait while a persistent session
// is taken over: from the moment mochi is about to hand the old session
// to the new connection until the new connection's CONNACK is written —
// microseconds on a healthy connection, at most takeoverHold. A device's
// own publishes are not held: they carry no event of the log.

// A message parked while the old connection's publish was handled
// (packetids.go) is not among those mochi copies to the new connection:
// it is handed over (handOver) — written to the new connection if it has
// its CONNACK, or kept for it until then (OnSessionEstablished).

// takeoverHold bounds how long the hub's publishes wait for a CONNACK.
const takeoverHold = 2 * time.Second

// gate is held by one take-over until its CONNACK is written.
type gate struct{ release func() }

// OnSessionEstablish holds the hub's publishes while a persistent session
// that exists is handed to a new connection.
func (h *hook) OnSessionEstablish(cl *mqtt.Client, _ packets.Packet) {
	if cl.Net.Inline || !persistent(cl) {
		return
	}
	if _, ok := h.b.srv.Clients.Get(cl.ID); !ok {
		return
	}
	h.b.takeover.Lock()
	var once sync.Once
	g := &gate{release: func() {
		once.Do(func() {
			h.gates.Delete(cl)
			h.b.takeover.Unlock()
		})
	}}
	h.gates.Store(cl, g)
	time.AfterFunc(takeoverHold, g.release) // a late fire does nothing (once)
}

// handOver gives a message of a taken-over session to the connection that
// holds the session now: at once if it is established, else when it is.
func (h *hook) handOver(client string, pk packets.Packet) {
	h.handMu.Lock()
	cl, ok := h.b.srv.Clients.Get(client)
	if !ok || cl.IsTakenOver() || !h.established[cl] {
		h.keep(client, pk)
		h.handMu.Unlock()
		return
	}
	out, ok := h.give(cl, pk)
	h.handMu.Unlock()
	if ok {
		_ = cl.WritePacket(out) // a failed write leaves it in the session, sent at the next connection
	}
}

// keep holds pk for the next connection of client's session; handMu held.
func (h *hook) keep(client string, pk packets.Packet) {
	if h.handed == nil {
		h.handed = map[string][]packets.Packet{}
	}
	h.handed[client] = append(h.handed[client], pk)
}

// forgetHanded drops what was kept for client's session (it ended for good).
func (h *hook) forgetHanded(client string) {
	h.handMu.Lock()
	delete(h.handed, client)
	h.handMu.Unlock()
}

// OnSessionEstablished marks cl established (it has its CONNACK and its
// session's messages) and gives it what was handed over for its session.
func (h *hook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	if cl.Net.Inline {
		return
	}
	h.handMu.Lock()
	if h.established == nil {
		h.established = map[*mqtt.Client]bool{}
	}
	h.established[cl] = true
	kept := h.handed[cl.ID]
	delete(h.handed, cl.ID)
	var outs []packets.Packet
	if persistent(cl) { // a clean start takes nothing of the session before
		for _, pk := range kept {
			if out, ok := h.give(cl, pk); ok {
				outs = append(outs, out)
			}
		}
	}
	h.handMu.Unlock()
	for _, out := range outs { // not under handMu: a consumer that does not read must not hold the others up
		if cl.WritePacket(out) != nil {
			break // left in the session, sent at the next connection
		}
	}
}

// give puts pk in cl's session under a free packet id, for the caller to
// write once handMu is released; handMu held. If cl is taken over in the
// meantime, pk is kept for the next connection too (at least once: it may
// then arrive twice, never not at all).
func (h *hook) give(cl *mqtt.Client, pk packets.Packet) (packets.Packet, bool) {
	id, err := cl.NextPacketID()
	if err != nil {
		h.b.log.Warn("mqtt message of a session taken over lost: no packet id free", "client", cl.ID, "topic", pk.TopicName)
		return pk, false
	}
	out := pk.Copy(false)
	out.PacketID = uint16(id)
	if cl.State.Inflight.Set(out) {
		atomic.AddInt64(&h.b.srv.Info.Inflight, 1)
	}
	if h.b.sessions != nil && persistent(cl) {
		h.b.sessions.queue(op{table: tMsg, client: cl.ID, id: out.PacketID, keep: true})
	}
	if cl.IsTakenOver() {
		h.keep(cl.ID, pk)
		return out, false
	}
	return out, true
}

// OnPacketSent lets the hub publish again once the new connection of a
// taken-over session has its CONNACK.
func (h *hook) OnPacketSent(cl *mqtt.Client, pk packets.Packet, _ []byte) {
	if pk.FixedHeader.Type != packets.Connack {
		return
	}
	if g, ok := h.gates.Load(cl); ok {
		g.(*gate).release()
	}
}
