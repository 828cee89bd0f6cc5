package stats

import (
	"guichet/hub/api"
	"time"

	"guichet/hub/queue"
)

// Outcome is how a ticket ended.
type Outcome string

// Outcomes of a finished ticket.
const (
	Served    Outcome = "served"    // finished at a counter
	NoShow    Outcome = "noshow"    // called, did not come
	Cancelled Outcome = "cancelled" // cancelled by staff or the API (a visit, or a call being answered)
	Abandoned Outcome = "abandoned" // a phone ticket cancelled while waiting: the caller hung up
	Voided    Outcome = "voided"    // cancelled by the kiosk that issued it: never printed, or replaced by its offline ticket
)

// Ticket is the projection's row for one ticket: what the statistics need of
// it, and nothing of the citizen. Times are zero when the step did not happen.
type Ticket struct {
	ID        string
	Prefix    string // the issuing service's letter, with Number the display number
	Number    int
	ServiceIn string // the service it was issued for
	Service   string // the service it ended in (differs after a transfer)
	Channel   queue.Channel
	Priority  queue.Priority
	Agent     string // the agent who ended it (none if it ended waiting)
	Counter   string // the counter where it ended
	Day       string // site's local day of Issued, "2006-01-02"
	Hour      int    // site's local clock hour of Issued, 0–23

	Issued      time.Time // when the ticket was taken (printed, for an offline ticket)
	Received    time.Time // when the hub learnt of it (later than Issued for an offline ticket)
	FirstCalled time.Time // the first call, in the service it was issued for
	Called      time.Time // the call of the service it ended in (zero if it ended waiting)
	Started     time.Time // the citizen reached the counter (optional step)
	Ended       time.Time
	Outcome     Outcome
	Transfers   int // times it was sent to another service
	Recalls     int // recalls, over all its calls
	Offline     bool

	device  string   // the issuing device, to tell a kiosk's void
	waiting bool     // where it stands now: waiting (true) or at a counter
	raw     *scanned // while it is read from the file
}

// Wait is the time from issue to the first call; ok is false if the ticket
// was never called.
func (t *Ticket) Wait() (d time.Duration, ok bool) {
	if t.FirstCalled.IsZero() {
		return 0, false
	}
	return t.FirstCalled.Sub(t.Issued), true
}

// ServiceTime is the time from the call of the service that served it to
// the end; ok is false unless it was served.
func (t *Ticket) ServiceTime() (d time.Duration, ok bool) {
	if t.Outcome != Served || t.Called.IsZero() {
		return 0, false
	}
	return t.Ended.Sub(t.Called), true
}

// fold applies the log's events to the tickets still open, the way the
// queue engine applies them (hub/queue/engine.go), and hands each ticket
// that ends to done. It holds the open tickets; it is not safe for
// concurrent use.
type fold struct {
	loc     *time.Location
	open    map[string]*Ticket
	changed map[string]bool // open tickets changed since the last take
	done    func(*Ticket)
}

func newFold(loc *time.Location, done func(*Ticket)) *fold {
	return &fold{loc: loc, open: map[string]*Ticket{}, changed: map[string]bool{}, done: done}
}

// apply folds one event. An event about a ticket the fold never saw issued
// (a log that starts mid-day) is ignored, as the engine ignores it.
func (f *fold) apply(ev *queue.Event) {
	if ev.Type == queue.TicketIssued {
		f.issue(ev)
		return
	}
	t := f.open[ev.Ticket]
	if t == nil {
		return
	}
	switch ev.Type {
	case queue.TicketCalled:
		// A call after a transfer is the first call of the new service:
		// the ticket's wait stays the one before its first call.
		if t.FirstCalled.IsZero() {
			t.FirstCalled = ev.At
		}
		t.Called, t.Started, t.waiting = ev.At, time.Time{}, false
		t.Counter, t.Agent = ev.Counter, ev.Agent
	case queue.TicketRecalled:
		t.Recalls++
	case queue.TicketStarted:
		t.Started = ev.At
	case queue.TicketServed:
		f.end(t, ev, Served)
	case queue.TicketNoShow:
		f.end(t, ev, NoShow)
	case queue.TicketCancelled:
		switch {
		case t.device != "" && ev.Actor == t.device:
			f.end(t, ev, Voided)
		case t.waiting && t.Channel == queue.Phone:
			f.end(t, ev, Abandoned)
		default:
			f.end(t, ev, Cancelled)
		}
	case queue.TicketTransferred:
		// As the engine: back to waiting in the new service, keeping its
		// issue time; the counter and agent let it go.
		t.Service, t.waiting = ev.Service, true
		t.Called, t.Started, t.Counter, t.Agent = time.Time{}, time.Time{}, "", ""
		t.Transfers++
	default:
		return
	}
	if t.Outcome == "" {
		f.changed[t.ID] = true
	}
}

func (f *fold) issue(ev *queue.Event) {
	issued := ev.At
	if !ev.IssuedAt.IsZero() {
		issued = ev.IssuedAt // printed offline: the citizen waited from then
	}
	local := issued.In(f.loc)
	t := &Ticket{
		ID: ev.Ticket, Prefix: ev.Service, Number: ev.Number,
		ServiceIn: ev.Service, Service: ev.Service, Channel: ev.Channel, Priority: ev.Priority,
		Day: local.Format(time.DateOnly), Hour: local.Hour(),
		Issued: issued, Received: ev.At, Offline: !ev.IssuedAt.IsZero(),
		device: ev.Device, waiting: true,
	}
	if t.Channel == "" {
		t.Channel = queue.Visit
	}
	if t.Priority == "" {
		t.Priority = queue.PriorityNone
	}
	f.open[t.ID] = t
	f.changed[t.ID] = true
}

func (f *fold) end(t *Ticket, ev *queue.Event, o Outcome) {
	t.Outcome, t.Ended = o, ev.At
	if ev.Counter != "" {
		t.Counter = ev.Counter
	}
	if ev.Agent != "" {
		t.Agent = ev.Agent
	}
	delete(f.open, t.ID)
	f.changed[t.ID] = true // gone from the open tickets
	f.done(t)
}

// Display is the ticket's number as shown and announced, "A042".
func (t *Ticket) Display() string { return api.FormatNumber(t.Prefix, t.Number) }
