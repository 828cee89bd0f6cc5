package stdwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FuzzVerify: Verify accepts a message only if a receiver written from the
// specification alone (specVerify) accepts it too: its id printable, its
// timestamp within the tolerance, one of its signatures made with the
// secret over exactly the id, timestamp and body it came with. Every
// refusal is one of the package's errors; a message accepted is no longer
// accepted with one byte of its body changed, nor taken twice by Replay.
func FuzzVerify(f *testing.F) {
	f.Add(vecID, strconv.Itoa(vecTS), []byte(vecPayload), "", uint8(1))
	f.Add(vecID, "+"+strconv.Itoa(vecTS), []byte(vecPayload), "v1,bm90IGl0", uint8(3))
	f.Add(vecID, "0"+strconv.Itoa(vecTS), []byte(vecPayload), "", uint8(3))
	f.Add("msg id", strconv.Itoa(vecTS), []byte("{}"), "", uint8(1))
	f.Add("", "", []byte(nil), "v2,abc v1", uint8(0))
	f.Add(vecID, "99999999999999999999", []byte("x"), "", uint8(1))
	f.Add(vecID, strconv.Itoa(vecTS+301), []byte("x"), "", uint8(1))
	secret, _ := ParseSecret(vecSecret)
	now := time.Unix(vecTS, 0)
	v := Verifier{Secrets: []Secret{secret}, Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, id, ts string, body []byte, extra string, mode uint8) {
		sig := extra
		if mode&1 == 1 { // signed as the specification says: over the headers' text
			n, err := strconv.ParseInt(ts, 10, 64)
			signedTS := ts
			if mode&2 == 2 && err == nil { // or over the number, whatever its text
				signedTS = strconv.FormatInt(n, 10)
			}
			m := secret.macText(id, signedTS, body)
			sig = "v1," + m + " " + extra
		}
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		msg, err := v.Verify(h, body)
		if err != nil {
			for _, known := range []error{ErrMissingHeader, ErrBadID, ErrBadTimestamp, ErrTimestamp, ErrSignature} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("refused with %v", err)
		}
		if !specVerify(vecSecret, h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature), body) {
			t.Fatalf("accepted id %q, timestamp %q, signature %q: the specification's receiver refuses it", id, ts, sig)
		}
		if msg.ID != h.Get(HeaderID) || strconv.FormatInt(msg.At.Unix(), 10) != h.Get(HeaderTimestamp) {
			t.Fatalf("accepted as %+v, headers %q %q", msg, id, ts)
		}
		if _, err := v.Verify(h, append(body, 'x')); !errors.Is(err, ErrSignature) {
			t.Fatalf("a changed body: %v", err)
		}
		var r Replay
		if r.Take(msg.ID, now) != nil || !errors.Is(r.Take(msg.ID, now.Add(time.Minute)), ErrReplayed) {
			t.Fatal("the same message taken twice")
		}
	})
}

// macText is the base64 HMAC over "{id}.{ts}.{body}" as the texts are.
func (s Secret) macText(id, ts string, body []byte) string {
	m := hmac.New(sha256.New, s)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
