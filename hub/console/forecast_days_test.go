package console

import (
	"testing"
	"time"
)

// A day's place in the forecast's week does not move across the
// daylight-saving changes (Paris: 28 March and 31 October 2027).
func TestDaysFromCountsCalendarDaysAcrossDaylightSaving(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, paris) }
	for _, c := range []struct {
		from, t time.Time
		want    int
	}{
		{at(2027, 3, 22, 0, 0), at(2027, 3, 22, 14, 0), 0},
		{at(2027, 3, 22, 0, 0), at(2027, 3, 28, 23, 30), 6},
		{at(2027, 3, 22, 0, 0), at(2027, 3, 29, 0, 30), 7},
		{at(2027, 10, 25, 0, 0), at(2027, 10, 31, 23, 59), 6},
		{at(2027, 10, 25, 0, 0), at(2027, 11, 1, 0, 1), 7},
		{at(2027, 10, 25, 0, 0), at(2027, 10, 31, 22, 30).UTC(), 6}, // a time in another zone
	} {
		if got := daysFrom(c.from, c.t); got != c.want {
			t.Errorf("daysFrom(%s, %s) = %d, want %d", c.from, c.t, got, c.want)
		}
	}
}
