package wazo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	tel "guichet/hub/telephony"
)

// errAuth: wazo-auth refused the username and password.
var errAuth = errors.New("wazo-auth refused the credentials")

// auth holds the current token and renews it.
type auth struct {
	a *Adapter

	mu      sync.Mutex
	token   string
	renewAt time.Time // four fifths of its life
	expires time.Time
}

// current returns a token valid for a while, asking wazo-auth for a new
// one when there is none or it is due for renewal.
func (t *auth) current(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.a.cfg.Now().Before(t.renewAt) {
		return t.token, nil
	}
	return t.renew(ctx)
}

// fresh returns a new token, whatever the current one: for a 401, or the
// websocket's renewal.
func (t *auth) fresh(ctx context.Context, stale string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.token != stale && t.a.cfg.Now().Before(t.renewAt) {
		return t.token, nil // renewed meanwhile by another caller
	}
	return t.renew(ctx)
}

func (t *auth) due() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.renewAt
}

// renew asks wazo-auth for a token (POST /api/auth/0.1/token, basic auth,
// {"expiration": seconds}; wazo-auth's tokens/api.yml). Its answer's
// data.token is the token and data.utc_expires_at its end; the adapter
// counts the lifetime from its own clock at the request, the shorter of
// the two.
func (t *auth) renew(ctx context.Context) (string, error) {
	a := t.a
	life := a.cfg.TokenExpiration
	body, _ := json.Marshal(map[string]int{"expiration": int(life / time.Second)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint("/api/auth/0.1/token"), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(a.cfg.Username, a.cfg.Password)
	asked := a.cfg.Now()
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("wazo-auth: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("wazo-auth: %w", err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return "", fmt.Errorf("%w (user %q)", errAuth, a.cfg.Username)
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("wazo-auth: %s: %s", resp.Status, excerpt(raw))
	}
	var tok struct {
		Data struct {
			Token        string `json:"token"`
			UTCExpiresAt string `json:"utc_expires_at"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.Data.Token == "" || strings.ContainsFunc(tok.Data.Token, unicode.IsSpace) || len(tok.Data.Token) > 512 {
		return "", errors.New("wazo-auth: the answer holds no usable token")
	}
	expires := asked.Add(life)
	if at, ok := parseUTC(tok.Data.UTCExpiresAt); ok && at.Before(expires) && at.After(asked) {
		expires = at
	}
	t.token, t.expires = tok.Data.Token, expires
	t.renewAt = asked.Add(expires.Sub(asked) * 4 / 5)
	a.log.Debug("wazo: token issued", "expires", expires)
	return t.token, nil
}

// parseUTC reads wazo-auth's utc_expires_at ("2026-12-02T10:00:00.123456",
// UTC without a zone), or an RFC 3339 time.
func parseUTC(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// errStatus is a service's non-2xx answer.
type errStatus struct {
	status int
	body   string
}

func (e *errStatus) Error() string { return fmt.Sprintf("%d: %s", e.status, e.body) }

// call sends one REST request with the token in X-Auth-Token, as every
// Wazo service takes it; on a 401 it renews the token and tries once
// more. out, when not nil, receives the JSON answer.
func (a *Adapter) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	tok, err := a.auth.current(ctx)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, a.endpoint(path), bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("X-Auth-Token", tok)
		req.Header.Set("Accept", "application/json")
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := a.cfg.HTTPClient.Do(req)
		if err != nil {
			return fmt.Errorf("%w: %w", tel.ErrNotConnected, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%w: %w", tel.ErrNotConnected, err)
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			a.log.Info("wazo: token refused by a service; renewing it", "path", path)
			if tok, err = a.auth.fresh(ctx, tok); err != nil {
				return err
			}
			continue
		}
		if resp.StatusCode/100 != 2 {
			return &errStatus{status: resp.StatusCode, body: excerpt(raw)}
		}
		if out != nil && len(raw) > 0 {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("%s %s: the answer is not what Wazo documents: %w", method, path, err)
			}
		}
		return nil
	}
}

// excerpt returns the start of an answer, fit for an error or a log line.
func excerpt(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.TrimSpace(s)
}
