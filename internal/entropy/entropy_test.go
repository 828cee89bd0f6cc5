package entropy

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestWeakSecretsAreRefusedWhateverTheirLength(t *testing.T) {
	for _, s := range []string{
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",   // one character repeated
		"0123456789abcdef0123456789abcdef",   // sequences
		"abcdefghijklmnopqrstuvwxyz",         // the alphabet
		"motdepasse-mairie-2024!",            // words and a year
		"AdminAdminAdminAdminAdmin",          // a word repeated
		"azertyuiopqsdfghjklmwxcvbn",         // a keyboard row… and more
		"Guichet2024Guichet2024",             // a repeated pattern
		"passwordpassword1234567890",         // words and a run
		"9876543210987654321098765432109876", // a run downwards
	} {
		if err := Check("TOKEN", s); err == nil {
			t.Errorf("%q accepted (about %.0f bits)", s, Estimate(s))
		} else if strings.Contains(err.Error(), s) {
			t.Errorf("the refusal repeats the secret: %v", err)
		}
	}
	if err := Check("TOKEN", "x7#Qp"); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("a short secret: %v", err)
	}
}

func TestRandomSecretsPass(t *testing.T) {
	for i := 0; i < 200; i++ {
		b := make([]byte, 24)
		rand.Read(b)
		for _, s := range []string{base64.RawURLEncoding.EncodeToString(b), base64.StdEncoding.EncodeToString(b), hex.EncodeToString(b[:16])} {
			if err := Check("TOKEN", s); err != nil {
				t.Fatalf("%q (random): %v", s, err)
			}
		}
	}
	// What the hub itself writes into admin-token: 24 random bytes, base64url.
	if bits := Estimate("Jq1yW5aRZ0h-8yX3mE2b_P4cN7kTt9Lv"); bits < 150 {
		t.Fatalf("a random 32-character token estimated at %.0f bits", bits)
	}
}
