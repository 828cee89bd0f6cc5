// Package link is a device's connection to the hub: an MQTT session
// (paho.mqtt.golang) that survives Wi-Fi cuts, broker restarts and reboots.
//
// A command is journaled in the device's SQLite outbox before it is sent
// and forgotten only when its reply arrives, so nothing is lost; every
// command carries an idempotency id, so nothing is done twice. Unanswered
// commands are sent again, in order, after a reconnect or a reboot. The
// retained topics the device follows are cached, so a rebooted device shows
// the last state before the hub is reachable.
package link

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"guichet/firmware/health"
	"guichet/hub/api"
	"guichet/internal/pahostore"
)

// Options configures a Link.
type Options struct {
	Broker  string // "tcp://hub.local:1883" or "ssl://hub.local:8883"
	Site    string
	Device  string
	Secret  string
	Role    string
	Version string
	DataDir string // the outbox and the cache: DataDir/link.db
	TLS     *tls.Config
	// Log receives the link's log lines; nil discards them.
	Log *slog.Logger

	ReplyTimeout time.Duration // an unanswered command is sent again after this; 5 s if zero
	Window       int           // commands in flight at once; 32 if zero

	// Health, if set, tells the board's health (firmware/health), sent in
	// every state the link publishes; it is read again every HealthEvery
	// (5 min if zero) and the state published again when it changed enough
	// (health.Significant).
	Health      func() *api.DeviceHealth `json:"-"`
	HealthEvery time.Duration
}

// ErrTooLarge is returned for a command the hub would refuse for its size.
var ErrTooLarge = errors.New("command too large")

// Link is a device's link to the hub.
type Link struct {
	// Immutable.
	o      Options
	topics api.Topics
	log    *slog.Logger
	box    *outbox
	client paho.Client

	wake  chan struct{}
	stop  chan struct{}
	resub chan struct{} // a subscription failed: start the session again
	wg    sync.WaitGroup
	in    inbox // what paho's handler hands over, without ever blocking

	session sync.Mutex // held to start or end the MQTT session
	closing bool       // under session: Close started, no new session

	mu        sync.Mutex
	health    *api.DeviceHealth // as last published
	connected bool
	inflight  map[string]time.Time // sent, unanswered: when last sent
	retryAt   map[string]time.Time // answered "unavailable": not before
	waiters   map[string]chan api.Reply
	onReply   []func(Entry, api.Reply)
	follows   map[string][]func([]byte)
	onConn    []func(bool)
	state     api.DeviceState
	problem   Problem
	sessions  int  // counts the sessions, so that a late check of an old one does nothing
	heard     bool // the site's configuration came in this session
}

// Open opens the outbox and starts connecting; it does not wait for the hub.
func Open(o Options) (*Link, error) {
	if o.ReplyTimeout <= 0 {
		o.ReplyTimeout = 5 * time.Second
	}
	if o.Window <= 0 {
		o.Window = 32
	}
	if o.HealthEvery <= 0 {
		o.HealthEvery = 5 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}

	box, err := openOutbox(filepath.Join(o.DataDir, "link.db"), o.Log.With("device", o.Device))
	if err != nil {
		return nil, err
	}
	l := &Link{o: o, topics: api.Topics{Site: o.Site}, log: o.Log.With("device", o.Device), box: box,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), resub: make(chan struct{}, 1), in: newInbox(),
		inflight: map[string]time.Time{}, retryAt: map[string]time.Time{},
		waiters: map[string]chan api.Reply{}, follows: map[string][]func([]byte){},
		state: api.DeviceState{Role: o.Role, Version: o.Version}}
	box.setLazy(l.topics.Queue()) // republished as waits grow: advisory for the next boot
	will, _ := json.Marshal(api.DeviceState{Online: false, Role: o.Role, Version: o.Version})
	opts := paho.NewClientOptions().AddBroker(o.Broker).
		SetClientID(o.Device).SetUsername(o.Device).SetPassword(o.Secret).
		// Ordered delivery: retained state must not go back in time. The
		// handler only hands over to the link's inbox, which never blocks
		// (paho deadlocks if a handler waits on it).
		SetCleanSession(false).SetOrderMatters(true).SetStore(pahostore.Null{}). // our own outbox resends; see pahostore
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(5*time.Second).
		SetKeepAlive(10*time.Second).SetPingTimeout(5*time.Second).SetConnectTimeout(5*time.Second).SetWriteTimeout(5*time.Second).
		SetBinaryWill(l.topics.DeviceState(o.Device), will, 1, true).
		// Messages with no route — replies queued while the device was away
		// arrive right after CONNACK, before onConnect subscribes; a topic an
		// earlier session subscribed to and this one does not follow — are
		// not acknowledged by paho: the broker's in-flight window fills and it
		// stops delivering to the device. The default handler takes them.
		SetDefaultPublishHandler(l.onMessage).
		SetOnConnectHandler(l.onConnect).
		SetConnectionNotificationHandler(l.onNotification).
		SetConnectionLostHandler(func(_ paho.Client, err error) { l.setConnected(false, err) })
	if o.TLS != nil {
		opts.SetTLSConfig(o.TLS)
	}
	l.client = paho.NewClient(opts)
	l.wg.Add(5)
	go l.healthLoop()
	go l.sendLoop()
	go l.replyLoop()
	go l.messageLoop()
	go l.resubscribeLoop()
	l.client.Connect() // retries in the background
	return l, nil
}

