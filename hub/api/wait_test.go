package api

import "testing"

func TestWaitRangeIsShownInWholeMinutesRoundedOutwards(t *testing.T) {
	for _, c := range []struct {
		lang      string
		low, high int
		want      string
	}{
		{"fr", 610, 1190, "entre 10 et 20 min"},
		{"fr", 659, 1141, "entre 10 et 20 min"},
		{"fr", 0, 300, "moins de 5 min"},
		{"fr", 0, 0, "moins de 5 min"},
		{"fr", 120, 301, "entre 2 et 6 min"},
		{"fr", 4200, 6000, "entre 1 h 10 et 1 h 40"},
		{"en", 610, 1190, "10 to 20 min"},
		{"en", 10, 200, "under 5 min"},
	} {
		if got := FormatWait(c.lang, c.low, c.high); got != c.want {
			t.Errorf("FormatWait(%s, %d, %d) = %q, want %q", c.lang, c.low, c.high, got, c.want)
		}
	}
}
