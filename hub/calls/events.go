package calls

import (
	"context"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/telephony"
)

// handle applies one of the link's events to the queue and the calls
// store, then to the bridge's view of the PBX. A refusal or a failure is
// logged and leaves the queue as it was: the next resynchronisation
// repairs what was missed.
func (b *Bridge) handle(ctx context.Context, ev telephony.Event) {
	switch e := ev.(type) {
	case telephony.Resync:
		b.up = true
		for _, l := range b.lines {
			l.paused = "" // what the PBX had may have changed: every line is closed again
		}
		for _, f := range telephony.Reconcile(b.view.Snapshot(), e.Snapshot, b.h.Now()) {
			b.handle(ctx, f)
		}
		b.setState(func(s *State) { s.Connected, s.Since, s.Error = true, b.h.Now(), ""; s.Resyncs++ })
		b.log.Info("telephony: connected and resynchronised", "calls", len(e.Snapshot.Calls), "agents", len(e.Snapshot.Agents))
		return
	case telephony.LinkDown:
		b.up = false
		b.setState(func(s *State) { s.Connected, s.Since, s.Error = false, b.h.Now(), e.Err })
		b.log.Warn("telephony: link down", "err", e.Err)
	case telephony.CallWaiting:
		b.waiting(ctx, e.Call)
	case telephony.CallOffered:
	case telephony.OfferEnded:
		b.offerEnded(ctx, e)
	case telephony.CallConnected:
		b.connected(ctx, e)
	case telephony.CallAbandoned:
		b.abandoned(ctx, e)
	case telephony.CallEnded:
		b.ended(ctx, e)
	case telephony.AgentStateChanged:
		if l := b.lines[e.State.Agent]; l != nil && !e.State.Paused && e.State.LoggedIn {
			l.paused = "" // unpaused at the PBX: closed again unless the rule wants it open
		}
	case telephony.OriginateResult:
		b.mu.Lock()
		b.originated[e.Ref] = e
		b.mu.Unlock()
		b.log.Info("telephony: click-to-call", "ref", e.Ref, "ok", e.OK, "reason", e.Reason, "call", e.CallID)
	}
	b.view.Apply(ev)
	b.setState(func(*State) {})
}

// waiting gives a call that joined a mapped queue its phone ticket: the
// number goes to the calls store first, then the ticket is issued, so that
// a ticket never lacks its record. A call with a live ticket already (a
// join said again) changes nothing.
func (b *Bridge) waiting(ctx context.Context, c telephony.Call) {
	if c.Service == "" {
		return
	}
	if t, ok := b.liveCall(c.ID); ok {
		b.tickets[c.ID] = t.ID
		return
	}
	id := hub.NewTicketID()
	joined := c.JoinedAt
	if joined.IsZero() {
		joined = b.h.Now()
	}
	rec := crm.CallRecord{Ticket: id, CallID: string(c.ID), Number: c.Number, Queue: c.Queue, Service: c.Service, JoinedAt: joined}
	if err := b.o.Store.OpenCall(ctx, system, rec); err != nil {
		b.log.Error("telephony: the call could not be recorded; it gets no ticket until the next resynchronisation", "call", c.ID, "err", err)
		return
	}
	_, err := b.do(ctx, "call_join", func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		return e.JoinCall(by, queue.CallJoin{ID: id, Call: string(c.ID), Service: c.Service, JoinedAt: joined, ByPBX: b.o.Blending == PBX})
	})
	if err != nil {
		b.log.Error("telephony: no ticket for the call", "call", c.ID, "service", c.Service, "err", err)
		if derr := b.o.Store.DropCall(ctx, system, id); derr != nil {
			b.log.Warn("telephony: drop the record of a call without ticket", "call", c.ID, "err", derr)
		}
		return
	}
	if t, ok := b.liveCall(c.ID); ok {
		b.tickets[c.ID] = t.ID
		b.log.Debug("telephony: call waiting", "call", c.ID, "ticket", t.ID, "number", t.Display())
	}
}

// offerEnded: a call ringing the agent for whom call next picked it and
// not answered goes back to the queue at its place.
func (b *Bridge) offerEnded(ctx context.Context, e telephony.OfferEnded) {
	if e.Reason != telephony.OfferNoAnswer && e.Reason != telephony.OfferDeclined {
		return
	}
	t, ok := b.liveCall(e.ID)
	if !ok || t.State != queue.Called || e.Agent == "" || t.Agent != e.Agent {
		return
	}
	if _, err := b.do(ctx, "call_return", func(en *queue.Engine, by queue.By) ([]queue.Event, error) {
		return en.ReturnCall(by, string(e.ID))
	}); err != nil {
		b.log.Warn("telephony: return an unanswered call to the queue", "call", e.ID, "err", err)
		return
	}
	b.log.Info("telephony: call not answered, back in the queue at its place", "call", e.ID, "agent", e.Agent, "why", e.Reason)
}

