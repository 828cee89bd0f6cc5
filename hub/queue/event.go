package queue

import "time"

// EventType names a domain event. The names are those of the CloudEvents the
// hub emits, so the log, the audit trail and the CRM feed speak alike.
type EventType string

// Domain events.
const (
	TicketIssued      EventType = "ticket.issued"
	TicketCalled      EventType = "ticket.called"
	TicketRecalled    EventType = "ticket.recalled"
	TicketStarted     EventType = "ticket.started"
	TicketServed      EventType = "ticket.served"
	TicketNoShow      EventType = "ticket.noshow"
	TicketTransferred EventType = "ticket.transferred"
	TicketCancelled   EventType = "ticket.cancelled"
	CounterOpened     EventType = "counter.opened"
	CounterClosed     EventType = "counter.closed"
	AgentPausedEvent  EventType = "agent.paused"
	AgentResumed      EventType = "agent.resumed"
	LeaseGranted      EventType = "lease.granted"
	AppointmentBooked EventType = "appointment.booked"
	AppointmentDrop   EventType = "appointment.cancelled"
)

// Event is one fact in the log. Fields beyond the first five depend on the
// type; the engine rebuilds its whole state by applying events in order.
type Event struct {
	Seq    int64     `json:"seq,omitempty"` // assigned by the store
	At     time.Time `json:"at"`
	Type   EventType `json:"type"`
	Ticket string    `json:"ticket,omitempty"` // ticket id
	Actor  string    `json:"actor,omitempty"`  // device, agent or API user

	Service       string    `json:"service,omitempty"`
	From          string    `json:"from,omitempty"` // previous service on transfer
	Number        int       `json:"number,omitempty"`
	Day           string    `json:"day,omitempty"`
	Channel       Channel   `json:"channel,omitempty"`
	Priority      Priority  `json:"priority,omitempty"`
	AppointmentAt time.Time `json:"appointment_at,omitzero"`
	IssuedAt      time.Time `json:"issued_at,omitzero"`  // printed offline: its place in the queue (offline.go)
	PrintedAt     time.Time `json:"printed_at,omitzero"` // printed offline: when the kiosk says it printed it
	Device        string    `json:"device,omitempty"`
	Citizen       string    `json:"citizen,omitempty"`
	Call          string    `json:"call,omitempty"`     // a phone call's PBX id (calls.go)
	ByPBX         bool      `json:"by_pbx,omitempty"`   // the PBX hands that call to an agent itself
	Callback      string    `json:"callback,omitempty"` // a callback's abandoned ticket
	Token         string    `json:"token,omitempty"`
	Lang          string    `json:"lang,omitempty"`
	Counter       string    `json:"counter,omitempty"`
	Agent         string    `json:"agent,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	Recall        int       `json:"recall,omitempty"`
	To            int       `json:"to,omitempty"`   // last number of a lease
	Code          string    `json:"code,omitempty"` // appointment code
}
