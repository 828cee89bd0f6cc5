package ami

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"guichet/hub/telephony"
)

// Errors of a connection; Err and the actions wrap them.
var (
	ErrClosed    = errors.New("ami: connection closed")
	ErrLogin     = errors.New("ami: login refused")
	ErrGreeting  = errors.New("ami: not an Asterisk Manager Interface")
	ErrKeepalive = errors.New("ami: Asterisk stopped answering Ping")
	ErrBehind    = errors.New("ami: events not read fast enough")
)

// Options set a connection up. Zero values take the defaults.
type Options struct {
	Username, Secret string
	// Events is Login's event mask: "on" (every class the user may read),
	// "off", or classes such as "call,agent" (what the Adapter needs).
	Events string
	// PingInterval is how often a Ping checks the connection (20 s); below
	// zero, never. PingTimeout is how long its answer may take (5 s):
	// unanswered, the connection is declared dead and closed.
	PingInterval, PingTimeout time.Duration
	// LoginTimeout bounds the greeting and the login (10 s).
	LoginTimeout time.Duration
	// WriteTimeout bounds one action's write (10 s).
	WriteTimeout time.Duration
	// MaxPacket and MaxHeaders bound a packet read (see Reader).
	MaxPacket, MaxHeaders int
	// MaxPending is how many events may wait for Next (10,000); one more
	// and the connection is closed with ErrBehind, rather than grow.
	MaxPending int
	// MaxListItems bounds a list response (100,000 items).
	MaxListItems int
	// IDPrefix starts the ActionIDs this connection makes ("guichet-").
	IDPrefix string
	Log      *slog.Logger
}

func (o *Options) defaults() {
	if o.Events == "" {
		o.Events = "on"
	}
	if o.PingInterval == 0 {
		o.PingInterval = 20 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 5 * time.Second
	}
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = 10 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 10000
	}
	if o.MaxListItems <= 0 {
		o.MaxListItems = 100000
	}
	if o.IDPrefix == "" {
		o.IDPrefix = "guichet-"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Conn is one logged-in AMI connection. A reader goroutine reads every
// packet: a reply goes to the action waiting for its ActionID (and only
// there), a list's items to the list action, every other event to the
// queue Next reads. Actions may be sent from any goroutine.
type Conn struct {
	nc     net.Conn
	o      Options
	log    *slog.Logger
	r      *Reader
	banner string
	ids    atomic.Uint64

	wmu  sync.Mutex // serialises writes
	wbuf []byte

	mu      sync.Mutex
	pending map[string]*pending
	queue   []Packet // events for Next, from head on
	head    int
	err     error         // why it closed; nil while open
	notify  chan struct{} // an event was queued, or the connection closed
	done    chan struct{} // closed when the connection is
	readEnd chan struct{} // closed when the reader goroutine has returned
}

type pending struct {
	name     string
	list     bool
	started  bool // the list's "EventList: start" reply came
	overflow bool
	reply    Packet
	items    []Packet
	complete Packet
	err      error
	done     chan struct{}
}

// List is a list response: the reply ("EventList: start"), the items,
// and the closing event ("EventList: Complete").
type List struct {
	Reply    Packet
	Items    []Packet
	Complete Packet
}

// ActionError is an action Asterisk answered with an error.
type ActionError struct {
	Action   string
	Response string // "Error", usually
	Message  string
}

func (e *ActionError) Error() string {
	return fmt.Sprintf("asterisk answered %s to %s: %s", e.Response, e.Action, e.Message)
}

// Is makes an ActionError a telephony.ErrRefused.
func (e *ActionError) Is(target error) bool { return target == telephony.ErrRefused }

// Open reads Asterisk's greeting on nc, logs in, and starts reading and
// keeping the connection alive. It closes nc when it fails.
func Open(ctx context.Context, nc net.Conn, o Options) (*Conn, error) {
	o.defaults()
	c := &Conn{
		nc: nc, o: o, log: o.Log,
		r:       NewReader(nc, o.MaxPacket, o.MaxHeaders, o.Log),
		pending: map[string]*pending{},
		notify:  make(chan struct{}, 1),
		done:    make(chan struct{}),
		readEnd: make(chan struct{}),
	}
	ctx, cancel := context.WithTimeout(ctx, o.LoginTimeout)
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		nc.SetReadDeadline(dl)
	}
	banner, err := c.r.ReadLine()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("ami: read greeting: %w", err)
	}
	if !strings.HasPrefix(banner, "Asterisk Call Manager/") {
		nc.Close()
		return nil, fmt.Errorf("%w: greeting %.40q", ErrGreeting, banner)
	}
	c.banner = banner
	nc.SetReadDeadline(time.Time{})
	go c.readLoop()
	_, err = c.Action(ctx, NewAction("Login", "Username", o.Username, "Secret", o.Secret, "Events", o.Events))
	if err != nil {
		var ae *ActionError
		if errors.As(err, &ae) {
			err = fmt.Errorf("%w for user %q: %s", ErrLogin, o.Username, ae.Message)
		}
		c.fail(err)
		<-c.readEnd
		return nil, err
	}
	if o.PingInterval > 0 {
		go c.keepAlive()
	}
	return c, nil
}

