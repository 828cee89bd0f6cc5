package crm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrPhone is returned for a phone number that is not one.
var ErrPhone = errors.New("not a phone number")

// overseas are the regions tried, after France, for a number written the
// French way: 0690… (Guadeloupe), 0696… (Martinique), 0694… (Guyane),
// 0692…/0693… (La Réunion), 0639… (Mayotte), Saint-Pierre-et-Miquelon,
// Saint-Barthélemy, Saint-Martin. From metropolitan France they are dialled
// with a leading 0 like any French number, but their country codes differ.
var overseas = []string{"GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"}

// NormalizePhone returns a phone number in E.164 form (+33612345678),
// whatever its writing: spaces, dots, dashes, slashes, parentheses, a
// leading +33, 0033 or 0, trailing blanks. Numbers without a country code
// are French, overseas departments included. Anything else — letters, too
// few or too many digits, a number no operator could have — is refused with
// an error that wraps ErrPhone.
func NormalizePhone(s string) (string, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return "", fmt.Errorf("%w: empty", ErrPhone)
	}
	if len(in) > 40 {
		return "", fmt.Errorf("%w: longer than 40 characters", ErrPhone)
	}
	digits := 0
	for i, r := range in {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case strings.ContainsRune(" .-/()\u00a0", r):
		default:
			// phonenumbers would read letters as a keypad (vanity numbers):
			// at a town hall's desk a letter is a typing mistake.
			return "", fmt.Errorf("%w: %q is not allowed in a phone number", ErrPhone, r)
		}
	}
	if digits < 8 || digits > 17 {
		return "", fmt.Errorf("%w: %d digits", ErrPhone, digits)
	}
	for _, region := range append([]string{"FR"}, overseas...) {
		n, err := phonenumbers.Parse(in, region)
		if err != nil {
			continue
		}
		if phonenumbers.IsValidNumber(n) {
			return phonenumbers.Format(n, phonenumbers.E164), nil
		}
		if strings.HasPrefix(in, "+") || strings.HasPrefix(in, "00") {
			break // an international number: no other region will read it differently
		}
	}
	return "", fmt.Errorf("%w: no such number", ErrPhone)
}
