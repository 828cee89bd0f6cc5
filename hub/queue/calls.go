package queue

import (
	"sort"
	"time"
)

// Phone calls of the telephony link. The hub's telephony bridge (hub/calls)
// turns what the PBX says into these operations; the engine keeps the
// queue's side of each call:
//
//   - a call waiting in a PBX queue is a phone ticket linked to the call's
//     PBX id (Ticket.Call), at its place from the time it joined; at most one
//     live ticket per call id, so a join said twice gives one ticket;
//   - a call the PBX connects to an agent is called and started at the
//     agent's counter, or, when the agent cannot be seated with it, taken
//     outside any counter (TakeCallOutside): the caller is talking, the
//     ticket must not wait for another agent;
//   - a call that ends is served; one that leaves unanswered is cancelled,
//     with, when the bridge asks, its callback ticket in the same commit:
//     one callback per abandoned call;
//   - a call offered to an agent who does not answer goes back to waiting
//     at its place (call.returned);
//   - an agent's phone line (their PBX queue membership) is recorded open
//     before the PBX is asked to offer them a call, and closed once the PBX
//     said it is closed; call next gives an agent whose line is open
//     nothing but a call, and an agent in a call nothing at all: an agent
//     never has a call and a visitor at once.
//
// The hub's counter operations (recall, start, finish, no-show, transfer)
// do not apply to a live call: the telephone system starts and ends it.
// A call the PBX hands out itself (ByPBX) waits in a lane of its own,
// counted in the queue and never picked by call next.

// Events of the telephony link.
const (
	CallReturned EventType = "call.returned"     // an offered call not answered is back in the queue, at its place
	LineOpened   EventType = "agent.line_opened" // the PBX may offer the agent a call from now on
	LineClosed   EventType = "agent.line_closed" // the PBX said the agent's line is closed
)

// pbxLane is the class of the lane of calls the PBX hands out itself.
const pbxLane Priority = "pbx"

// pbxWaiting reports whether calls the PBX hands out itself wait for
// service on ch.
func (e *Engine) pbxWaiting(service string, ch Channel) bool {
	l := e.lanes[laneKey{service, ch, pbxLane}]
	return l != nil && len(l.tickets) > 0
}

// CallJoin is a call that joined a PBX queue mapped to a service.
type CallJoin struct {
	ID       string    // the new ticket's id (UUIDv7)
	Call     string    // the call's PBX id
	Service  string    // the service its PBX queue feeds
	JoinedAt time.Time // when it joined the PBX queue: the ticket's place (now if zero)
	ByPBX    bool      // the PBX hands the call to an agent itself
}

// JoinCall puts a call that joined a PBX queue in the queue: a phone
// ticket, numbered like any other, whose place is the time the call
// joined. A call that has a live ticket already changes nothing: a join
// said again (a redelivery, a resynchronisation) never gives a second
// ticket. The PBX took the call, so neither opening hours nor a full
// service refuse it.
func (e *Engine) JoinCall(by By, j CallJoin) ([]Event, error) {
	switch {
	case !validCall(j.Call):
		return nil, refuse(ErrInvalid, "a call id is 1 to %d characters, without control characters", MaxTextLen)
	case e.calls[j.Call] != nil:
		return nil, nil
	case !validID(j.ID):
		return nil, refuse(ErrInvalid, "ticket id must be 1 to %d characters", MaxIDLen)
	case e.tickets[j.ID] != nil:
		return nil, refuse(ErrInvalid, "ticket %s already exists", j.ID)
	case !validID(j.Service):
		return nil, refuse(ErrInvalid, "service must be 1 to %d characters", MaxIDLen)
	}
	s := e.services[j.Service]
	if s == nil {
		return nil, refuse(ErrUnknownService, "unknown service %q", j.Service)
	}
	if !s.Takes(Phone) {
		return nil, refuse(ErrChannelNotTaken, "service %s does not take phone tickets", s.ID)
	}
	joined := j.JoinedAt
	switch {
	case joined.IsZero() || joined.After(by.At):
		joined = by.At
	case joined.Before(by.At.Add(-MaxOfflineAge)):
		joined = by.At.Add(-MaxOfflineAge)
	}
	day := e.Day(by.At)
	return e.commit(Event{At: by.At, Type: TicketIssued, Ticket: j.ID, Actor: by.Actor, Service: s.ID,
		Channel: Phone, Priority: PriorityNone, Day: day, Number: e.nextNumber(numKey{s.ID, day}),
		IssuedAt: joined, Call: j.Call, ByPBX: j.ByPBX}), nil
}

