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

// A queue summary whose range of waits is out of bounds is refused, as its
// single estimate is: a screen would print it.
func TestQueueWithAWaitRangeOutOfBoundsIsRefused(t *testing.T) {
	for _, field := range []string{"estimated_wait_min_s", "estimated_wait_max_s", "estimated_wait_phone_min_s", "estimated_wait_phone_max_s"} {
		for _, v := range []string{"-1", "99999999"} {
			p := `{"services":[{"service":"A","estimated_wait_s":600,"` + field + `":` + v + `}]}`
			if _, err := ParseQueue([]byte(p)); err == nil {
				t.Errorf("%s = %s accepted", field, v)
			}
		}
	}
	if _, err := ParseQueue([]byte(`{"services":[{"service":"A","estimated_wait_s":600,"estimated_wait_min_s":300,"estimated_wait_max_s":900}]}`)); err != nil {
		t.Errorf("a sound range refused: %v", err)
	}
}
