package queue

import (
	"strings"
	"time"
	"unicode/utf8"

	"guichet/hub/api"
)

// By says who acts and when. The engine never reads a clock: the hub passes
// the time of each operation.
type By struct {
	At    time.Time
	Actor string
}

// Limits on free-text fields.
const (
	MaxIDLen     = 64
	MaxTextLen   = 200
	MaxLeaseSize = 500
)

// IssueRequest asks for a new ticket.
type IssueRequest struct {
	ID            string   // global id chosen by the caller (UUIDv7)
	Token         string   // mobile-page token chosen by the caller
	Service       string   // service id
	Channel       Channel  // visit if empty
	Priority      Priority // none if empty
	AppointmentAt time.Time
	Device        string // issuing device
	Citizen       string // optional citizen id
	Lang          string // language the citizen chose
	Force         bool   // issue even outside opening hours or when full (staff)

	// A ticket a kiosk printed from its lease while the hub was unreachable.
	OfflineNumber int
	IssuedAt      time.Time

	code string // the appointment checked in, set by CheckIn
}

// Issue puts a new ticket in the queue.
func (e *Engine) Issue(by By, r IssueRequest) ([]Event, error) {
	if r.Channel == "" {
		r.Channel = Visit
	}
	if r.Priority == "" {
		r.Priority = PriorityNone
	}
	switch {
	case r.ID == "" || len(r.ID) > MaxIDLen:
		return nil, refuse(ErrInvalid, "ticket id must be 1 to %d characters", MaxIDLen)
	case e.tickets[r.ID] != nil:
		return nil, refuse(ErrInvalid, "ticket %s already exists", r.ID)
	case r.Token != "" && e.byToken[r.Token] != nil:
		return nil, refuse(ErrInvalid, "ticket token already in use")
	case !r.Channel.Valid():
		return nil, refuse(ErrInvalid, "unknown channel %q", r.Channel)
	case !r.Priority.Valid():
		return nil, refuse(ErrInvalid, "unknown priority %q", r.Priority)
	case r.Priority == PriorityAppointment && r.AppointmentAt.IsZero():
		return nil, refuse(ErrInvalid, "an appointment ticket needs its slot time")
	case !text(r.Citizen, MaxTextLen) || !text(r.Device, MaxIDLen) || !text(r.Lang, 8) || !text(r.Token, MaxIDLen):
		return nil, refuse(ErrInvalid, "a text field is too long or not UTF-8")
	}
	s := e.services[r.Service]
	if s == nil {
		return nil, refuse(ErrUnknownService, "unknown service %q", r.Service)
	}
	if !s.Takes(r.Channel) {
		return nil, refuse(ErrChannelNotTaken, "service %s does not take %s tickets", s.ID, r.Channel)
	}
	ev := Event{
		At: by.At, Type: TicketIssued, Ticket: r.ID, Actor: by.Actor,
		Service: s.ID, Channel: r.Channel, Priority: r.Priority, AppointmentAt: r.AppointmentAt,
		Device: r.Device, Citizen: r.Citizen, Token: r.Token, Lang: r.Lang, Code: r.code,
	}
	if r.OfflineNumber > 0 {
		if r.IssuedAt.IsZero() || r.IssuedAt.After(by.At.Add(5*time.Minute)) {
			return nil, refuse(ErrInvalid, "an offline ticket needs its print time, not in the future")
		}
		day := e.Day(r.IssuedAt)
		l := e.leaseOf(r.Device, s.ID, day, r.OfflineNumber)
		if l == nil {
			return nil, refuse(ErrLease, "number %d of %s on %s is not leased to %q", r.OfflineNumber, s.ID, day, r.Device)
		}
		if l.Used[r.OfflineNumber] {
			return nil, refuse(ErrLease, "number %s was already issued", api.FormatNumber(s.ID, r.OfflineNumber))
		}
		ev.Number, ev.Day, ev.IssuedAt = r.OfflineNumber, day, r.IssuedAt
		return e.commit(ev), nil
	}
	if !r.Force {
		if err := e.openForIssue(s, r.Channel, by.At); err != nil {
			return nil, err
		}
	}
	ev.Day = e.Day(by.At)
	ev.Number = e.nextNumber(numKey{s.ID, ev.Day})
	return e.commit(ev), nil
}

