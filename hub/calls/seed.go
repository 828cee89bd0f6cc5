package calls

import (
	"context"
	"fmt"
	"slices"

	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/telephony"
)

// seed rebuilds, at start, what the bridge believes present at the PBX:
// the calls whose tickets are live in the queue, with what the calls store
// knows of them. The first resynchronisation then repairs it against what
// the PBX has. A record whose ticket never made it to the queue (the hub
// stopped between the two) is dropped: if the call is still there it is
// announced again; a record whose ticket ended meanwhile (by hand) is
// ended.
func (b *Bridge) seed(ctx context.Context) error {
	var live []queue.Ticket
	b.h.Read(func(e *queue.Engine) { live = e.LiveCalls() })
	open, err := b.o.Store.OpenCalls(ctx, system)
	if err != nil {
		return fmt.Errorf("calls: read the calls present when the hub stopped: %w", err)
	}
	recs := map[string]crm.CallRecord{}
	for _, r := range open {
		recs[r.Ticket] = r
	}
	for _, t := range live {
		c := telephony.Call{ID: telephony.CallID(t.Call), Service: t.Service, JoinedAt: t.IssuedAt, State: telephony.Waiting}
		if r, ok := recs[t.ID]; ok {
			c.Number, c.Queue, c.JoinedAt = r.Number, r.Queue, r.JoinedAt
			delete(recs, t.ID)
		} else {
			c.Queue = b.queueOf(t.Service)
			b.log.Warn("telephony: a live call has no record in the calls store", "call", t.Call, "ticket", t.ID)
		}
		b.view.Apply(telephony.CallWaiting{Call: c})
		if t.State == queue.Serving {
			member, _ := b.o.Mapping.Member(t.Agent)
			b.view.Apply(telephony.CallConnected{ID: c.ID, Agent: t.Agent, Member: member, At: t.StartedAt,
				Wait: max(t.StartedAt.Sub(c.JoinedAt), 0)})
		}
		b.tickets[c.ID] = t.ID
	}
	for _, r := range open {
		if _, left := recs[r.Ticket]; !left {
			continue
		}
		var t queue.Ticket
		var known bool
		b.h.Read(func(e *queue.Engine) { t, known = e.Ticket(r.Ticket) })
		if !known {
			if err := b.o.Store.DropCall(ctx, system, r.Ticket); err != nil {
				return fmt.Errorf("calls: drop the record of a call without ticket: %w", err)
			}
			continue
		}
		outcome := "answered"
		if t.State == queue.Cancelled {
			outcome = "abandoned"
		}
		b.endRecord(ctx, r.Ticket, t, crm.CallEnd{Outcome: outcome, Agent: t.Agent, Inferred: true})
	}
	b.setState(func(*State) {})
	return nil
}

// queueOf returns a PBX queue that feeds service (the first, sorted).
func (b *Bridge) queueOf(service string) string {
	var qs []string
	for q, s := range b.o.Mapping.Queues {
		if s == service {
			qs = append(qs, q)
		}
	}
	slices.Sort(qs)
	if len(qs) == 0 {
		return ""
	}
	return qs[0]
}
