package telephony

import "time"

// Event is something that happened at the PBX. Its types are the ones in
// this file. Every call that was announced by CallWaiting ends with exactly
// one CallAbandoned (it never reached an agent) or CallEnded (it did); a
// call's offers end with an OfferEnded, with its CallConnected (for the
// phones that lost) or with the call's end.
type Event interface{ event() }

// CallWaiting: a call joined a mapped queue (Asterisk QueueCallerJoin).
type CallWaiting struct {
	Call Call // State Waiting, no offers yet
}

// CallOffered: the call rings an agent's phone (Asterisk AgentCalled).
type CallOffered struct {
	ID     CallID
	Agent  string // "" when the member is not mapped
	Member string
}

// OfferReason says why an offer ended without the call being taken there.
type OfferReason string

// Why an offer ended.
const (
	OfferNoAnswer          OfferReason = "no_answer"          // rang out: the call is back in the queue with its place
	OfferAnsweredElsewhere OfferReason = "answered_elsewhere" // another phone took it (ringall)
	OfferDeclined          OfferReason = "declined"           // busy, unreachable, or the agent hung up on it
	OfferCancelled         OfferReason = "cancelled"          // the PBX stopped ringing (caller gone, queue left)
)

// OfferEnded: an offer stopped ringing without the call being taken by that
// phone.
type OfferEnded struct {
	ID     CallID
	Agent  string
	Member string
	Reason OfferReason
}

// CallConnected: an agent's phone took the call (Asterisk AgentConnect). It
// ends the call's other offers. A connected call connected again has moved
// to another agent.
type CallConnected struct {
	ID     CallID
	Agent  string // "" when the member is not mapped
	Member string
	Wait   time.Duration // time in the queue
	At     time.Time
}

// AbandonReason says how a call left the queue without reaching an agent.
type AbandonReason string

// How a call left unanswered.
const (
	AbandonHungUp    AbandonReason = "hung_up"    // the caller hung up while waiting
	AbandonLeftQueue AbandonReason = "left_queue" // the queue let it go unanswered: timeout, exit key, no agent left
	AbandonUnknown   AbandonReason = "unknown"    // it was gone after a reconnect (Inferred)
)

// CallAbandoned: the call left without reaching an agent. It is the call's
// last event.
type CallAbandoned struct {
	ID     CallID
	Wait   time.Duration
	Reason AbandonReason
	// Inferred: the end was not seen (the link was down); Wait is an estimate.
	Inferred bool
}

// EndedBy says who ended a connected call.
type EndedBy string

// Who ended a call.
const (
	EndedByCaller   EndedBy = "caller"
	EndedByAgent    EndedBy = "agent"
	EndedByTransfer EndedBy = "transfer" // the agent transferred it out of the queue's hands
	EndedByUnknown  EndedBy = "unknown"
)

// CallEnded: a call that reached an agent is over (the caller's hang-up, or
// its transfer). It is the call's last event.
type CallEnded struct {
	ID     CallID
	Agent  string
	Member string
	Wait   time.Duration // time in the queue before the agent took it
	Talk   time.Duration // time with the agent
	By     EndedBy
	// Inferred: the end was not seen (the link was down); Talk is an estimate.
	Inferred bool
}

// AgentStateChanged: an agent's telephony state changed (paused, available,
// in a call, phone state), or was learnt.
type AgentStateChanged struct {
	State AgentState
}

// Resync: the link (re)connected and this is what the PBX has now. The
// consumer repairs its view with Reconcile(view.Snapshot(), r.Snapshot)
// before the events that follow.
type Resync struct {
	Snapshot Snapshot
}

// LinkDown: the connection to the PBX was lost; the link reconnects by
// itself, and a Resync follows when it is back. Pause and Originate fail
// with ErrNotConnected meanwhile.
type LinkDown struct {
	Err string
}

// OriginateResult: the outcome of an Originate, once the agent's phone
// answered (OK, with the new call's id) or not.
type OriginateResult struct {
	Ref    string
	OK     bool
	Reason string // the PBX's reason when not OK
	CallID CallID // the originated channel, when OK
}

func (CallWaiting) event()       {}
func (CallOffered) event()       {}
func (OfferEnded) event()        {}
func (CallConnected) event()     {}
func (CallAbandoned) event()     {}
func (CallEnded) event()         {}
func (AgentStateChanged) event() {}
func (Resync) event()            {}
func (LinkDown) event()          {}
func (OriginateResult) event()   {}