// Accepting says whether service takes a new ticket on channel ch at t:
// nil, or the refusal (service_closed, service_full) Issue would give.
func (e *Engine) Accepting(t time.Time, service string, ch Channel) error {
	s := e.services[service]
	if s == nil {
		return refuse(ErrUnknownService, "unknown service %q", service)
	}
	return e.openForIssue(s, ch, t)
}

// openForIssue says whether a service takes a new ticket at t: within its
// hours and, if the policy says so, not so full that it would still be
// waiting at closing time.
func (e *Engine) openForIssue(s *Service, ch Channel, t time.Time) error {
	if e.site.Policy.IgnoreHours {
		return nil
	}
	open, left := s.Hours.OpenAt(t.In(e.site.Location))
	if !open {
		return refuse(ErrServiceClosed, "service %s is closed now", s.ID)
	}
	if e.site.Policy.CloseWhenFull {
		if _, est, ok := e.newTicket(s, ch); ok && est > left {
			return refuse(ErrServiceFull, "service %s: the estimated wait (%s) runs past closing time", s.ID, est.Round(time.Minute))
		}
	}
	return nil
}

// Cancel takes a waiting or called ticket out of the queue.
func (e *Engine) Cancel(by By, id, reason string) ([]Event, error) {
	t := e.tickets[id]
	if t == nil {
		return nil, refuse(ErrUnknownTicket, "unknown ticket %q", id)
	}
	if t.State != Waiting && t.State != Called {
		return nil, refuse(ErrTransition, "ticket %s is %s: only a waiting or called ticket can be cancelled", t.Display(), t.State)
	}
	if !text(reason, MaxTextLen) {
		return nil, refuse(ErrInvalid, "reason too long")
	}
	return e.commit(Event{At: by.At, Type: TicketCancelled, Ticket: id, Actor: by.Actor, Counter: t.Counter, Reason: reason}), nil
}

// OpenCounter logs agent on at counter.
func (e *Engine) OpenCounter(by By, counter, agent string) ([]Event, error) {
	c, cs, err := e.counter(counter)
	if err != nil {
		return nil, err
	}
	a := e.agents[agent]
	if a == nil {
		return nil, refuse(ErrUnknownAgent, "unknown agent %q", agent)
	}
	if cs.Open {
		if cs.Agent == agent {
			return nil, nil // already open with this agent: nothing to do
		}
		return nil, refuse(ErrCounterBusy, "counter %s is open with agent %s", c.ID, cs.Agent)
	}
	if st := e.agentSt[agent]; st.State != AgentOffline {
		return nil, refuse(ErrAgentBusy, "agent %s is logged on at counter %s", agent, st.Counter)
	}
	if len(e.servable(c, a)) == 0 {
		return nil, refuse(ErrLacksSkill, "agent %s has no skill for a service of counter %s", agent, c.ID)
	}
	return e.commit(Event{At: by.At, Type: CounterOpened, Actor: by.Actor, Counter: c.ID, Agent: agent}), nil
}

// CloseCounter logs the agent off; the counter must hold no ticket.
func (e *Engine) CloseCounter(by By, counter string) ([]Event, error) {
	c, cs, err := e.openCounter(counter)
	if err != nil {
		return nil, err
	}
	if cs.Ticket != "" {
		return nil, refuse(ErrCounterBusy, "counter %s still holds ticket %s: finish or transfer it first", c.ID, e.tickets[cs.Ticket].Display())
	}
	return e.commit(Event{At: by.At, Type: CounterClosed, Actor: by.Actor, Counter: c.ID, Agent: cs.Agent}), nil
}

