package crm

import (
	"errors"
	"testing"
)

func TestNormalizePhoneGivesOneFormForEveryWriting(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// The four writings of one mobile.
		{"06 12 34 56 78", "+33612345678"},
		{"06.12.34.56.78", "+33612345678"},
		{"+33 6 12 34 56 78 ", "+33612345678"},
		{"0033612345678", "+33612345678"},
		// More writings.
		{"0612345678", "+33612345678"},
		{"06-12-34-56-78", "+33612345678"},
		{"(0)6 12 34 56 78", "+33612345678"},
		{"+33 (0)6 12 34 56 78", "+33612345678"},
		{"  07 81 23 45 67\t", "+33781234567"},
		{"06/12/34/56/78", "+33612345678"},
		{"06\u00a012\u00a034\u00a056\u00a078", "+33612345678"},
		// Landlines and special numbers.
		{"01 43 98 65 00", "+33143986500"},
		{"04.72.10.30.30", "+33472103030"},
		{"09 70 80 90 00", "+33970809000"},
		// Overseas departments, written the French way or with their code.
		{"0690 12 34 56", "+590690123456"}, // Guadeloupe mobile
		{"0590 82 00 00", "+590590820000"}, // Guadeloupe landline
		{"0696 12 34 56", "+596696123456"}, // Martinique
		{"0694 20 12 34", "+594694201234"}, // Guyane
		{"0692 12 34 56", "+262692123456"}, // La Réunion
		{"0262 90 00 00", "+262262900000"}, // La Réunion landline
		{"0639 69 12 34", "+262639691234"}, // Mayotte
		{"+590 690 12 34 56", "+590690123456"},
		// International.
		{"+44 20 7946 0958", "+442079460958"},
		{"0049 30 901820", "+4930901820"},
		{"+1 (202) 555-0175", "+12025550175"},
		{"+32 2 513 89 40", "+3225138940"},
	} {
		got, err := NormalizePhone(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizePhoneRefusesJunkWithAClearError(t *testing.T) {
	for _, in := range []string{
		"", "   ", "abc", "06 12 34", "0612", "06 12 34 56 78 90 12 34 56", "06 12 AB 56 78",
		"+33 6 12 34 56 7", "1234567890123456789", "00 00 00 00 00", "06 12 34 56 78 ext 12", "jean@example.fr",
		"++33612345678", "06 12 34 56 78 06 12 34 56 78 06 12 34 56 78",
	} {
		got, err := NormalizePhone(in)
		if err == nil || !errors.Is(err, ErrPhone) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want an ErrPhone", in, got, err)
		}
	}
}
