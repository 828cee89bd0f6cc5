package api

import "testing"

func TestNumberRoundTrip(t *testing.T) {
	for _, c := range []struct {
		prefix string
		n      int
		want   string
	}{{"A", 1, "A001"}, {"E", 42, "E042"}, {"B", 901, "B901"}, {"Z", 1234, "Z1234"}, {"C", MaxNumber, "C99999"}} {
		got := FormatNumber(c.prefix, c.n)
		if got != c.want {
			t.Errorf("FormatNumber(%q, %d) = %q, want %q", c.prefix, c.n, got, c.want)
		}
		p, n, ok := ParseNumber(got)
		if !ok || p != c.prefix || n != c.n {
			t.Errorf("ParseNumber(%q) = %q %d %v", got, p, n, ok)
		}
	}
}

func TestParseNumberRefusesWhatIsNotANumber(t *testing.T) {
	for _, bad := range []string{"", "A", "A1", "A01", "a042", "AA42", "A04x", "A000", "A0042", "É042", "A-42", "A+42", "A100000", "1042"} {
		if p, n, ok := ParseNumber(bad); ok {
			t.Errorf("ParseNumber(%q) = %q %d, want refused", bad, p, n)
		}
	}
}
