// Package entropy estimates how hard a secret chosen by a person is to
// guess, to refuse weak ones where the hub takes a secret from its
// operator (GUICHET_ADMIN_TOKEN, GUICHET_MQTT_PASSWORD). Secrets the hub
// makes itself are random and need no estimate.
package entropy

import (
	"fmt"
	"math"
	"strings"
	"unicode"
)

// The rule a secret must pass.
const (
	MinLength = 16 // characters
	MinBits   = 80 // estimated bits (ANSSI's floor for a secret that may be attacked offline)
)

// wordBits is what a word of the list costs a guesser: one choice among a
// few thousand common words and names.
const wordBits = 12

// words people put in secrets, lower case; longest first where one holds
// another. A word of the list counts wordBits however long it is.
var words = []string{
	"motdepasse", "password", "passwort", "administrateur", "administrator", "bienvenue", "changeme",
	"iloveyou", "sunshine", "football", "princess", "welcome", "letmein", "default", "monkey", "dragon",
	"master", "secret", "soleil", "bonjour", "guichet", "mairie", "accueil", "token", "jeton", "admin",
	"azerty", "qwerty", "qwertz", "asdfgh", "hello", "passe", "login", "root", "user", "test", "demo",
	"pass", "ville",
}

// Estimate returns a pessimistic estimate of s's entropy in bits:
//
//   - a secret made of a shorter string repeated ("abcabcabc") counts that
//     string once;
//   - a word of a list of common words ("password", "mairie", "azerty"…),
//     in any case, counts 12 bits;
//   - every other character counts log2 of the alphabet the secret draws
//     from (the union of the classes it uses: 26 lower-case letters, 26
//     upper-case, 10 digits, 33 other ASCII signs, 100 for anything else),
//     except a character that repeats the one before it or follows it in
//     sequence ("aa", "ab", "21"), which counts 1 bit.
func Estimate(s string) float64 {
	r := []rune(period(s))
	lower := []rune(strings.ToLower(string(r)))
	covered := make([]bool, len(r))
	bits := 0.0
	for i := 0; i < len(r); {
		if w := wordAt(lower, i); w > 0 {
			for k := i; k < i+w; k++ {
				covered[k] = true
			}
			bits += wordBits
			i += w
			continue
		}
		i++
	}
	alphabet := 0
	var lo, up, dg, sy, other bool
	for i, c := range r {
		if covered[i] {
			continue
		}
		switch {
		case c >= 'a' && c <= 'z':
			lo = true
		case c >= 'A' && c <= 'Z':
			up = true
		case c >= '0' && c <= '9':
			dg = true
		case c < unicode.MaxASCII:
			sy = true
		default:
			other = true
		}
	}
	for _, class := range []struct {
		in   bool
		size int
	}{{lo, 26}, {up, 26}, {dg, 10}, {sy, 33}, {other, 100}} {
		if class.in {
			alphabet += class.size
		}
	}
	per := math.Log2(float64(max(alphabet, 2)))
	for i, c := range r {
		if covered[i] {
			continue
		}
		if i > 0 && (c == r[i-1] || c == r[i-1]+1 || c == r[i-1]-1) {
			bits++
			continue
		}
		bits += per
	}
	return bits
}

// period returns the shortest string whose repetition makes s (s itself
// when there is none): "abcabcab" → "abc".
func period(s string) string {
	r := []rune(s)
	for p := 1; p <= len(r)/2; p++ {
		rep := true
		for i := p; i < len(r); i++ {
			if r[i] != r[i-p] {
				rep = false
				break
			}
		}
		if rep {
			return string(r[:p])
		}
	}
	return s
}

// wordAt returns the length of the longest listed word at r[i:], or 0.
func wordAt(r []rune, i int) int {
	best := 0
	for _, w := range words {
		n := len(w) // ASCII words
		if n > best && i+n <= len(r) && string(r[i:i+n]) == w {
			best = n
		}
	}
	return best
}

// Check refuses a secret shorter than MinLength or estimated under
// MinBits. name is what the operator set ("GUICHET_ADMIN_TOKEN"); the
// error says the rule, never the secret.
func Check(name, secret string) error {
	n := len([]rune(secret))
	if n < MinLength {
		return fmt.Errorf("%s is %d characters: at least %d are needed, drawn at random (for example: openssl rand -base64 24)", name, n, MinLength)
	}
	if bits := Estimate(secret); bits < MinBits {
		return fmt.Errorf("%s is too easy to guess: about %.0f bits of entropy, at least %d are needed. "+
			"Draw it at random (for example: openssl rand -base64 24); words, repeated characters and sequences like 1234 or abcd count little", name, bits, MinBits)
	}
	return nil
}