// Close says the device is going offline, disconnects and closes the outbox.
// Commands not yet answered stay in the outbox for the next start.
func (l *Link) Close() error {
	select {
	case <-l.stop:
		return nil
	default:
	}
	if l.Connected() {
		off, _ := json.Marshal(api.DeviceState{Online: false, Role: l.o.Role, Version: l.o.Version})
		l.client.Publish(l.topics.DeviceState(l.o.Device), 1, true, off).WaitTimeout(time.Second)
	}
	close(l.stop)
	l.session.Lock()
	l.closing = true
	l.client.Disconnect(250)
	l.session.Unlock()
	l.wg.Wait()
	return l.box.close()
}

// Topics returns the site's topics.
func (l *Link) Topics() api.Topics { return l.topics }

// Log returns the link's logger, for the device's other parts.
func (l *Link) Log() *slog.Logger { return l.o.Log }

// Device returns the device id.
func (l *Link) Device() string { return l.o.Device }

// Connected reports whether the session with the broker is up.
func (l *Link) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.connected
}

// OnConnection registers fn, called when the session goes up or down.
func (l *Link) OnConnection(fn func(up bool)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onConn = append(l.onConn, fn)
}

// OnReply registers fn, called with every reply to a command of the outbox,
// including commands sent before a reboot.
func (l *Link) OnReply(fn func(Entry, api.Reply)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onReply = append(l.onReply, fn)
}

// NewID returns a new command id (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

func encode(id, op string, args any) ([]byte, error) {
	c := api.Command{ID: id, Op: op}
	if args != nil {
		raw, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		c.Args = raw
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	if len(b) > api.MaxCommandSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	return b, nil
}

// Enqueue journals a command and returns its id; it will be sent as soon as
// possible and until answered.
func (l *Link) Enqueue(id, op string, args any) error {
	payload, err := encode(id, op, args)
	if err != nil {
		return err
	}
	if err := l.box.add(id, op, payload); err != nil {
		return fmt.Errorf("journal %s: %w", op, err)
	}
	l.kick()
	return nil
}

// Send journals a command and waits for its reply until ctx ends. If ctx
// ends first, the command stays journaled: it will still be done, once, and
// its reply will reach the OnReply functions.
func (l *Link) Send(ctx context.Context, op string, args any) (api.Reply, error) {
	return l.SendID(ctx, NewID(), op, args)
}

// SendID is Send with the caller's command id.
func (l *Link) SendID(ctx context.Context, id, op string, args any) (api.Reply, error) {
	ch := make(chan api.Reply, 1)
	l.mu.Lock()
	l.waiters[id] = ch
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.waiters, id)
		l.mu.Unlock()
	}()
	if err := l.Enqueue(id, op, args); err != nil {
		return api.Reply{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return api.Reply{}, ctx.Err()
	}
}

// Replace swaps a journaled command for another, atomically, unless the
// first was answered meanwhile (ok false). A kiosk uses it to turn an
// unanswered ticket request into the ticket it printed from its lease.
func (l *Link) Replace(old, id, op string, args any) (ok bool, err error) {
	payload, err := encode(id, op, args)
	if err != nil {
		return false, err
	}
	if ok, err = l.box.replace(old, id, op, payload); err != nil || !ok {
		return ok, err
	}
	l.mu.Lock()
	delete(l.inflight, old)
	l.mu.Unlock()
	l.kick()
	return true, nil
}

// Pending returns how many commands wait for a reply.
func (l *Link) Pending() int { return l.box.count() }

// PendingEntries returns the commands waiting for a reply, oldest first.
func (l *Link) PendingEntries() []Entry {
	entries, err := l.box.pending()
	select {
	case <-l.stop: // closed: the device is shutting down
		return nil
	default:
	}
	if err != nil {
		l.log.Error("read outbox", "err", err)
	}
	return entries
}