// ConnectCall records that the PBX connected call to agent: its ticket is
// called and started at the counter the agent is signed in at. A call
// ringing there for another call (offered, not answered) goes back to the
// queue first; the connected call, if it was offered at another counter,
// leaves it. Refused, changing nothing, when the call has no live ticket,
// the agent is unknown or not signed in (unknown_agent, agent_signed_out), their counter
// takes no phone calls (channel_not_taken), or it holds another ticket
// (agent_busy): the bridge then takes the call outside any counter
// (TakeCallOutside).
func (e *Engine) ConnectCall(by By, call, agent string) ([]Event, error) {
	t, err := e.liveCall(call)
	if err != nil {
		return nil, err
	}
	if e.agents[agent] == nil {
		return nil, refuse(ErrUnknownAgent, "call %s was taken by %q, who is not an agent of the site", call, agent)
	}
	st := e.agentSt[agent]
	cs := e.counterSt[st.Counter]
	if st.State == AgentOffline || cs == nil || !cs.Open || cs.Agent != agent {
		return nil, refuse(ErrAgentOffline, "agent %s took call %s but is not signed in at a counter", agent, call)
	}
	if c := e.counters[cs.ID]; !c.Takes(Phone) {
		return nil, refuse(ErrChannelNotTaken, "agent %s took call %s at counter %s, which takes no phone calls", agent, call, c.ID)
	}
	var evs []Event
	if cs.Ticket == t.ID {
		if t.State == Serving {
			return nil, nil // said again
		}
		return e.commit(Event{At: by.At, Type: TicketStarted, Ticket: t.ID, Actor: by.Actor, Counter: cs.ID, Agent: agent}), nil
	}
	if u := e.tickets[cs.Ticket]; u != nil {
		if u.Call == "" || u.State != Called {
			return nil, refuse(ErrAgentBusy, "agent %s took call %s while counter %s holds ticket %s", agent, call, cs.ID, u.Display())
		}
		evs = append(evs, e.returned(by, u))
	}
	if t.State != Waiting {
		evs = append(evs, e.returned(by, t))
	}
	evs = append(evs,
		Event{At: by.At, Type: TicketCalled, Ticket: t.ID, Actor: by.Actor, Service: t.Service, Counter: cs.ID, Agent: agent, Reason: "connected"},
		Event{At: by.At, Type: TicketStarted, Ticket: t.ID, Actor: by.Actor, Counter: cs.ID, Agent: agent})
	return e.commit(evs...), nil
}

// TakeCallOutside records a call the PBX connected to an agent the hub
// could not seat it with (ConnectCall refused): its ticket is called and
// started outside any counter, by that agent ("" for a PBX member the
// mapping does not name). The caller is talking: left waiting, the ticket
// would be called by another agent; its wait and service still count.
func (e *Engine) TakeCallOutside(by By, call, agent string) ([]Event, error) {
	t, err := e.liveCall(call)
	if err != nil {
		return nil, err
	}
	if agent != "" && !validID(agent) {
		return nil, refuse(ErrInvalid, "agent must be 1 to %d characters", MaxIDLen)
	}
	if t.State == Serving && t.Counter == "" && t.Agent == agent {
		return nil, nil // said again
	}
	var evs []Event
	if t.State != Waiting {
		evs = append(evs, e.returned(by, t))
	}
	evs = append(evs,
		Event{At: by.At, Type: TicketCalled, Ticket: t.ID, Actor: by.Actor, Service: t.Service, Agent: agent, Reason: "outside"},
		Event{At: by.At, Type: TicketStarted, Ticket: t.ID, Actor: by.Actor, Agent: agent})
	return e.commit(evs...), nil
}

// EndCall records that a call that reached an agent is over: its ticket is
// served. A call whose connection the hub missed (the link was down) is
// first taken by agent outside any counter. how says who ended it
// ("caller", "agent", "transfer"…), kept as the event's reason.
func (e *Engine) EndCall(by By, call, agent, how string) ([]Event, error) {
	t, err := e.liveCall(call)
	if err != nil {
		return nil, err
	}
	if !validText(how, MaxTextLen) || !validText(agent, MaxIDLen) {
		return nil, refuse(ErrInvalid, "agent and reason must be short texts without control characters")
	}
	who := t.Agent
	var evs []Event
	switch t.State {
	case Waiting:
		who = agent
		evs = append(evs,
			Event{At: by.At, Type: TicketCalled, Ticket: t.ID, Actor: by.Actor, Service: t.Service, Agent: agent, Reason: "outside"},
			Event{At: by.At, Type: TicketStarted, Ticket: t.ID, Actor: by.Actor, Agent: agent})
	case Called:
		evs = append(evs, Event{At: by.At, Type: TicketStarted, Ticket: t.ID, Actor: by.Actor, Counter: t.Counter, Agent: t.Agent})
	}
	evs = append(evs, Event{At: by.At, Type: TicketServed, Ticket: t.ID, Actor: by.Actor, Counter: t.Counter, Agent: who, Reason: how})
	return e.commit(evs...), nil
}

