// Package cloud delivers the hub's event log outward: to the MQTT bus's
// events/… topics, to webhooks, to a central broker, to SuiteCRM and to
// Lutece GRU. Each destination follows the log from its own durable cursor
// (the store's cursors table), so that one that is down for a day receives
// everything when it comes back: in order, at least once, each event with a
// stable id ("{site}-{sequence}") to de-duplicate by.
//
// The domain is here — the CloudEvents mapping (mapping.go), the follower
// that owns a destination's cursor, its retries and its dead letters
// (follower.go), the Outbox that runs them (outbox.go) — and the
// connectors sit beside it, each in its own package (webhook/, bridge/,
// suitecrm/, lutece/), implementing Destination.
//
// What it must not do: write the log, call the queue engine, or let
// personal data out where a destination's purpose does not need it
// (Purpose): the identity layer's account.* events never leave; a ticket's
// QR token, an appointment's code never; the free-text citizen field only
// to destinations configured for the CRM.
package cloud

import (
	"context"
	"errors"
	"fmt"

	"guichet/hub/api"
)

// Event is one logged event as a destination receives it.
type Event struct {
	Seq  int64
	ID   string        // "{site}-{seq}": the same at every delivery
	Type string        // "ticket.served"
	Data api.EventData // mapped for the destination's purpose
	JSON []byte        // the CloudEvent, encoded
}

// Destination delivers events. Send delivers all of evs, in order, or
// fails; after a failure the same events are sent again (the follower's
// at least once). An error made with Rejected or Gone says that sending
// again will not help; any other error is tried again, later.
//
// Send may be called from two goroutines at once (the follower, and an
// admin's replay of dead letters).
type Destination interface {
	Send(ctx context.Context, evs []Event) error
}

// Syncer is a Destination that can make what it sent durable (the embedded
// broker's persistent sessions): the follower calls Sync before it moves
// its cursor, so that a crash sends again rather than loses.
type Syncer interface {
	Sync() error
}

// failure is an error that retrying will not cure.
type failure struct {
	gone   bool
	reason string
}

func (f *failure) Error() string { return f.reason }

// Rejected returns the error of a destination that refused these events
// for good (HTTP 4xx, a JSON:API 422): they go to the dead letters with
// reason, and the follower goes on. reason must hold no secret.
func Rejected(format string, args ...any) error {
	return &failure{reason: fmt.Sprintf(format, args...)}
}

// Gone returns the error of a destination that says it no longer exists
// (HTTP 410): the events go to the dead letters and the destination stops
// until an admin resumes it.
func Gone(format string, args ...any) error {
	return &failure{gone: true, reason: fmt.Sprintf(format, args...)}
}

// Said adds to err what the destination answered, in its own words (an
// excerpt of its body). Those words may echo the personal data the events
// carried (a CRM's "contact DUPONT Marie already exists"): the follower keeps
// them with the dead letters, which an admin reads beside the events
// themselves, and never writes them in its log nor in the destination's
// state that supervision shows. err's own text must hold neither.
func Said(err error, words string) error {
	if err == nil || words == "" {
		return err
	}
	return &said{err: err, words: words}
}

type said struct {
	err   error
	words string
}

func (s *said) Error() string { return s.err.Error() }
func (s *said) Unwrap() error { return s.err }

// Words returns what the destination said with err (see Said), or "".
func Words(err error) string {
	var s *said
	if errors.As(err, &s) {
		return s.words
	}
	return ""
}

// classify says what an error of Send means.
func classify(err error) (rejected, gone bool) {
	var f *failure
	if errors.As(err, &f) {
		return !f.gone, f.gone
	}
	return false, false
}

// Purpose is what a destination is for, which decides the personal data
// its events may carry.
type Purpose int

// The purposes.
const (
	// Public destinations (the bus, a webhook, a central broker, an
	// export) get no personal data.
	Public Purpose = iota
	// CRM destinations (the town's CRM or GRU, configured as such) also get
	// the free-text citizen field. Never a QR token or an appointment code.
	CRM
)