// Follow calls fn with every message on a retained topic, starting with the
// cached one if any, in order. A slow follower holds nothing else up (the
// messages wait in the link's inbox); a stuck one, thousands of messages
// behind, loses the oldest of its topic, with a log line.
func (l *Link) Follow(topic string, fn func(payload []byte)) {
	l.mu.Lock()
	_, known := l.follows[topic]
	l.follows[topic] = append(l.follows[topic], fn)
	l.mu.Unlock()
	if p, ok := l.box.cached(topic); ok {
		fn(p)
	}
	// onConnect subscribes to what was followed when it started; a topic
	// followed since is subscribed here (twice is harmless).
	if !known && l.client.IsConnectionOpen() {
		tok := l.client.Subscribe(topic, 1, l.onMessage)
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			l.log.Warn("subscribe failed; subscribed again at the next connection", "topic", topic, "err", tok.Error())
		}
	}
}

// Cached returns the last payload seen on a followed topic.
func (l *Link) Cached(topic string) ([]byte, bool) { return l.box.cached(topic) }

// SetState publishes the device's retained state (online, role and version
// are filled in).
func (l *Link) SetState(st api.DeviceState) {
	l.mu.Lock()
	st.Role, st.Version = l.o.Role, l.o.Version
	l.state = st
	l.mu.Unlock()
	l.publishState()
}

func (l *Link) publishState() {
	l.mu.Lock()
	st := l.state
	up := l.connected
	l.mu.Unlock()
	if !up {
		return
	}
	st.Online = true
	st.Outbox = l.box.count()
	if l.o.Health != nil {
		st.Health = l.o.Health()
		l.mu.Lock()
		l.health = st.Health
		l.mu.Unlock()
	}
	b, _ := json.Marshal(st)
	l.client.Publish(l.topics.DeviceState(l.o.Device), 1, true, b)
}

func (l *Link) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *Link) onConnect(c paho.Client) {
	// The site's configuration, which the hub always keeps retained, tells
	// that this device is on its hub's site (see awaitSite).
	topics := map[string]byte{l.topics.Reply(l.o.Device): 1, l.topics.Config(): 1}
	l.mu.Lock()
	for t := range l.follows {
		topics[t] = 1
	}
	l.mu.Unlock()
	tok := c.SubscribeMultiple(topics, l.onMessage)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		l.log.Warn("subscribe failed; reconnecting", "err", tok.Error())
		select {
		case l.resub <- struct{}{}:
		default: // already asked
		}
		return
	}
	// Every device may read its replies and its site's configuration: those
	// refused (0x80) are topics of a site the broker does not serve, a wrong
	// --site. Another topic refused (a counter terminal following another
	// counter) is the device's part to say.
	for topic, code := range tok.(*paho.SubscribeToken).Result() {
		switch {
		case code != 0x80:
		case topic == l.topics.Reply(l.o.Device) || topic == l.topics.Config():
			l.setProblem(ProblemSite, fmt.Errorf("subscription to %s refused", topic))
			select {
			case l.resub <- struct{}{}:
			default:
			}
			return
		default:
			l.log.Warn("the hub refuses this device a topic", "topic", topic)
		}
	}
	l.awaitSite()
	l.setConnected(true, nil)
	l.publishState()
}

func (l *Link) setConnected(up bool, err error) {
	l.mu.Lock()
	changed := l.connected != up
	l.connected = up
	if up {
		l.inflight = map[string]time.Time{} // a new session: send everything unanswered again
	}
	fns := append([]func(bool){}, l.onConn...)
	l.mu.Unlock()
	if !changed {
		return
	}
	if up {
		l.log.Info("link up", "broker", l.o.Broker, "outbox", l.box.count())
	} else {
		l.log.Warn("link down", "err", err)
	}
	for _, fn := range fns {
		fn(up)
	}
	l.kick()
}

// resubscribeLoop starts the session again when a subscription failed,
// until the link closes.
func (l *Link) resubscribeLoop() {
	defer l.wg.Done()
	for {
		select {
		case <-l.stop:
			return
		case <-l.resub:
		}
		if l.Problem() == ProblemSite { // refused again at once: no need to hammer the broker
			select {
			case <-l.stop:
				return
			case <-time.After(10 * time.Second):
			}
		}
		l.session.Lock()
		if !l.closing { // else closed meanwhile: stay disconnected
			l.client.Disconnect(0)
			l.client.Connect() // retries in the background
		}
		l.session.Unlock()
	}
}

