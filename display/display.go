// Package display is the waiting-room screen's role: the board page, served
// locally for the device's browser and fed by the hub's retained board,
// queue and config (cached, so a rebooted screen shows the last calls at
// once), and the announcements of new calls through the device's own audio.
package display

import (
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/internal/boardpage"
	"guichet/internal/live"
)

// Display is a waiting-room screen.
type Display struct {
	link      *link.Link
	log       *slog.Logger
	announcer *Announcer // nil: silent
	started   time.Time

	mu        sync.Mutex
	cfg       api.SiteConfig
	board     api.Board
	queue     api.Queue
	announced map[string]bool
	changes   live.Notifier
}

// New follows the hub's topics through l; announcer may be nil.
func New(l *link.Link, announcer *Announcer, log *slog.Logger) *Display {
	d := &Display{link: l, log: log, announcer: announcer, started: time.Now(),
		announced: map[string]bool{}}
	t := l.Topics()
	l.Follow(t.Config(), func(p []byte) { d.update(func() { json.Unmarshal(p, &d.cfg) }) })
	l.Follow(t.Queue(), func(p []byte) { d.update(func() { json.Unmarshal(p, &d.queue) }) })
	l.Follow(t.Board(), d.onBoard)
	l.OnConnection(func(bool) { d.update(func() {}) })
	return d
}

func (d *Display) update(fn func()) {
	d.mu.Lock()
	fn()
	d.mu.Unlock()
	d.changes.Notify()
}

// onBoard shows the board and announces the calls not yet announced —
// oldest first, and none that was already old when the screen started
// (a rebooted screen does not call everybody again).
func (d *Display) onBoard(p []byte) {
	var b api.Board
	if err := json.Unmarshal(p, &b); err != nil {
		d.log.Warn("board unreadable", "err", err)
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
	return boardpage.Build(lang, d.cfg, d.board, d.queue, d.link.Connected())
}

// Watch implements boardpage.Source.
func (d *Display) Watch() (<-chan struct{}, func()) { return d.changes.Watch() }
