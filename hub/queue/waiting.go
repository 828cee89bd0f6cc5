package queue

import "sort"

// The waiting tickets, in lanes: call next looks only at the head of each.

// laneKey groups waiting tickets that are served in issue order among
// themselves: same service, channel and priority class.
type laneKey struct {
	service string
	channel Channel
	class   Priority
}

// lane is a sorted list of waiting tickets: by issue time, or for
// appointments by slot time.
type lane struct {
	byAppointment bool
	tickets       []*Ticket
}

func (l *lane) less(a, b *Ticket) bool {
	if l.byAppointment && !a.AppointmentAt.Equal(b.AppointmentAt) {
		return a.AppointmentAt.Before(b.AppointmentAt)
	}
	return a.before(b)
}

func (l *lane) insert(t *Ticket) {
	i := sort.Search(len(l.tickets), func(i int) bool { return l.less(t, l.tickets[i]) })
	l.tickets = append(l.tickets, nil)
	copy(l.tickets[i+1:], l.tickets[i:])
	l.tickets[i] = t
}

func (l *lane) remove(t *Ticket) bool {
	i := sort.Search(len(l.tickets), func(i int) bool { return !l.less(l.tickets[i], t) })
	for ; i < len(l.tickets); i++ {
		if l.tickets[i] == t {
			l.tickets = append(l.tickets[:i], l.tickets[i+1:]...)
			return true
		}
	}
	return false
}

func (e *Engine) laneOf(t *Ticket) laneKey {
	class := t.Priority
	if !class.Valid() {
		class = PriorityNone
	}
	return laneKey{t.Service, t.Channel, class}
}

func (e *Engine) enlane(t *Ticket) {
	k := e.laneOf(t)
	l := e.lanes[k]
	if l == nil {
		l = &lane{byAppointment: k.class == PriorityAppointment}
		e.lanes[k] = l
	}
	l.insert(t)
}

func (e *Engine) unlane(t *Ticket) {
	if l := e.lanes[e.laneOf(t)]; l != nil {
		l.remove(t)
	}
}

// earliest is the lane's ticket issued first: its head, unless the lane is
// sorted by appointment slot.
func (l *lane) earliest() *Ticket {
	if l.byAppointment {
		return earliestIssued(l.tickets)
	}
	return l.tickets[0]
}