// onMessage is paho's handler: it hands the message to the inbox and
// returns at once.
func (l *Link) onMessage(_ paho.Client, m paho.Message) {
	if m.Topic() == l.topics.Reply(l.o.Device) {
		var r api.Reply
		if err := json.Unmarshal(m.Payload(), &r); err != nil || r.ID == "" {
			l.log.Warn("unreadable reply", "err", err)
			return
		}
		if !l.in.reply(r) {
			l.log.Warn("too many replies waiting: one dropped (the command is sent again)", "id", r.ID)
		}
		return
	}
	if m.Topic() == l.topics.Config() {
		l.siteHeard()
	}
	if n := l.in.state(m.Topic(), m.Payload()); n > 0 {
		l.log.Warn("a follower is stuck: older retained messages dropped", "topic", m.Topic(), "dropped", n)
	}
}

// healthLoop reads the board's health every HealthEvery and publishes the
// state again when it changed enough.
func (l *Link) healthLoop() {
	defer l.wg.Done()
	if l.o.Health == nil {
		return
	}
	tick := time.NewTicker(l.o.HealthEvery)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		l.mu.Lock()
		last := l.health
		l.mu.Unlock()
		if health.Significant(last, l.o.Health()) {
			l.publishState()
		}
	}
}

// sendLoop sends what the outbox holds, in order, a window at a time, and
// again what stays unanswered.
func (l *Link) sendLoop() {
	defer l.wg.Done()
	tick := time.NewTicker(l.o.ReplyTimeout / 4)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.wake:
		case <-tick.C:
		}
		if !l.Connected() {
			continue
		}
		entries, err := l.box.pending()
		if err != nil {
			l.log.Error("read outbox", "err", err)
			continue
		}
		now := time.Now()
		for _, e := range entries {
			l.mu.Lock()
			sent, flying := l.inflight[e.ID]
			retry := l.retryAt[e.ID]
			full := len(l.inflight) >= l.o.Window
			l.mu.Unlock()
			if flying && now.Sub(sent) < l.o.ReplyTimeout || now.Before(retry) {
				continue
			}
			if full && !flying {
				break
			}
			tok := l.client.Publish(l.topics.Cmd(l.o.Device), 1, false, e.Payload)
			if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				l.log.Warn("send failed, will retry", "op", e.Op, "id", e.ID, "err", tok.Error())
				break
			}
			if flying {
				l.log.Info("command sent again", "op", e.Op, "id", e.ID, "age", now.Sub(e.Created).Round(time.Millisecond))
			}
			l.mu.Lock()
			l.inflight[e.ID] = now
			l.mu.Unlock()
		}
	}
}

// replyLoop matches replies to journaled commands.
func (l *Link) replyLoop() {
	defer l.wg.Done()
	for {
		r, ok := l.in.nextReply(l.stop)
		if !ok {
			return
		}
		if r.Error != nil && r.Error.Code == api.CodeUnavailable {
			// The hub could not store it: send it again a little later.
			l.mu.Lock()
			delete(l.inflight, r.ID)
			l.retryAt[r.ID] = time.Now().Add(time.Second)
			l.mu.Unlock()
			continue
		}
		entry, found := l.entry(r.ID)
		if !found {
			continue // a duplicate reply
		}
		l.mu.Lock()
		w := l.waiters[r.ID]
		fns := append([]func(Entry, api.Reply){}, l.onReply...)
		l.mu.Unlock()
		if !r.OK { // the role says what it means to the user; here, the trace
			l.log.Debug("command refused by the hub", "op", entry.Op, "id", r.ID, "code", r.Error.Code, "err", r.Error.Message)
		}
		if w != nil {
			w <- r
		}
		// The handlers run before the command is forgotten: a crash between
		// the two sends the command again, and the hub answers the same.
		for _, fn := range fns {
			fn(entry, r)
		}
		if _, err := l.box.done(r.ID); err != nil {
			l.log.Error("outbox", "err", err)
			continue
		}
		l.mu.Lock()
		delete(l.inflight, r.ID)
		delete(l.retryAt, r.ID)
		l.mu.Unlock()
		l.kick()
	}
}

func (l *Link) entry(id string) (Entry, bool) {
	e, err := l.box.get(id)
	if err != nil {
		l.log.Error("outbox", "err", err)
		return Entry{}, false
	}
	return e, e.ID != ""
}

// messageLoop caches retained messages and hands them to followers, in order.
func (l *Link) messageLoop() {
	defer l.wg.Done()
	for {
		topic, payload, ok := l.in.nextState(l.stop)
		if !ok {
			return
		}
		l.box.cache(topic, payload)
		l.mu.Lock()
		fns := append([]func([]byte){}, l.follows[topic]...)
		l.mu.Unlock()
		for _, fn := range fns {
			fn(payload)
		}
	}
}
