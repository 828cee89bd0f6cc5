package queue

import (
	"strings"
	"time"

	"guichet/hub/api"
)

// By says who acts and when. The engine never reads a clock: the hub passes
// the time of each operation.
type By struct {
	At    time.Time
	Actor string
}

// IssueRequest is issue_ticket as the engine takes it. Args is what the
// client sent, exactly as either transport decoded it (the body of POST
// /api/v1/tickets and the args of the MQTT op are one type): the engine
// checks and bounds it here, once for both. The other fields are what the
// hub assigns and no client may choose.
type IssueRequest struct {
	Args api.IssueArgs

	ID     string // the new ticket's global id (UUIDv7)
	Token  string // its mobile-page token; a ticket printed offline brings its own, Args.Token
	Device string // the device that asked; "" for the HTTP API
	// Replaces, for a ticket printed offline, is the ticket the hub issued
	// for the request it replaces (Args.Replaces), if any: it is cancelled.
	Replaces string

	code string // the appointment checked in, set by CheckIn
}

// Issue puts a new ticket in the queue.
func (e *Engine) Issue(by By, r IssueRequest) ([]Event, error) {
	a := &r.Args
	ch, prio := Channel(a.Channel), Priority(a.Priority)
	if ch == "" {
		ch = Visit
	}
	if prio == "" {
		prio = PriorityNone
	}
	token := r.Token
	if a.OfflineNumber != 0 && a.Token != "" {
		token = a.Token
	}
	var slot time.Time
	if a.AppointmentAt != nil {
		slot = *a.AppointmentAt
	}
	switch {
	case !validID(r.ID):
		return nil, refuse(ErrInvalid, "ticket id must be 1 to %d characters", MaxIDLen)
	case e.tickets[r.ID] != nil:
		return nil, refuse(ErrInvalid, "ticket %s already exists", r.ID)
	case !validText(token, MaxIDLen):
		return nil, refuse(ErrInvalid, "a ticket token is at most %d characters", MaxIDLen)
	case token != "" && e.byToken[token] != nil:
		return nil, refuse(ErrInvalid, "ticket token already in use")
	case !validID(a.Service):
		return nil, refuse(ErrInvalid, "service must be 1 to %d characters", MaxIDLen)
	case !ch.Valid():
		return nil, refuse(ErrInvalid, "unknown channel %.20q (visit or phone)", a.Channel)
	case !prio.Valid():
		return nil, refuse(ErrInvalid, "unknown priority %.20q (none, priority or appointment)", a.Priority)
	case prio == PriorityAppointment && slot.IsZero():
		return nil, refuse(ErrInvalid, "an appointment ticket needs its slot time")
	case prio != PriorityAppointment && !slot.IsZero():
		return nil, refuse(ErrInvalid, "only an appointment ticket has a slot time")
	case !slot.IsZero() && !within(slot, by.At, SlotWindow, SlotWindow):
		return nil, refuse(ErrInvalid, "an appointment ticket's slot is within %s of now", human(SlotWindow))
	case !validText(a.Citizen, MaxTextLen):
		return nil, refuse(ErrInvalid, "citizen must be an id of at most %d characters, without control characters", MaxTextLen)
	case api.IsCitizenID(a.Citizen):
		return nil, refuse(ErrInvalid, citizenReserved)
	case !validLang(a.Lang):
		return nil, refuse(ErrInvalid, "lang must be a language tag such as fr or pt-BR")
	case r.Device != "" && !validID(r.Device):
		return nil, refuse(ErrInvalid, "device must be 1 to %d characters", MaxIDLen)
	case a.OfflineNumber == 0 && (a.Token != "" || a.Replaces != "" || a.IssuedAt != nil):
		return nil, refuse(ErrInvalid, "token, replaces and issued_at come with an offline_number")
	}
	s := e.services[a.Service]
	if s == nil {
		return nil, refuse(ErrUnknownService, "unknown service %q", a.Service)
	}
	if !s.Takes(ch) {
		return nil, refuse(ErrChannelNotTaken, "service %s does not take %s tickets", s.ID, ch)
	}
	ev := Event{
		At: by.At, Type: TicketIssued, Ticket: r.ID, Actor: by.Actor,
		Service: s.ID, Channel: ch, Priority: prio, AppointmentAt: slot,
		Device: r.Device, Citizen: a.Citizen, Token: token, Lang: a.Lang, Code: r.code,
	}
	if a.OfflineNumber != 0 {
		return e.issueOffline(by, r, ev)
	}
	if !a.Force {
		if err := e.openForIssue(s, ch, by.At); err != nil {
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
	if s.Closed != nil {
		msg := ""
		if m := s.Closed.Message["fr"]; m != "" {
			msg = ": " + m
		}
		return refuse(ErrServiceClosed, "service %s is closed to new tickets%s", s.ID, msg)
	}
	if e.site.Policy.IgnoreHours {
		return nil
	}
	open, left := s.Hours.OpenAt(t.In(e.site.Location))
	if !open {
		return refuse(ErrServiceClosed, "service %s is closed now", s.ID)
	}
	if e.site.Policy.CloseWhenFull {
		if _, est := e.newTicket(Shown, t, s, ch); est.Known && est.Wait > left {
			return refuse(ErrServiceFull, "service %s: the estimated wait (%s) runs past closing time", s.ID, est.Wait.Round(time.Minute))
		}
	}
	return nil
}

// Cancel takes a waiting or called ticket out of the queue.
func (e *Engine) Cancel(by By, a api.CancelArgs) ([]Event, error) {
	if !validID(a.Ticket) {
		return nil, refuse(ErrInvalid, "ticket must be a ticket id of 1 to %d characters", MaxIDLen)
	}
	if !validText(a.Reason, MaxTextLen) {
		return nil, refuse(ErrInvalid, "a reason is at most %d characters, without control characters", MaxTextLen)
	}
	t := e.tickets[a.Ticket]
	if t == nil {
		return nil, refuse(ErrUnknownTicket, "unknown ticket %q", a.Ticket)
	}
	if t.State != Waiting && t.State != Called {
		return nil, refuse(ErrTransition, "ticket %s is %s: only a waiting or called ticket can be cancelled", t.Display(), t.State)
	}
	return e.commit(Event{At: by.At, Type: TicketCancelled, Ticket: t.ID, Actor: by.Actor, Counter: t.Counter, Reason: a.Reason}), nil
}

// OpenCounter logs an agent on at counter.
func (e *Engine) OpenCounter(by By, counter string, args api.OpenArgs) ([]Event, error) {
	c, cs, err := e.counter(counter)
	if err != nil {
		return nil, err
	}
	agent := args.Agent
	if !validID(agent) {
		return nil, refuse(ErrInvalid, "agent must be an agent id of 1 to %d characters", MaxIDLen)
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
	if err := e.onThePhone(cs); err != nil {
		return nil, err
	}
	best := e.pick(by.At, c, e.agents[cs.Agent], nil)
	if best == nil {
		return nil, refuse(ErrQueueEmpty, "nobody is waiting for counter %s", c.ID)
	}
	if err := e.lineOpen(cs.Agent, best.ticket); err != nil {
		return nil, err
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

// Transfer sends the counter's ticket back to waiting, in another service
// or for a named agent, keeping its number and original issue time
// (supervise.go says how).
func (e *Engine) Transfer(by By, counter string, a api.TransferArgs) ([]Event, error) {
	_, t, err := e.held(counter, Called, Serving)
	if err != nil {
		return nil, err
	}
	return e.transfer(by, t, a)
}

// Pause pauses the counter's agent, with a reason; the counter must hold no ticket.
func (e *Engine) Pause(by By, counter string, a api.PauseArgs) ([]Event, error) {
	c, cs, err := e.openCounter(counter)
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(a.Reason)
	if reason == "" || !validText(reason, MaxTextLen) {
		return nil, refuse(ErrInvalid, "a pause needs a reason of at most %d characters, without control characters", MaxTextLen)
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
	if !validID(device) {
		return nil, refuse(ErrInvalid, "a lease needs a device id")
	}
	if size < 1 || size > MaxLeaseSize {
		return nil, refuse(ErrInvalid, "lease size must be 1 to %d", MaxLeaseSize)
	}
	today := e.Day(by.At)
	if _, err := time.ParseInLocation(time.DateOnly, day, e.site.Location); err != nil || day < today ||
		day > e.Day(by.At.AddDate(0, 0, LeaseAhead)) {
		return nil, refuse(ErrInvalid, "lease day %.20q must be today or within %d days", day, LeaseAhead)
	}
	if from := e.nextLeased(numKey{s.ID, day}); from+size-1 > api.MaxNumber {
		return nil, refuse(ErrInvalid, "no numbers left to lease for %s on %s", s.ID, day)
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
	if !validID(id) {
		return nil, nil, refuse(ErrInvalid, "counter must be a counter id of 1 to %d characters", MaxIDLen)
	}
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
	if t.Call != "" {
		return nil, nil, refuse(ErrTransition, "ticket %s is a phone call: the telephone system starts and ends it", t.Display())
	}
	for _, s := range states {
		if t.State == s {
			return c, t, nil
		}
	}
	return nil, nil, refuse(ErrTransition, "ticket %s is %s", t.Display(), t.State)
}
