// Package api is the wire contract between the hub and everything that talks
// to it: the JSON shapes of the HTTP API and the MQTT payloads, the MQTT
// topics and the command ops. Devices import it; it imports nothing of the
// hub, so a device never depends on hub internals.
package api

import "time"

// Names are texts by language code: {"fr": "État civil", "en": "Civil status"}.
type Names map[string]string

// Error is the body of every refusal: {"error": {"code", "message"}}.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorBody wraps an Error as the HTTP API returns it.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Service is a service as clients see it.
type Service struct {
	ID          string   `json:"id"`
	Name        Names    `json:"name"`
	SLASeconds  int      `json:"sla_s"`
	Channels    []string `json:"channels"`
	Open        bool     `json:"open"` // takes visit tickets now
	Full        bool     `json:"full"` // open, but its wait runs past closing time
	ServiceTime int      `json:"service_time_s"`
	// ClosedMessage is set when the service is closed to new tickets
	// whatever its hours: what the kiosks say instead, by language.
	ClosedMessage Names `json:"closed_message,omitempty"`
}

// Ticket is a ticket as clients see it.
type Ticket struct {
	ID            string     `json:"id"`
	Number        string     `json:"number"` // "A042"
	Service       string     `json:"service"`
	ServiceName   Names      `json:"service_name"`
	Channel       string     `json:"channel"`
	Priority      string     `json:"priority"`
	State         string     `json:"state"`
	IssuedAt      time.Time  `json:"issued_at"`
	AppointmentAt *time.Time `json:"appointment_at,omitempty"`
	Counter       string     `json:"counter,omitempty"`
	CounterName   string     `json:"counter_name,omitempty"`
	CalledAt      *time.Time `json:"called_at,omitempty"`
	EndedAt       *time.Time `json:"ended_at,omitempty"`
	Recalls       int        `json:"recalls,omitempty"`
	Transfers     int        `json:"transfers,omitempty"`
	Note          string     `json:"note,omitempty"`      // the last transfer's note: text, never markup
	ForAgent      string     `json:"for_agent,omitempty"` // held for this agent (transferred to them)
	Device        string     `json:"device,omitempty"`
	Citizen       string     `json:"citizen,omitempty"`
	Ahead         *int       `json:"ahead,omitempty"`            // waiting tickets before it
	EstimatedWait *int       `json:"estimated_wait_s,omitempty"` // seconds; absent when unknown
	// The range that about 80 % of real waits fall in, in seconds, shown
	// as FormatWait writes it ("entre 10 et 20 min"); absent when unknown.
	EstimatedWaitMin *int   `json:"estimated_wait_min_s,omitempty"`
	EstimatedWaitMax *int   `json:"estimated_wait_max_s,omitempty"`
	Token            string `json:"token,omitempty"` // mobile ticket page token
}

// Counter is a counter's live state.
type Counter struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Channels    []string `json:"channels"`
	Open        bool     `json:"open"`
	Agent       string   `json:"agent,omitempty"`
	AgentName   string   `json:"agent_name,omitempty"`
	AgentState  string   `json:"agent_state,omitempty"`
	PauseReason string   `json:"pause_reason,omitempty"`
	Ticket      *Ticket  `json:"ticket,omitempty"` // called or being served
}

// Board is the waiting-room board: the last calls, newest first.
type Board struct {
	Calls []Call `json:"calls"`
}

// Call is one line of the board.
type Call struct {
	Ticket      string    `json:"ticket"` // "A042"
	Service     string    `json:"service"`
	Counter     string    `json:"counter"`
	CounterName string    `json:"counter_name"`
	At          time.Time `json:"at"`
	Recall      bool      `json:"recall"`
}

// Queue is the queue summary per service.
type Queue struct {
	At       time.Time      `json:"at"`
	Services []ServiceQueue `json:"services"`
}

// ServiceQueue is one service's line of the queue summary.
type ServiceQueue struct {
	Service      string `json:"service"`
	Name         Names  `json:"name"`
	Waiting      int    `json:"waiting"`       // tickets waiting, every channel
	WaitingPhone int    `json:"waiting_phone"` // of which phone calls
	LongestWait  int    `json:"longest_wait_s"`
	// Ahead is how many people a new visitor (a new call, for a service
	// that takes no visits) waits behind: the visitors, and the calls only
	// as far as they take the same agents' time. EstimatedWait is that new
	// ticket's wait, null when nobody serves the service now.
	Ahead         int  `json:"ahead"`
	EstimatedWait *int `json:"estimated_wait_s"`
	// The range that about 80 % of real waits fall in, in seconds (null
	// when EstimatedWait is): what the screens show, as FormatWait writes it.
	EstimatedWaitMin *int `json:"estimated_wait_min_s"`
	EstimatedWaitMax *int `json:"estimated_wait_max_s"`
	// The same for a new phone call, for a service that takes calls.
	AheadPhone            int        `json:"ahead_phone"`
	EstimatedWaitPhone    *int       `json:"estimated_wait_phone_s"`
	EstimatedWaitPhoneMin *int       `json:"estimated_wait_phone_min_s"`
	EstimatedWaitPhoneMax *int       `json:"estimated_wait_phone_max_s"`
	Agents                float64    `json:"agents"`
	Open                  bool       `json:"open"`
	NextOpen              *time.Time `json:"next_open,omitempty"` // when closed: its next opening, within a fortnight
	Channels              []string   `json:"channels,omitempty"`
}
