// Package broker is the hub's embedded MQTT broker (mochi-mqtt): devices
// authenticate with their id and secret, the ACL lets each publish only for
// itself and read only what it needs, and commands are run — durably —
// before the broker acknowledges them.
package broker

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"guichet/hub/api"
	"guichet/hub/bus"
	"guichet/hub/devices"
)

// MaxPacket is the largest MQTT packet accepted; larger ones cut the
// connection. Commands over api.MaxCommandSize get an error reply.
const MaxPacket = 2 << 20

// Options configures the broker.
type Options struct {
	Bus     *bus.Bus
	Log     *slog.Logger
	Addr    string      // TCP listen address, ":1883"
	TLSAddr string      // optional TLS listen address, ":8883"
	TLS     *tls.Config // required with TLSAddr
}

// Broker is the embedded broker.
type Broker struct {
	srv    *mqtt.Server
	bus    *bus.Bus
	log    *slog.Logger
	addr   net.Addr
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	clients map[*mqtt.Client]*devices.Device // authenticated connections (a takeover is a new one)
}

// Start starts the broker and the bus's publishing through it.
func Start(o Options) (*Broker, error) {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = MaxPacket
	caps.MaximumSessionExpiryInterval = 24 * 3600
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Capabilities: caps, Logger: o.Log.With("part", "broker")})
	b := &Broker{srv: srv, bus: o.Bus, log: o.Log, clients: map[*mqtt.Client]*devices.Device{}, done: make(chan struct{})}
	if err := srv.AddHook(&hook{b: b}, nil); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("mqtt listen %s: %w", o.Addr, err)
	}
	b.addr = ln.Addr()
	ln.Close() // mochi listens itself; the port was free a moment ago
	if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: b.addr.String()})); err != nil {
		return nil, err
	}
	if o.TLSAddr != "" {
		if o.TLS == nil {
			return nil, errors.New("an MQTT TLS listener needs a certificate")
		}
		if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "tls", Address: o.TLSAddr, TLSConfig: o.TLS})); err != nil {
			return nil, err
		}
	}
	if err := srv.Serve(); err != nil {
		return nil, err
	}
	t := b.bus.Topics()
	if err := srv.Subscribe(t.DeviceStateFilter(), 1, func(cl *mqtt.Client, sub packets.Subscription, pk packets.Packet) {
		if _, id, ok := t.Parse(pk.TopicName); ok {
			b.bus.DeviceState(id, pk.Payload)
		}
	}); err != nil {
		return nil, err
	}
	b.bus.Devices().OnChange(func(id string, revoked bool) {
		if revoked {
			b.disconnect(id)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() {
		defer close(b.done)
		b.bus.Run(ctx, b)
	}()
	b.log.Info("mqtt broker ready", "addr", b.addr.String(), "tls", o.TLSAddr)
	return b, nil
}

// Addr returns the address the broker listens on.
func (b *Broker) Addr() net.Addr { return b.addr }

// Close stops publishing and the broker.
func (b *Broker) Close() error {
	b.cancel()
	<-b.done
	return b.srv.Close()
}

// Publish implements bus.Publisher through the inline client.
func (b *Broker) Publish(topic string, payload []byte, retain bool) error {
	return b.srv.Publish(topic, payload, retain, 1)
}

// disconnect cuts every connection of a device at once (disabled, or its
// secret changed).
func (b *Broker) disconnect(id string) {
	b.mu.Lock()
	var cls []*mqtt.Client
	for cl, d := range b.clients {
		if d.ID == id {
			cls = append(cls, cl)
		}
	}
	b.mu.Unlock()
	for _, cl := range cls {
		b.log.Info("device disconnected: credentials revoked", "device", id, "client", cl.ID)
		b.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
	}
}

func (b *Broker) device(cl *mqtt.Client) *devices.Device {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clients[cl]
}

// hook authenticates devices, enforces the ACL and runs commands.
type hook struct {
	mqtt.HookBase
	b *Broker
}

func (h *hook) ID() string { return "guichet" }

func (h *hook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnDisconnect}, []byte{b})
}

// OnConnectAuthenticate accepts a device whose username is its id and
// password its secret, with a client id that is its id or starts with
// "{id}-" (so a person can watch and publish at once with mosquitto_sub
// and mosquitto_pub).
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user := string(pk.Connect.Username)
	d, err := h.b.bus.Devices().Authenticate(user, string(pk.Connect.Password))
	switch {
	case err != nil:
		h.b.log.Warn("mqtt connection refused", "user", user, "remote", cl.Net.Remote, "err", err)
		return false
	case cl.ID != user && !strings.HasPrefix(cl.ID, user+"-"):
		h.b.log.Warn("mqtt connection refused: the client id must be the device id or start with it and '-'", "user", user, "client", cl.ID)
		return false
	}
	h.b.mu.Lock()
	h.b.clients[cl] = d
	h.b.mu.Unlock()
	return true
}

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	h.b.mu.Lock()
	delete(h.b.clients, cl)
	h.b.mu.Unlock()
}

// OnACLCheck lets a device read what its role needs. Publishing is checked
// in OnPublish instead: a refused publish must be acknowledged, or an MQTT
// 3.1.1 client is disconnected and sends it again forever.
func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if write {
		return true
	}
	d := h.b.device(cl)
	ok := d != nil && devices.CanRead(h.b.bus.Topics(), d, topic)
	if !ok {
		h.b.log.Warn("mqtt read refused", "device", cl.ID, "topic", topic)
	}
	return ok
}

// OnPublish runs before the broker acknowledges a publish: a command is
// made durable and answered here. Anything a device may not publish is
// acknowledged and dropped, with a log line and, for a command, an error
// reply.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	d := h.b.device(cl)
	t := h.b.bus.Topics()
	kind, id, _ := t.Parse(pk.TopicName)
	switch {
	case d == nil:
		return pk, packets.CodeSuccessIgnore
	case kind == api.KindCmd && id == d.ID:
		start := time.Now()
		reply := h.b.bus.HandleCommand(context.Background(), d, pk.Payload)
		h.b.Publish(t.Reply(d.ID), reply, false)
		h.b.log.Debug("command", "device", d.ID, "took", time.Since(start))
		return pk, packets.CodeSuccessIgnore // answered; not routed further
	case kind == api.KindCmd:
		h.b.Publish(t.Reply(d.ID), h.b.bus.Foreign(d, pk.TopicName, pk.Payload), false)
		return pk, packets.CodeSuccessIgnore
	case devices.CanPublish(t, d, pk.TopicName):
		return pk, nil
	}
	h.b.log.Warn("mqtt publish refused", "device", d.ID, "topic", pk.TopicName)
	return pk, packets.CodeSuccessIgnore
}
