package queue

import (
	"maps"
	"time"

	"guichet/hub/api"
)

// State is where a ticket stands in its life.
type State string

// Ticket states.
const (
	Waiting   State = "waiting"
	Called    State = "called"
	Serving   State = "serving"
	Done      State = "done"
	NoShow    State = "noshow"
	Cancelled State = "cancelled"
)

// Terminal reports whether no transition leaves s.
func (s State) Terminal() bool { return s == Done || s == NoShow || s == Cancelled }

// Ticket is one demand in the queue, walk-in or phone call.
type Ticket struct {
	// Immutable.
	ID            string    `json:"id"`
	Number        int       `json:"number"`
	Prefix        string    `json:"prefix"` // the issuing service's letter
	Day           string    `json:"day"`    // local day the number belongs to
	Channel       Channel   `json:"channel"`
	Priority      Priority  `json:"priority"`
	AppointmentAt time.Time `json:"appointment_at,omitzero"`
	IssuedAt      time.Time `json:"issued_at"`
	Device        string    `json:"device,omitempty"`
	Citizen       string    `json:"citizen,omitempty"`
	Token         string    `json:"token,omitempty"`
	Lang          string    `json:"lang,omitempty"`
	Offline       bool      `json:"offline,omitempty"` // printed from its device's lease
	// A phone ticket of the telephony link (calls.go): the PBX id of its
	// call, whether the PBX hands the call to an agent itself, and for a
	// callback ("rappeler") the ticket of the abandoned call it calls back.
	// None is personal data: the caller's number stays in the calls store.
	Call     string `json:"call,omitempty"`
	ByPBX    bool   `json:"by_pbx,omitempty"`
	Callback string `json:"callback,omitempty"`

	// Mutable.
	Service   string    `json:"service"`
	State     State     `json:"state"`
	Counter   string    `json:"counter,omitempty"`
	Agent     string    `json:"agent,omitempty"`
	CalledAt  time.Time `json:"called_at,omitzero"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	Recalls   int       `json:"recalls,omitempty"`
	Transfers int       `json:"transfers,omitempty"`
	// The last transfer's note, and the agent it was transferred to, who
	// alone may call it until HoldUntil while signed in (policy.go).
	Note      string    `json:"note,omitempty"`
	ForAgent  string    `json:"for_agent,omitempty"`
	HoldUntil time.Time `json:"hold_until,omitzero"`
}

// Display is the number shown and announced: the letter and three digits.
func (t Ticket) Display() string { return api.FormatNumber(t.Prefix, t.Number) }

// before orders tickets by issue time, then id: first come, first served.
func (t *Ticket) before(u *Ticket) bool {
	if !t.IssuedAt.Equal(u.IssuedAt) {
		return t.IssuedAt.Before(u.IssuedAt)
	}
	return t.ID < u.ID
}

// CounterState is a counter's live state.
type CounterState struct {
	ID     string `json:"id"`
	Open   bool   `json:"open"`
	Agent  string `json:"agent,omitempty"`
	Ticket string `json:"ticket,omitempty"` // id of the ticket called or being served
}

// AgentState is what an agent is doing.
type AgentState string

// Agent states.
const (
	AgentOffline   AgentState = "offline"
	AgentAvailable AgentState = "available"
	AgentServing   AgentState = "serving"
	AgentPaused    AgentState = "paused"
	AgentWrapUp    AgentState = "wrapup"
)

// AgentStatus is an agent's live state.
type AgentStatus struct {
	ID          string     `json:"id"`
	State       AgentState `json:"state"`
	Counter     string     `json:"counter,omitempty"`
	PauseReason string     `json:"pause_reason,omitempty"`
	Since       time.Time  `json:"since,omitzero"`
	// Line: the agent's phone line (their queue membership at the PBX) may
	// offer them a call: the hub recorded it opened and not yet closed
	// (calls.go). Call next gives such an agent nothing but a call.
	Line bool `json:"line,omitempty"`
}

// Call is one line of the board: a ticket called to a counter.
type Call struct {
	Ticket   string    `json:"ticket"` // display number
	TicketID string    `json:"ticket_id"`
	Service  string    `json:"service"`
	Counter  string    `json:"counter"`
	At       time.Time `json:"at"`
	Recall   bool      `json:"recall"`
}

// Lease is a block of numbers a kiosk may print while it cannot reach the
// hub; the hub never issues them itself.
type Lease struct {
	Device  string       `json:"device"`
	Service string       `json:"service"`
	Day     string       `json:"day"`
	From    int          `json:"from"`
	To      int          `json:"to"` // inclusive
	Used    map[int]bool `json:"used,omitempty"`
	// GrantedAt is when the hub granted it (zero in snapshots of older builds).
	GrantedAt time.Time `json:"granted_at,omitzero"`
}

// Free returns how many numbers of the lease are still unused.
func (l *Lease) Free() int { return l.To - l.From + 1 - len(l.Used) }

// clone copies the lease, its used numbers too.
func (l *Lease) clone() Lease {
	c := *l
	c.Used = maps.Clone(l.Used)
	if c.Used == nil {
		c.Used = map[int]bool{}
	}
	return c
}
