package forecast

import (
	"time"

	"guichet/hub/queue"
)

// Page reads up to limit events of the log after sequence after (the
// store's EventsBetween for a range of dates).
type Page func(after int64, limit int) ([]queue.Event, error)

// FromLog reads the arrivals (a ticket issued: when the citizen came, its
// place in the queue for a ticket printed offline) and the waits (to the
// first call; given up when cancelled before it or not there when called)
// of a log, read page by page.
func FromLog(read Page) ([]Arrival, []Wait, error) {
	const limit = 5000
	var arrivals []Arrival
	var waits []Wait
	type open struct {
		service    string
		at, called time.Time
	}
	tickets := map[string]*open{}
	var after int64
	for {
		evs, err := read(after, limit)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range evs {
			switch t := tickets[e.Ticket]; {
			case e.Type == queue.TicketIssued && e.Service != "":
				at := e.At
				if !e.IssuedAt.IsZero() {
					at = e.IssuedAt // printed offline: when the citizen came
				}
				arrivals = append(arrivals, Arrival{Service: e.Service, At: at})
				tickets[e.Ticket] = &open{service: e.Service, at: at}
			case t == nil:
			case e.Type == queue.TicketCalled && t.called.IsZero():
				t.called = e.At
			case e.Type == queue.TicketCancelled && t.called.IsZero():
				waits = append(waits, Wait{Service: t.service, Waited: e.At.Sub(t.at), GaveUp: true})
				delete(tickets, e.Ticket)
			case e.Type == queue.TicketNoShow:
				waits = append(waits, Wait{Service: t.service, Waited: t.called.Sub(t.at), GaveUp: true})
				delete(tickets, e.Ticket)
			case e.Type == queue.TicketServed || e.Type == queue.TicketTransferred:
				if !t.called.IsZero() {
					waits = append(waits, Wait{Service: t.service, Waited: t.called.Sub(t.at)})
				}
				delete(tickets, e.Ticket)
			}
			after = e.Seq
		}
		if len(evs) < limit {
			return arrivals, waits, nil
		}
	}
}
