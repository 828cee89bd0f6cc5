package clock

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// At ×60 an hour of the day lasts a real minute, and the evening after
// closing is skipped: 17:30 is followed by the next day's 08:30.
func TestTheDayRunsAtItsSpeedAndSkipsTheNight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			t.Skip("no time zone data:", err)
		}
		c := New(paris, 60)
		if got := c.Now().Format("15:04"); got != "08:30" {
			t.Fatalf("the day opens at %s", got)
		}
		time.Sleep(time.Minute)
		if got := c.Now().Format("15:04"); got != "09:30" {
			t.Fatalf("a real minute later at ×60: %s", got)
		}
		first := c.Now()
		if !c.Sleep(context.Background(), 8*time.Hour) {
			t.Fatal("Sleep ended early")
		}
		if got := c.Now(); got.Format("15:04") != "08:30" || got.YearDay() != first.YearDay()+1 {
			t.Fatalf("eight simulated hours after 09:30: %s, want the next day's 08:30", got)
		}
		if day, at := c.Clock(); day != 1 || at != 0 {
			t.Fatalf("Clock: day %d, %v since opening", day, at)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if c.Sleep(ctx, time.Hour) {
			t.Fatal("Sleep outlived its context")
		}
	})
}
