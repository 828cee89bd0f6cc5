// Package webhook is the telephony link of a hosted telephony (or any PBX)
// that can post its call events over HTTPS: an http.Handler that takes
// signed JSON messages of one shape (Message), and the telephony.Link the
// hub drives, with Pause, Unpause and Originate posted back to the
// provider, signed the same way. Sender is the client side, for a
// provider's integration and for the demo's simulated day.
//
// Messages are signed the Standard Webhooks way (internal/stdwebhook):
// webhook-id, webhook-timestamp and webhook-signature, an HMAC-SHA256 over
// the id, the timestamp and the body. A message signed wrong, too old or
// too new (±5 min), already taken (its id again), malformed or too large
// is refused with a 4xx, logged, and changes nothing.
//
// The adapter keeps the calls present as the provider told them and
// enforces the telephony package's guarantees whatever it is sent: every
// call announced ends with exactly one CallAbandoned or CallEnded; a call
// moves only forward; a "snapshot" message replaces what the hub knows
// (a Resync), so a provider repairs the hub's view after an outage.
// Callers' numbers and names are never logged.
package webhook

import (
	"encoding/json"
	"time"
)

// Message is the body of every webhook, both ways: a type, when it
// happened, and the type's data (the payload structure the Standard
// Webhooks specification recommends).
type Message struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp,omitzero"` // when it happened; the receipt time when absent
	Data      json.RawMessage `json:"data"`
}

// The message types a provider posts to the hub.
const (
	TypeCallWaiting     = "call.waiting"          // Call: a caller joined a queue (call_id, number, name, queue, joined_at)
	TypeCallOffered     = "call.offered"          // Call: it rings an agent (call_id, agent)
	TypeOfferEnded      = "call.offer_ended"      // Call: that agent's phone stopped ringing (call_id, agent, reason)
	TypeCallConnected   = "call.connected"        // Call: an agent took it (call_id, agent)
	TypeCallAbandoned   = "call.abandoned"        // Call: it left without an agent (call_id, reason)
	TypeCallEnded       = "call.ended"            // Call: it is over after an agent took it (call_id, by)
	TypeAgentState      = "agent.state"           // Agent: an agent's telephony state
	TypeSnapshot        = "snapshot"              // Snapshot: every call present now, and the agents
	TypeOriginateResult = "call.originate_result" // OriginateResult: the outcome of a call.originate
)

// The message types the hub posts to the provider's action URL.
const (
	TypeAgentPause    = "agent.pause"    // Pause
	TypeAgentUnpause  = "agent.unpause"  // Pause (no reason)
	TypeCallOriginate = "call.originate" // Originate
)

// Call is the data of the call.* messages, and one call of a Snapshot.
// Agents are the provider's ids for them (the Mapping's members).
type Call struct {
	CallID   string     `json:"call_id"`
	Number   string     `json:"number,omitempty"` // the caller's; empty, "anonymous" or "unknown" when withheld
	Name     string     `json:"name,omitempty"`
	Queue    string     `json:"queue,omitempty"`     // call.waiting, snapshot
	JoinedAt *time.Time `json:"joined_at,omitempty"` // call.waiting, snapshot; the message's timestamp when absent
	Agent    string     `json:"agent,omitempty"`     // call.offered, call.offer_ended, call.connected, snapshot
	// Reason: call.offer_ended: no_answer, declined, cancelled,
	// answered_elsewhere; call.abandoned: hung_up, left_queue.
	Reason string `json:"reason,omitempty"`
	By     string `json:"by,omitempty"` // call.ended: caller, agent, transfer; unknown when absent

	// Snapshot only.
	State       string     `json:"state,omitempty"` // waiting (default) or connected
	ConnectedAt *time.Time `json:"connected_at,omitempty"`
	Offers      []string   `json:"offers,omitempty"` // agents whose phone rings for it now
}

// Agent is the data of agent.state, and one agent of a Snapshot.
type Agent struct {
	Agent    string `json:"agent"`
	LoggedIn bool   `json:"logged_in"`
	Paused   bool   `json:"paused"`
	Reason   string `json:"reason,omitempty"`
	InCall   bool   `json:"in_call"`
	Device   string `json:"device,omitempty"` // idle, in_use, busy, ringing, unavailable, unknown
}

// Snapshot is the data of a snapshot message: what is present now.
type Snapshot struct {
	Calls  []Call  `json:"calls"`
	Agents []Agent `json:"agents,omitempty"`
}

// OriginateResult is the data of call.originate_result.
type OriginateResult struct {
	Ref    string `json:"ref"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
	CallID string `json:"call_id,omitempty"`
}

// Pause is the data of agent.pause and agent.unpause.
type Pause struct {
	Agent  string `json:"agent"`
	Reason string `json:"reason,omitempty"`
}

// Originate is the data of call.originate: ring the agent's phone, and
// when it answers, call Number. The provider answers with a
// call.originate_result carrying Ref.
type Originate struct {
	Ref    string `json:"ref"`
	Agent  string `json:"agent"`
	Number string `json:"number"` // digits, a leading + allowed
}

// Limits of what a message may hold.
const (
	DefaultMaxBody = 256 << 10
	maxID          = 128 // call ids, agents, queues, refs
	maxNumber      = 32
	maxName        = 100 // runes; longer names are cut
	maxReason      = 80  // runes
	maxOffers      = 32
	maxSnapshot    = 2000 // calls, and agents
)
