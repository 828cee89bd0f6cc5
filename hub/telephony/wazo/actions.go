package wazo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	tel "guichet/hub/telephony"
)

// maxReason is agentd's limit on a pause reason (PauseSchema: 1 to 80).
const maxReason = 80

// Pause pauses the agent in all its queues through wazo-agentd: POST
// /api/agentd/1.0/agents/by-number/{number}/pause {"reason": …}, 204
// (agentd's agent/api.yml). The reason loses its control characters and
// is cut to 80 characters.
func (a *Adapter) Pause(ctx context.Context, agent, reason string) error {
	body := map[string]string{}
	if r := cleanReason(reason); r != "" {
		body["reason"] = r
	}
	return a.pause(ctx, agent, "pause", body)
}

// Unpause unpauses the agent in all its queues (…/unpause, 204).
func (a *Adapter) Unpause(ctx context.Context, agent string) error {
	return a.pause(ctx, agent, "unpause", nil)
}

func (a *Adapter) pause(ctx context.Context, agent, op string, body any) error {
	what := fmt.Sprintf("%s agent %q", op, agent)
	number, ok := a.cfg.Mapping.Member(agent)
	if !ok {
		return fmt.Errorf("%s: %w", what, tel.ErrUnknownAgent)
	}
	if !a.isUp() {
		return fmt.Errorf("%s: %w", what, tel.ErrNotConnected)
	}
	err := a.call(ctx, http.MethodPost, "/api/agentd/1.0/agents/by-number/"+number+"/"+op, body, nil)
	return a.actionError(what, err)
}

// actionError sorts a service's answer: 4xx is a refusal (agentd: 404 no
// such agent, 409 the agent is not logged in), the rest means Wazo cannot
// be reached now.
func (a *Adapter) actionError(what string, err error) error {
	var st *errStatus
	switch {
	case err == nil:
		return nil
	case errors.As(err, &st) && st.status/100 == 4:
		return fmt.Errorf("%s: %w: %w", what, tel.ErrRefused, err)
	case errors.Is(err, tel.ErrNotConnected), errors.As(err, &st):
		return fmt.Errorf("%s: %w: %w", what, tel.ErrNotConnected, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Originate asks wazo-calld to ring the agent's user and, once answered,
// call the number: POST /api/calld/1.0/calls {"source": {"user"},
// "destination": {"extension", "context", "priority": 1}, "variables"}
// answers 201 with the call (calld's calls/api.yml, CallRequest). Its
// outcome comes from the events of that call: call_answered (OK) or
// call_ended first (not OK, with its hangup cause).
func (a *Adapter) Originate(ctx context.Context, r tel.OriginateRequest) error {
	what := fmt.Sprintf("originate %q for agent %q", r.Ref, r.Agent)
	user := a.cfg.Users[r.Agent]
	if a.cfg.OriginateContext == "" || user == "" {
		return fmt.Errorf("%s: %w: no originate context or no Wazo user for the agent", what, tel.ErrNotConfigured)
	}
	if _, ok := a.cfg.Mapping.Member(r.Agent); !ok {
		return fmt.Errorf("%s: %w", what, tel.ErrUnknownAgent)
	}
	number, err := dialable(r.Number)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !a.isUp() {
		return fmt.Errorf("%s: %w", what, tel.ErrNotConnected)
	}
	req := map[string]any{
		"source":      map[string]any{"user": user},
		"destination": map[string]any{"extension": number, "context": a.cfg.OriginateContext, "priority": 1},
	}
	if ref := clean(r.Ref); ref != "" && len(ref) <= 128 {
		req["variables"] = map[string]string{"GUICHET_REF": ref}
	}
	var call struct {
		CallID string `json:"call_id"`
	}
	if err := a.call(ctx, http.MethodPost, "/api/calld/1.0/calls", req, &call); err != nil {
		return a.actionError(what, err)
	}
	if call.CallID == "" {
		return fmt.Errorf("%s: calld's answer holds no call_id", what)
	}
	now := a.cfg.Now()
	a.mu.Lock()
	for id, o := range a.originates {
		if now.Sub(o.at) > originateTTL {
			a.log.Warn("wazo: no outcome for an originate", "ref", o.ref)
			delete(a.originates, id)
		}
	}
	out, early := a.early[call.CallID] // its outcome came before calld's answer
	if early {
		delete(a.early, call.CallID)
	} else {
		a.originates[call.CallID] = origination{ref: r.Ref, at: now}
	}
	a.mu.Unlock()
	if early {
		select {
		case a.results <- result(r.Ref, call.CallID, out):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// callOutcome settles an originate with call_answered or call_ended of its
// call; an outcome of a call not known as ours is kept a minute, in case
// calld's answer to the Originate comes after it.
func (a *Adapter) callOutcome(e event, emit func(tel.Event)) {
	out := outcome{ok: e.name == "call_answered", at: a.cfg.Now()}
	if !out.ok {
		out.reason = hangupCause(e.cause)
	}
	a.mu.Lock()
	o, ours := a.originates[e.callID]
	if ours {
		delete(a.originates, e.callID)
	} else {
		for id, x := range a.early {
			if out.at.Sub(x.at) > earlyTTL || len(a.early) >= maxEarly {
				delete(a.early, id)
			}
		}
		if _, seen := a.early[e.callID]; !seen {
			a.early[e.callID] = out
		}
	}
	a.mu.Unlock()
	if ours {
		emit(result(o.ref, e.callID, out))
	}
}

func result(ref, callID string, o outcome) tel.OriginateResult {
	if o.ok {
		return tel.OriginateResult{Ref: ref, OK: true, CallID: tel.CallID(callID)}
	}
	return tel.OriginateResult{Ref: ref, Reason: o.reason}
}

// hangupCause names the Q.850 causes a click-to-call ends with.
func hangupCause(c int) string {
	switch c {
	case 17:
		return "busy"
	case 18, 19:
		return "no answer"
	case 21:
		return "rejected"
	case 16, 0:
		return "hung up"
	}
	return fmt.Sprintf("hangup cause %d", c)
}

func cleanReason(s string) string {
	s = strings.TrimSpace(clean(s))
	if r := []rune(s); len(r) > maxReason {
		s = string(r[:maxReason])
	}
	return s
}

// dialable returns a number Wazo may dial: digits, a leading +; spaces,
// dots, dashes and parentheses dropped; anything else refused (it becomes
// an extension in the dialplan).
func dialable(number string) (string, error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(number) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%w: it holds %q", tel.ErrBadNumber, r)
		}
	}
	if n := strings.TrimPrefix(b.String(), "+"); n == "" || len(n) > 20 {
		return "", fmt.Errorf("%w: %d digits", tel.ErrBadNumber, len(n))
	}
	return b.String(), nil
}
