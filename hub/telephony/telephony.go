// Package telephony is the vocabulary the hub speaks with a telephone system,
// whatever the PBX: calls waiting in a PBX queue, offered to an agent's
// phone, connected, abandoned or ended; agents' telephony state; and the
// Link the hub drives (pause and unpause an agent's queue membership,
// click-to-call). Adapters live beside it (ami/ for Asterisk-based systems)
// and translate their PBX's protocol into these events.
//
// It holds no I/O and no clock: adapters stamp the times, the hub owns what
// it believes (a View) and repairs it after a reconnect with Reconcile.
// Personal data (a caller's number and name) travels in Call and must never
// be logged; log call ids.
package telephony

import (
	"context"
	"errors"
	"time"
)

// CallID identifies a call at the PBX: for Asterisk, the Uniqueid of the
// caller's channel. At any time at most one call with a given id is present;
// an id may come back after its call ended (the same channel joining a queue
// again, after a transfer for example).
type CallID string

// CallState is where a present call stands.
type CallState string

// The states of a present call. A ringing call is Waiting with Offers.
const (
	Waiting   CallState = "waiting"   // in a PBX queue, possibly ringing agents
	Connected CallState = "connected" // talking with an agent
)

// Call is a call present at the PBX, as the adapter sees it.
type Call struct {
	ID       CallID
	Linkedid string    // the PBX's id of the whole conversation (Asterisk's Linkedid)
	Number   string    // the caller's number as the PBX sent it; "" when withheld or unknown
	Name     string    // the caller's name as sent; "" when none
	Queue    string    // the PBX queue it waits in (or was taken from)
	Service  string    // the service that queue feeds (Mapping)
	JoinedAt time.Time // when it joined the queue (estimated after a resync: now − its wait)
	State    CallState
	// Offers are the phones ringing for it now (Waiting only), sorted by member.
	Offers []Offer
	// Connected only: who took it and when.
	Agent       string // "" when the member is not mapped to an agent
	Member      string
	ConnectedAt time.Time
}

// Offer is a call ringing a queue member's phone.
type Offer struct {
	Agent  string // "" when the member is not mapped to an agent
	Member string // the PBX's member (Asterisk: the interface, "PJSIP/101")
}

// Device is the state of an agent's phone as the PBX reports it.
type Device string

// Device states (Asterisk's device states, grouped by what the hub needs).
const (
	DeviceUnknown     Device = "unknown"
	DeviceIdle        Device = "idle"        // not in use: can ring
	DeviceInUse       Device = "in_use"      // in a call (or on hold, or in use and ringing)
	DeviceBusy        Device = "busy"        // busy
	DeviceRinging     Device = "ringing"     // ringing (not reported for Local channel members)
	DeviceUnavailable Device = "unavailable" // unreachable or invalid
)

// AgentState is an agent's telephony state, over the mapped queues the
// member belongs to.
type AgentState struct {
	Agent    string // the hub's agent (Mapping); states are only sent for mapped members
	Member   string
	Name     string // the PBX's name for the member (Asterisk MemberName)
	LoggedIn bool   // a member of at least one mapped queue
	// Paused is true when the member is paused in every mapped queue it
	// belongs to; Reason is the PBX's pause reason.
	Paused bool
	Reason string
	InCall bool // taking a queue call now
	Device Device
}

// Available reports whether the PBX would offer a queue call to the agent
// now: logged in, not paused, not in a call, its phone idle (or of unknown
// state, which Asterisk rings too).
func (s AgentState) Available() bool {
	return s.LoggedIn && !s.Paused && !s.InCall && (s.Device == DeviceIdle || s.Device == DeviceUnknown || s.Device == "")
}

// Snapshot is what is present at the PBX at one moment: every call waiting
// or connected in a mapped queue, and every mapped agent's state. Calls are
// sorted by JoinedAt then ID, agents by Agent.
type Snapshot struct {
	Calls  []Call
	Agents []AgentState
}

// OriginateRequest asks the PBX for a click-to-call: ring the agent's
// phone, and when the agent answers, call Number.
type OriginateRequest struct {
	Ref    string // the consumer's reference, given back in OriginateResult
	Agent  string
	Number string // digits, optionally a leading +; spaces, dots and dashes are ignored
}

// Link is what the hub drives of a telephone system. One adapter per PBX
// kind implements it (ami.Adapter for Asterisk); Fake stands in for tests.
type Link interface {
	// Run connects, and keeps connecting, to the PBX until ctx ends; it
	// calls emit for every event, in order, from one goroutine. After every
	// (re)connection the first event is a Resync with the calls present
	// now; the consumer repairs its view with Reconcile. emit must not
	// block for long: an adapter that falls too far behind drops its
	// connection and resynchronises rather than grow without bound. Run
	// returns ctx's error, or an error of its configuration.
	Run(ctx context.Context, emit func(Event)) error
	// Pause pauses the agent's membership in every PBX queue, with a
	// reason the PBX records, so that no queue call is offered to it.
	Pause(ctx context.Context, agent, reason string) error
	// Unpause makes the agent's membership available for queue calls again.
	Unpause(ctx context.Context, agent string) error
	// Originate asks for a click-to-call; it returns once the PBX accepted
	// the request. Its outcome comes later as an OriginateResult event.
	Originate(ctx context.Context, r OriginateRequest) error
}

// Errors a Link returns; adapters wrap them with context.
var (
	// ErrNotConnected: the link to the PBX is down now.
	ErrNotConnected = errors.New("telephony: not connected to the PBX")
	// ErrUnknownAgent: the agent has no PBX member in the mapping.
	ErrUnknownAgent = errors.New("telephony: agent not mapped to a PBX member")
	// ErrRefused: the PBX refused the action (its message is in the error).
	ErrRefused = errors.New("telephony: refused by the PBX")
	// ErrBadNumber: a number to call that is not a phone number.
	ErrBadNumber = errors.New("telephony: not a phone number")
	// ErrNotConfigured: the action needs a setting the adapter was not given.
	ErrNotConfigured = errors.New("telephony: not configured")
)
