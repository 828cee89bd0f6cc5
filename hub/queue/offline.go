package queue

import (
	"time"

	"guichet/hub/api"
)

// A ticket printed offline, and its place in the queue.
//
// A kiosk that cannot reach the hub prints a number from its lease and
// brings the ticket later, with the time it printed it (issued_at). Waiting
// tickets are served in issue order, so that time is a place in the queue,
// and the hub cannot check it. It takes the kiosk's word only as far as
// what it has seen itself allows:
//
//  1. issued_at is no later than the hub's clock plus MaxClockSkew and no
//     older than MaxOfflineAge. Its local day is the day of the number,
//     which must be leased to the kiosk for that day and not used yet.
//  2. The ticket takes its place at the latest of:
//     - issued_at;
//     - when the hub granted the lease the number comes from (the kiosk
//     could not print it before);
//     - when the hub issued the kiosk's last ticket online: a kiosk prints
//     one ticket at a time and prints offline only when the hub does not
//     answer, so what it printed offline it printed after the last ticket
//     the hub answered it. That ticket must still be in the queue or
//     served: a cancelled one (voided, or replaced by a ticket printed
//     offline, like this one's own request) proves nothing.
//     and never later than the hub's clock.
//  3. The ticket of the request it replaces (IssueRequest.Replaces), if the
//     hub issued it to this kiosk and it still waits or is called, is
//     cancelled: the citizen holds the printed one.
//
// So a kiosk that claims to have printed two hours ago, while the hub gave
// it tickets all along, is placed after its last online ticket, behind
// nobody who came before that one; and a kiosk cut off for twenty minutes
// brings tickets that keep their places among the people who came after
// them, since its last online ticket is older than the cut. What it cannot
// prevent: a kiosk that got no ticket online since its lease was granted
// can claim any time since then, on the day of the number.
//
// The event keeps both times: IssuedAt is the place decided, PrintedAt what
// the kiosk said.

// keepRecent is how many of a device's last online tickets the engine
// remembers for rule 2.
const keepRecent = 8

func (e *Engine) issueOffline(by By, r IssueRequest, ev Event) ([]Event, error) {
	a := &r.Args
	n := a.OfflineNumber
	switch {
	case n < 1 || n > api.MaxNumber:
		return nil, refuse(ErrInvalid, "offline_number must be 1 to %d", api.MaxNumber)
	case a.IssuedAt == nil || a.IssuedAt.IsZero():
		return nil, refuse(ErrInvalid, "a ticket printed offline needs its print time, issued_at")
	case a.IssuedAt.After(by.At.Add(MaxClockSkew)):
		return nil, refuse(ErrInvalid, "issued_at is in the future: the kiosk's clock is more than %s ahead of the hub's", human(MaxClockSkew))
	case a.IssuedAt.Before(by.At.Add(-MaxOfflineAge)):
		return nil, refuse(ErrInvalid, "issued_at is more than %s ago", human(MaxOfflineAge))
	}
	printed := *a.IssuedAt
	day := e.Day(printed)
	l := e.leaseOf(r.Device, ev.Service, day, n)
	if l == nil {
		return nil, refuse(ErrLease, "number %d of %s on %s is not leased to %q", n, ev.Service, day, r.Device)
	}
	if l.Used[n] {
		return nil, refuse(ErrLease, "number %s was already issued", api.FormatNumber(ev.Service, n))
	}
	ev.Number, ev.Day, ev.PrintedAt = n, day, printed
	ev.IssuedAt = latest(printed, l.GrantedAt, e.lastOnline(r.Device, r.Replaces))
	if ev.IssuedAt.After(by.At) {
		ev.IssuedAt = by.At
	}
	evs := []Event{ev}
	if t := e.tickets[r.Replaces]; t != nil && t.Device == r.Device && (t.State == Waiting || t.State == Called) {
		evs = append(evs, Event{At: by.At, Type: TicketCancelled, Ticket: t.ID, Actor: by.Actor, Counter: t.Counter,
			Reason: "replaced by the ticket printed offline"})
	}
	return e.commit(evs...), nil
}

// lastOnline is when the hub issued device's last ticket online that is
// not cancelled, other than except; zero if none.
func (e *Engine) lastOnline(device, except string) time.Time {
	var last time.Time
	for _, t := range e.recent[device] {
		if t.ID != except && t.State != Cancelled && t.IssuedAt.After(last) {
			last = t.IssuedAt
		}
	}
	return last
}

func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// remember keeps t among its device's last online tickets.
func (e *Engine) remember(t *Ticket) {
	if t.Device == "" || t.Offline {
		return
	}
	r := e.recent[t.Device]
	if len(r) < keepRecent {
		e.recent[t.Device] = append(r, t)
		return
	}
	copy(r, r[1:])
	r[len(r)-1] = t
}
