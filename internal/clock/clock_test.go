package clock

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
	_ "time/tzdata" // the zone's rules embedded: the test never depends on the machine's
)

// At ×60 an hour of the day lasts a real minute, and the evening after
// closing is skipped: 17:30 is followed by the next day's 08:30.
func TestTheDayRunsAtItsSpeedAndSkipsTheNight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			t.Fatal(err)
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

// A kept data directory's log may hold today's simulated day, or later ones:
// the next simulated day opens the morning after the last event, never
// before it.
func TestADayStartedAfterALogOpensTheMorningAfterItsLastEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		today := New(paris, 60).Now()
		if got := NewAfter(paris, 60, time.Time{}).Now(); !got.Equal(today) {
			t.Fatalf("with an empty log the day opens at %s, want %s", got, today)
		}
		if got := NewAfter(paris, 60, today.Add(-time.Hour)).Now(); !got.Equal(today) {
			t.Fatalf("after a log that ends yesterday evening the day opens at %s, want %s", got, today)
		}
		last := today.AddDate(0, 0, 2).Add(7 * time.Hour) // 15:30, two days on
		got := NewAfter(paris, 60, last).Now()
		if want := today.AddDate(0, 0, 3); !got.Equal(want) {
			t.Fatalf("after a log that ends %s the day opens at %s, want %s", last, got, want)
		}
		if got.Format("15:04") != "08:30" {
			t.Fatalf("opens at %s", got.Format("15:04"))
		}
	})
}
