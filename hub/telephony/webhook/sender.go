package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"guichet/internal/stdwebhook"
)

// Sender signs and posts messages: what a provider's integration (or the
// demo's simulated day) does to reach the hub's webhook, and what the
// Adapter does to reach the provider's action URL.
type Sender struct {
	URL    string
	Secret stdwebhook.Secret
	Client *http.Client     // a client with a 10 s timeout when nil
	Now    func() time.Time // time.Now when nil
	NewID  func() string    // "msg_" and 16 random bytes in hex when nil
}

// StatusError is a non-2xx answer to a post.
type StatusError struct {
	Status  int
	Code    string // the error code of the hub's answer, when there is one
	Message string // the answer's message, bounded, control characters removed
}

func (e *StatusError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("webhook answered %d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("webhook answered %d: %s", e.Status, e.Message)
}

// Send posts a message of this type and data, happened at (now when zero).
func (s *Sender) Send(ctx context.Context, typ string, at time.Time, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", typ, err)
	}
	if at.IsZero() {
		at = s.now()
	}
	return s.Post(ctx, Message{Type: typ, Timestamp: at.UTC(), Data: raw})
}

// Post signs and posts a message. A non-2xx answer is a *StatusError.
func (s *Sender) Post(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", m.Type, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", m.Type, err)
	}
	req.Header.Set("Content-Type", "application/json")
	id := s.newID()
	s.Secret.Sign(req.Header, id, s.now(), body)
	client := s.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s %s: %w", m.Type, id, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	e := &StatusError{Status: resp.StatusCode}
	var r struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(answer, &r) == nil && r.Error.Code != "" {
		e.Code, e.Message = r.Error.Code, cleanText(r.Error.Message, 200)
	} else {
		e.Message = cleanText(strings.TrimSpace(string(answer)), 200)
	}
	return e
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

func (s *Sender) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Sender) newID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	return newID()
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return "msg_" + hex.EncodeToString(b[:])
}