// CallNext calls the ticket the policy picks for counter. A ticket the
// counter still holds is finished first, as done.
func (e *Engine) CallNext(by By, counter string) ([]Event, error) {
	c, cs, err := e.openCounter(counter)
	if err != nil {
		return nil, err
	}
	if st := e.agentSt[cs.Agent]; st != nil && st.State == AgentPaused {
		return nil, refuse(ErrAgentPaused, "agent %s is paused (%s): resume first", cs.Agent, st.PauseReason)
	}
	best := e.pick(by.At, c, e.agents[cs.Agent], nil)
	if best == nil {
		return nil, refuse(ErrQueueEmpty, "nobody is waiting for counter %s", c.ID)
	}
	var evs []Event
	if cs.Ticket != "" {
		evs = append(evs, Event{At: by.At, Type: TicketServed, Ticket: cs.Ticket, Actor: by.Actor, Counter: c.ID, Agent: cs.Agent})
	}
	evs = append(evs, Event{At: by.At, Type: TicketCalled, Ticket: best.ticket.ID, Actor: by.Actor,
		Service: best.ticket.Service, Counter: c.ID, Agent: cs.Agent, Reason: string(best.Tier)})
	return e.commit(evs...), nil
}

// Recall announces the called ticket again; past the policy's number of
// recalls, it marks the ticket a no-show instead.
func (e *Engine) Recall(by By, counter string) ([]Event, error) {
	c, t, err := e.held(counter, Called)
	if err != nil {
		return nil, err
	}
	if max := e.site.Policy.RecallsBeforeNoShow; max > 0 && t.Recalls >= max {
		return e.commit(Event{At: by.At, Type: TicketNoShow, Ticket: t.ID, Actor: by.Actor, Counter: c.ID, Agent: t.Agent, Reason: "recalls"}), nil
	}
	return e.commit(Event{At: by.At, Type: TicketRecalled, Ticket: t.ID, Actor: by.Actor, Counter: c.ID, Agent: t.Agent, Recall: t.Recalls + 1}), nil
}

// Start records that the called citizen is at the counter.
func (e *Engine) Start(by By, counter string) ([]Event, error) {
	c, t, err := e.held(counter, Called)
	if err != nil {
		return nil, err
	}
	return e.commit(Event{At: by.At, Type: TicketStarted, Ticket: t.ID, Actor: by.Actor, Counter: c.ID, Agent: t.Agent}), nil
}

// Finish ends the counter's ticket as served.
func (e *Engine) Finish(by By, counter string) ([]Event, error) {
	c, t, err := e.held(counter, Called, Serving)
	if err != nil {
		return nil, err
	}
	return e.commit(Event{At: by.At, Type: TicketServed, Ticket: t.ID, Actor: by.Actor, Counter: c.ID, Agent: t.Agent}), nil
}

// NoShow marks the called ticket as not having come.
func (e *Engine) NoShow(by By, counter string) ([]Event, error) {
	c, t, err := e.held(counter, Called)
	if err != nil {
		return nil, err
	}
	return e.commit(Event{At: by.At, Type: TicketNoShow, Ticket: t.ID, Actor: by.Actor, Counter: c.ID, Agent: t.Agent, Reason: "agent"}), nil
}

// Transfer sends the counter's ticket back to waiting, in another service,
// keeping its number and original issue time.
func (e *Engine) Transfer(by By, counter, service string) ([]Event, error) {
	c, t, err := e.held(counter, Called, Serving)
	if err != nil {
		return nil, err
	}
	s := e.services[service]
	if s == nil {
		return nil, refuse(ErrUnknownService, "unknown service %q", service)
	}
	if s.ID == t.Service {
		return nil, refuse(ErrInvalid, "ticket %s is already in service %s", t.Display(), s.ID)
	}
	if !s.Takes(t.Channel) {
		return nil, refuse(ErrChannelNotTaken, "service %s does not take %s tickets", s.ID, t.Channel)
	}
	return e.commit(Event{At: by.At, Type: TicketTransferred, Ticket: t.ID, Actor: by.Actor, Counter: c.ID, Agent: t.Agent, From: t.Service, Service: s.ID}), nil
}

