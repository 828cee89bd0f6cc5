package hub

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/hub/store"
	"guichet/internal/clock"
)

// A simulated day played at ×600 and at ×1, in virtual time, on a hub that
// takes the day's clock: the same waits announced at every step. On the
// real clock the ×600 day measured service times 600 times too short (the
// demo's screen showed "~1 h 34" for five people).
func TestASimulatedDayAtAnySpeedGivesTheSameEstimates(t *testing.T) {
	fast, slow := playScriptedDay(t, 600), playScriptedDay(t, 1)
	if len(fast) == 0 || !slices.Contains(fast, "A:known") {
		t.Fatalf("the day announced no wait: %v", fast)
	}
	if !slices.Equal(fast, slow) {
		for i := range min(len(fast), len(slow)) {
			if fast[i] != slow[i] {
				t.Fatalf("step %d: ×600 announced %s, ×1 %s", i, fast[i], slow[i])
			}
		}
		t.Fatalf("×600 gave %d steps, ×1 %d", len(fast), len(slow))
	}
}

// playScriptedDay plays, at speed, one agent serving service A for
// fixed times while citizens arrive every four minutes, in a synctest
// bubble, and returns the waits the hub announced after every step, in
// simulated seconds.
func playScriptedDay(t *testing.T, speed float64) (announced []string) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		site := queue.Site{ID: "sim", Location: time.UTC, Policy: queue.DefaultPolicy()}
		site.Policy.IgnoreHours = true
		site.Services = []queue.Service{{ID: "A", SLA: 20 * time.Minute, Channels: []queue.Channel{queue.Visit}, ServiceTime: 5 * time.Minute}}
		site.Counters = []queue.Counter{{ID: "1"}}
		site.Agents = []queue.Agent{{ID: "a1", Skills: map[string]int{"A": 1}}}
		st, err := store.Open(filepath.Join(dir, fmt.Sprintf("x%g.db", speed)), quiet)
		if err != nil {
			t.Fatal(err)
		}
		day := clock.New(time.UTC, speed)
		h, err := New(Options{Site: site, Store: st, Log: quiet, Clock: day.Now})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		do := func(act Action, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.Do(ctx, "", "sim", act, discard); err != nil {
				t.Fatal(err)
			}
		}
		look := func() {
			h.Read(func(e *queue.Engine) {
				for _, s := range QueueView(e, h.Now()).Services {
					if s.EstimatedWait == nil {
						announced = append(announced, s.Service+":unknown")
						continue
					}
					announced = append(announced, s.Service+":known",
						fmt.Sprintf("%d %d %d", *s.EstimatedWait, *s.EstimatedWaitMin, *s.EstimatedWaitMax))
				}
			})
		}
		do(CounterAction(api.OpOpen, "1", &api.OpenArgs{Agent: "a1"}))
		// Service times in multiples of 6 s, so that each lasts a whole
		// number of nanoseconds at ×600.
		times := []time.Duration{6 * time.Minute, 3 * time.Minute, 9 * time.Minute, 4 * time.Minute, 7 * time.Minute, 5 * time.Minute}
		for i := range 12 {
			do(IssueTicket(api.IssueArgs{Service: "A"}, ""), nil)
			look()
			if i%2 == 1 {
				do(CounterAction(api.OpCallNext, "1", nil))
				day.Sleep(ctx, times[i/2])
				do(CounterAction(api.OpFinish, "1", nil))
				look()
			}
			day.Sleep(ctx, 4*time.Minute)
		}
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	})
	return announced
}
