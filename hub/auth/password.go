package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"guichet/internal/entropy"
)

// Argon2id's cost: OWASP's first recommendation (19 MiB, 2 passes, 1
// lane). On the 2-core reference machine one hash takes about 55 ms, so 50
// agents signing in at 8:30 are all in within about 1.5 s (see
// BenchmarkSignIn and docs/accounts.md). Hashes keep their parameters: a
// later change of these applies to passwords set after it.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// The password rule. An account's password is behind the sign-in's rate
// limits (per account and per address), so it needs less than a secret
// attacked offline (entropy.MinBits): the CNIL's recommendation for a
// password with a restriction of access (délibération 2022-100, case 2) is
// 50 bits; we ask 12 characters at least and 50 bits as entropy.Estimate
// counts them (a common word counts little).
const (
	MinPasswordLength = 12
	MinPasswordBits   = 50
	MaxPasswordLength = 256 // bytes hashed: bounded, so a huge one costs no more
)

// ErrWeakPassword refuses a password under the rule.
var ErrWeakPassword = errors.New("password too weak")

// CheckPassword applies the password rule; the error says the rule, never
// the password.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: not valid text", ErrWeakPassword)
	case len(pw) > MaxPasswordLength:
		return fmt.Errorf("%w: at most %d bytes", ErrWeakPassword, MaxPasswordLength)
	case n < MinPasswordLength:
		return fmt.Errorf("%w: %d characters, at least %d are needed", ErrWeakPassword, n, MinPasswordLength)
	case entropy.Estimate(pw) < MinPasswordBits:
		return fmt.Errorf("%w: too easy to guess (words, repeated characters and sequences like 1234 count little); "+
			"a phrase of several unusual words, or a mix of letters, digits and signs, is stronger", ErrWeakPassword)
	}
	return nil
}

// ErrBusy refuses a sign-in when too many wait for their password to be
// checked: memory is bounded, not the queue.
var ErrBusy = errors.New("too many sign-ins at once: try again in a moment")

// hasher hashes and checks passwords with argon2id, at most slots at a
// time (each holds argonMemory), with at most waiting more in line.
type hasher struct {
	slots   chan struct{}
	waiting chan struct{}
}

func newHasher(slots int) *hasher {
	if slots <= 0 {
		slots = max(2, runtime.GOMAXPROCS(0))
	}
	return &hasher{slots: make(chan struct{}, slots), waiting: make(chan struct{}, 256)}
}

// acquire takes a slot, waiting in line while ctx lasts.
func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.waiting <- struct{}{}:
	default:
		return ErrBusy
	}
	defer func() { <-h.waiting }()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait to check a password: %w", ctx.Err())
	}
}

func (h *hasher) release() { <-h.slots }

// hash returns the PHC string of pw's argon2id hash.
func (h *hasher) hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	h.release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummy is checked against when an account has no password or does not
// exist, so that the answer takes as long as for a real one.
const dummy = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3fIJ0XKvPYI5wX4u0+mZrh6QbqVZ3RMX0k6Ys4p5lFs"

// check reports whether pw matches the PHC string encoded ("" matches
// nothing, after the same work).
func (h *hasher) check(ctx context.Context, encoded, pw string) (bool, error) {
	real := encoded != ""
	if !real {
		encoded = dummy
	}
	var v int
	var m, t uint32
	var p uint8
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unreadable password hash")
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errors.New("unreadable password hash version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 {
		return false, errors.New("unreadable password hash parameters")
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errors.New("unreadable password hash")
	}
	if len(pw) > MaxPasswordLength {
		pw = pw[:MaxPasswordLength] // refused anyway: no more work for a longer one
		real = false
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	h.release()
	return real && subtle.ConstantTimeCompare(got, want) == 1, nil
}
