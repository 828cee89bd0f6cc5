package queue

import (
	"strings"

	"guichet/hub/api"
)

// The supervisor's actions, and the transfer both the supervisor and the
// agent at the counter use.
//
// Transfer. A waiting, called or being-served ticket goes back to waiting,
// keeping its number and its issue time (its place), either in another
// service or for a named agent — in its own service or the one given —, with
// a note (at most MaxNoteLen bytes of text) shown to whoever calls it next.
// The named agent must be signed in and have a skill for the service; the
// ticket then waits for them alone (policy.go says until when).
//
// Signing an agent out closes their counter. A ticket they had called and
// not started goes back to waiting at its place (ticket.returned): the
// citizen has not been served, another agent calls them. A ticket they were
// serving is finished as served (ticket.served, reason signed_out): the
// citizen was at the counter. The tickets held for them (transferred to
// them) go back to their service.
//
// Pausing an agent is what the agent's own pause does: refused while their
// counter holds a ticket (finish or transfer it first), with a reason —
// one of the site's list, which the consoles offer, or a text of its own
// (a counter terminal sends its configured one).

// transfer sends t back to waiting, in another service or for an agent.
func (e *Engine) transfer(by By, t *Ticket, a api.TransferArgs) ([]Event, error) {
	if a.Service != "" && !validID(a.Service) {
		return nil, refuse(ErrInvalid, "service must be 1 to %d characters", MaxIDLen)
	}
	if a.Agent != "" && !validID(a.Agent) {
		return nil, refuse(ErrInvalid, "agent must be an agent id of 1 to %d characters", MaxIDLen)
	}
	if !validNote(a.Note) {
		return nil, refuse(ErrInvalid, "a note is at most %d bytes of text, without control characters", MaxNoteLen)
	}
	if a.Service == "" && a.Agent == "" {
		return nil, refuse(ErrInvalid, "a transfer names a service, an agent, or both")
	}
	target := a.Service
	if target == "" {
		target = t.Service
	}
	s := e.services[target]
	if s == nil {
		return nil, refuse(ErrUnknownService, "unknown service %q", target)
	}
	if a.Agent == "" && s.ID == t.Service {
		return nil, refuse(ErrInvalid, "ticket %s is already in service %s", t.Display(), s.ID)
	}
	if !s.Takes(t.Channel) {
		return nil, refuse(ErrChannelNotTaken, "service %s does not take %s tickets", s.ID, t.Channel)
	}
	ev := Event{At: by.At, Type: TicketTransferred, Ticket: t.ID, Actor: by.Actor, Counter: t.Counter, Agent: t.Agent,
		From: t.Service, Service: s.ID, Note: strings.TrimSpace(a.Note)}
	if a.Agent != "" {
		ag := e.agents[a.Agent]
		if ag == nil {
			return nil, refuse(ErrUnknownAgent, "unknown agent %q", a.Agent)
		}
		if ag.Skills[s.ID] == 0 {
			return nil, refuse(ErrLacksSkill, "agent %s has no skill for service %s", ag.ID, s.ID)
		}
		if st := e.agentSt[ag.ID]; st.State == AgentOffline {
			return nil, refuse(ErrAgentOffline, "agent %s is not signed in", ag.ID)
		}
		ev.ToAgent, ev.Until = ag.ID, by.At.Add(e.site.Policy.transferHold())
	}
	return e.commit(ev), nil
}

// TransferTicket transfers a waiting, called or being-served ticket named by
// its id (the supervisor's).
func (e *Engine) TransferTicket(by By, a api.TicketTransferArgs) ([]Event, error) {
	if !validID(a.Ticket) {
		return nil, refuse(ErrInvalid, "ticket must be a ticket id of 1 to %d characters", MaxIDLen)
	}
	t := e.tickets[a.Ticket]
	if t == nil {
		return nil, refuse(ErrUnknownTicket, "unknown ticket %q", a.Ticket)
	}
	if t.State.Terminal() {
		return nil, refuse(ErrTransition, "ticket %s is %s: only a ticket in the queue can be transferred", t.Display(), t.State)
	}
	return e.transfer(by, t, a.TransferArgs)
}

// signedIn returns the counter where agent is signed in.
func (e *Engine) signedIn(agent string) (*Counter, *CounterState, error) {
	if !validID(agent) {
		return nil, nil, refuse(ErrInvalid, "agent must be an agent id of 1 to %d characters", MaxIDLen)
	}
	if e.agents[agent] == nil {
		return nil, nil, refuse(ErrUnknownAgent, "unknown agent %q", agent)
	}
	st := e.agentSt[agent]
	if st.State == AgentOffline {
		return nil, nil, refuse(ErrAgentOffline, "agent %s is not signed in", agent)
	}
	return e.openCounter(st.Counter)
}

// SignOut signs an agent out wherever they are signed in (the
// supervisor's): see above for the ticket their counter holds.
func (e *Engine) SignOut(by By, agent string) ([]Event, error) {
	c, cs, err := e.signedIn(agent)
	if err != nil {
		return nil, err
	}
	var evs []Event
	if t := e.tickets[cs.Ticket]; t != nil {
		switch t.State {
		case Called:
			evs = append(evs, Event{At: by.At, Type: TicketReturned, Ticket: t.ID, Actor: by.Actor, Counter: c.ID, Agent: agent, Reason: "signed_out"})
		case Serving:
			evs = append(evs, Event{At: by.At, Type: TicketServed, Ticket: t.ID, Actor: by.Actor, Counter: c.ID, Agent: agent, Reason: "signed_out"})
		}
	}
	evs = append(evs, Event{At: by.At, Type: CounterClosed, Actor: by.Actor, Counter: c.ID, Agent: agent, Reason: "signed_out"})
	return e.commit(evs...), nil
}

// PauseAgent pauses an agent wherever they are signed in (the supervisor's).
func (e *Engine) PauseAgent(by By, agent string, a api.AgentPauseArgs) ([]Event, error) {
	c, _, err := e.signedIn(agent)
	if err != nil {
		return nil, err
	}
	return e.Pause(by, c.ID, api.PauseArgs{Reason: a.Reason})
}

// ResumeAgent ends an agent's pause (the supervisor's).
func (e *Engine) ResumeAgent(by By, agent string) ([]Event, error) {
	c, _, err := e.signedIn(agent)
	if err != nil {
		return nil, err
	}
	return e.Resume(by, c.ID)
}
