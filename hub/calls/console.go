package calls

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/telephony"
)

// The functions the agent console and supervision call. Each takes the
// caller's identity as the citizen file knows it (a crm.Viewer the API
// layer builds from the signed-in account): reading a caller's number is
// an access to personal data, audited.

// Caller is who a phone ticket's caller is, for the screen pop.
type Caller struct {
	Ticket string `json:"ticket"`
	// Number as the telephone system sent it, and normalised; empty when
	// withheld.
	Number string `json:"number,omitempty"`
	E164   string `json:"e164,omitempty"`
	// Citizens are the files whose phone numbers include it, best first:
	// one opens by itself; none is "numéro inconnu" (create one,
	// prefilled); several, the agent chooses.
	Citizens []crm.Match `json:"citizens"`
	// Attached is the file the ticket is attached to, if any.
	Attached string `json:"attached,omitempty"`
}

// ErrNotACall is returned for a ticket that is neither a call nor a
// callback.
var ErrNotACall = errors.New("the ticket is not a phone call of the telephony link")

// Caller returns the caller of a phone ticket (a call, or a callback: the
// abandoned call's caller) and the files their number belongs to, however
// the number was written at the PBX or in the file: the screen pop.
func (b *Bridge) Caller(ctx context.Context, v crm.Viewer, ticket string) (Caller, error) {
	var t queue.Ticket
	var ok bool
	b.h.Read(func(e *queue.Engine) { t, ok = e.Ticket(ticket) })
	if !ok {
		return Caller{}, crm.ErrNotFound
	}
	rec := t.ID
	switch {
	case t.Callback != "":
		rec = t.Callback
	case t.Call == "":
		return Caller{}, ErrNotACall
	}
	r, err := b.o.Store.CallRecord(ctx, v, rec)
	if err != nil {
		return Caller{}, fmt.Errorf("caller of %s: %w", ticket, err)
	}
	c := Caller{Ticket: t.ID, Number: r.Number, E164: r.E164, Attached: t.Citizen, Citizens: []crm.Match{}}
	if r.E164 != "" {
		if c.Citizens, err = b.o.Store.Search(ctx, v, r.E164, 10); err != nil {
			return Caller{}, fmt.Errorf("caller of %s: %w", ticket, err)
		}
	}
	return c, nil
}

var originates atomic.Uint64

// CallBack rings the phone of the agent at counter and, once they answer,
// calls the number of the callback ticket the counter holds
// (click-to-call). It returns the request's reference; CallBackResult
// tells its outcome when the telephone system gives it.
func (b *Bridge) CallBack(ctx context.Context, v crm.Viewer, counter string) (string, error) {
	var t queue.Ticket
	var agent string
	b.h.Read(func(e *queue.Engine) {
		cs, _ := e.CounterState(counter)
		agent = cs.Agent
		t, _ = e.Ticket(cs.Ticket)
	})
	if t.ID == "" || t.Callback == "" || (t.State != queue.Called && t.State != queue.Serving) {
		return "", fmt.Errorf("counter %s holds no callback ticket: %w", counter, ErrNotACall)
	}
	r, err := b.o.Store.CallRecord(ctx, v, t.Callback)
	if err != nil {
		return "", fmt.Errorf("callback %s: %w", t.ID, err)
	}
	if r.Number == "" {
		return "", fmt.Errorf("callback %s: %w: the caller's number was withheld", t.ID, telephony.ErrBadNumber)
	}
	ref := "cb-" + t.ID + "-" + strconv.FormatUint(originates.Add(1), 10)
	if err := b.act(ctx, func(ctx context.Context) error {
		return b.o.Link.Originate(ctx, telephony.OriginateRequest{Ref: ref, Agent: agent, Number: r.Number})
	}); err != nil {
		return "", fmt.Errorf("callback %s: %w", t.ID, err)
	}
	b.log.Info("telephony: click-to-call asked", "ref", ref, "agent", agent, "ticket", t.ID)
	return ref, nil
}

// CallBackResult returns the outcome of a click-to-call, once the
// telephony gave it.
func (b *Bridge) CallBackResult(ref string) (telephony.OriginateResult, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.originated[ref]
	return r, ok
}

// EndByHand ends a call's ticket the telephone system will not end: the
// link is gone for good, the call's end was lost. For a supervisor; the
// record is ended as inferred.
func (b *Bridge) EndByHand(ctx context.Context, ticket string) error {
	return b.owned(ctx, func(ctx context.Context) error {
		var t queue.Ticket
		b.h.Read(func(e *queue.Engine) { t, _ = e.Ticket(ticket) })
		if t.Call == "" || t.State.Terminal() {
			return fmt.Errorf("ticket %s: %w", ticket, ErrNotACall)
		}
		id := telephony.CallID(t.Call)
		if t.State == queue.Serving {
			b.ended(ctx, telephony.CallEnded{ID: id, Agent: t.Agent, Talk: b.h.Now().Sub(t.StartedAt), By: telephony.EndedByUnknown, Inferred: true})
		} else {
			b.abandoned(ctx, telephony.CallAbandoned{ID: id, Wait: b.h.Now().Sub(t.IssuedAt), Reason: "by_hand", Inferred: true})
		}
		b.view.Apply(telephony.CallEnded{ID: id})
		return nil
	})
}

// Present is a call present at the PBX as supervision shows it: no number.
type Present struct {
	Call    string        `json:"call"`
	Ticket  string        `json:"ticket"`
	Queue   string        `json:"queue"`
	Service string        `json:"service"`
	State   string        `json:"state"` // waiting, connected
	Agent   string        `json:"agent,omitempty"`
	Offered []string      `json:"offered,omitempty"` // agents whose phone rings for it
	Wait    time.Duration `json:"wait"`
}

// Calls returns the calls present at the PBX as the hub believes, oldest
// first.
func (b *Bridge) Calls(ctx context.Context) ([]Present, error) {
	var out []Present
	err := b.owned(ctx, func(context.Context) error {
		now := b.h.Now()
		for _, c := range b.view.Snapshot().Calls {
			p := Present{Call: string(c.ID), Ticket: b.tickets[c.ID], Queue: c.Queue, Service: c.Service, State: string(c.State), Agent: c.Agent}
			for _, o := range c.Offers {
				p.Offered = append(p.Offered, o.Agent)
			}
			end := now
			if c.State == telephony.Connected {
				end = c.ConnectedAt
			}
			p.Wait = max(end.Sub(c.JoinedAt), 0)
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
