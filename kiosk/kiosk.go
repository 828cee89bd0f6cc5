// Package kiosk is the ticket kiosk's role: the service menu (from the
// hub's retained configuration), the issue flow — online when the hub
// answers within a short timeout, from the kiosk's leased numbers when it
// does not — the printed ticket, printer faults, appointment check-in, and
// the inputs (GPIO buttons, a touchscreen page, a code scanner).
//
// Where to read what: issue.go is what happens when a citizen presses a
// service button, top to bottom; lease.go is the offline path (a number of
// the kiosk's lease); recover.go settles what a crash or a failed print
// left; journal.go is the kiosk's durable record of its tickets.
package kiosk

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hw/printer"
	"guichet/internal/live"
)

// Link is what the kiosk needs of the device's link to the hub
// (*link.Link in a device; a fake in tests).
type Link interface {
	Topics() api.Topics
	Device() string
	Follow(topic string, fn func(payload []byte))
	OnReply(fn func(link.Entry, api.Reply))
	OnConnection(fn func(up bool))
	Connected() bool
	Problem() link.Problem // why it cannot work with the hub, if it cannot
	SendID(ctx context.Context, id, op string, args any) (api.Reply, error)
	Enqueue(id, op string, args any) error
	Replace(old, id, op string, args any) (ok bool, err error)
	PendingEntries() []link.Entry
	SetState(st api.DeviceState)
}

// Options configures a kiosk.
type Options struct {
	Link    Link
	Printer printer.Printer
	Layout  Layout // Site is taken from the hub's configuration when empty
	DataDir string // the journal: DataDir/kiosk.db
	// Log receives the kiosk's log lines; nil discards them.
	Log *slog.Logger
	// Timeout is how long a ticket waits for the hub before it is printed
	// from the lease: 800 ms if zero.
	Timeout time.Duration
	// Poll is how often the printer's status is read: 5 s if zero.
	Poll time.Duration
	// Clock returns the time: time.Now if nil.
	Clock func() time.Time
	// Beat is called at each turn of Run's loop, after the printer's
	// status is read: the service's watchdog (firmware/watchdog) pings
	// systemd only while it is called. Nil: nothing.
	Beat func()
}

// Kiosk is a ticket kiosk.
type Kiosk struct {
	// Immutable.
	o       Options
	j       *journal
	log     *slog.Logger
	pollNow chan struct{} // Run reads the printer now (a print failed)

	printMu sync.Mutex // one ticket at a time

	// Mutable, under mu.
	mu       sync.Mutex
	config   api.SiteConfig
	loc      *time.Location
	queue    api.Queue
	leases   api.Leases
	status   printer.Status
	statusOK bool // the printer answered at least once
	online   bool
	replies  map[string]api.Reply // recent replies, by command id
	replied  live.Notifier        // told of every reply recorded
	changes  live.Notifier        // told of every change of what the kiosk shows
}