// CallAbandon is a call that left its PBX queue without reaching an agent.
type CallAbandon struct {
	Call   string
	Reason string // "hung_up", "left_queue", "unknown"
	// Callback, when not empty, is the id of the callback ticket to issue
	// for it ("rappeler"): a phone ticket of the same service, issued now,
	// that refers to the abandoned ticket (Ticket.Callback).
	Callback string
}

// AbandonCall cancels the ticket of a call that left unanswered and, when
// a.Callback is set, issues its callback ticket in the same commit. The
// cancel is done once (a live ticket only), so an abandoned call gives at
// most one callback, however often its end is said.
func (e *Engine) AbandonCall(by By, a CallAbandon) ([]Event, error) {
	t, err := e.liveCall(a.Call)
	if err != nil {
		return nil, err
	}
	if t.State == Serving {
		return nil, refuse(ErrTransition, "call %s reached an agent: it ends, it is not abandoned", a.Call)
	}
	if !validText(a.Reason, MaxTextLen) {
		return nil, refuse(ErrInvalid, "a reason is at most %d characters, without control characters", MaxTextLen)
	}
	reason := "abandoned"
	if a.Reason != "" {
		reason += ":" + a.Reason
	}
	evs := []Event{{At: by.At, Type: TicketCancelled, Ticket: t.ID, Actor: by.Actor, Counter: t.Counter, Agent: t.Agent, Reason: reason}}
	if a.Callback != "" {
		if !validID(a.Callback) {
			return nil, refuse(ErrInvalid, "ticket id must be 1 to %d characters", MaxIDLen)
		}
		if e.tickets[a.Callback] != nil {
			return nil, refuse(ErrInvalid, "ticket %s already exists", a.Callback)
		}
		day := e.Day(by.At)
		evs = append(evs, Event{At: by.At, Type: TicketIssued, Ticket: a.Callback, Actor: by.Actor, Service: t.Service,
			Channel: Phone, Priority: PriorityNone, Day: day, Number: e.nextNumber(numKey{t.Service, day}), Callback: t.ID})
	}
	return e.commit(evs...), nil
}

// ReturnCall puts a call offered to an agent who did not answer back in the
// queue at its place: its ticket keeps its issue time.
func (e *Engine) ReturnCall(by By, call string) ([]Event, error) {
	t, err := e.liveCall(call)
	if err != nil {
		return nil, err
	}
	if t.State != Called {
		return nil, refuse(ErrTransition, "call %s is %s: only a call ringing an agent goes back to the queue", call, t.State)
	}
	return e.commit(e.returned(by, t)), nil
}

// OpenLine records that the hub opens agent's phone line: from now on the
// PBX may offer them a call. The hub records it before it asks the PBX.
func (e *Engine) OpenLine(by By, agent string) ([]Event, error) {
	st := e.agentSt[agent]
	if st == nil {
		return nil, refuse(ErrUnknownAgent, "unknown agent %q", agent)
	}
	if st.Line {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: LineOpened, Actor: by.Actor, Agent: agent, Counter: st.Counter}), nil
}

// CloseLine records that the PBX said agent's phone line is closed, for
// reason.
func (e *Engine) CloseLine(by By, agent, reason string) ([]Event, error) {
	st := e.agentSt[agent]
	if st == nil {
		return nil, refuse(ErrUnknownAgent, "unknown agent %q", agent)
	}
	if !validText(reason, MaxTextLen) {
		return nil, refuse(ErrInvalid, "a reason is at most %d characters, without control characters", MaxTextLen)
	}
	if !st.Line {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: LineClosed, Actor: by.Actor, Agent: agent, Counter: st.Counter, Reason: reason}), nil
}

// LiveCall returns a copy of the live ticket of a PBX call.
func (e *Engine) LiveCall(call string) (Ticket, bool) {
	t := e.calls[call]
	if t == nil {
		return Ticket{}, false
	}
	return *t, true
}

