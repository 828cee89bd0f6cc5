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
	// A called ticket whose agent was signed out goes back to waiting, at
	// its place (supervise.go).
	TicketReturned EventType = "ticket.returned"

	// The site's changes (admin.go): each carries the thing as it now is,
	// and who changed it (Actor).
	SiteLoaded        EventType = "site.loaded" // the site file, whole (Site, Hash)
	SettingsSaved     EventType = "site.settings"
	PauseReasonsSaved EventType = "site.pause_reasons"
	ServiceSaved      EventType = "service.saved"
	ServiceRemoved    EventType = "service.removed"
	ServiceClosed     EventType = "service.closed"   // to new tickets, with a message for the kiosks
	ServiceReopened   EventType = "service.reopened" // takes new tickets again
	CounterSaved      EventType = "counter.saved"
	CounterRemoved    EventType = "counter.removed"
	AgentSaved        EventType = "agent.saved"
	AgentRemoved      EventType = "agent.removed"
	BoardMessageSet   EventType = "board.message" // the supervisor's message on the waiting-room screens
)

// Queue reports whether events of type t are the queue's, which the engine
// applies; the log holds others beside them (accounts', devices').
func (t EventType) Queue() bool { return queueEvent[t] || IsSiteChange(t) || linkEvent[t] }

// queueEvent are the tickets', counters' and agents' events the engine
// applies; it applies the site's changes too (IsSiteChange).
var queueEvent = map[EventType]bool{TicketIssued: true, TicketCalled: true, TicketRecalled: true, TicketStarted: true,
	TicketServed: true, TicketNoShow: true, TicketTransferred: true, TicketCancelled: true, TicketReturned: true, CounterOpened: true,
	CounterClosed: true, AgentPausedEvent: true, AgentResumed: true, LeaseGranted: true, AppointmentBooked: true,
	AppointmentDrop: true}

// Event is one fact in the log. Fields beyond the first five depend on the
// type; the engine rebuilds its whole state by applying events in order.
type Event struct {
	Seq    int64     `json:"seq,omitempty"` // assigned by the store
	At     time.Time `json:"at"`
	Type   EventType `json:"type"`
	Ticket string    `json:"ticket,omitempty"` // ticket id
	Actor  string    `json:"actor,omitempty"`  // device, agent or API user

	Service       string        `json:"service,omitempty"`
	From          string        `json:"from,omitempty"` // previous service on transfer
	Number        int           `json:"number,omitempty"`
	Day           string        `json:"day,omitempty"`
	Channel       Channel       `json:"channel,omitempty"`
	Priority      Priority      `json:"priority,omitempty"`
	AppointmentAt time.Time     `json:"appointment_at,omitzero"`
	IssuedAt      time.Time     `json:"issued_at,omitzero"`  // printed offline: its place in the queue (offline.go)
	PrintedAt     time.Time     `json:"printed_at,omitzero"` // printed offline: when the kiosk says it printed it
	Device        string        `json:"device,omitempty"`
	Citizen       string        `json:"citizen,omitempty"`
	Request       *RequestFacts `json:"request,omitempty"`  // request.* (citizen.go)
	Call          string        `json:"call,omitempty"`     // a phone call's PBX id (calls.go)
	ByPBX         bool          `json:"by_pbx,omitempty"`   // the PBX hands that call to an agent itself
	Callback      string        `json:"callback,omitempty"` // a callback's abandoned ticket
	Token         string        `json:"token,omitempty"`
	Lang          string        `json:"lang,omitempty"`
	Counter       string        `json:"counter,omitempty"`
	Agent         string        `json:"agent,omitempty"`
	Reason        string        `json:"reason,omitempty"`
	Recall        int           `json:"recall,omitempty"`
	To            int           `json:"to,omitempty"`   // last number of a lease
	Code          string        `json:"code,omitempty"` // appointment code
	// An account event's (hub/auth) account, and the address the request
	// came from: an agent's address is personal data, kept in the log and
	// never published (hub/bus leaves account events out).
	Account string `json:"account,omitempty"`
	Address string `json:"address,omitempty"`

	// Transfers (supervise.go).
	ToAgent string    `json:"to_agent,omitempty"` // the agent a ticket is transferred to
	Until   time.Time `json:"until,omitzero"`     // until when it waits for that agent alone
	Note    string    `json:"note,omitempty"`     // the transfer's note, shown as text

	// The site's changes (admin.go).
	Site       *Site             `json:"site,omitempty"` // site.loaded
	Hash       string            `json:"hash,omitempty"` // site.loaded: the file's SHA-256
	ServiceDef *Service          `json:"service_def,omitempty"`
	CounterDef *Counter          `json:"counter_def,omitempty"`
	AgentDef   *Agent            `json:"agent_def,omitempty"`
	Settings   *Settings         `json:"settings,omitempty"`
	Reasons    []string          `json:"reasons,omitempty"`
	Message    map[string]string `json:"message,omitempty"` // board.message, service.closed
}
