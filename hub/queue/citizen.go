package queue

// The citizen file's side of the queue. The engine knows a citizen only by
// an opaque id (Ticket.Citizen): an agent attaches the ticket at the
// counter to the person's file, and an erased file leaves a tombstone in
// the log, ids only, that consumers (the central CRM) follow. A name, a
// phone number or an address never enters an event.

// Events of the citizen file.
const (
	CitizenAttached EventType = "ticket.citizen_attached" // Ticket, Citizen: the ticket is that citizen's
	CitizenErased   EventType = "citizen.erased"          // Citizen: the file was erased (a tombstone)
)

// AttachCitizen attaches a ticket to a citizen's file (an opaque id of the
// citizen file), in whatever state the ticket is: at the counter, or after
// it ended (the agent files the visit during wrap-up). Attaching it again
// to another file replaces the first; to the same, changes nothing.
func (e *Engine) AttachCitizen(by By, ticket, citizen string) ([]Event, error) {
	if !validID(ticket) {
		return nil, refuse(ErrInvalid, "ticket must be a ticket id of 1 to %d characters", MaxIDLen)
	}
	if citizen == "" || !validText(citizen, MaxTextLen) {
		return nil, refuse(ErrInvalid, "citizen must be an id of 1 to %d characters, without control characters", MaxTextLen)
	}
	t := e.tickets[ticket]
	if t == nil {
		return nil, refuse(ErrUnknownTicket, "unknown ticket %q", ticket)
	}
	if t.Citizen == citizen {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: CitizenAttached, Ticket: t.ID, Actor: by.Actor, Citizen: citizen}), nil
}

// EraseCitizen records that the files of these citizen ids were erased:
// one tombstone event each. Tickets the engine still holds forget the id.
func (e *Engine) EraseCitizen(by By, citizens ...string) ([]Event, error) {
	var evs []Event
	for _, c := range citizens {
		if c == "" || !validText(c, MaxTextLen) {
			return nil, refuse(ErrInvalid, "citizen must be an id of 1 to %d characters, without control characters", MaxTextLen)
		}
		evs = append(evs, Event{At: by.At, Type: CitizenErased, Actor: by.Actor, Citizen: c})
	}
	return e.commit(evs...), nil
}

// applyCitizen applies the events of this file.
func (e *Engine) applyCitizen(ev Event, t *Ticket) {
	switch ev.Type {
	case CitizenAttached:
		if t != nil {
			t.Citizen = ev.Citizen
		}
	case CitizenErased:
		for _, u := range e.tickets {
			if u.Citizen == ev.Citizen {
				u.Citizen = ""
			}
		}
	}
}
