package stdwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks reference vector (the specification's test suite,
// also svix-webhooks' go/webhook_test.go): this secret, id, timestamp and
// payload sign to this signature.
const (
	vecSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID      = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS      = 1614265330
	vecPayload = `{"test": 2432232314}`
	vecSig     = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignatureMatchesTheSpecificationVector(t *testing.T) {
	s, err := ParseSecret(vecSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Signature(vecID, vecTS, []byte(vecPayload)); got != vecSig {
		t.Fatalf("signature %s, want %s", got, vecSig)
	}
	v := Verifier{Secrets: []Secret{s}, Now: func() time.Time { return time.Unix(vecTS+30, 0) }}
	h := http.Header{}
	h.Set(HeaderID, vecID)
	h.Set(HeaderTimestamp, fmt.Sprint(vecTS))
	h.Set(HeaderSignature, "v1,bm90IGl0 "+vecSig) // a wrong one first, as after a rotation
	m, err := v.Verify(h, []byte(vecPayload))
	if err != nil || m.ID != vecID || m.At.Unix() != vecTS {
		t.Fatalf("Verify = %+v, %v", m, err)
	}
	if s.String() != vecSecret {
		t.Errorf("String() does not give the secret back as written")
	}
}

// specVerify is a receiver written from the specification's text alone,
// not from this package: base64-decode what follows "whsec_", HMAC-SHA256
// over "{id}.{timestamp}.{body}", compare with each "v1," signature.
func specVerify(secret, id, ts, sigHeader string, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Split(sigHeader, " ") {
		if v, sig, ok := strings.Cut(s, ","); ok && v == "v1" && sig == want {
			return true
		}
	}
	return false
}

func TestAReceiverBuiltOnTheSpecificationVerifiesWhatWeSign(t *testing.T) {
	s := NewSecret()
	body := []byte(`{"type":"call.waiting","timestamp":"2026-12-02T09:00:00Z","data":{"call_id":"c1"}}`)
	h := http.Header{}
	s.Sign(h, "evt_1", time.Unix(1795000000, 0), body)
	if !specVerify(s.String(), h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body) {
		t.Fatalf("a receiver following the specification refuses %v", h)
	}
	if h.Get(HeaderTimestamp) != "1795000000" {
		t.Errorf("timestamp header %q", h.Get(HeaderTimestamp))
	}
}

func signed(t *testing.T, s Secret, id string, at time.Time, body string) http.Header {
	t.Helper()
	h := http.Header{}
	s.Sign(h, id, at, []byte(body))
	return h
}

func TestVerifyRefusesTamperingOldTimestampsAndOtherSecrets(t *testing.T) {
	s, other := NewSecret(), NewSecret()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	v := Verifier{Secrets: []Secret{s}, Now: func() time.Time { return now }}
	body := `{"type":"call.ended","data":{"call_id":"c1"}}`
	cases := []struct {
		name string
		h    http.Header
		body string
		want error
	}{
		{"one byte of the body changed", signed(t, s, "m1", now, body), strings.Replace(body, "c1", "c2", 1), ErrSignature},
		{"signed with another secret", signed(t, other, "m1", now, body), body, ErrSignature},
		{"six minutes old", signed(t, s, "m1", now.Add(-6*time.Minute), body), body, ErrTimestamp},
		{"six minutes ahead", signed(t, s, "m1", now.Add(6*time.Minute), body), body, ErrTimestamp},
		{"no signature", func() http.Header { h := signed(t, s, "m1", now, body); h.Del(HeaderSignature); return h }(), body, ErrMissingHeader},
		{"timestamp not a number", func() http.Header { h := signed(t, s, "m1", now, body); h.Set(HeaderTimestamp, "soon"); return h }(), body, ErrBadTimestamp},
		{"id with a line break", func() http.Header { h := signed(t, s, "m1", now, body); h.Set(HeaderID, "m\r1"); return h }(), body, ErrBadID},
		{"id changed", func() http.Header { h := signed(t, s, "m1", now, body); h.Set(HeaderID, "m2"); return h }(), body, ErrSignature},
		{"signature of another version", func() http.Header {
			h := signed(t, s, "m1", now, body)
			h.Set(HeaderSignature, "v1a,"+strings.TrimPrefix(h.Get(HeaderSignature), "v1,"))
			return h
		}(), body, ErrSignature},
	}
	for _, c := range cases {
		if _, err := v.Verify(c.h, []byte(c.body)); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := v.Verify(signed(t, s, "m1", now.Add(-4*time.Minute), body), []byte(body)); err != nil {
		t.Errorf("four minutes old, within the tolerance: %v", err)
	}
}

func TestParseSecretRefusesShortOrGarbledSecretsWithoutRepeatingThem(t *testing.T) {
	for _, s := range []string{"whsec_c2hvcnQ=", "whsec_%%%not-base64%%%", ""} {
		_, err := ParseSecret(s)
		if err == nil {
			t.Errorf("%q accepted", s)
			continue
		}
		if s != "" && strings.Contains(err.Error(), strings.TrimPrefix(s, "whsec_")) {
			t.Errorf("the error repeats the secret: %v", err)
		}
	}
}

func TestReplayRefusesTheSameIDWithinTheWindowOnly(t *testing.T) {
	r := Replay{Window: 10 * time.Minute, Max: 3}
	t0 := time.Unix(1795000000, 0)
	if err := r.Take("a", t0); err != nil {
		t.Fatal(err)
	}
	if err := r.Take("a", t0.Add(9*time.Minute)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("the same id 9 minutes later: %v", err)
	}
	if err := r.Take("a", t0.Add(11*time.Minute)); err != nil {
		t.Fatalf("the same id after the window: %v", err)
	}
	r.Take("b", t0.Add(11*time.Minute))
	r.Take("c", t0.Add(11*time.Minute))
	if err := r.Take("d", t0.Add(11*time.Minute)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("a fourth id when three are kept: %v", err)
	}
	r.Forget("c")
	if err := r.Take("d", t0.Add(11*time.Minute)); err != nil {
		t.Fatalf("after Forget: %v", err)
	}
}

// The signature covers the timestamp's number: a message is taken only
// with that number's own text in its header, not "+…" or "0…", which a
// receiver following the specification (signing the header's text) would
// refuse.
func TestATimestampIsTakenOnlyAsItWasSigned(t *testing.T) {
	s, _ := ParseSecret(vecSecret)
	v := Verifier{Secrets: []Secret{s}, Now: func() time.Time { return time.Unix(vecTS, 0) }}
	for _, ts := range []string{"+" + fmt.Sprint(vecTS), "0" + fmt.Sprint(vecTS), " " + fmt.Sprint(vecTS)} {
		h := http.Header{}
		h.Set(HeaderID, vecID)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, vecSig)
		if _, err := v.Verify(h, []byte(vecPayload)); !errors.Is(err, ErrBadTimestamp) {
			t.Errorf("timestamp %q: %v", ts, err)
		}
	}
}