// Pause pauses the counter's agent, with a reason; the counter must hold no ticket.
func (e *Engine) Pause(by By, counter, reason string) ([]Event, error) {
	c, cs, err := e.openCounter(counter)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || !text(reason, MaxTextLen) {
		return nil, refuse(ErrInvalid, "a pause needs a reason of at most %d characters", MaxTextLen)
	}
	if cs.Ticket != "" {
		return nil, refuse(ErrAgentBusy, "counter %s holds ticket %s: finish or transfer it first", c.ID, e.tickets[cs.Ticket].Display())
	}
	if e.agentSt[cs.Agent].State == AgentPaused {
		return nil, refuse(ErrAgentPaused, "agent %s is already paused", cs.Agent)
	}
	return e.commit(Event{At: by.At, Type: AgentPausedEvent, Actor: by.Actor, Counter: c.ID, Agent: cs.Agent, Reason: reason}), nil
}

// Resume ends the pause of the counter's agent.
func (e *Engine) Resume(by By, counter string) ([]Event, error) {
	c, cs, err := e.openCounter(counter)
	if err != nil {
		return nil, err
	}
	if e.agentSt[cs.Agent].State != AgentPaused {
		return nil, refuse(ErrAgentNotPaused, "agent %s is not paused", cs.Agent)
	}
	return e.commit(Event{At: by.At, Type: AgentResumed, Actor: by.Actor, Counter: c.ID, Agent: cs.Agent}), nil
}

// GrantLease reserves the next size numbers of service on day for device.
func (e *Engine) GrantLease(by By, device, service, day string, size int) ([]Event, error) {
	s := e.services[service]
	if s == nil {
		return nil, refuse(ErrUnknownService, "unknown service %q", service)
	}
	if device == "" || !text(device, MaxIDLen) {
		return nil, refuse(ErrInvalid, "a lease needs a device id")
	}
	if size < 1 || size > MaxLeaseSize {
		return nil, refuse(ErrInvalid, "lease size must be 1 to %d", MaxLeaseSize)
	}
	if _, err := time.ParseInLocation(time.DateOnly, day, e.site.Location); err != nil || day < e.Day(by.At) {
		return nil, refuse(ErrInvalid, "lease day %q must be today or later", day)
	}
	from := e.nextLeased(numKey{s.ID, day})
	return e.commit(Event{At: by.At, Type: LeaseGranted, Actor: by.Actor, Device: device, Service: s.ID, Day: day, Number: from, To: from + size - 1}), nil
}

func (e *Engine) commit(evs ...Event) []Event {
	for _, ev := range evs {
		e.Apply(ev)
	}
	return evs
}

func (e *Engine) counter(id string) (*Counter, *CounterState, error) {
	c := e.counters[id]
	if c == nil {
		return nil, nil, refuse(ErrUnknownCounter, "unknown counter %q", id)
	}
	return c, e.counterSt[id], nil
}

func (e *Engine) openCounter(id string) (*Counter, *CounterState, error) {
	c, cs, err := e.counter(id)
	if err != nil {
		return nil, nil, err
	}
	if !cs.Open {
		return nil, nil, refuse(ErrCounterClosed, "counter %s is closed", id)
	}
	return c, cs, nil
}

// held returns the counter's current ticket if it is in one of states.
func (e *Engine) held(counter string, states ...State) (*Counter, *Ticket, error) {
	c, cs, err := e.openCounter(counter)
	if err != nil {
		return nil, nil, err
	}
	t := e.tickets[cs.Ticket]
	if t == nil {
		return nil, nil, refuse(ErrNoTicket, "counter %s holds no ticket", c.ID)
	}
	for _, s := range states {
		if t.State == s {
			return c, t, nil
		}
	}
	return nil, nil, refuse(ErrTransition, "ticket %s is %s", t.Display(), t.State)
}

func text(s string, max int) bool { return len(s) <= max && utf8.ValidString(s) }
