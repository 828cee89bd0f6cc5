// Package kiosk is the ticket kiosk's role: the service menu (from the
// hub's retained configuration), the issue flow — online when the hub
// answers within a short timeout, from the kiosk's leased numbers when it
// does not — the printed ticket, printer faults, appointment check-in, and
// the inputs (GPIO buttons, a touchscreen page, a code scanner).
package kiosk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hw/printer"
	"guichet/internal/live"
)

// Options configures a kiosk.
type Options struct {
	Link    *link.Link
	Printer printer.Printer
	Layout  Layout // Site is taken from the hub's configuration when empty
	DataDir string // the journal: DataDir/kiosk.db
	Log     *slog.Logger
	// Timeout is how long a ticket waits for the hub before it is printed
	// from the lease: 800 ms if zero.
	Timeout time.Duration
	// Poll is how often the printer's status is read: 5 s if zero.
	Poll time.Duration
	// Clock returns the time (time.Now if nil).
	Clock func() time.Time
}

// Kiosk is a ticket kiosk.
type Kiosk struct {
	o   Options
	j   *journal
	log *slog.Logger

	printMu sync.Mutex // one ticket at a time

	mu       sync.Mutex
	config   api.SiteConfig
	loc      *time.Location
	queue    api.Queue
	leases   api.Leases
	status   printer.Status
	statusOK bool // the printer answered at least once
	online   bool
	replies  map[string]api.Reply // recent replies, by command id
	changes  live.Notifier
}

// New opens the kiosk's journal, settles what a crash left in it, and
// starts following the hub's topics.
func New(o Options) (*Kiosk, error) {
	if o.Timeout <= 0 {
		o.Timeout = 800 * time.Millisecond
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	j, err := openJournal(filepath.Join(o.DataDir, "kiosk.db"))
	if err != nil {
		return nil, err
	}
	k := &Kiosk{o: o, j: j, log: o.Log, replies: map[string]api.Reply{}, loc: time.Local}
	t := o.Link.Topics()
	o.Link.Follow(t.Config(), k.onConfig)
	o.Link.Follow(t.Queue(), func(p []byte) { k.set(func() { json.Unmarshal(p, &k.queue) }) })
	o.Link.Follow(t.Lease(o.Link.Device()), func(p []byte) { k.set(func() { json.Unmarshal(p, &k.leases) }) })
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

// Close closes the journal.
func (k *Kiosk) Close() error { return k.j.close() }

func (k *Kiosk) onConfig(p []byte) {
	var c api.SiteConfig
	if err := json.Unmarshal(p, &c); err != nil {
		k.log.Warn("configuration unreadable", "err", err)
		return
	}
	loc, err := time.LoadLocation(c.Site.Timezone)
	if err != nil {
		loc = time.Local
	}
	k.set(func() { k.config, k.loc = c, loc })
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

// Run reads the printer's status until ctx ends and reports it to the hub.
func (k *Kiosk) Run(ctx context.Context) {
	tick := time.NewTicker(k.o.Poll)
	defer tick.Stop()
	for {
		k.pollPrinter(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (k *Kiosk) pollPrinter(ctx context.Context) {
	c, cancel := context.WithTimeout(ctx, 3*time.Second)
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
	Message     string        `json:"message,omitempty"`
	Info        string        `json:"info,omitempty"`
}

// View returns what the kiosk shows in lang.
func (k *Kiosk) View(lang string) View {
	k.mu.Lock()
	defer k.mu.Unlock()
	v := View{Site: k.siteName(), TZ: k.loc.String(), Clock: k.config.Site.Clock, Online: k.online, Unavailable: k.statusOK && !k.status.OK(),
		Info: pick(k.config.Site.Info, lang)}
	for _, s := range k.config.Services {
		if !takesVisits(s) {
			continue
		}
		v.Services = append(v.Services, MenuItem{Service: s.ID, Name: pick(s.Name, lang), Open: s.Open, Full: s.Full,
			Message: pick(s.ClosedMessage, lang)})
	}
	switch {
	case v.Unavailable:
		v.Message = T(lang, "unavailable")
	case !v.Online:
		v.Message = T(lang, "offline")
	}
	return v
}

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

// Refusal is why the kiosk did not print a ticket; Code is a key of the
// kiosk's texts or a code of the hub.
type Refusal struct {
	Code    string
	Message string
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s: %s", r.Code, r.Message) }

func refusal(lang, code string) *Refusal {
	msg := T(lang, code)
	if msg == "" {
		msg = T(lang, "error")
	}
	return &Refusal{Code: code, Message: msg}
}

// OfflineLeft returns how many numbers of service the kiosk may still print
// today without the hub.
func (k *Kiosk) OfflineLeft(service string) int {
	k.mu.Lock()
	day := k.o.Clock().In(k.loc).Format(time.DateOnly)
	n := 0
	var nums []int
	for _, b := range k.leases.Blocks {
		if b.Service == service && b.Day == day {
			for x := b.From; x <= b.To; x++ {
				if !slices.Contains(b.Used, x) {
					nums = append(nums, x)
				}
			}
		}
	}
	k.mu.Unlock()
	used, _ := k.j.usedOffline(service, day)
	for _, x := range nums {
		if !used[x] {
			n++
		}
	}
	return n
}
