package queue

import (
	"time"

	"guichet/hub/api"
)

// The citizen file's side of the queue. The engine knows a citizen only by
// an opaque id (Ticket.Citizen): an agent attaches the ticket at the
// counter to the person's file, and an erased file leaves a tombstone in
// the log, ids only, that consumers (the central CRM) follow. A name, a
// phone number or an address never enters an event.

// Events of the citizen file.
const (
	CitizenAttached EventType = "ticket.citizen_attached" // Ticket, Citizen: the ticket is that citizen's
	CitizenErased   EventType = "citizen.erased"          // Citizen: the file was erased (a tombstone)

	// A request ("demande") of the citizen file was registered, or its
	// status or step changed (hub/citizens writes them once crm.db holds
	// the change): Citizen, Request. The engine does not apply them
	// (EventType.Queue is false): they are for the log's consumers — the
	// central CRM, the GRU.
	RequestRegistered    EventType = "request.registered"
	RequestStatusChanged EventType = "request.status_changed"
)

// RequestFacts is what a request event says of the request as it now
// stands: ids and facts, never a name, a phone number, the request's title,
// the pieces asked for or a note.
type RequestFacts struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Sector     string    `json:"sector,omitempty"`
	Channel    string    `json:"channel,omitempty"` // guichet, courrier, courriel, telephone, plateforme
	Status     string    `json:"status"`
	Step       string    `json:"step,omitempty"` // the step's label
	StepNo     int       `json:"step_no,omitempty"`
	MaxSteps   int       `json:"max_steps,omitempty"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	DecisionAt time.Time `json:"decision_at,omitzero"` // when silence becomes the implicit decision
	Regime     string    `json:"regime,omitempty"`     // what silence means: acceptation, rejet
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	// Source is the platform the request came from (empty for the town's
	// own), and Origin the format the change came in from it: "lutece"
	// when a Lutece GRU notified it, which the Lutece connector does not
	// send back.
	Source string `json:"source,omitempty"`
	Origin string `json:"origin,omitempty"`
}

// citizenReserved refuses a free-text citizen that has the form of a
// file's id (api.IsCitizenID): only AttachCitizen sets one.
const citizenReserved = "citizen: the form c- and 16 letters or digits is reserved for the citizen file's ids; an agent attaches the ticket to the file"

// AttachCitizen attaches a ticket to a citizen's file (an opaque id of the
// citizen file), in whatever state the ticket is: at the counter, or after
// it ended (the agent files the visit during wrap-up). Attaching it again
// to another file replaces the first; to the same, changes nothing.
func (e *Engine) AttachCitizen(by By, ticket, citizen string) ([]Event, error) {
	if !validID(ticket) {
		return nil, refuse(ErrInvalid, "ticket must be a ticket id of 1 to %d characters", MaxIDLen)
	}
	if !api.IsCitizenID(citizen) {
		return nil, refuse(ErrInvalid, "citizen must be the id of a file of the citizen file (c- and 16 letters or digits)")
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
