package queue

import "fmt"

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

// Refusals. Every operation the engine refuses returns one of these.
var (
	ErrInvalid         = &Error{"invalid_argument", "invalid argument"}
	ErrUnknownService  = &Error{"unknown_service", "unknown service"}
	ErrUnknownCounter  = &Error{"unknown_counter", "unknown counter"}
	ErrUnknownAgent    = &Error{"unknown_agent", "unknown agent"}
	ErrUnknownTicket   = &Error{"unknown_ticket", "unknown ticket"}
	ErrChannelNotTaken = &Error{"channel_not_taken", "service does not take this channel"}
	ErrServiceClosed   = &Error{"service_closed", "service closed"}
	ErrServiceFull     = &Error{"service_full", "service full until closing time"}
	ErrCounterClosed   = &Error{"counter_closed", "counter closed"}
	ErrCounterBusy     = &Error{"counter_busy", "counter busy"}
	ErrAgentBusy       = &Error{"agent_busy", "agent busy"}
	ErrAgentPaused     = &Error{"agent_paused", "agent paused"}
	ErrAgentNotPaused  = &Error{"agent_not_paused", "agent not paused"}
	ErrLacksSkill      = &Error{"agent_lacks_skill", "agent lacks the skill"}
	ErrNoTicket        = &Error{"no_current_ticket", "counter holds no ticket"}
	ErrNotWaiting      = &Error{"ticket_not_waiting", "ticket not waiting"}
	ErrTransition      = &Error{"invalid_transition", "invalid transition"}
	ErrQueueEmpty      = &Error{"queue_empty", "nobody waiting for this counter"}
	ErrLease           = &Error{"invalid_lease", "number outside the device's lease"}
	ErrNoAppointment   = &Error{"unknown_appointment", "unknown appointment"}
	ErrCheckedIn       = &Error{"already_checked_in", "appointment already checked in"}
	ErrCheckinWindow   = &Error{"checkin_window", "too early or too late to check in"}
)

func refuse(base *Error, format string, args ...any) error {
	return &Error{Code: base.Code, Message: fmt.Sprintf(format, args...)}
}
