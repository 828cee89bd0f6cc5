package broker

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"guichet/hub/api"
	"guichet/hub/devices"
)

// hook authenticates devices, enforces the ACL and runs commands. The
// rules are devices' (acl.go); the hook only applies them, at the three
// places mochi asks: a connection (credentials, client id, last will), a
// subscription or delivery (read), a publish (write).
type hook struct {
	mqtt.HookBase
	b        *Broker
	accepted sync.Map // *mqtt.Client → struct{}: passed OnConnect, for OnConnectAuthenticate
	parked   sync.Map // *mqtt.Client → parked (packetids.go)
	gates    sync.Map // *mqtt.Client → *gate: a take-over holding the hub's publishes (takeover.go)

	handMu      sync.Mutex
	handed      map[string][]packets.Packet // client id → messages of its taken-over session, for its next connection
	established map[*mqtt.Client]bool       // connections past OnSessionEstablished, until they end
}

func (h *hook) ID() string { return "guichet" }

func (h *hook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnDisconnect,
		mqtt.OnPacketRead, mqtt.OnPublished, mqtt.OnQosPublish, mqtt.OnSessionEstablish, mqtt.OnSessionEstablished, mqtt.OnPacketSent}, []byte{b})
}

// OnConnect accepts a device whose username is its id and password its
// secret, whose client id is its own (devices.ClientDevice), and whose
// last will, if any, it may leave (devices.CheckWill): a will is published
// by the broker after the device is gone, without any publish to check,
// so it is checked here. A refused connection is answered with its reason
// and logged.
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	user := string(pk.Connect.Username)
	d, err := h.b.bus.Devices().Authenticate(user, string(pk.Connect.Password))
	if err != nil {
		h.b.log.Warn("mqtt connection refused", "user", user, "remote", cl.Net.Remote, "err", err)
		return h.refuse(cl, packets.ErrBadUsernameOrPassword)
	}
	if owner, ok := devices.ClientDevice(cl.ID); !ok || owner != d.ID {
		h.b.log.Warn("mqtt connection refused: the client id must be the device id, or the device id, '"+devices.ClientIDSep+"' and a name",
			"device", d.ID, "client", cl.ID, "remote", cl.Net.Remote)
		return h.refuse(cl, packets.ErrClientIdentifierNotValid)
	}
	if pk.Connect.WillFlag && devices.OtherSitesState(h.b.bus.Topics(), d, pk.Connect.WillTopic) {
		// A device set up for another site (a wrong --site): its will could
		// only land in that site's tree, which nobody here reads. It is
		// dropped, and the connection taken, so that the device hears its
		// subscriptions refused and says "unknown site" rather than "wrong
		// credentials".
		h.b.log.Warn("a device's will names another site: dropped (is its --site right?)", "device", d.ID, "topic", pk.Connect.WillTopic)
		cl.Properties.Will = mqtt.Will{}
	} else if pk.Connect.WillFlag {
		if err := devices.CheckWill(h.b.bus.Topics(), d, pk.Connect.WillTopic, pk.Connect.WillPayload); err != nil {
			h.b.log.Warn("mqtt connection refused: will", "device", d.ID, "topic", pk.Connect.WillTopic,
				"bytes", len(pk.Connect.WillPayload), "retain", pk.Connect.WillRetain, "err", err)
			return h.refuse(cl, packets.ErrNotAuthorized)
		}
	}
	h.b.mu.Lock()
	gen := h.b.gen[d.ID]
	h.b.mu.Unlock()
	h.b.remember(d.ID, d, gen)
	h.accepted.Store(cl, struct{}{})
	return nil
}

// refuse answers a refused CONNECT with code (its MQTT 3 equivalent for
// an MQTT 3 client) and returns it, which ends the connection.
func (h *hook) refuse(cl *mqtt.Client, code packets.Code) error {
	if cl.Properties.ProtocolVersion < 5 {
		switch v3, ok := packets.V5CodesToV3[code]; {
		case ok:
			code = v3
		default:
			code = packets.Err3NotAuthorized
		}
	}
	if err := h.b.srv.SendConnack(cl, code, false, nil); err != nil {
		return errors.Join(code, err)
	}
	return code
}

// OnConnectAuthenticate accepts what OnConnect accepted.
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, _ packets.Packet) bool {
	_, ok := h.accepted.LoadAndDelete(cl)
	return ok
}

func (h *hook) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	h.accepted.Delete(cl)
	h.unparkAll(cl)
	h.handMu.Lock()
	delete(h.established, cl)
	h.handMu.Unlock()
}

// OnACLCheck lets a device read what its role needs, when it subscribes
// and for every message delivered — to its session too while it is away:
// the device is the session's username, not its connection. Publishing is
// checked in OnPublish instead: a refused publish must be acknowledged, or
// an MQTT 3.1.1 client is disconnected and sends it again forever.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if write {
		return true
	}
	user := string(cl.Properties.Username)
	d := h.b.device(user)
	if d == nil {
		h.b.log.Debug("mqtt read refused: device unknown or disabled", "device", user, "topic", topic)
		return false
	}
	ok := devices.CanRead(h.b.bus.Topics(), d, topic)
	if !ok {
		h.b.log.Warn("mqtt read refused", "device", d.ID, "client", cl.ID, "topic", topic)
	}
	return ok
}

// OnPublish runs before the broker acknowledges a publish: a command is
// made durable and answered here. Anything a device may not publish — a
// topic not its own, a state that is not one, too large a payload — is
// acknowledged and dropped, with a log line and, for a command, an error
// reply.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	d := h.b.device(string(cl.Properties.Username))
	t := h.b.bus.Topics()
	kind, id, _ := t.Parse(pk.TopicName)
	switch {
	case d == nil:
		h.b.log.Warn("mqtt publish refused: device unknown or disabled", "device", string(cl.Properties.Username), "topic", pk.TopicName)
		return pk, packets.CodeSuccessIgnore
	case kind == api.KindCmd && id == d.ID:
		start := time.Now()
		reply := h.b.bus.HandleCommand(context.Background(), d, pk.Payload)
		h.b.Publish(t.Reply(d.ID), reply, false)
		h.b.log.Debug("command", "device", d.ID, "took", time.Since(start))
		return pk, packets.CodeSuccessIgnore // answered; not routed further, nor retained
	case kind == api.KindCmd:
		h.b.Publish(t.Reply(d.ID), h.b.bus.Foreign(d, pk.TopicName, pk.Payload), false)
		return pk, packets.CodeSuccessIgnore
	}
	if err := devices.CheckPublish(t, d, pk.TopicName, pk.Payload); err != nil {
		h.b.log.Warn("mqtt publish refused", "device", d.ID, "topic", pk.TopicName, "bytes", len(pk.Payload),
			"retain", pk.FixedHeader.Retain, "err", err)
		return pk, packets.CodeSuccessIgnore
	}
	return pk, nil
}
