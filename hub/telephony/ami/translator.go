package ami

import (
	"log/slog"
	"time"

	tel "guichet/hub/telephony"
)

// Translator turns Asterisk's queue events into telephony events, whatever
// carried them: the Adapter's own AMI connection, or another system that
// relays Asterisk's events (Wazo's event bus relays every AMI event as a
// JSON object of the same headers). It is the Adapter's translation, with
// its rules (see tracker): each call moves only forward, so events that a
// Reset's lists already reflected change nothing.
//
// It is pure (no I/O; the clock is given) and must be used from one
// goroutine.
type Translator struct {
	t *tracker
}

// NewTranslator returns a translator for this mapping; Members are queue
// member interfaces as Asterisk names them. log may be nil.
func NewTranslator(m tel.Mapping, now func() time.Time, log *slog.Logger) *Translator {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Translator{t: newTracker(m, now, log)}
}

// Reset replaces what the translator knows with Asterisk's lists after a
// (re)connection: QueueStatus's items (QueueMember, QueueEntry) and
// CoreShowChannels's (CoreShowChannel).
func (x *Translator) Reset(status, channels []Packet) { x.t.reset(status, channels) }

// Snapshot returns the calls present and the mapped agents' states.
func (x *Translator) Snapshot() tel.Snapshot { return x.t.snapshot() }

// Handle translates one event; events of no concern to the hub are ignored.
func (x *Translator) Handle(p Packet, emit func(tel.Event)) { x.t.handle(p, emit) }