// connected starts the call's ticket at the counter of the agent who took
// it; when the hub cannot seat it there (the agent is not signed in, holds
// a visitor, sits at a counter without calls, or is no mapped agent), the
// call is taken outside any counter: the caller is talking, their ticket
// must not wait for another agent.
func (b *Bridge) connected(ctx context.Context, e telephony.CallConnected) {
	t, ok := b.liveCall(e.ID)
	if !ok {
		b.log.Warn("telephony: a call connected without a live ticket", "call", e.ID, "agent", e.Agent)
		return
	}
	_, err := b.do(ctx, "call_connect", func(en *queue.Engine, by queue.By) ([]queue.Event, error) {
		return en.ConnectCall(by, string(e.ID), e.Agent)
	})
	if err != nil {
		b.log.Warn("telephony: the call cannot be seated at its agent's counter: taken outside any counter",
			"call", e.ID, "agent", e.Agent, "member", e.Member, "why", err)
		if _, err := b.do(ctx, "call_outside", func(en *queue.Engine, by queue.By) ([]queue.Event, error) {
			return en.TakeCallOutside(by, string(e.ID), e.Agent)
		}); err != nil {
			b.log.Error("telephony: take a call outside any counter", "call", e.ID, "err", err)
			return
		}
	}
	at := e.At
	if at.IsZero() {
		at = b.h.Now()
	}
	if err := b.o.Store.ConnectCall(ctx, system, t.ID, e.Agent, at); err != nil {
		b.log.Warn("telephony: record who took the call", "call", e.ID, "err", err)
	}
}

// abandoned cancels the ticket of a call that left unanswered, with its
// callback ticket when the caller waited past the site's threshold and
// left a number, and ends its record.
func (b *Bridge) abandoned(ctx context.Context, e telephony.CallAbandoned) {
	id := b.tickets[e.ID]
	delete(b.tickets, e.ID)
	t, live := b.liveCall(e.ID)
	if live {
		id = t.ID
	}
	if id == "" {
		return
	}
	rec, err := b.o.Store.CallRecord(ctx, system, id)
	if err != nil {
		b.log.Warn("telephony: the abandoned call has no record", "call", e.ID, "ticket", id, "err", err)
	}
	callback := ""
	if b.o.CallbackAfter > 0 && e.Wait >= b.o.CallbackAfter && rec.Number != "" {
		callback = hub.NewTicketID()
	}
	if live {
		_, err := b.do(ctx, "call_abandon", func(en *queue.Engine, by queue.By) ([]queue.Event, error) {
			return en.AbandonCall(by, queue.CallAbandon{Call: string(e.ID), Reason: string(e.Reason), Callback: callback})
		})
		switch {
		case refusal(err, api.CodeTransition): // connected after all: it ended
			b.ended(ctx, telephony.CallEnded{ID: e.ID, Wait: e.Wait, By: telephony.EndedByUnknown, Inferred: true})
			return
		case err != nil:
			b.log.Error("telephony: cancel an abandoned call", "call", e.ID, "err", err)
			return
		}
	} else {
		callback = "" // its ticket ended otherwise (by hand): no callback
	}
	b.endRecord(ctx, id, t, crm.CallEnd{Outcome: "abandoned", Wait: e.Wait, Inferred: e.Inferred, Callback: callback})
	if callback != "" {
		b.log.Info("telephony: call abandoned, to call back", "call", e.ID, "wait", e.Wait.Round(time.Second), "callback", callback)
	}
}

// ended serves the ticket of a call that reached an agent and ends its
// record, filed in the citizen's timeline.
func (b *Bridge) ended(ctx context.Context, e telephony.CallEnded) {
	id := b.tickets[e.ID]
	delete(b.tickets, e.ID)
	t, live := b.liveCall(e.ID)
	if live {
		id = t.ID
		agent := e.Agent
		if agent == "" {
			agent = t.Agent
		}
		if _, err := b.do(ctx, "call_end", func(en *queue.Engine, by queue.By) ([]queue.Event, error) {
			return en.EndCall(by, string(e.ID), agent, string(e.By))
		}); err != nil {
			b.log.Error("telephony: end a call's ticket", "call", e.ID, "err", err)
		}
	}
	if id == "" {
		return
	}
	outcome := "answered"
	if e.By == telephony.EndedByTransfer {
		outcome = "transferred"
	}
	b.endRecord(ctx, id, t, crm.CallEnd{Outcome: outcome, Agent: e.Agent, Wait: e.Wait, Talk: e.Talk, Inferred: e.Inferred})
}

// endRecord ends a call's record, once, filed in the file its ticket was
// attached to or the one its number is.
func (b *Bridge) endRecord(ctx context.Context, ticket string, t queue.Ticket, end crm.CallEnd) {
	if t.ID == "" {
		b.h.Read(func(e *queue.Engine) { t, _ = e.Ticket(ticket) })
	}
	end.At, end.Citizen, end.Display = b.h.Now(), t.Citizen, t.Display()
	if t.ID == "" {
		end.Display = ""
	}
	end.Sector = b.o.Sectors[t.Service]
	if _, _, err := b.o.Store.EndCall(ctx, system, ticket, end); err != nil {
		b.log.Error("telephony: end the call's record", "ticket", ticket, "err", err)
	}
}
