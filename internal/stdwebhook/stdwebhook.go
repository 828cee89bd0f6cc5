// Package stdwebhook signs and verifies HTTP webhooks the Standard Webhooks
// way (the specification at standardwebhooks.com, v1.0.0): three headers,
//
//	webhook-id:        the message's unique id (the same on a retry)
//	webhook-timestamp: when it was sent, in whole seconds since 1970 (UTC)
//	webhook-signature: "v1,<base64 HMAC-SHA256>", several separated by spaces
//
// where the HMAC is keyed with the secret's bytes and taken over
// "<id>.<timestamp>.<body>". A secret is written "whsec_" then its bytes in
// base64. The timestamp is covered by the signature, so a message cannot be
// replayed later with a new one; a receiver refuses timestamps outside a
// tolerance (5 minutes) and remembers the ids it took within it (Replay).
//
// The hub verifies what hosted telephony posts to it with this package, and
// signs what it posts out (the telephony webhook's actions, the outbound
// event webhooks) with the same code. It does no I/O and logs nothing: a
// secret never leaves it except through Secret.String.
package stdwebhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The header names of the specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a message's timestamp may be from the
// receiver's clock, either way (the specification's recommendation).
const DefaultTolerance = 5 * time.Minute

// Bounds of what Verify reads from the headers.
const (
	MaxIDLength        = 256
	maxSignatureHeader = 4 << 10
	secretPrefix       = "whsec_"
	minSecretBytes     = 24 // the specification: between 24 and 64 bytes
	maxSecretBytes     = 64
)

// Errors Verify returns; a receiver answers them with a 4xx.
var (
	ErrMissingHeader = errors.New("stdwebhook: missing header")
	ErrBadID         = errors.New("stdwebhook: bad webhook-id")
	ErrBadTimestamp  = errors.New("stdwebhook: bad webhook-timestamp")
	ErrTimestamp     = errors.New("stdwebhook: timestamp outside the tolerance")
	ErrSignature     = errors.New("stdwebhook: no valid signature")
	ErrReplayed      = errors.New("stdwebhook: message already received")
)

// Secret is a signing key's bytes.
type Secret []byte

// ParseSecret reads a secret written "whsec_<base64>" (or the base64
// alone). It must hold 24 to 64 bytes; the error never repeats it.
func ParseSecret(s string) (Secret, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), secretPrefix)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("stdwebhook: the secret is not whsec_ followed by base64")
	}
	if len(b) < minSecretBytes || len(b) > maxSecretBytes {
		return nil, fmt.Errorf("stdwebhook: the secret holds %d bytes, want %d to %d", len(b), minSecretBytes, maxSecretBytes)
	}
	return Secret(b), nil
}

// NewSecret returns a new random secret of 32 bytes.
func NewSecret() Secret {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// String returns the secret as it is written in a configuration:
// "whsec_<base64>". Never log it.
func (s Secret) String() string {
	return secretPrefix + base64.StdEncoding.EncodeToString(s)
}

// Signature returns the v1 signature of a message: "v1,<base64>".
func (s Secret) Signature(id string, ts int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(s.mac(id, ts, body))
}

func (s Secret) mac(id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, s)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign sets the three headers of a message with this id, sent at.
func (s Secret) Sign(h http.Header, id string, at time.Time, body []byte) {
	ts := at.Unix()
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, s.Signature(id, ts, body))
}

// Message is what Verify learnt of a message it accepted.
type Message struct {
	ID string
	At time.Time
}

// Verifier checks the headers of received messages.
type Verifier struct {
	// Secrets: a signature by any of them is valid (two while a secret is
	// being rotated).
	Secrets []Secret
	// Tolerance is DefaultTolerance when zero.
	Tolerance time.Duration
	// Now is time.Now when nil.
	Now func() time.Time
}

// Verify checks a message's headers and signature over body: the id is
// present and printable, the timestamp within the tolerance of now, and
// one of the v1 signatures made with one of the secrets. It does not
// remember ids: see Replay.
func (v Verifier) Verify(h http.Header, body []byte) (Message, error) {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	switch {
	case id == "":
		return Message{}, fmt.Errorf("%w %s", ErrMissingHeader, HeaderID)
	case tsText == "":
		return Message{}, fmt.Errorf("%w %s", ErrMissingHeader, HeaderTimestamp)
	case sigs == "":
		return Message{}, fmt.Errorf("%w %s", ErrMissingHeader, HeaderSignature)
	}
	if err := checkID(id); err != nil {
		return Message{}, err
	}
	// The signature covers the timestamp as the number it is: its text must
	// be that number's, or a message would be taken with headers other than
	// those signed ("+1614265330", "01614265330").
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || len(tsText) > 12 || strconv.FormatInt(ts, 10) != tsText {
		return Message{}, fmt.Errorf("%w: not a number of seconds", ErrBadTimestamp)
	}
	now, tol := v.now(), v.tolerance()
	at := time.Unix(ts, 0)
	if d := now.Sub(at); d > tol || d < -tol {
		return Message{}, fmt.Errorf("%w: %s off the receiver's clock", ErrTimestamp, d.Round(time.Second))
	}
	if len(sigs) > maxSignatureHeader {
		return Message{}, fmt.Errorf("%w: the header is over %d bytes", ErrSignature, maxSignatureHeader)
	}
	for _, s := range v.Secrets {
		want := s.mac(id, ts, body)
		for _, sig := range strings.Fields(sigs) {
			version, b64, ok := strings.Cut(sig, ",")
			if !ok || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				return Message{ID: id, At: at}, nil
			}
		}
	}
	return Message{}, ErrSignature
}

func (v Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

func (v Verifier) tolerance() time.Duration {
	if v.Tolerance <= 0 {
		return DefaultTolerance
	}
	return v.Tolerance
}

// checkID accepts ids of printable ASCII without spaces, as the
// specification's examples ("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W").
func checkID(id string) error {
	if len(id) > MaxIDLength {
		return fmt.Errorf("%w: over %d characters", ErrBadID, MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return fmt.Errorf("%w: it holds a character that is not printable ASCII", ErrBadID)
		}
	}
	return nil
}