// LiveCalls returns copies of the live tickets of PBX calls, in issue order.
func (e *Engine) LiveCalls() []Ticket {
	out := make([]Ticket, 0, len(e.calls))
	for _, t := range e.calls {
		out = append(out, *t)
	}
	sortTickets(out)
	return out
}

// InCall returns the live call ticket agent is taking or being offered, if
// any: at their counter, or outside any.
func (e *Engine) InCall(agent string) (Ticket, bool) {
	if t := e.callOf(agent); t != nil {
		return *t, true
	}
	return Ticket{}, false
}

func sortTickets(ts []Ticket) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].before(&ts[j]) })
}

func validCall(s string) bool { return s != "" && validText(s, MaxTextLen) }

// liveCall finds the live ticket of a call.
func (e *Engine) liveCall(call string) (*Ticket, error) {
	if !validCall(call) {
		return nil, refuse(ErrInvalid, "a call id is 1 to %d characters, without control characters", MaxTextLen)
	}
	t := e.calls[call]
	if t == nil {
		return nil, refuse(ErrUnknownTicket, "no ticket is waiting or in progress for call %q", call)
	}
	return t, nil
}

// callOf returns the live call agent has: held at their counter, offered
// or connected, or taken outside any counter.
func (e *Engine) callOf(agent string) *Ticket {
	if agent == "" {
		return nil
	}
	for _, t := range e.calls {
		if t.Agent == agent && (t.State == Called || t.State == Serving) {
			return t
		}
	}
	return nil
}

// onThePhone refuses call next to the agent at cs while they have a call:
// the call ends first (the telephone system says when).
func (e *Engine) onThePhone(cs *CounterState) error {
	if t := e.callOf(cs.Agent); t != nil {
		return refuse(ErrAgentBusy, "agent %s is on the phone (ticket %s): call next once the call is over", cs.Agent, t.Display())
	}
	return nil
}

// lineOpen refuses to call t to agent while their phone line is open and t
// is not a call: the PBX could offer them a call meanwhile. The hub closes
// the line as soon as nothing holds it open; the refusal lasts that long.
func (e *Engine) lineOpen(agent string, t *Ticket) error {
	if st := e.agentSt[agent]; st != nil && st.Line && t.Call == "" {
		return refuse(ErrAgentBusy, "agent %s's phone line is still open to calls; it is being closed: call next again in a moment", agent)
	}
	return nil
}

// returned is the event that puts a called or started call back in the
// queue.
func (e *Engine) returned(by By, t *Ticket) Event {
	return Event{At: by.At, Type: CallReturned, Ticket: t.ID, Actor: by.Actor, Counter: t.Counter, Agent: t.Agent}
}

// issuedCall completes a ticket just issued with what links it to a call.
func (e *Engine) issuedCall(t *Ticket, ev Event) {
	t.Call, t.ByPBX, t.Callback = ev.Call, ev.ByPBX, ev.Callback
	e.indexCall(t)
}

// indexCall files a live ticket of a PBX call under its call id.
func (e *Engine) indexCall(t *Ticket) {
	if t.Call != "" && !t.State.Terminal() {
		e.calls[t.Call] = t
	}
}

// unindexCall forgets an ended ticket of a PBX call.
func (e *Engine) unindexCall(t *Ticket) {
	if t.Call != "" && e.calls[t.Call] == t {
		delete(e.calls, t.Call)
	}
}

// applyLinks applies the events of this file and of citizen.go.
// linkEvent are the telephony link's and the citizen file's events the
// engine applies (this file and citizen.go): EventType.Queue counts them.
var linkEvent = map[EventType]bool{CallReturned: true, LineOpened: true, LineClosed: true, CitizenAttached: true, CitizenErased: true}

func (e *Engine) applyLinks(ev Event, t *Ticket) {
	switch ev.Type {
	case CallReturned:
		if t == nil || t.State != Called && t.State != Serving {
			return
		}
		if cs := e.counterSt[t.Counter]; cs != nil && cs.Ticket == t.ID {
			cs.Ticket = ""
			e.setAgent(cs.Agent, AgentAvailable, cs.ID, "", ev.At)
		}
		t.State, t.Counter, t.Agent = Waiting, "", ""
		t.CalledAt, t.StartedAt, t.Recalls = time.Time{}, time.Time{}, 0
		e.enlane(t)
	case LineOpened:
		if st := e.agentSt[ev.Agent]; st != nil {
			st.Line = true
		}
	case LineClosed:
		if st := e.agentSt[ev.Agent]; st != nil {
			st.Line = false
		}
	default:
		e.applyCitizen(ev, t)
	}
}
