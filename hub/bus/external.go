package bus

import (
	"context"
	"crypto/tls"
	"errors"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
	"guichet/hub/devices"
)

// ExternalOptions configures the hub's connection to a broker it does not
// run (the town's Mosquitto): the broker authenticates devices and enforces
// the ACL with the files devices.MosquittoFiles writes.
type ExternalOptions struct {
	URL      string // "tcp://mosquitto.local:1883"
	Username string // devices.HubUser by default
	Password string
	TLS      *tls.Config
}

// External is the hub's client on an external broker.
type External struct {
	bus    *Bus
	client paho.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	workers map[string]chan paho.Message // one per device: its commands in order
	ready   chan struct{}
}

// StartExternal connects the bus to an external broker and starts
// publishing through it.
func StartExternal(b *Bus, o ExternalOptions) (*External, error) {
	if o.Username == "" {
		o.Username = devices.HubUser
	}
	x := &External{bus: b, workers: map[string]chan paho.Message{}, done: make(chan struct{}), ready: make(chan struct{})}
	t := b.Topics()
	var once sync.Once
	opts := paho.NewClientOptions().AddBroker(o.URL).
		SetClientID(o.Username + "-" + t.Site).SetUsername(o.Username).SetPassword(o.Password).
		SetCleanSession(false).SetOrderMatters(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(5 * time.Second).
		SetKeepAlive(10 * time.Second).SetConnectTimeout(5 * time.Second).SetWriteTimeout(5 * time.Second).
		SetOnConnectHandler(func(c paho.Client) {
			tok := c.SubscribeMultiple(map[string]byte{t.CmdFilter(): 1, t.DeviceStateFilter(): 1}, x.onMessage)
			if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				b.log.Error("subscribe on the external broker", "err", tok.Error())
				return
			}
			b.log.Info("connected to the external broker", "url", o.URL)
			b.Kick()
			once.Do(func() { close(x.ready) })
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) { b.log.Warn("external broker connection lost", "err", err) })
	if o.TLS != nil {
		opts.SetTLSConfig(o.TLS)
	}
	x.client = paho.NewClient(opts)
	x.client.Connect()
	select {
	case <-x.ready:
	case <-time.After(10 * time.Second):
		x.client.Disconnect(0)
		return nil, errors.New("external broker " + o.URL + " not reachable (or refused " + o.Username + ") within 10 s")
	}
	ctx, cancel := context.WithCancel(context.Background())
	x.cancel = cancel
	go func() {
		defer close(x.done)
		b.Run(ctx, x)
	}()
	return x, nil
}

// Close stops publishing and disconnects.
func (x *External) Close() error {
	x.cancel()
	<-x.done
	x.client.Disconnect(500)
	return nil
}

// Publish implements Publisher.
func (x *External) Publish(topic string, payload []byte, retain bool) error {
	tok := x.client.Publish(topic, 1, retain, payload)
	if !tok.WaitTimeout(5 * time.Second) {
		return errors.New("publish timed out")
	}
	return tok.Error()
}

// onMessage must not block (paho): commands go to their device's worker.
func (x *External) onMessage(_ paho.Client, m paho.Message) {
	t := x.bus.Topics()
	kind, id, ok := t.Parse(m.Topic())
	switch {
	case !ok:
	case kind == api.KindDeviceState:
		x.bus.DeviceState(id, m.Payload())
	case kind == api.KindCmd:
		x.worker(id) <- m
	}
}

// worker returns the device's command queue, starting its goroutine: a
// device's commands are done in the order it sent them.
func (x *External) worker(id string) chan paho.Message {
	x.mu.Lock()
	defer x.mu.Unlock()
	ch := x.workers[id]
	if ch == nil {
		ch = make(chan paho.Message, 1024)
		x.workers[id] = ch
		go x.work(id, ch)
	}
	return ch
}

func (x *External) work(id string, ch chan paho.Message) {
	t := x.bus.Topics()
	for m := range ch {
		// The broker authenticated the publisher and its ACL lets only
		// device id publish on cmd/id; the registry says what it may do.
		var reply []byte
		d, err := x.bus.Devices().Get(id)
		if err != nil || d.Disabled {
			x.bus.log.Warn("command from an unknown or disabled device refused: are the broker's files up to date?", "device", id)
			reply = encodeReply(api.ErrorReply(commandID(m.Payload()), "forbidden", "this device is not enabled on the hub"))
		} else {
			reply = x.bus.HandleCommand(context.Background(), d, m.Payload())
		}
		if err := x.Publish(t.Reply(id), reply, false); err != nil {
			x.bus.log.Warn("publish reply", "device", id, "err", err)
		}
	}
}
