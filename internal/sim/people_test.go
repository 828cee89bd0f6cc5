package sim

import (
	"testing"
	"unicode/utf8"

	"guichet/hub/crm"
)

// Every generated citizen is one the citizen file takes: a family name,
// numbers in service, an e-mail address.
func TestGeneratedCitizensAreValid(t *testing.T) {
	for i, c := range People(1, 2000) {
		if !utf8.ValidString(c.FamilyName) || c.FamilyName == "" || c.FirstNames == "" {
			t.Fatalf("citizen %d: %+v", i, c)
		}
		for _, p := range c.Phones {
			if _, err := crm.NormalizePhone(p); err != nil {
				t.Fatalf("citizen %d: %q: %v", i, p, err)
			}
		}
	}
}
