package devices

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"guichet/hub/queue"
	"guichet/hub/store"
)

// Audit events of enrollment; neither carries the code.
const (
	EnrollmentIssued queue.EventType = "device.enrollment_issued"
	Enrolled         queue.EventType = "device.enrolled"
)

// EnrollmentTTL is how long an enrollment code works by default.
const EnrollmentTTL = 24 * time.Hour

// ErrNoEnrollment is the one refusal of a code that is unknown, used,
// expired, or whose device is disabled: a caller learns nothing of which.
var ErrNoEnrollment = store.ErrNoEnrollment

// codeAlphabet is Crockford's base32: no I, L, O or U, which a person
// reads as 1, 1, 0 or V.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// CodeLen is the number of symbols of a code: 16 × 5 = 80 random bits.
const CodeLen = 16

// NewEnrollmentCode returns a new code, in groups of four for a person to
// type: 7K3M-Q9XD-2B8F-WN4T.
func NewEnrollmentCode() string {
	b := make([]byte, CodeLen)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[c&31]) // 256 is a multiple of 32: uniform
	}
	return sb.String()
}

// NormalizeCode returns code as issued, whatever a person typed: case,
// spaces and dashes ignored, O read as 0, I and L as 1. ok is false when
// it cannot be a code.
func NormalizeCode(code string) (string, bool) {
	if len(code) > 4*CodeLen {
		return "", false
	}
	var sb strings.Builder
	for _, c := range strings.ToUpper(code) {
		switch c {
		case '-', ' ':
			continue
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		if !strings.ContainsRune(codeAlphabet, c) {
			return "", false
		}
		if sb.Len() > 0 && (sb.Len()+1)%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteRune(c)
	}
	if sb.Len() != CodeLen+CodeLen/4-1 {
		return "", false
	}
	return sb.String(), true
}

// SetClock sets the clock of enrollment codes (time.Now by default).
func (r *Registry) SetClock(now func() time.Time) { r.clock = now }

func (r *Registry) now() time.Time {
	if r.clock != nil {
		return r.clock()
	}
	return time.Now()
}

// IssueEnrollment gives device id a one-time enrollment code valid for ttl
// (EnrollmentTTL if 0); a code issued before for it stops working. The
// code is returned here only; the registry keeps its hash.
func (r *Registry) IssueEnrollment(id, actor string, ttl time.Duration) (code string, expires time.Time, err error) {
	if ttl <= 0 {
		ttl = EnrollmentTTL
	}
	if _, err := r.st.Device(id); err != nil {
		return "", time.Time{}, err
	}
	code = NewEnrollmentCode()
	now := r.now()
	expires = now.Add(ttl)
	if err := r.st.SetEnrollment(id, hashSecret(code), now, expires); err != nil {
		return "", time.Time{}, err
	}
	r.audit(EnrollmentIssued, id, actor, "expires "+expires.UTC().Format(time.RFC3339))
	r.log.Info("device enrollment code issued", "device", id, "by", actor, "expires", expires)
	return code, expires, nil
}

// Enroll uses an enrollment code: once, before it expires. The device is
// given a new secret (one it had before, perhaps leaked, stops working),
// returned with the device. Any refusal is ErrNoEnrollment.
func (r *Registry) Enroll(code, actor string) (*Device, string, error) {
	norm, ok := NormalizeCode(code)
	if !ok {
		return nil, "", ErrNoEnrollment
	}
	id, err := r.st.TakeEnrollment(hashSecret(norm), r.now())
	if err != nil {
		return nil, "", err
	}
	d, err := r.st.Device(id)
	if err != nil {
		return nil, "", fmt.Errorf("enroll %s: %w", id, err)
	}
	if d.Disabled {
		r.log.Warn("enrollment code of a disabled device refused", "device", id)
		return nil, "", ErrNoEnrollment
	}
	secret := NewSecret()
	d.SecretHash, d.MosquittoHash = hashSecret(secret), MosquittoHash(secret)
	if err := r.st.UpdateDevice(d); err != nil {
		return nil, "", fmt.Errorf("enroll %s: %w", id, err)
	}
	r.changed(id, true)
	r.audit(Enrolled, id, actor, "")
	r.log.Info("device enrolled; its secret is new", "device", id, "by", actor)
	return d, secret, nil
}

// IsNoEnrollment reports whether err is the refusal of a code.
func IsNoEnrollment(err error) bool { return errors.Is(err, ErrNoEnrollment) }
