package queue

import (
	"fmt"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"
)

// What the engine accepts. Every text, number and time a request brings is
// bounded here, whatever transport carried it, so that what the engine
// accepts every view can show and every event can be encoded later:
//
//   - texts are valid UTF-8, without control characters, and short;
//   - numbers lie within their ranges;
//   - times lie within a window around the operation's time (By.At, the
//     hub's clock), which keeps them within years 1 to 9999 in every time
//     zone, where encoding/json can write them.
//
// Apply holds what it takes from the log to the same windows (see clamp),
// so a log written by an older build that accepted more cannot break a view.
const (
	MaxIDLen     = 64  // ids: tickets, counters, agents, services, devices, tokens
	MaxTextLen   = 200 // free texts (reasons) and citizen ids, which come from other software
	MaxLangLen   = 16  // a language tag: "fr", "zh-Hant-TW"
	MaxLeaseSize = 500

	// MaxClockSkew is how far ahead of the hub's clock a kiosk's clock may
	// run: a ticket printed offline later than that is refused. (Its place
	// is never later than the hub's clock, so a skew gains nothing.)
	MaxClockSkew = 5 * time.Minute
	// MaxOfflineAge is how long after printing a ticket offline a kiosk may
	// still bring it to the hub.
	MaxOfflineAge = 24 * time.Hour
	// An appointment is booked from a day in the past (a booking platform
	// that sends the day's list late) to a year ahead.
	BookBehind = 24 * time.Hour
	BookAhead  = 366 * 24 * time.Hour
	// An appointment ticket is for a slot within a day of its issue.
	SlotWindow = 24 * time.Hour
	// LeaseAhead is how many days ahead a lease may be granted.
	LeaseAhead = 7
)

// validText reports whether s is at most max bytes of UTF-8 without control
// characters (NUL, line breaks, escapes: none belongs in an id or a reason,
// and each can forge a log line or a screen).
func validText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !containsControl(s)
}

// validID reports whether s can be an id: 1 to MaxIDLen bytes of text.
func validID(s string) bool { return s != "" && validText(s, MaxIDLen) }

func containsControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

var langRe = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

// validLang reports whether s is empty or a language tag ("fr", "pt-BR").
func validLang(s string) bool { return s == "" || len(s) <= MaxLangLen && langRe.MatchString(s) }

// human writes a bound for people: "2 minutes", "a day", "366 days".
func human(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return "a day"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}

// within reports whether t lies in [now-before, now+after].
func within(t, now time.Time, before, after time.Duration) bool {
	return !t.Before(now.Add(-before)) && !t.After(now.Add(after))
}

// clamp holds a time read from the log within [at-before, at+after]; it
// counts what it had to move.
func (e *Engine) clamp(t, at time.Time, before, after time.Duration) time.Time {
	if t.IsZero() {
		return t
	}
	lo, hi := at.Add(-before), at.Add(after)
	switch {
	case t.Before(lo):
		e.clamped++
		return lo
	case t.After(hi):
		e.clamped++
		return hi
	}
	return t
}

// Clamped returns how many times read from the log lay outside what the
// engine accepts now and were held within it (written by an older build).
func (e *Engine) Clamped() int64 { return e.clamped }
