package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"guichet/hub/api"
	tel "guichet/hub/telephony"
	"guichet/internal/stdwebhook"
)

// ServeHTTP takes one signed message. The answers:
//
//	200 {"ok":true,"result":"applied"}            applied (or "ignored", with why)
//	400 bad_request / stale_timestamp            not JSON, unknown type, timestamp off by more than 5 min
//	401 unauthorized                             signature missing or wrong
//	405, 413 too_large, 415                      not a POST, body over the limit, not JSON
//	409 replayed / invalid_transition            this webhook-id was applied already; or the message
//	                                             contradicts the call's state (abandoned after connected)
//	422 invalid_argument                         a field the hub cannot take (id, number, reason…)
//	503 unavailable                              the hub is not taking events now: send again, same id
//
// Every refusal is logged (the webhook-id, the type, the call id; never a
// number or a name) and changes nothing; a refused message may be sent
// again with the same id.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		a.refuse(w, r, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "", "", errors.New("POST only"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			a.refuse(w, r, http.StatusUnsupportedMediaType, api.CodeUnsupportedMedia, "", "", fmt.Errorf("content type %q: send application/json", ct))
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.refuse(w, r, http.StatusRequestEntityTooLarge, api.CodeTooLarge, "", "", fmt.Errorf("body over %d bytes", a.cfg.MaxBody))
			return
		}
		a.refuse(w, r, http.StatusBadRequest, api.CodeBadRequest, "", "", fmt.Errorf("read body: %w", err))
		return
	}
	msg, err := a.verify.Verify(r.Header, body)
	if err != nil {
		status, code := http.StatusUnauthorized, api.CodeUnauthorized
		switch {
		case errors.Is(err, stdwebhook.ErrTimestamp):
			status, code = http.StatusBadRequest, api.CodeStale
		case errors.Is(err, stdwebhook.ErrBadTimestamp), errors.Is(err, stdwebhook.ErrBadID):
			status, code = http.StatusBadRequest, api.CodeBadRequest
		}
		a.refuse(w, r, status, code, safeID(r.Header.Get(stdwebhook.HeaderID)), "", err)
		return
	}
	now := a.cfg.Now()
	if err := a.replay.Take(msg.ID, now); err != nil {
		a.refuse(w, r, http.StatusConflict, api.CodeReplayed, msg.ID, "", fmt.Errorf("%w; it was applied once and is not applied again", err))
		return
	}
	typ, ch, err := a.take(body, now, a.cfg.Clock())
	if err != nil {
		a.replay.Forget(msg.ID)
		status, code := http.StatusBadRequest, api.CodeBadRequest
		switch {
		case errors.Is(err, errInvalid):
			status, code = http.StatusUnprocessableEntity, api.CodeInvalid
		case errors.Is(err, errState):
			status, code = http.StatusConflict, api.CodeTransition
		case errors.Is(err, errNotListening), errors.Is(err, errBacklog):
			status, code = http.StatusServiceUnavailable, api.CodeUnavailable
			w.Header().Set("Retry-After", "5")
		}
		a.refuse(w, r, status, code, msg.ID, typ, err)
		return
	}
	result := "applied"
	if ch.ignored != "" {
		result = "ignored"
		a.log.Info("webhook: message changes nothing", "id", msg.ID, "type", typ, "why", ch.ignored)
	} else {
		a.log.Debug("webhook: message applied", "id", msg.ID, "type", typ, "events", len(ch.events))
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result, "why": ch.ignored, "events": len(ch.events)})
}

// take decodes a verified body and applies it.
// take reads a message received at now (the real time), placing it at the
// hub's clock hub: a message's own time keeps its age (the same time when
// the hub's clock is the real one, as everywhere but in the demo).
func (a *Adapter) take(body []byte, now, hub time.Time) (string, change, error) {
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return "", change{}, fmt.Errorf("the body is not a message: %w", jsonError(err))
	}
	typ := cleanText(m.Type, 40)
	at := hub
	if !m.Timestamp.IsZero() {
		d := now.Sub(m.Timestamp)
		if d < -a.cfg.Tolerance || d > 24*time.Hour {
			return typ, change{}, invalidf("timestamp %s is in the future or over a day old", m.Timestamp.Format(time.RFC3339))
		}
		at = hub.Add(-d)
	}
	if len(bytes.TrimSpace(m.Data)) == 0 || bytes.Equal(bytes.TrimSpace(m.Data), []byte("null")) {
		return typ, change{}, fmt.Errorf("the message has no data")
	}
	var decode func(*book, time.Time) (change, error)
	switch m.Type {
	case TypeCallWaiting, TypeCallOffered, TypeOfferEnded, TypeCallConnected, TypeCallAbandoned, TypeCallEnded:
		var c Call
		if err := json.Unmarshal(m.Data, &c); err != nil {
			return typ, change{}, fmt.Errorf("data: %w", jsonError(err))
		}
		decode = func(b *book, at time.Time) (change, error) {
			if m.Type == TypeCallWaiting {
				return b.waiting(c, at)
			}
			return b.call(m.Type, c, at)
		}
	case TypeAgentState:
		var ag Agent
		if err := json.Unmarshal(m.Data, &ag); err != nil {
			return typ, change{}, fmt.Errorf("data: %w", jsonError(err))
		}
		decode = func(b *book, _ time.Time) (change, error) { return b.agentState(ag) }
	case TypeSnapshot:
		var s Snapshot
		if err := json.Unmarshal(m.Data, &s); err != nil {
			return typ, change{}, fmt.Errorf("data: %w", jsonError(err))
		}
		decode = func(b *book, at time.Time) (change, error) { return b.replace(s, at) }
	case TypeOriginateResult:
		var o OriginateResult
		if err := json.Unmarshal(m.Data, &o); err != nil {
			return typ, change{}, fmt.Errorf("data: %w", jsonError(err))
		}
		decode = func(*book, time.Time) (change, error) { return originated(o) }
	default:
		return typ, change{}, fmt.Errorf("unknown message type %q", typ)
	}
	ch, err := a.apply(decode, at)
	return typ, ch, err
}

func originated(o OriginateResult) (change, error) {
	if err := checkID("ref", o.Ref); err != nil {
		return change{}, err
	}
	r := tel.OriginateResult{Ref: o.Ref, OK: o.OK}
	if o.OK {
		if o.CallID != "" {
			if err := checkID("call_id", o.CallID); err != nil {
				return change{}, err
			}
		}
		r.CallID = tel.CallID(o.CallID)
	} else {
		r.Reason = cleanText(o.Reason, maxReason)
	}
	return change{events: []tel.Event{r}, commit: func() {}}, nil
}

// jsonError describes a decoding error without quoting the body.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("not JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("%s is not a %s", typ.Field, typ.Type)
	}
	return errors.New("not JSON")
}

func (a *Adapter) refuse(w http.ResponseWriter, r *http.Request, status int, code, id, typ string, err error) {
	a.log.Warn("webhook: message refused", "status", status, "code", code, "id", id, "type", typ, "remote", r.RemoteAddr, "err", err)
	writeJSON(w, status, map[string]any{"ok": false, "error": map[string]string{"code": code, "message": err.Error()}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// safeID returns a header value fit for a log line.
func safeID(s string) string {
	return cleanText(s, 64)
}
