package calls

import (
	"context"
	"errors"
	"slices"
	"time"

	"guichet/hub/queue"
	"guichet/hub/telephony"
)

// The blending rule (blending "policy"), as sync runs it:
//
//  1. An agent's line is their membership in the PBX's queues. It is
//     closed — paused at the PBX, with a reason the PBX records — unless
//     rule 2 opens it. The reason says why: "hors ligne" (signed out),
//     "pause : <their reason>", "accueil" (their counter holds a visitor or
//     a callback), "en communication" (they took a call), "en attente"
//     (available: the next call comes through their call next).
//  2. It is open while their counter holds a call offered to them: call
//     next picked a call for them by the policy, and it is not connected
//     yet. That agent alone is unpaused, so the PBX offers them its calls;
//     as soon as the call connects, rings out or is given up, rule 1
//     closes the line again. (The PBX may connect another call of the
//     agent's queues than the one picked: the queue follows the PBX.)
//  3. Against the PBX's latency, the order: the hub records the line open
//     (agent.line_opened) before it asks the PBX to unpause it, and records
//     it closed (agent.line_closed) only once the PBX said it paused it.
//     While the line is recorded open, call next gives the agent nothing
//     but a call: an agent is never called a visitor while the PBX may
//     still offer them a call. If the PBX cannot be reached the line stays
//     recorded open; the hub tries again every RetryAfter and at every
//     reconnection.
//  4. After every (re)connection every line is closed at the PBX again
//     (the PBX may have restarted, someone may have unpaused a member by
//     hand), and a member the PBX reports unpaused while rule 1 wants it
//     closed is paused again.
//  5. A member the PBX refuses to pause (not in any queue, not logged in)
//     counts as closed: it can be offered nothing.
//
// With blending "pbx" the hub neither pauses nor unpauses anyone: the PBX
// hands its calls out by its own strategy, call next never picks them,
// and the hub records who took each (a line left recorded open by an
// earlier policy is recorded closed).

// line is what the bridge knows of an agent's line at the PBX.
type line struct {
	paused   string // the reason of the pause the PBX confirmed, "" if none since the last reconnection
	unpaused bool   // the PBX confirmed the unpause asked for the call offered now
}

// want says what the rule wants of agent's line now: open, or closed for
// reason.
func want(e *queue.Engine, agent string) (open bool, reason string) {
	st, ok := e.AgentStatus(agent)
	switch {
	case !ok || st.State == queue.AgentOffline:
		return false, "hors ligne"
	case st.State == queue.AgentPaused:
		return false, "pause : " + st.PauseReason
	}
	if t, ok := e.InCall(agent); ok {
		if t.State == queue.Called && !t.ByPBX && t.Counter == st.Counter && t.Counter != "" {
			return true, ""
		}
		return false, "en communication"
	}
	if cs, ok := e.CounterState(st.Counter); ok && cs.Ticket != "" {
		return false, "accueil"
	}
	return false, "en attente"
}

// sync brings every mapped agent's line to what the rule wants, in the
// rule's order (rule 3). It runs on the owner goroutine after every event
// and every change of the queue.
func (b *Bridge) sync(ctx context.Context) {
	agents := make([]string, 0, len(b.lines))
	for a := range b.lines {
		agents = append(agents, a)
	}
	slices.Sort(agents)
	type plan struct {
		agent    string
		open     bool
		reason   string
		recorded bool // the engine records the line open
		call     string
	}
	var plans []plan
	b.h.Read(func(e *queue.Engine) {
		for _, a := range agents {
			p := plan{agent: a}
			p.open, p.reason = want(e, a)
			st, _ := e.AgentStatus(a)
			p.recorded = st.Line
			if t, ok := e.InCall(a); ok {
				p.call = t.Call
			}
			plans = append(plans, p)
		}
	})
	for _, p := range plans {
		l := b.lines[p.agent]
		switch {
		case b.o.Blending == PBX:
			if p.recorded {
				b.record(ctx, p.agent, false, "blending pbx")
			}
		case p.open:
			if !p.recorded && !b.record(ctx, p.agent, true, "") {
				continue
			}
			if l.unpaused || !b.up {
				continue
			}
			if err := b.act(ctx, func(ctx context.Context) error { return b.o.Link.Unpause(ctx, p.agent) }); err != nil {
				b.log.Warn("telephony: the agent's line could not be opened: the call goes back to the queue",
					"agent", p.agent, "call", p.call, "err", err)
				b.giveBack(ctx, p.call)
				continue
			}
			l.unpaused, l.paused = true, ""
		default:
			l.unpaused = false
			if l.paused == p.reason {
				if p.recorded {
					b.record(ctx, p.agent, false, p.reason)
				}
				continue
			}
			if !b.up {
				b.retryLater()
				continue
			}
			err := b.act(ctx, func(ctx context.Context) error { return b.o.Link.Pause(ctx, p.agent, p.reason) })
			switch {
			case err == nil:
			case errors.Is(err, telephony.ErrRefused): // rule 5
				b.log.Info("telephony: the PBX refuses to pause the agent's member: counted closed", "agent", p.agent, "err", err)
			default:
				b.log.Warn("telephony: the agent's line could not be closed; tried again later", "agent", p.agent, "err", err)
				b.retryLater()
				continue
			}
			l.paused = p.reason
			if p.recorded {
				b.record(ctx, p.agent, false, p.reason)
			}
		}
	}
}

// record writes the line's state in the queue; it reports success.
func (b *Bridge) record(ctx context.Context, agent string, open bool, reason string) bool {
	_, err := b.do(ctx, "line", func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		if open {
			return e.OpenLine(by, agent)
		}
		return e.CloseLine(by, agent, reason)
	})
	if err != nil {
		b.log.Error("telephony: record the agent's line", "agent", agent, "open", open, "err", err)
		return false
	}
	return true
}

// giveBack returns a call offered to an agent whose line could not be
// opened: the PBX cannot offer it to them.
func (b *Bridge) giveBack(ctx context.Context, call string) {
	if call == "" {
		return
	}
	if _, err := b.do(ctx, "call_return", func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		return e.ReturnCall(by, call)
	}); err != nil {
		b.log.Warn("telephony: return the call to the queue", "call", call, "err", err)
	}
}

// act runs an action at the PBX within the action timeout.
func (b *Bridge) act(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, b.o.ActionTimeout)
	defer cancel()
	return fn(ctx)
}

func (b *Bridge) retryLater() {
	if b.retryAt.IsZero() {
		b.retryAt = time.Now().Add(b.o.RetryAfter)
	}
}
