package queue

import (
	"fmt"

	"guichet/hub/api"
)

// Error is a refused operation. Code is stable: the HTTP and MQTT APIs pass
// it on to clients. Errors compare equal under errors.Is when codes match.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrUnknownService) true for any unknown_service error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Refusals. Every operation the engine refuses returns one of these; their
// codes are the wire contract's (hub/api).
var (
	ErrInvalid         = &Error{api.CodeInvalid, "invalid argument"}
	ErrUnknownService  = &Error{api.CodeUnknownService, "unknown service"}
	ErrUnknownCounter  = &Error{api.CodeUnknownCounter, "unknown counter"}
	ErrUnknownAgent    = &Error{api.CodeUnknownAgent, "unknown agent"}
	ErrUnknownTicket   = &Error{api.CodeUnknownTicket, "unknown ticket"}
	ErrChannelNotTaken = &Error{api.CodeChannelNotTaken, "service does not take this channel"}
	ErrServiceClosed   = &Error{api.CodeServiceClosed, "service closed"}
	ErrServiceFull     = &Error{api.CodeServiceFull, "service full until closing time"}
	ErrCounterClosed   = &Error{api.CodeCounterClosed, "counter closed"}
	ErrCounterBusy     = &Error{api.CodeCounterBusy, "counter busy"}
	ErrAgentBusy       = &Error{api.CodeAgentBusy, "agent busy"}
	ErrAgentPaused     = &Error{api.CodeAgentPaused, "agent paused"}
	ErrAgentNotPaused  = &Error{api.CodeAgentNotPaused, "agent not paused"}
	ErrAgentOffline    = &Error{api.CodeAgentOffline, "agent not signed in"}
	ErrLacksSkill      = &Error{api.CodeLacksSkill, "agent lacks the skill"}
	ErrNoTicket        = &Error{api.CodeNoTicket, "counter holds no ticket"}
	ErrNotWaiting      = &Error{api.CodeNotWaiting, "ticket not waiting"}
	ErrTransition      = &Error{api.CodeTransition, "invalid transition"}
	ErrQueueEmpty      = &Error{api.CodeQueueEmpty, "nobody waiting for this counter"}
	ErrLease           = &Error{api.CodeLease, "number outside the device's lease"}
	ErrNoAppointment   = &Error{api.CodeNoAppointment, "unknown appointment"}
	ErrCheckedIn       = &Error{api.CodeCheckedIn, "appointment already checked in"}
	ErrCheckinWindow   = &Error{api.CodeCheckinWindow, "too early or too late to check in"}
)

func refuse(base *Error, format string, args ...any) error {
	return &Error{Code: base.Code, Message: fmt.Sprintf(format, args...)}
}

// ErrForbidden refuses an actor acting outside its rights (a kiosk voiding
// another kiosk's ticket).
var ErrForbidden = &Error{api.CodeForbidden, "forbidden"}

// Refuse returns a refusal with base's code and its own message.
func Refuse(base *Error, format string, args ...any) error { return refuse(base, format, args...) }
