package api

import (
	"fmt"
	"strconv"
)

// A ticket's display number is its service's letter and at least three
// digits: "A042", "E901", "B1234". Numbers start at 1 each day and service;
// kiosks print from their leased blocks (901 and up) when the hub does not
// answer.

// MaxNumber is the largest number a ticket can have.
const MaxNumber = 99_999

// FormatNumber formats a display number: FormatNumber("A", 42) is "A042".
func FormatNumber(prefix string, n int) string { return fmt.Sprintf("%s%03d", prefix, n) }

// ParseNumber reads a display number: its service letter and its number.
// ok is false for anything FormatNumber does not produce for a service
// letter (one capital A–Z) and a number from 1 to MaxNumber.
func ParseNumber(display string) (prefix string, n int, ok bool) {
	if len(display) < 4 || len(display) > 6 || display[0] < 'A' || display[0] > 'Z' {
		return "", 0, false
	}
	digits := display[1:]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > MaxNumber || FormatNumber(display[:1], n) != display {
		return "", 0, false
	}
	return display[:1], n, true
}
