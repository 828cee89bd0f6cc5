package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/devices"
	"guichet/hub/queue"
	"guichet/hub/store"
	"guichet/internal/live"
)

// Actor is who the log says raised and cleared alerts.
const Actor = "supervision"

// MaxRecent is how many raises and clears the monitor keeps for the page.
const MaxRecent = 50

// tailScan is how many of the log's last events the monitor reads at
// start for the offline tickets of the last Recency (a busy site writes
// far fewer in ten minutes).
const tailScan = 5000

// Options configures a Monitor.
type Options struct {
	Hub     *hub.Hub
	Devices *devices.Registry                           // nil: no device alerts
	State   func(device string) (api.DeviceState, bool) // devices' retained states (hub/bus)
	// StateChanges watches the devices' states (hub/bus's WatchStates);
	// nil: they are looked at every Every only.
	StateChanges func() (<-chan struct{}, func())
	Log          *slog.Logger
	Clock        func() time.Time // the hub's if nil
	Rules        Rules            // the rules' durations (their defaults if zero)
	// Every is the longest time between two checks (15 s if zero); Quiet
	// the shortest between two checks prompted by changes (250 ms if zero):
	// a burst of tickets is looked at once.
	Every, Quiet time.Duration
}

// Entry is a raise or a clear, as the page lists them.
type Entry struct {
	Alert
	Cleared bool      `json:"cleared"`
	At      time.Time `json:"at"` // when it was raised or cleared
}

// Monitor watches the site and raises and clears the alerts by Rules. Its
// one goroutine (Run) checks; readers (Active, Recent) may be anywhere.
type Monitor struct {
	// Immutable.
	o       Options
	st      *store.Store
	log     *slog.Logger
	clock   func() time.Time
	changes live.Notifier

	mu      sync.Mutex // the checker's: Check runs under it
	rules   Rules
	cursor  int64                // the last event read for offline tickets
	offline map[string]time.Time // kiosk → its last offline ticket's arrival
	pending []queue.Event        // raises and clears not yet in the log

	view   sync.Mutex // the readers': held only to copy
	recent []Entry    // newest last
	active []Alert    // rules.Active()
}

// New returns a monitor; Start reads back the alerts raised before.
func New(o Options) *Monitor {
	m := &Monitor{o: o, st: o.Hub.Store(), log: o.Log, clock: o.Clock, rules: o.Rules, offline: map[string]time.Time{}}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.clock == nil {
		m.clock = o.Hub.Now
	}
	if m.o.Every <= 0 {
		m.o.Every = 15 * time.Second
	}
	if m.o.Quiet <= 0 {
		m.o.Quiet = 250 * time.Millisecond
	}
	m.rules.init()
	return m
}

// Start reads back from the log the alerts raised and not cleared, and the
// offline tickets of the last minutes, then checks once.
func (m *Monitor) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	evs, err := m.st.AlertEvents(ctx, 0)
	if err != nil {
		return fmt.Errorf("alerts: read back the log: %w", err)
	}
	raised := map[string]Alert{}
	for _, ev := range evs {
		a := alertOf(ev)
		switch ev.Type {
		case Raised:
			raised[a.Key()] = a
		case Cleared:
			delete(raised, a.Key())
		}
		m.remember(Entry{Alert: a, Cleared: ev.Type == Cleared, At: ev.At})
	}
	list := make([]Alert, 0, len(raised))
	for _, a := range raised {
		list = append(list, a)
	}
	m.rules.Restore(list)
	m.view.Lock()
	m.active = m.rules.Active()
	m.view.Unlock()
	m.cursor = max(m.st.LastSeq()-tailScan, 0)
	if len(raised) > 0 {
		m.log.Info("alerts raised before the restart", "count", len(raised))
	}
	_, err = m.check(ctx)
	return err
}

// alertOf reads an alert event.
func alertOf(ev queue.Event) Alert {
	return Alert{Kind: Kind(ev.Reason), Service: ev.Service, Device: ev.Device, Since: ev.At}
}

// Run checks whenever the queue or a device's state changes (at most every
// Quiet), when the passing of time may raise or clear an alert, and at
// least every Every, until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	changes, stop := m.o.Hub.Watch()
	defer stop()
	var states <-chan struct{}
	if m.o.StateChanges != nil {
		var stopStates func()
		states, stopStates = m.o.StateChanges()
		defer stopStates()
	}
	wake := time.NewTimer(m.o.Every)
	defer wake.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
		case <-states:
		case <-wake.C:
		}
		if wait := m.o.Quiet - time.Since(last); wait > 0 {
			wake.Reset(wait)
			continue
		}
		last = time.Now()
		next, err := m.Check(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("alerts: check", "err", err)
		}
		d := m.o.Every
		if !next.IsZero() {
			d = min(d, max(next.Sub(m.clock()), 0))
		}
		wake.Reset(d)
	}
}

