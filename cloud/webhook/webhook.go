// Package webhook delivers the hub's events to an HTTP endpoint as
// CloudEvents 1.0 — structured mode (one event a request,
// application/cloudevents+json) or batched mode (a JSON array,
// application/cloudevents-batch+json) — signed the Standard Webhooks way
// (webhook-id, webhook-timestamp, webhook-signature: HMAC-SHA256, see
// internal/stdwebhook) so that a receiver verifies them with an existing
// library.
//
// What the endpoint answers decides what follows (cloud's follower does
// it): 2xx delivered; 410 Gone, the destination stops until an admin
// resumes it; 408, 429 and 5xx, a timeout, a refused or cut connection,
// tried again with backoff; any other 4xx, refused for good (dead letter).
// The secret and the URL's query and user are never logged nor kept in a
// reason.
package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"guichet/cloud"
	"guichet/internal/stdwebhook"
)

// Options configures a webhook.
type Options struct {
	URL     string
	Secret  stdwebhook.Secret
	Batched bool          // a JSON array of events a request, instead of one event
	Timeout time.Duration // for a whole request; 10 s if zero
	// RootCAs are the certificates trusted for an https URL; the system's
	// store if nil (see LoadCA).
	RootCAs *x509.CertPool
	// Client replaces the HTTP client (tests); Timeout and RootCAs are then
	// its business.
	Client *http.Client
	Clock  func() time.Time // time.Now if nil: the signature's timestamp
}

// Webhook is one endpoint.
type Webhook struct {
	url     string
	host    string // for reasons: the URL without user, path or query
	secret  stdwebhook.Secret
	batched bool
	client  *http.Client
	clock   func() time.Time
}

// New returns a webhook; it checks the URL and the secret.
func New(o Options) (*Webhook, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("webhook: the URL must be http:// or https:// with a host")
	}
	if len(o.Secret) == 0 {
		return nil, errors.New("webhook: a secret is needed to sign (whsec_…)")
	}
	w := &Webhook{url: o.URL, host: u.Scheme + "://" + u.Host, secret: o.Secret, batched: o.Batched, client: o.Client, clock: o.Clock}
	if w.clock == nil {
		w.clock = time.Now
	}
	if w.client == nil {
		timeout := o.Timeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
		tr.MaxIdleConnsPerHost = 4
		w.client = &http.Client{Timeout: timeout, Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return w, nil
}

// LoadCA reads a PEM file of certificates to trust, instead of the
// system's store.
func LoadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("webhook CA: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("webhook CA: %s holds no PEM certificate", path)
	}
	return p, nil
}

// Batch is how many events the webhook takes in one Send: 1 in structured
// mode.
func (w *Webhook) Batch(n int) int {
	if !w.batched {
		return 1
	}
	return n
}

// Send posts evs: one event (structured mode) or all as a batch.
func (w *Webhook) Send(ctx context.Context, evs []cloud.Event) error {
	if len(evs) == 0 {
		return nil
	}
	var body []byte
	var ct, id string
	if w.batched {
		var buf bytes.Buffer
		buf.WriteByte('[')
		for i, ev := range evs {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(ev.JSON)
		}
		buf.WriteByte(']')
		body, ct = buf.Bytes(), "application/cloudevents-batch+json"
		// The message's id: the same when the same events are sent again.
		id = evs[0].ID
		if len(evs) > 1 {
			id += fmt.Sprintf("..%d", evs[len(evs)-1].Seq)
		}
	} else {
		if len(evs) != 1 {
			return fmt.Errorf("webhook: structured mode sends one event at a time, not %d", len(evs))
		}
		body, ct, id = evs[0].JSON, "application/cloudevents+json; charset=utf-8", evs[0].ID
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return cloud.Rejected("webhook: %v", err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("User-Agent", "Guichet")
	if !w.batched {
		req.Header.Set("ce-id", evs[0].ID) // helps a receiver log what it refused
	}
	w.secret.Sign(req.Header, id, w.clock(), body)
	res, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s", w.host, cause(err))
	}
	defer res.Body.Close()
	// Read the answer whole: a connection cut before its end is a failure
	// (the receiver may not have taken the events).
	excerpt, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("%s: answer %d cut short: %s", w.host, res.StatusCode, cause(err))
	}
	switch st := res.StatusCode; {
	case st >= 200 && st < 300:
		return nil
	case st == http.StatusGone:
		return cloud.Said(cloud.Gone("%s answered 410 Gone: the endpoint says it no longer exists", w.host), show(excerpt))
	case st == http.StatusRequestTimeout || st == http.StatusTooManyRequests || st >= 500:
		return cloud.Said(fmt.Errorf("%s answered %d %s", w.host, st, http.StatusText(st)), show(excerpt))
	default:
		return cloud.Said(cloud.Rejected("%s answered %d %s", w.host, st, http.StatusText(st)), show(excerpt))
	}
}

// cause is what went wrong, without the URL (its query may hold a token).
func cause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	return err.Error()
}

// show is the start of a body, for the dead letters (see cloud.Said).
func show(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
