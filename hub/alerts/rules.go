// Package alerts is the supervision's alerts: the rules that say when
// something needs the reception manager — a wait past its service's
// target, a kiosk's printer out of paper, a device offline, a kiosk
// printing offline numbers — and the monitor that raises and clears each
// alert once, shows the alerts raised to the supervision page, and writes
// every raise and clear to the hub's event log (alert.raised,
// alert.cleared), from where hub/bus publishes them as CloudEvents.
//
// The rules (this file) are pure: facts at an instant in, alerts raised
// and cleared out, time given by the facts. The monitor (monitor.go)
// gathers the facts from the hub, the device registry and the devices'
// retained states. It never changes the queue.
package alerts

import (
	"sort"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// The events of the log.
const (
	Raised  queue.EventType = "alert.raised"  // Reason: the kind; Service or Device: the subject
	Cleared queue.EventType = "alert.cleared" // the same fields as the raise it clears
)

// Kind names an alert's rule.
type Kind string

// The kinds of alerts, one rule each (see Rules).
const (
	WaitPastTarget   Kind = "wait_past_target"   // a service's longest wait is past its target
	PrinterPaperOut  Kind = "printer_paper_out"  // a kiosk's printer has no paper
	PrinterCoverOpen Kind = "printer_cover_open" // a kiosk's printer's cover is open
	PrinterOffline   Kind = "printer_offline"    // a kiosk cannot reach its printer
	DeviceOffline    Kind = "device_offline"     // a device is not connected
	OfflineTickets   Kind = "offline_tickets"    // a kiosk printed numbers while cut off from the hub
	Overheating      Kind = "overheating"        // a device's board is too hot
)

// HotC is the temperature from which a board overheats: a Raspberry Pi
// slows itself down from 80 °C (85 °C on a Pi 4/5's firmware), so this is
// the last warning before the kiosk or screen turns sluggish.
const HotC = 80

// Kinds lists the kinds, in the order the page shows them.
var Kinds = []Kind{WaitPastTarget, PrinterPaperOut, PrinterCoverOpen, PrinterOffline, DeviceOffline, OfflineTickets, Overheating}

// Alert is one alert: a kind and its subject (a service, or a device).
type Alert struct {
	Kind    Kind      `json:"kind"`
	Service string    `json:"service,omitempty"`
	Device  string    `json:"device,omitempty"`
	Since   time.Time `json:"since"` // when it was raised
}

// Key identifies an alert's subject: one alert per key at a time.
func (a Alert) Key() string { return string(a.Kind) + ":" + a.Service + ":" + a.Device }

// Facts are what the rules look at, at one instant.
type Facts struct {
	At       time.Time
	Services []ServiceFacts
	Devices  []DeviceFacts
	// OfflineTickets gives, for each kiosk, when the hub last received a
	// ticket it printed from its lease of offline numbers.
	OfflineTickets map[string]time.Time
}

// ServiceFacts are a service's target and its longest wait now.
type ServiceFacts struct {
	ID          string
	Target      time.Duration // the service's SLA; 0: none
	LongestWait time.Duration // of its waiting tickets; 0 when none waits
}

// DeviceFacts are a registered device's state as last published.
type DeviceFacts struct {
	ID       string
	Disabled bool
	Seen     bool // it published a state since the hub started (or its will did)
	Online   bool
	Printer  *api.PrinterHealth
	Health   *api.DeviceHealth
}

// Defaults of Rules' durations.
const (
	DefaultGrace   = time.Minute
	DefaultHold    = time.Minute
	DefaultRecency = 10 * time.Minute
)

// Rules decide, from facts, which alerts are raised and cleared:
//
//  1. wait_past_target, per service with a target: holds while one of its
//     waiting tickets has waited longer than the target (the longest wait,
//     as the queue summary gives it, is past the target).
//  2. printer_paper_out, printer_cover_open, printer_offline, per kiosk:
//     hold while the device is online and the printer health it publishes
//     says so (paper low is shown on the page, not alerted: the kiosk
//     still prints).
//  3. device_offline, per enabled device that has published a state:
//     holds once its state has said it is offline (its last will) for Grace
//     without a break — a reboot or a Wi-Fi blip shorter than that is no
//     alert. A device disabled by IT alerts nothing.
//  4. offline_tickets, per kiosk: holds for Recency after the hub received
//     a ticket the kiosk printed from its lease of offline numbers (it
//     could not reach the hub when it printed it).
//  5. overheating, per device: holds while the device is online and the
//     temperature it publishes is HotC or more.
//
// Each alert is raised once, when its rule starts to hold, and cleared
// once, when the rule has not held for Hold without a break: one subject
// has one alert at a time, and a condition that flickers around its
// threshold neither raises nor clears again within Hold. Restore gives the
// alerts raised before a restart (read back from the log), so that none is
// raised twice; one whose rule no longer holds is cleared Hold later.
type Rules struct {
	Grace, Hold, Recency time.Duration // Default… when zero

	active       map[string]*state
	offlineSince map[string]time.Time // device → since when it is seen offline
}

type state struct {
	Alert
	falseSince time.Time // when the rule last stopped holding; zero while it holds
}

// Restore takes alerts raised before (their Since kept) as raised now.
func (r *Rules) Restore(raised []Alert) {
	r.init()
	for _, a := range raised {
		r.active[a.Key()] = &state{Alert: a}
	}
}

func (r *Rules) init() {
	if r.active == nil {
		r.active, r.offlineSince = map[string]*state{}, map[string]time.Time{}
	}
	if r.Grace <= 0 {
		r.Grace = DefaultGrace
	}
	if r.Hold <= 0 {
		r.Hold = DefaultHold
	}
	if r.Recency <= 0 {
		r.Recency = DefaultRecency
	}
}

// holding lists the alerts whose rule holds at f.At (Since: f.At).
func (r *Rules) holding(f Facts) map[string]Alert {
	out := map[string]Alert{}
	add := func(a Alert) { a.Since = f.At; out[a.Key()] = a }
	for _, s := range f.Services {
		if s.Target > 0 && s.LongestWait > s.Target {
			add(Alert{Kind: WaitPastTarget, Service: s.ID})
		}
	}
	seen := map[string]bool{}
	for _, d := range f.Devices {
		seen[d.ID] = true
		if d.Disabled || !d.Seen || d.Online {
			delete(r.offlineSince, d.ID)
		} else if _, ok := r.offlineSince[d.ID]; !ok {
			r.offlineSince[d.ID] = f.At
		}
		if d.Disabled || !d.Seen {
			continue
		}
		if !d.Online {
			if f.At.Sub(r.offlineSince[d.ID]) >= r.Grace {
				add(Alert{Kind: DeviceOffline, Device: d.ID})
			}
			continue
		}
		if h := d.Health; h != nil && h.TempC != nil && *h.TempC >= HotC {
			add(Alert{Kind: Overheating, Device: d.ID})
		}
		if p := d.Printer; p != nil {
			if p.PaperOut {
				add(Alert{Kind: PrinterPaperOut, Device: d.ID})
			}
			if p.CoverOpen {
				add(Alert{Kind: PrinterCoverOpen, Device: d.ID})
			}
			if p.Offline {
				add(Alert{Kind: PrinterOffline, Device: d.ID})
			}
		}
	}
	for id := range r.offlineSince {
		if !seen[id] {
			delete(r.offlineSince, id) // removed from the registry
		}
	}
	for dev, at := range f.OfflineTickets {
		if !at.After(f.At) && f.At.Sub(at) < r.Recency {
			add(Alert{Kind: OfflineTickets, Device: dev})
		}
	}
	return out
}

// Step applies the rules to f and returns the alerts raised and cleared
// at f.At, each list in key order.
func (r *Rules) Step(f Facts) (raised, cleared []Alert) {
	r.init()
	hold := r.holding(f)
	for k, a := range hold {
		if st, ok := r.active[k]; ok {
			st.falseSince = time.Time{}
			continue
		}
		r.active[k] = &state{Alert: a}
		raised = append(raised, a)
	}
	for k, st := range r.active {
		if _, ok := hold[k]; ok {
			continue
		}
		if st.falseSince.IsZero() {
			st.falseSince = f.At
		}
		if f.At.Sub(st.falseSince) >= r.Hold {
			delete(r.active, k)
			cleared = append(cleared, st.Alert)
		}
	}
	byKey := func(l []Alert) { sort.Slice(l, func(i, j int) bool { return l[i].Key() < l[j].Key() }) }
	byKey(raised)
	byKey(cleared)
	return raised, cleared
}

// Active returns the alerts raised, oldest first (then by key).
func (r *Rules) Active() []Alert {
	out := make([]Alert, 0, len(r.active))
	for _, st := range r.active {
		out = append(out, st.Alert)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].Key() < out[j].Key()
	})
	return out
}

// Next returns the earliest instant after f.At at which the passing of
// time alone may change what Step decides for the same facts: a wait
// reaching its target, an offline device's grace ending, a clear's hold
// ending, an offline ticket ageing out. Zero when nothing is pending.
func (r *Rules) Next(f Facts) time.Time {
	r.init()
	var next time.Time
	at := func(t time.Time) {
		if t.After(f.At) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, s := range f.Services {
		if s.Target > 0 && s.LongestWait > 0 && s.LongestWait <= s.Target {
			at(f.At.Add(s.Target - s.LongestWait + time.Millisecond))
		}
	}
	for _, since := range r.offlineSince {
		at(since.Add(r.Grace))
	}
	for _, st := range r.active {
		if !st.falseSince.IsZero() {
			at(st.falseSince.Add(r.Hold))
		}
	}
	for _, t := range f.OfflineTickets {
		at(t.Add(r.Recency))
	}
	return next
}
