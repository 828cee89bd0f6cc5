package kiosk

import (
	"bytes"
	"testing"
	"time"
)

// The ticket prints the hub's range, as the screen and the phone show it,
// not a single number ("environ 13 min" announced a precision nobody has).
func TestTicketPrintsTheWaitAsARange(t *testing.T) {
	wait := 13 * time.Minute
	l := Layout{Site: "Mairie"}
	b, err := l.Ticket(TicketInfo{Number: "A042", Service: "État civil", IssuedAt: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC),
		Wait: &wait, WaitLow: 7*time.Minute + 20*time.Second, WaitHigh: 20*time.Minute + 10*time.Second, Lang: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("entre 7 et 21 min")) {
		t.Fatalf("the ticket does not print the range: %q", b)
	}
	if bytes.Contains(b, []byte("environ")) {
		t.Fatalf("the ticket still prints a single number: %q", b)
	}
}
