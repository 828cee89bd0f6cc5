package bus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
	"guichet/hub/devices"
	"guichet/internal/pahostore"
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

// External is the hub's client on an external broker. It owns its
// goroutines — the bus's publisher and one worker per device — and Close
// returns once they all have.
type External struct {
	bus    *Bus
	client paho.Client
	ctx    context.Context // ends at Close: the workers stop
	cancel context.CancelFunc
	done   chan struct{} // the publisher returned
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	workers map[string]*worker // one per device: its commands in order
	ready   chan struct{}
}

// worker holds a device's commands, in the order the broker delivered them.
type worker struct {
	mu      sync.Mutex
	pending [][]byte
	wake    chan struct{}
}

// StartExternal connects the bus to an external broker and starts
// publishing through it.
func StartExternal(b *Bus, o ExternalOptions) (*External, error) {
	if o.Username == "" {
		o.Username = devices.HubUser
	}
	x := &External{bus: b, workers: map[string]*worker{}, done: make(chan struct{}), ready: make(chan struct{})}
	x.ctx, x.cancel = context.WithCancel(context.Background())
	t := b.Topics()
	var once sync.Once
	opts := paho.NewClientOptions().AddBroker(o.URL).
		SetClientID(o.Username + "-" + t.Site).SetUsername(o.Username).SetPassword(o.Password).
		// Ordered delivery keeps each device's commands in order; the
		// handler never blocks (paho deadlocks otherwise).
		SetCleanSession(false).SetOrderMatters(true).SetStore(pahostore.Null{}). // our own outbox resends; see pahostore
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(5 * time.Second).
		SetKeepAlive(10 * time.Second).SetConnectTimeout(5 * time.Second).SetWriteTimeout(5 * time.Second).
		// A persistent session's queued commands arrive right after CONNACK,
		// before OnConnect subscribes again. paho does not acknowledge a
		// message it has no handler for: the broker's in-flight window then
		// fills and it stops delivering to the hub.
		SetDefaultPublishHandler(x.onMessage).
		SetOnConnectHandler(func(c paho.Client) {
			filters := map[string]byte{t.CmdFilter(): 1, t.DeviceStateFilter(): 1}
			for _, f := range b.OwnFilters() { // to re-assert them (reassert.go)
				filters[f] = 1
			}
			tok := c.SubscribeMultiple(filters, x.onMessage)
			if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				b.log.Error("subscribe on the external broker", "err", tok.Error())
				return
			}
			b.log.Info("connected to the external broker", "url", o.URL)
			b.Republish() // a broker restarted without persistence lost them
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
		x.cancel()
		x.client.Disconnect(0)
		return nil, errors.New("external broker " + o.URL + " not reachable (or refused " + o.Username + ") within 10 s")
	}
	go func() {
		defer close(x.done)
		b.Run(x.ctx, x)
	}()
	return x, nil
}

// Close stops publishing and the device workers, waits for them, and
// disconnects. A command that arrives meanwhile is not done: unanswered, the
// device sends it again.
func (x *External) Close() error {
	x.mu.Lock()
	x.closed = true
	x.mu.Unlock()
	x.cancel()
	<-x.done
	x.wg.Wait()
	x.client.Disconnect(500)
	return nil
}

// Publish implements Publisher.
func (x *External) Publish(topic string, payload []byte, retain bool) error {
	return x.publish(context.Background(), topic, payload, retain)
}

// publish publishes at QoS 1 and waits for the broker at most 5 s, or
// until ctx ends.
func (x *External) publish(ctx context.Context, topic string, payload []byte, retain bool) error {
	tok := x.client.Publish(topic, 1, retain, payload)
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-timeout.C:
		return errors.New("publish timed out")
	case <-ctx.Done():
		return fmt.Errorf("publish abandoned: %w", ctx.Err())
	}
}

// onMessage never blocks (paho): commands are queued for their device's worker.
func (x *External) onMessage(_ paho.Client, m paho.Message) {
	t := x.bus.Topics()
	kind, id, ok := t.Parse(m.Topic())
	switch {
	case !ok:
	case kind == api.KindDeviceState:
		x.bus.DeviceState(id, m.Payload())
	case kind == api.KindBoard || kind == api.KindQueue || kind == api.KindConfig || kind == api.KindCounter || kind == api.KindLease:
		x.bus.Heard(m.Topic(), m.Payload())
	case kind == api.KindCmd:
		if m.Retained() && len(m.Payload()) > 0 {
			// A device published its command retained: Mosquitto keeps it
			// (up to a packet's size) and hands it to the hub at every
			// subscription. It is done once — a command is idempotent by its
			// id — and cleared here, so that it is not kept for good.
			x.bus.log.Warn("a retained command cleared: a device must not retain its commands", "device", id)
			x.mu.Lock()
			if !x.closed {
				x.wg.Add(1)
				go func() { defer x.wg.Done(); x.clear(m.Topic()) }() // paho's handler must not block
			}
			x.mu.Unlock()
		}
		if len(m.Payload()) == 0 {
			return // a retained command cleared
		}
		w := x.worker(id)
		if w == nil {
			return // closing
		}
		w.mu.Lock()
		w.pending = append(w.pending, m.Payload())
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// clear removes the retained message of topic.
func (x *External) clear(topic string) {
	if err := x.publish(x.ctx, topic, nil, true); err != nil {
		x.bus.log.Warn("clear a retained command", "topic", topic, "err", err)
	}
}

// worker returns the device's command queue, starting its goroutine: a
// device's commands are done in the order it sent them. It returns nil
// once Close has started.
func (x *External) worker(id string) *worker {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	w := x.workers[id]
	if w == nil {
		w = &worker{wake: make(chan struct{}, 1)}
		x.workers[id] = w
		x.wg.Add(1)
		go x.work(id, w)
	}
	return w
}

// work does the device's commands as they come, until Close.
func (x *External) work(id string, w *worker) {
	defer x.wg.Done()
	t := x.bus.Topics()
	for {
		select {
		case <-w.wake:
		case <-x.ctx.Done():
			return
		}
		w.mu.Lock()
		batch := w.pending
		w.pending = nil
		w.mu.Unlock()
		for _, payload := range batch {
			if x.ctx.Err() != nil {
				return // stopping: unanswered, the device sends it again
			}
			x.handle(t, id, payload)
		}
	}
}

func (x *External) handle(t api.Topics, id string, payload []byte) {
	// The broker authenticated the publisher and its ACL lets only device
	// id publish on cmd/id; the registry says what it may do.
	var reply []byte
	d, err := x.bus.Devices().Get(id)
	if err != nil || d.Disabled {
		x.bus.log.Warn("command from an unknown or disabled device refused: are the broker's files up to date?", "device", id)
		reply = encodeReply(api.ErrorReply(api.CommandID(payload), api.CodeForbidden, "this device is not enabled on the hub"))
	} else {
		reply = x.bus.HandleCommand(context.Background(), d, payload)
	}
	// A reply not published by Close is not lost: unanswered, the device
	// sends its command again, and the hub answers the same.
	if err := x.publish(x.ctx, t.Reply(id), reply, false); err != nil {
		x.bus.log.Warn("publish reply", "device", id, "err", err)
	}
}