// New opens the kiosk's journal, settles what a crash left in it, and
// starts following the hub's topics.
func New(o Options) (*Kiosk, error) {
	if o.Link == nil || o.Printer == nil {
		return nil, fmt.Errorf("kiosk: a link and a printer are needed")
	}
	if o.Timeout <= 0 {
		o.Timeout = 800 * time.Millisecond
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	j, err := openJournal(filepath.Join(o.DataDir, "kiosk.db"), o.Clock)
	if err != nil {
		return nil, err
	}
	k := &Kiosk{o: o, j: j, log: o.Log, pollNow: make(chan struct{}, 1), replies: map[string]api.Reply{}, loc: time.Local}
	t := o.Link.Topics()
	o.Link.Follow(t.Config(), k.onConfig)
	o.Link.Follow(t.Queue(), k.onQueue)
	o.Link.Follow(t.Lease(o.Link.Device()), k.onLeases)
	o.Link.OnReply(k.onReply)
	o.Link.OnConnection(func(up bool) { k.set(func() { k.online = up }) })
	// Under the lock: the link may come up while this runs.
	k.set(func() { k.online = o.Link.Connected() })
	// What a crash left is settled before any press: done later, it would
	// take a request in flight for a crash's leftover and void a ticket
	// about to be printed.
	k.recover()
	return k, nil
}

// Close waits for the ticket being printed, if any, and closes the
// journal; a press after Close is refused.
func (k *Kiosk) Close() error {
	k.printMu.Lock()
	defer k.printMu.Unlock()
	return k.j.close()
}

// The hub's retained topics are decoded whole, into a new value, before
// they replace what the kiosk shows: an unreadable payload is logged and
// changes nothing (decoded into the live value, it would leave it half
// overwritten).

func (k *Kiosk) onConfig(p []byte) {
	c, err := api.ParseConfig(p)
	if err != nil {
		k.log.Warn("site configuration unreadable: kept the last one", "err", err)
		return
	}
	loc, err := time.LoadLocation(c.Site.Timezone)
	if err != nil {
		k.log.Warn("site time zone unknown: using the device's", "timezone", c.Site.Timezone, "err", err)
		loc = time.Local
	}
	k.set(func() { k.config, k.loc = c, loc })
}

func (k *Kiosk) onQueue(p []byte) {
	q, err := api.ParseQueue(p)
	if err != nil {
		k.log.Warn("queue unreadable: kept the last one", "err", err)
		return
	}
	k.set(func() { k.queue = q })
}

func (k *Kiosk) onLeases(p []byte) {
	l, err := api.ParseLeases(p, k.o.Link.Device())
	if err != nil {
		k.log.Warn("lease unreadable: kept the last one", "err", err)
		return
	}
	k.set(func() { k.leases = l })
}

// set changes the kiosk's state under its lock and tells the watchers.
func (k *Kiosk) set(fn func()) {
	k.mu.Lock()
	fn()
	k.mu.Unlock()
	k.changes.Notify()
}

// Watch returns a channel told of every change of what the kiosk shows.
func (k *Kiosk) Watch() (<-chan struct{}, func()) { return k.changes.Watch() }

// Run reads the printer's status until ctx ends and reports it to the hub:
// every Poll, and at once after a ticket failed to print.
func (k *Kiosk) Run(ctx context.Context) {
	tick := time.NewTicker(k.o.Poll)
	defer tick.Stop()
	for {
		k.pollPrinter(ctx)
		if k.o.Beat != nil {
			k.o.Beat()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-k.pollNow:
		}
	}
}

// statusTimeout bounds a read of the printer's status: a printer that does
// not answer is offline.
const statusTimeout = 3 * time.Second

// checkPrinter asks Run to read the printer's status now.
func (k *Kiosk) checkPrinter() {
	select {
	case k.pollNow <- struct{}{}:
	default: // already asked
	}
}

func (k *Kiosk) pollPrinter(ctx context.Context) {
	c, cancel := context.WithTimeout(ctx, statusTimeout)
	st, err := k.o.Printer.Status(c)
	cancel()
	if err != nil {
		st = printer.Status{Offline: true}
	}
	k.mu.Lock()
	changed := st != k.status || !k.statusOK
	k.mu.Unlock()
	if !changed {
		return
	}
	k.set(func() { k.status, k.statusOK = st, true })
	if st.OK() {
		k.log.Info("printer ready", "status", st.String())
	} else {
		k.log.Warn("printer fault", "status", st.String(), "err", err)
	}
	k.o.Link.SetState(api.DeviceState{Printer: &api.PrinterHealth{OK: st.OK(), PaperLow: st.PaperLow,
		PaperOut: st.PaperOut, CoverOpen: st.CoverOpen, Offline: st.Offline || st.Error}})
}

// MenuItem is a button of the kiosk.
type MenuItem struct {
	Service string `json:"service"`
	Name    string `json:"name"`
	Open    bool   `json:"open"`
	Full    bool   `json:"full"`
	// Message is why a service closed to new tickets is (the supervisor's), shown as text.
	Message string `json:"message,omitempty"`
}

// View is what the kiosk shows.
type View struct {
	Site        string        `json:"site"`
	TZ          string        `json:"tz"`              // the site's time zone: the page's clock shows its time
	Clock       *api.SimClock `json:"clock,omitempty"` // a simulated day's clock, when the hub runs one
	Services    []MenuItem    `json:"services"`
	Unavailable bool          `json:"unavailable"` // printer fault: no tickets
	Online      bool          `json:"online"`
	Problem     string        `json:"problem,omitempty"` // why the kiosk cannot work with its hub, for the staff
	Message     string        `json:"message,omitempty"`
	Info        string        `json:"info,omitempty"`
}

// View returns what the kiosk shows in lang.
func (k *Kiosk) View(lang string) View {
	k.mu.Lock()
	defer k.mu.Unlock()
	v := View{Site: k.siteName(), TZ: k.loc.String(), Clock: k.config.Site.Clock, Online: k.online, Unavailable: k.printerFault(),
		Info: pick(k.config.Site.Info, lang)}
	for _, s := range k.config.Services {
		if !takesVisits(s) {
			continue
		}
		v.Services = append(v.Services, MenuItem{Service: s.ID, Name: pick(s.Name, lang), Open: s.Open, Full: s.Full,
			Message: pick(s.ClosedMessage, lang)})
	}
	if p := k.o.Link.Problem(); p != link.NoProblem {
		v.Problem = p.Explain(lang, "", k.o.Link.Topics().Site)
	}
	switch {
	case v.Unavailable:
		v.Message = T(lang, "unavailable")
	case !v.Online && len(v.Services) == 0:
		// Never connected, or never on the right site: no menu, no lease.
		v.Message = T(lang, "unavailable")
	case !v.Online:
		v.Message = T(lang, "offline")
	}
	return v
}

// printerFault reports whether the printer said it cannot print; under mu.
func (k *Kiosk) printerFault() bool { return k.statusOK && !k.status.OK() }

// siteName is the name printed on tickets; under mu.
func (k *Kiosk) siteName() string {
	if k.o.Layout.Site != "" {
		return k.o.Layout.Site
	}
	return k.config.Site.Name
}

func takesVisits(s api.Service) bool {
	for _, c := range s.Channels {
		if c == "visit" {
			return true
		}
	}
	return false
}

func pick(n api.Names, lang string) string {
	if n[lang] != "" {
		return n[lang]
	}
	return n["fr"]
}

// OfflineLeft returns how many numbers of service the kiosk may still print
// today without the hub.
func (k *Kiosk) OfflineLeft(service string) int {
	k.mu.Lock()
	day := k.today()
	numbers := k.leasedNumbers(service, day)
	k.mu.Unlock()
	used, err := k.j.usedOffline(service, day)
	if err != nil {
		k.log.Error("journal: offline numbers used", "service", service, "err", err)
		return 0
	}
	n := 0
	for _, x := range numbers {
		if !used[x] {
			n++
		}
	}
	return n
}
