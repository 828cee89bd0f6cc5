// Package display is the waiting-room screen's role: the board page, served
// locally for the device's browser and fed by the hub's retained board,
// queue and config (cached, so a rebooted screen shows the last calls at
// once), and the announcements of new calls through the device's own audio.
package display

import (
	"log/slog"
	"sync"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/internal/boardpage"
	"guichet/internal/live"
)

// Link is what the display needs of the device's link to the hub
// (*link.Link in a device; a fake in tests).
type Link interface {
	Topics() api.Topics
	Follow(topic string, fn func(payload []byte))
	OnConnection(fn func(up bool))
	Connected() bool
	Problem() link.Problem // why it cannot work with the hub, if it cannot
}

// Options sets a display up.
type Options struct {
	Link      Link
	Announcer *Announcer // nil: silent
	// Log receives the display's log lines; nil discards them.
	Log *slog.Logger
	// Clock returns the time: time.Now if nil.
	Clock func() time.Time
}

// Display is a waiting-room screen.
type Display struct {
	// Immutable.
	link      Link
	log       *slog.Logger
	announcer *Announcer
	started   time.Time

	// Mutable, under mu.
	mu        sync.Mutex
	cfg       api.SiteConfig
	board     api.Board
	queue     api.Queue
	announced map[string]bool
	changes   live.Notifier
}

// New follows the hub's topics through o.Link.
func New(o Options) *Display {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	d := &Display{link: o.Link, log: o.Log, announcer: o.Announcer, started: o.Clock(), announced: map[string]bool{}}
	t := o.Link.Topics()
	o.Link.Follow(t.Config(), d.onConfig)
	o.Link.Follow(t.Queue(), d.onQueue)
	o.Link.Follow(t.Board(), d.onBoard)
	o.Link.OnConnection(func(bool) { d.update(func() {}) })
	return d
}

func (d *Display) update(fn func()) {
	d.mu.Lock()
	fn()
	d.mu.Unlock()
	d.changes.Notify()
}

// The hub's retained topics are decoded whole, into a new value, before
// they replace what the screen shows: an unreadable payload is logged and
// changes nothing (decoded into the live value, it would leave it half
// overwritten).

func (d *Display) onConfig(p []byte) {
	c, err := api.ParseConfig(p)
	if err != nil {
		d.log.Warn("site configuration unreadable: kept the last one", "err", err)
		return
	}
	d.update(func() { d.cfg = c })
}

func (d *Display) onQueue(p []byte) {
	q, err := api.ParseQueue(p)
	if err != nil {
		d.log.Warn("queue unreadable: kept the last one", "err", err)
		return
	}
	d.update(func() { d.queue = q })
}

// onBoard shows the board and announces the calls not yet announced —
// oldest first, and none that was already old when the screen started
// (a rebooted screen does not call everybody again).
func (d *Display) onBoard(p []byte) {
	b, err := api.ParseBoard(p)
	if err != nil {
		d.log.Warn("board unreadable: kept the last one", "err", err)
		return
	}
	var fresh []api.Call
	d.update(func() {
		d.board = b
		for i := len(b.Calls) - 1; i >= 0; i-- {
			c := b.Calls[i]
			key := c.Ticket + "@" + c.At.Format(time.RFC3339Nano)
			if d.announced[key] {
				continue
			}
			d.announced[key] = true
			if c.At.After(d.started.Add(-30 * time.Second)) {
				fresh = append(fresh, c)
			}
		}
		if len(d.announced) > 200 {
			d.announced = map[string]bool{}
			for _, c := range b.Calls {
				d.announced[c.Ticket+"@"+c.At.Format(time.RFC3339Nano)] = true
			}
		}
	})
	if d.announcer == nil {
		return
	}
	for _, c := range fresh {
		d.announcer.Announce(Announcement{Ticket: c.Ticket, Counter: c.Counter, Name: c.CounterName, Recall: c.Recall, CalledAt: c.At})
	}
}

// View implements boardpage.Source.
func (d *Display) View(lang string) boardpage.View {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := boardpage.Build(lang, d.cfg, d.board, d.queue, d.link.Connected())
	// A hub out of reach is the board's usual notice (the last calls stay);
	// a device set up wrong (secret, site) says so, for whoever installs it.
	if p := d.link.Problem(); p != link.NoProblem && p != link.ProblemUnreachable {
		v.Problem, v.Online = p.Explain(lang, "", d.link.Topics().Site), false
	}
	return v
}

// Watch implements boardpage.Source.
func (d *Display) Watch() (<-chan struct{}, func()) { return d.changes.Watch() }
