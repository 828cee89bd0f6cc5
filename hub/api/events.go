package api

import (
	"encoding/json"
	"time"
)

// CloudEvent is one event of the hub's log as it leaves the hub — on MQTT
// (events/{type}), to webhooks, to a central broker, over HTTP
// (GET /api/v1/cloudevents): CloudEvents 1.0 in its JSON form. The id,
// "{site}-{sequence}", is the same wherever and however often the event is
// delivered: a consumer de-duplicates by it, and orders by Sequence.
type CloudEvent struct {
	SpecVersion     string          `json:"specversion"` // "1.0"
	ID              string          `json:"id"`          // "{site}-{sequence}"
	Source          string          `json:"source"`      // "urn:guichet:{site}"
	Type            string          `json:"type"`        // "ticket.called"
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`     // with the site's offset
	Sequence        string          `json:"sequence"` // the log's sequence number, in decimal
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"` // an EventData
}

// EventData is what a CloudEvent carries: the logged event, with what a
// consumer needs to act on it alone — the ticket's number as displayed, its
// service and channel, the names of the service, counter and agent — and
// every time with the site's offset. Fields a type does not concern are
// absent.
//
// Personal data: Citizen (free text an agent or a form typed) is carried
// only to destinations configured for the CRM; a ticket's QR token, an
// appointment's code and an account's address never leave the hub.
type EventData struct {
	Seq   int64     `json:"seq"`
	Type  string    `json:"type"`
	At    time.Time `json:"at"`
	Day   string    `json:"day,omitempty"` // the site's day the ticket's number belongs to
	Actor string    `json:"actor,omitempty"`

	Ticket        string       `json:"ticket,omitempty"`
	Number        string       `json:"number,omitempty"` // "A042"
	Service       string       `json:"service,omitempty"`
	ServiceName   string       `json:"service_name,omitempty"` // in French
	From          string       `json:"from,omitempty"`         // the service a transfer left
	FromName      string       `json:"from_name,omitempty"`
	Channel       string       `json:"channel,omitempty"`  // visit, phone
	Priority      string       `json:"priority,omitempty"` // none, priority, appointment
	IssuedAt      *time.Time   `json:"issued_at,omitempty"`
	AppointmentAt *time.Time   `json:"appointment_at,omitempty"`
	Counter       string       `json:"counter,omitempty"`
	CounterName   string       `json:"counter_name,omitempty"`
	Agent         string       `json:"agent,omitempty"`
	AgentName     string       `json:"agent_name,omitempty"`
	Device        string       `json:"device,omitempty"`
	Lang          string       `json:"lang,omitempty"`
	Reason        string       `json:"reason,omitempty"`
	Recall        int          `json:"recall,omitempty"`
	LeaseTo       int          `json:"lease_to,omitempty"` // a lease's last number (lease.granted: Number is its first)
	Citizen       string       `json:"citizen,omitempty"`  // to CRM destinations only
	Request       *RequestData `json:"request,omitempty"`  // request.registered, request.status_changed
}

// RequestData is a citizen's request ("demande") as a request event leaves
// the hub: ids and facts — never the citizen's name or phone, the request's
// title, the pieces asked for or a note. The citizen's opaque id is in
// EventData.Citizen, for CRM destinations only.
type RequestData struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Sector     string     `json:"sector,omitempty"`
	Channel    string     `json:"channel,omitempty"` // guichet, courrier, courriel, telephone, plateforme
	Status     string     `json:"status"`            // recue, incomplete, en_cours, acceptee, rejetee, terminee, annulee
	Step       string     `json:"step,omitempty"`    // the step's label
	StepNo     int        `json:"step_no,omitempty"`
	MaxSteps   int        `json:"max_steps,omitempty"`
	ReceivedAt *time.Time `json:"received_at,omitempty"`
	DecisionAt *time.Time `json:"decision_at,omitempty"` // when silence becomes the implicit decision
	Regime     string     `json:"regime,omitempty"`      // acceptation, rejet, aucun
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	Source     string     `json:"source,omitempty"` // the platform it came from
	Origin     string     `json:"origin,omitempty"` // "lutece": this change came from a Lutece GRU
}

// CloudEventsPage is a page of the log in CloudEvents form
// (GET /api/v1/cloudevents?after={seq}): Next is the sequence to ask after
// for the next page — the last one read, whether or not it was shown.
type CloudEventsPage struct {
	Events []CloudEvent `json:"events"`
	Next   int64        `json:"next"`
}

// Destination is where one of the hub's connectors delivers, as
// supervision shows it (GET /api/v1/destinations).
type Destination struct {
	Name         string     `json:"name"`
	Kind         string     `json:"kind"`   // webhook, bridge, suitecrm, lutece, mqtt
	Cursor       int64      `json:"cursor"` // delivered (or passed) up to this sequence
	Behind       int64      `json:"behind"` // events of the log after the cursor
	State        string     `json:"state"`  // ok, retrying, gone (stopped by a 410 until resumed)
	FailingSince *time.Time `json:"failing_since,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	DeadLetters  int        `json:"dead_letters"`
}

// DeadLetter is an event a destination could not take: it is kept, with
// why, until an admin replays it.
type DeadLetter struct {
	Destination string    `json:"destination"`
	Seq         int64     `json:"seq"`
	ID          string    `json:"id"` // the CloudEvent id
	Type        string    `json:"type"`
	At          time.Time `json:"at"` // when it was given up
	Attempts    int       `json:"attempts"`
	Reason      string    `json:"reason"`
}

// Replayed is what replaying dead letters did.
type Replayed struct {
	Delivered int          `json:"delivered"`
	Failed    []DeadLetter `json:"failed"` // still dead, with the new reason
}
