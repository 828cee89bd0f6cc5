package webhook

import (
	"context"
	"errors"
	"fmt"

	tel "guichet/hub/telephony"
)

// Pause posts agent.pause to the provider's action URL: pause the agent in
// every queue, with a reason (control characters removed, 80 characters
// at most).
func (a *Adapter) Pause(ctx context.Context, agent, reason string) error {
	return a.pause(ctx, TypeAgentPause, agent, cleanText(reason, maxReason))
}

// Unpause posts agent.unpause.
func (a *Adapter) Unpause(ctx context.Context, agent string) error {
	return a.pause(ctx, TypeAgentUnpause, agent, "")
}

func (a *Adapter) pause(ctx context.Context, typ, agent, reason string) error {
	what := fmt.Sprintf("%s agent %q", typ, agent)
	member, ok := a.cfg.Mapping.Member(agent)
	if !ok {
		return fmt.Errorf("%s: %w", what, tel.ErrUnknownAgent)
	}
	if a.out == nil {
		return fmt.Errorf("%s: %w: no action URL", what, tel.ErrNotConfigured)
	}
	return a.post(ctx, what, typ, Pause{Agent: member, Reason: reason})
}

// Originate posts call.originate; the provider answers later with a
// call.originate_result carrying the same ref.
func (a *Adapter) Originate(ctx context.Context, r tel.OriginateRequest) error {
	what := fmt.Sprintf("originate %q for agent %q", r.Ref, r.Agent)
	if err := checkID("ref", r.Ref); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	member, ok := a.cfg.Mapping.Member(r.Agent)
	if !ok {
		return fmt.Errorf("%s: %w", what, tel.ErrUnknownAgent)
	}
	number, err := dialable(r.Number)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if a.out == nil {
		return fmt.Errorf("%s: %w: no action URL", what, tel.ErrNotConfigured)
	}
	return a.post(ctx, what, TypeCallOriginate, Originate{Ref: r.Ref, Agent: member, Number: number})
}

// post sends an action: a 4xx is the provider's refusal, anything else
// that fails means it cannot be reached now.
func (a *Adapter) post(ctx context.Context, what, typ string, data any) error {
	err := a.out.Send(ctx, typ, a.cfg.Now(), data)
	var st *StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &st) && st.Status/100 == 4:
		return fmt.Errorf("%s: %w: %w", what, tel.ErrRefused, err)
	default:
		a.log.Warn("webhook: the provider's action URL cannot be reached", "type", typ, "err", err)
		return fmt.Errorf("%s: %w: %w", what, tel.ErrNotConnected, err)
	}
}