// Banner returns Asterisk's greeting ("Asterisk Call Manager/11.0.0").
func (c *Conn) Banner() string { return c.banner }

// NewActionID returns an ActionID not used before on this connection.
func (c *Conn) NewActionID() string {
	return c.o.IDPrefix + strconv.FormatUint(c.ids.Add(1), 10)
}

// Action sends an action and returns its reply. The packet's ActionID is
// used if it has one (it must be unique among pending actions), else one
// is made. A reply other than Success is an *ActionError.
func (c *Conn) Action(ctx context.Context, p Packet) (Packet, error) {
	pd, err := c.send(ctx, p, false)
	if err != nil {
		return nil, err
	}
	return pd.reply, nil
}

// List sends an action answered by a list (QueueStatus, CoreShowChannels…)
// and returns the whole list once its Complete event came.
func (c *Conn) List(ctx context.Context, p Packet) (List, error) {
	pd, err := c.send(ctx, p, true)
	if err != nil {
		return List{}, err
	}
	return List{Reply: pd.reply, Items: pd.items, Complete: pd.complete}, nil
}

func (c *Conn) send(ctx context.Context, p Packet, list bool) (*pending, error) {
	name := p.Get("Action")
	id := p.Get("ActionID")
	if id == "" {
		id = c.NewActionID()
		p = p.with("ActionID", id)
	}
	pd := &pending{name: name, list: list, done: make(chan struct{})}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("ami: %s: %w", name, err)
	}
	if _, dup := c.pending[id]; dup {
		c.mu.Unlock()
		return nil, fmt.Errorf("ami: %s: ActionID %q already pending", name, id)
	}
	c.pending[id] = pd
	c.mu.Unlock()

	if err := c.write(p); err != nil {
		c.fail(fmt.Errorf("write %s: %w", name, err))
	}
	select {
	case <-pd.done:
	case <-ctx.Done():
		c.mu.Lock()
		if c.pending[id] == pd {
			delete(c.pending, id)
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("ami: %s: %w", name, ctx.Err())
	}
	if pd.err != nil {
		var ae *ActionError
		if errors.As(pd.err, &ae) {
			return nil, pd.err
		}
		return nil, fmt.Errorf("ami: %s: %w", name, pd.err)
	}
	return pd, nil
}

func (c *Conn) write(p Packet) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = p.AppendWire(c.wbuf[:0])
	c.nc.SetWriteDeadline(time.Now().Add(c.o.WriteTimeout))
	_, err := c.nc.Write(c.wbuf)
	if cap(c.wbuf) > keepBuffer {
		c.wbuf = nil
	}
	return err
}

