package stats

import (
	"time"

	"guichet/hub/queue"
)

// ms is how the projection stores a time: milliseconds since the epoch, 0
// for none.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// values are the ticket's columns, in ticketCols' order.
func (t *Ticket) values() []any {
	return []any{t.Day, t.ID, t.Hour, t.Prefix, t.Number, t.ServiceIn, t.Service, string(t.Channel), string(t.Priority),
		t.Agent, t.Counter, t.device,
		ms(t.Issued), ms(t.Received), ms(t.FirstCalled), ms(t.Called), ms(t.Started), ms(t.Ended),
		string(t.Outcome), t.Transfers, t.Recalls, t.Offline}
}

// scanned holds the columns a Scan fills that fromScan converts.
type scanned struct {
	times                      [6]int64
	channel, priority, outcome string
}

// dests are where Scan puts the columns of ticketCols; fromScan finishes.
func (t *Ticket) dests() []any {
	if t.raw == nil {
		t.raw = &scanned{}
	}
	r := t.raw
	return []any{&t.Day, &t.ID, &t.Hour, &t.Prefix, &t.Number, &t.ServiceIn, &t.Service, &r.channel, &r.priority,
		&t.Agent, &t.Counter, &t.device,
		&r.times[0], &r.times[1], &r.times[2], &r.times[3], &r.times[4], &r.times[5],
		&r.outcome, &t.Transfers, &t.Recalls, &t.Offline}
}

func (t *Ticket) fromScan() {
	r := t.raw
	t.Channel, t.Priority, t.Outcome = queue.Channel(r.channel), queue.Priority(r.priority), Outcome(r.outcome)
	t.Issued, t.Received, t.FirstCalled = fromMS(r.times[0]), fromMS(r.times[1]), fromMS(r.times[2])
	t.Called, t.Started, t.Ended = fromMS(r.times[3]), fromMS(r.times[4]), fromMS(r.times[5])
	t.raw = nil
}