// Check looks at the site now, raises and clears alerts, and writes them
// to the log. It returns when time alone may next change an alert (zero:
// nothing pending).
func (m *Monitor) Check(ctx context.Context) (next time.Time, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.check(ctx)
}

func (m *Monitor) check(ctx context.Context) (time.Time, error) {
	f, err := m.facts(ctx)
	if err != nil {
		return time.Time{}, err
	}
	raised, cleared := m.rules.Step(f)
	for _, a := range raised {
		m.log.Warn("alert raised", "kind", a.Kind, "service", a.Service, "device", a.Device)
		m.pending = append(m.pending, event(Raised, a, f.At))
		m.remember(Entry{Alert: a, At: f.At})
	}
	for _, a := range cleared {
		m.log.Info("alert cleared", "kind", a.Kind, "service", a.Service, "device", a.Device, "raised", a.Since)
		m.pending = append(m.pending, event(Cleared, a, f.At))
		m.remember(Entry{Alert: a, Cleared: true, At: f.At})
	}
	if len(m.pending) > 0 {
		// Kept until the log takes them: an alert is on the page at once,
		// in the log as soon as the database writes again.
		if err = m.st.Append([]*store.Record{{Events: m.pending}}); err != nil {
			err = fmt.Errorf("alerts: write %d events to the log: %w", len(m.pending), err)
		} else {
			m.pending = nil
		}
	}
	m.view.Lock()
	m.active = m.rules.Active()
	m.view.Unlock()
	if len(raised)+len(cleared) > 0 {
		m.changes.Notify()
	}
	return m.rules.Next(f), err
}

func event(typ queue.EventType, a Alert, at time.Time) queue.Event {
	return queue.Event{At: at, Type: typ, Actor: Actor, Reason: string(a.Kind), Service: a.Service, Device: a.Device}
}

func (m *Monitor) remember(e Entry) {
	m.view.Lock()
	defer m.view.Unlock()
	m.recent = append(m.recent, e)
	if len(m.recent) > MaxRecent {
		m.recent = append(m.recent[:0:0], m.recent[len(m.recent)-MaxRecent:]...)
	}
}

// facts gathers what the rules look at.
func (m *Monitor) facts(ctx context.Context) (Facts, error) {
	f := Facts{At: m.clock()}
	m.o.Hub.Read(func(e *queue.Engine) {
		for _, s := range e.Summary(f.At) {
			sf := ServiceFacts{ID: s.Service, LongestWait: s.LongestWait}
			if svc := e.Service(s.Service); svc != nil {
				sf.Target = svc.SLA
			}
			if s.Waiting == 0 {
				sf.LongestWait = 0
			}
			f.Services = append(f.Services, sf)
		}
	})
	if m.o.Devices != nil {
		devs, err := m.o.Devices.List()
		if err != nil {
			return f, fmt.Errorf("alerts: devices: %w", err)
		}
		for _, d := range devs {
			df := DeviceFacts{ID: d.ID, Disabled: d.Disabled}
			if m.o.State != nil {
				if st, ok := m.o.State(d.ID); ok {
					df.Seen, df.Online, df.Printer, df.Health = true, st.Online, st.Printer, st.Health
				}
			}
			f.Devices = append(f.Devices, df)
		}
	}
	if err := m.readOffline(ctx); err != nil {
		return f, err
	}
	for dev, at := range m.offline {
		if f.At.Sub(at) >= m.rules.Recency {
			delete(m.offline, dev)
		}
	}
	f.OfflineTickets = m.offline
	return f, nil
}

// readOffline reads the log after the cursor for tickets printed offline
// (their event carries the kiosk's print time).
func (m *Monitor) readOffline(ctx context.Context) error {
	for {
		evs, err := m.st.Events(ctx, m.cursor, 1000)
		if err != nil {
			return fmt.Errorf("alerts: read the log: %w", err)
		}
		for _, ev := range evs {
			m.cursor = ev.Seq
			if ev.Type == queue.TicketIssued && !ev.PrintedAt.IsZero() && ev.Device != "" {
				if ev.At.After(m.offline[ev.Device]) {
					m.offline[ev.Device] = ev.At
				}
			}
		}
		if len(evs) < 1000 {
			return nil
		}
	}
}

// Active returns the alerts raised now, oldest first.
func (m *Monitor) Active() []Alert {
	m.view.Lock()
	defer m.view.Unlock()
	return append([]Alert(nil), m.active...)
}

// Recent returns the last raises and clears, newest first.
func (m *Monitor) Recent() []Entry {
	m.view.Lock()
	defer m.view.Unlock()
	out := make([]Entry, len(m.recent))
	for i, e := range m.recent {
		out[len(out)-1-i] = e
	}
	return out
}

// Watch returns a channel signalled when an alert is raised or cleared;
// cancel releases it.
func (m *Monitor) Watch() (<-chan struct{}, func()) { return m.changes.Watch() }