// Next returns the next event, in the order Asterisk sent them. After the
// connection closed it returns the events still queued, then the reason
// it closed.
func (c *Conn) Next(ctx context.Context) (Packet, error) {
	for {
		c.mu.Lock()
		if c.head < len(c.queue) {
			p := c.queue[c.head]
			c.queue[c.head] = nil
			c.head++
			if c.head == len(c.queue) { // drained: a burst's array is let go
				c.queue, c.head = c.queue[:0], 0
				if cap(c.queue) > 1024 {
					c.queue = nil
				}
			}
			c.mu.Unlock()
			return p, nil
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-c.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Pending returns how many events wait for Next.
func (c *Conn) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue) - c.head
}

// Done is closed when the connection is.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection closed, nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Retained returns the bytes the connection keeps while idle: the reader's
// buffers, the write buffer, the event queue's backing array.
func (c *Conn) Retained() int {
	c.mu.Lock()
	q := cap(c.queue) * 24
	c.mu.Unlock()
	c.wmu.Lock()
	w := cap(c.wbuf)
	c.wmu.Unlock()
	return c.r.Retained() + w + q
}

// Close closes the connection; pending actions fail with ErrClosed.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	<-c.readEnd
	return nil
}

func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failLocked(err)
}

// failLocked closes the connection for err, once; c.mu is held.
func (c *Conn) failLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	close(c.done)
	for id, pd := range c.pending {
		pd.err = err
		close(pd.done)
		delete(c.pending, id)
	}
	select {
	case c.notify <- struct{}{}:
	default:
	}
	c.nc.Close()
}

func (c *Conn) readLoop() {
	defer close(c.readEnd)
	for {
		p, err := c.r.Next()
		if err != nil {
			c.fail(err)
			return
		}
		c.dispatch(p)
	}
}

// dispatch routes one packet: a reply to its action, a list item to its
// list, any other event to the queue. An event is never taken for a reply:
// OriginateResponse carries Response and the Originate's ActionID, and is
// an event.
func (c *Conn) dispatch(p Packet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case p.IsReply():
		id := p.Get("ActionID")
		pd := c.pending[id]
		if pd == nil {
			c.log.Debug("ami: a reply to no pending action", "action_id", id)
			return
		}
		pd.reply = p
		if resp := p.Get("Response"); !strings.EqualFold(resp, "Success") && !strings.EqualFold(resp, "Goodbye") {
			pd.err = &ActionError{Action: pd.name, Response: resp, Message: p.Get("Message")}
		} else if pd.list && strings.EqualFold(p.Get("EventList"), "start") {
			pd.started = true
			return
		}
		c.finish(id, pd)
	case p.IsEvent():
		if id, ok := p.Lookup("ActionID"); ok {
			if pd := c.pending[id]; pd != nil && pd.list && pd.started {
				c.listItem(id, pd, p)
				return
			}
		}
		if len(c.queue)-c.head >= c.o.MaxPending {
			c.failLocked(fmt.Errorf("%w: %d waiting", ErrBehind, c.o.MaxPending))
			return
		}
		if c.head > 1024 && c.head > len(c.queue)/2 {
			n := copy(c.queue, c.queue[c.head:])
			clear(c.queue[n:])
			c.queue, c.head = c.queue[:n], 0
		}
		c.queue = append(c.queue, p)
		select {
		case c.notify <- struct{}{}:
		default:
		}
	default:
		c.log.Warn("ami: dropped a packet that is neither a reply nor an event", "first", firstKey(p))
	}
}

func (c *Conn) listItem(id string, pd *pending, p Packet) {
	if strings.EqualFold(p.Get("EventList"), "Complete") {
		pd.complete = p
		if pd.overflow {
			pd.err = fmt.Errorf("list over %d items", c.o.MaxListItems)
			pd.items = nil
		}
		c.finish(id, pd)
		return
	}
	if len(pd.items) >= c.o.MaxListItems {
		pd.overflow = true
		return
	}
	pd.items = append(pd.items, p)
}

func (c *Conn) finish(id string, pd *pending) {
	delete(c.pending, id)
	close(pd.done)
}

func (c *Conn) keepAlive() {
	t := time.NewTicker(c.o.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.o.PingTimeout)
		_, err := c.Action(ctx, NewAction("Ping"))
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded):
			c.fail(fmt.Errorf("%w within %s", ErrKeepalive, c.o.PingTimeout))
			return
		case c.Err() != nil:
			return
		default: // an error reply still proves Asterisk alive
		}
	}
}

func firstKey(p Packet) string {
	if len(p) == 0 {
		return ""
	}
	return p[0].Key
}
