// Package broker is the hub's embedded MQTT broker (mochi-mqtt): devices
// authenticate with their id and secret, the ACL lets each publish only for
// itself and read only what it needs, commands are run — durably — before
// the broker acknowledges them, and persistent sessions (a consumer's
// queue of events) outlive the connection and the hub.
package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"guichet/hub/bus"
	"guichet/hub/devices"
)

// Options configures the broker.
type Options struct {
	Bus     *bus.Bus
	Log     *slog.Logger
	Addr    string      // TCP listen address, ":1883"
	TLSAddr string      // optional TLS listen address, ":8883"
	TLS     *tls.Config // required with TLSAddr
	// Sessions is the file that keeps persistent sessions and their queues
	// across restarts (broker.db in the hub's data directory); empty, they
	// live in memory only.
	Sessions string
	// MaxQueued bounds what a session holds unacknowledged;
	// devices.MaxQueued (as Mosquitto's configuration) if zero.
	MaxQueued int
}

// noExpiry is how long a message may wait: ten years, that is for ever.
// mochi's default (a day) also deletes retained messages older than that:
// a configuration or a lease that did not change over a weekend vanished.
// Queues are bounded by devices.MaxQueued instead.
const noExpiry = 10 * 365 * 24 * 3600

// Broker is the embedded broker.
type Broker struct {
	srv      *mqtt.Server
	bus      *bus.Bus
	log      *slog.Logger
	addr     net.Addr
	sessions *sessions // nil without a file
	cancel   context.CancelFunc
	done     chan struct{}
	takeover sync.RWMutex // held by a session's take-over; the hub's publishes wait for it (takeover.go)
	hook     *hook

	mu   sync.Mutex
	devs map[string]*devices.Device // by id, as last read from the registry; nil: unknown or disabled
	gen  map[string]int             // changes of a device since start, to ignore a read that raced with one
}

// Start starts the broker and the bus's publishing through it.
func Start(o Options) (_ *Broker, err error) {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = devices.MaxPacket
	caps.MaximumSessionExpiryInterval = 24 * 3600
	caps.MaximumMessageExpiryInterval = noExpiry
	// A session holds at most MaxQueued unacknowledged messages; the
	// pending writes of a connection hold more, so a slow consumer meets
	// the first bound (a dropped message is logged) and never the second
	// (mochi would drop the message from the session silently).
	if o.MaxQueued <= 0 || o.MaxQueued > devices.MaxQueued {
		o.MaxQueued = devices.MaxQueued
	}
	caps.MaximumInflight = uint16(o.MaxQueued)
	caps.MaximumClientWritesPending = int32(o.MaxQueued) + 1024
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Capabilities: caps, Logger: o.Log.With("part", "broker")})
	b := &Broker{srv: srv, bus: o.Bus, log: o.Log, devs: map[string]*devices.Device{}, gen: map[string]int{}, done: make(chan struct{})}
	b.hook = &hook{b: b}
	if err := srv.AddHook(b.hook, nil); err != nil {
		return nil, err
	}
	if o.Sessions != "" {
		if b.sessions, err = openSessions(o.Sessions, o.Log.With("part", "broker")); err != nil {
			return nil, err
		}
		b.sessions.srv = srv
		if err := srv.AddHook(b.sessions, nil); err != nil {
			b.sessions.Stop()
			return nil, err
		}
	}
	defer func() {
		if err != nil && b.sessions != nil {
			b.sessions.Stop()
		}
	}()
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
	// The hub's retained topics are the hub's: should anything else change
	// one, the bus publishes its own again.
	for _, f := range b.bus.OwnFilters() {
		if err := srv.Subscribe(f, 1, func(cl *mqtt.Client, sub packets.Subscription, pk packets.Packet) {
			b.bus.Heard(pk.TopicName, pk.Payload)
		}); err != nil {
			return nil, err
		}
	}
	b.bus.Devices().OnChange(b.changed)
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() {
		defer close(b.done)
		b.bus.Run(ctx, b)
	}()
	b.log.Info("mqtt broker ready", "addr", b.addr.String(), "tls", o.TLSAddr, "sessions", o.Sessions)
	return b, nil
}

// Addr returns the address the broker listens on.
func (b *Broker) Addr() net.Addr { return b.addr }

// Close stops publishing and the broker; the sessions are written.
func (b *Broker) Close() error {
	b.cancel()
	<-b.done
	return b.srv.Close() // stops the hooks, the sessions' last
}

// Publish implements bus.Publisher through the inline client.
func (b *Broker) Publish(topic string, payload []byte, retain bool) error {
	b.takeover.RLock()
	defer b.takeover.RUnlock()
	return b.srv.Publish(topic, payload, retain, 1)
}

// Sync returns once every message published so far is on disk for the
// persistent sessions it was queued for (cloud.Syncer).
func (b *Broker) Sync() error {
	if b.sessions == nil {
		return nil
	}
	return b.sessions.Sync()
}

// device returns the enabled device id, or nil. It is read from the
// registry once, and again after the registry says it changed: the ACL is
// checked for every message delivered, to connected and offline sessions
// alike.
func (b *Broker) device(id string) *devices.Device {
	b.mu.Lock()
	d, ok := b.devs[id]
	gen := b.gen[id]
	b.mu.Unlock()
	if ok {
		return d
	}
	d, err := b.bus.Devices().Get(id)
	if err != nil || d.Disabled {
		d = nil
	}
	b.remember(id, d, gen)
	return d
}

// remember caches d as device id, unless id changed since gen.
func (b *Broker) remember(id string, d *devices.Device, gen int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gen[id] == gen {
		b.devs[id] = d
	}
}

// changed is told by the registry that device id changed: it is read again
// when next needed; if revoked, its connections are cut, and if it is
// disabled, its sessions are dropped.
func (b *Broker) changed(id string, revoked bool) {
	b.mu.Lock()
	delete(b.devs, id)
	b.gen[id]++
	b.mu.Unlock()
	if !revoked {
		return
	}
	drop := b.device(id) == nil
	for _, cl := range b.srv.Clients.GetAll() {
		if cl.Net.Inline || string(cl.Properties.Username) != id {
			continue
		}
		if !cl.Closed() {
			b.log.Info("device disconnected: credentials revoked", "device", id, "client", cl.ID)
			b.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
		}
		if drop {
			b.log.Info("session of a disabled device dropped", "device", id, "client", cl.ID, "queued", cl.State.Inflight.Len())
			b.srv.UnsubscribeClient(cl)
			cl.ClearInflights()
			b.srv.Clients.Delete(cl.ID)
			if b.sessions != nil {
				b.sessions.forget(cl.ID)
			}
			b.hook.forgetHanded(cl.ID)
		}
	}
}
