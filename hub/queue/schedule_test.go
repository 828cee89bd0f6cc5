package queue

import (
	"testing"
	"time"

	"guichet/hub/api"
)

// Bob alone serves B (12 min a ticket), from 09:00 to 09:30 and from 10:30:
// at 09:10, busy since 09:00, three tickets come.
//
// At his pace (rule 4) the third is 2.5 calls away: 20 minutes of Bob
// before his break serve 1⅔ of them, the last ⅚ takes him 10 minutes after
// it — 1 h 30 (10:40), not the 30 minutes his pace alone says. Without
// stated hours, 30 minutes.
//
// Played (rule 7, what the hub shows): the ticket under way for 10 minutes
// of a 12-minute mean (log-normal, σ 0.5) has 6 min 4 s left on average;
// Bob calls T2 at 09:16:04 and T3 at 09:28:04, still within his hours; when
// he is done, at 09:40:04, his break has begun: he calls T4 at 10:30, 1 h 20
// after it came. Without stated hours, 6 min 4 s + 2 × 12 min.
func TestAnAgentsBreakIsInTheWait(t *testing.T) {
	for _, c := range []struct {
		hours      bool
		pace, want time.Duration
	}{{true, 90 * time.Minute, 80 * time.Minute}, {false, 30 * time.Minute, 30*time.Minute + 4*time.Second}} {
		site := testSite()
		if c.hours {
			site.Agents[1].Hours = hoursOnDay0(Span{From: 9 * 60, To: 9*60 + 30}, Span{From: 10*60 + 30, To: 12 * 60}) // bob
		}
		h := newHarness(t, site)
		h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "bob"}) })
		h.issue(issueReq{ID: "T1", Service: "B"})
		h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
		h.tick(10 * time.Minute)
		for _, id := range []string{"T2", "T3", "T4"} {
			h.issue(issueReq{ID: id, Service: "B"})
		}
		if _, est := h.e.EstimateWith(PredictPace, h.now, "T4"); !est.Known || est.Wait != c.pace {
			t.Errorf("hours stated %v, at the pace: T4 waits %+v, want %s", c.hours, est, c.pace)
		}
		if _, est, _ := h.e.Estimate(h.now, "T4"); !est.Known || est.Wait != c.want {
			t.Errorf("hours stated %v, played: T4 waits %+v, want %s", c.hours, est, c.want)
		}
	}
}

// reachCalls: a rate that stops and starts again, and one that stops for good
// (the rest is served at the first rate, past the day's end).
func TestReachFollowsTheRateChanges(t *testing.T) {
	perMin := 1 / float64(time.Minute)
	ch := []rateChange{{day0.Add(10 * time.Minute), -perMin}, {day0.Add(60 * time.Minute), perMin}}
	if got := reachCalls(day0, perMin, ch, 15); got != 65*time.Minute {
		t.Errorf("15 calls: %s, want 1h05m", got)
	}
	if got := reachCalls(day0, perMin, ch[:1], 15); got != 15*time.Minute {
		t.Errorf("15 calls, nobody after 10 min: %s, want 15m (5 past the end at the first rate)", got)
	}
}
