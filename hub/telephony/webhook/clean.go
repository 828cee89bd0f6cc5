package webhook

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	tel "guichet/hub/telephony"
)

// errInvalid marks a message that is well-formed JSON but says something
// the hub cannot take (a missing id, a bad number): 422.
var errInvalid = errors.New("invalid")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, args...))
}

// checkID accepts an id, agent, queue or reference: 1 to 128 bytes of
// printable characters, no spaces at its ends.
func checkID(what, s string) error {
	if s == "" {
		return invalidf("%s is missing", what)
	}
	if len(s) > maxID {
		return invalidf("%s is over %d bytes", what, maxID)
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return invalidf("%s holds a control character or is not UTF-8", what)
	}
	if strings.TrimSpace(s) != s {
		return invalidf("%s starts or ends with a space", what)
	}
	return nil
}

// cleanNumber returns a caller's number as the hub keeps it: digits with
// a leading + kept, spaces, dots, dashes and parentheses dropped; "" when
// withheld (empty, "anonymous", "unknown", "private", "restricted").
func cleanNumber(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "anonymous", "unknown", "private", "restricted", "withheld":
		return "", nil
	}
	if len(s) > 2*maxNumber {
		return "", invalidf("number is over %d characters", 2*maxNumber)
	}
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", invalidf("number holds %q: not a phone number", r)
		}
	}
	if n := strings.TrimPrefix(b.String(), "+"); n == "" || len(n) > maxNumber-1 {
		return "", invalidf("number has %d digits", len(n))
	}
	return b.String(), nil
}

// cleanText returns a display text (a caller's name, a pause reason) with
// control characters (CR, LF…) removed, invalid UTF-8 replaced, spaces
// trimmed, and cut to max runes.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "�")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

// dialable returns a number the provider may dial (click-to-call): digits
// with an optional leading +; spaces, dots, dashes and parentheses are
// dropped, anything else refused.
func dialable(number string) (string, error) {
	n, err := cleanNumber(number)
	if err != nil || n == "" {
		return "", fmt.Errorf("%w: %q", tel.ErrBadNumber, cleanText(number, maxNumber))
	}
	return n, nil
}

var offerReasons = map[string]tel.OfferReason{
	"no_answer": tel.OfferNoAnswer, "declined": tel.OfferDeclined,
	"cancelled": tel.OfferCancelled, "answered_elsewhere": tel.OfferAnsweredElsewhere,
}

var abandonReasons = map[string]tel.AbandonReason{
	"hung_up": tel.AbandonHungUp, "left_queue": tel.AbandonLeftQueue,
}

var endedBy = map[string]tel.EndedBy{
	"caller": tel.EndedByCaller, "agent": tel.EndedByAgent, "transfer": tel.EndedByTransfer, "": tel.EndedByUnknown, "unknown": tel.EndedByUnknown,
}

var devices = map[string]tel.Device{
	"": tel.DeviceUnknown, "unknown": tel.DeviceUnknown, "idle": tel.DeviceIdle, "in_use": tel.DeviceInUse,
	"busy": tel.DeviceBusy, "ringing": tel.DeviceRinging, "unavailable": tel.DeviceUnavailable,
}
