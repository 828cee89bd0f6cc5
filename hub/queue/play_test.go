package queue

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"guichet/hub/api"
)

// Rule 7 on hand-computable queues: the estimate is when the policy, played
// forward, calls the ticket.

// Ana (A3 B1) is alone; a passport file (B, 12 min) has waited 35 minutes,
// past its 30-minute target, when two état civil tickets (A, 6 min) come.
// The overdue tier goes first: B1 at once, A1 at 12 min, A2 at 18, a new A
// ticket at 24 — the agents' pace, which splits Ana by skill, says otherwise.
func TestThePlayFollowsThePolicyAcrossServices(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	h.must(func(b By) ([]Event, error) { return h.e.Pause(b, "1", api.PauseArgs{Reason: "réunion"}) })
	h.issue(issueReq{ID: "B1", Service: "B"})
	h.tick(35 * time.Minute)
	h.issue(issueReq{ID: "A1", Service: "A"})
	a2 := h.issue(issueReq{ID: "A2", Service: "A"})
	h.must(func(b By) ([]Event, error) { return h.e.Resume(b, "1") })
	if _, est, _ := h.e.Estimate(h.now, a2); !est.Known || est.Wait != 18*time.Minute {
		t.Errorf("A2 waits %+v, want 18m (behind the overdue B1 and A1)", est)
	}
	if s := summaryOf(t, h.e, h.now, "A"); s.EstimatedWait != 24*time.Minute {
		t.Errorf("a new A ticket: %s, want 24m", s.EstimatedWait)
	}
	if _, est := h.e.EstimateWith(PredictPace, h.now, a2); est.Wait == 18*time.Minute {
		t.Errorf("the pace gives the played answer too (%s): the test shows nothing", est.Wait)
	}
}

// The play learns from the log how long a lane's tickets keep an agent and
// how long the agent pauses before the next call: Ana serves état civil in
// 3 minutes and calls again 30 seconds later. With her last citizen just
// come and two waiting, a new ticket waits 3 min + 30 s, twice 3 min 30 s
// more: 10 min 30 s (the service's stated 6 minutes would say 18).
func TestThePlayLearnsTheLanesOccupationAndTheAgentsPause(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	for i := range 8 {
		h.issue(issueReq{ID: fmt.Sprintf("L%d", i), Service: "A"})
		h.next("1")
		h.tick(3 * time.Minute)
		h.must(func(b By) ([]Event, error) { return h.e.Finish(b, "1") })
		h.tick(30 * time.Second)
	}
	if mean, _ := h.e.occupied(Lane{"A", Visit}); mean != 3*time.Minute {
		t.Fatalf("A's occupation learnt %s, want 3m", mean)
	}
	if w := h.e.wrapOf("ana"); w != 30*time.Second {
		t.Fatalf("ana's pause learnt %s, want 30s", w)
	}
	h.issue(issueReq{ID: "N0", Service: "A"})
	h.next("1")
	h.issue(issueReq{ID: "N1", Service: "A"})
	h.issue(issueReq{ID: "N2", Service: "A"})
	if s := summaryOf(t, h.e, h.now, "A"); s.EstimatedWait != 10*time.Minute+30*time.Second {
		t.Errorf("a new A ticket: %s, want 10m30s", s.EstimatedWait)
	}
}

// Carl (A1 C1) states his hours: 08:00–09:05 and 09:30–12:00. He worked at
// counter 2 this morning and left at 09:05. At 09:10 six A tickets wait and
// Ana is free: she calls them every 6 minutes (09:10, :16, :22, :28), Carl
// back at 09:30 takes the fifth, Ana the sixth at 09:34, and a new ticket
// is called at 09:36 — 26 minutes. Without Carl's hours, Ana alone: 36.
func TestAnAgentAwayJoinsThePlayWhenTheirHoursSay(t *testing.T) {
	for _, c := range []struct {
		hours bool
		want  time.Duration
	}{{true, 26 * time.Minute}, {false, 36 * time.Minute}} {
		site := testSite()
		if c.hours {
			site.Agents[2].Hours = hoursOnDay0(Span{From: 8 * 60, To: 9*60 + 5}, Span{From: 9*60 + 30, To: 12 * 60}) // carl
		}
		h := newHarness(t, site)
		h.open("1", "ana")
		h.open("2", "carl")
		h.tick(5 * time.Minute)
		h.must(func(b By) ([]Event, error) { return h.e.CloseCounter(b, "2") })
		h.tick(5 * time.Minute)
		for i := range 6 {
			h.issue(issueReq{ID: fmt.Sprintf("A%d", i), Service: "A"})
		}
		if s := summaryOf(t, h.e, h.now, "A"); s.EstimatedWait != c.want {
			t.Errorf("carl's hours stated %v: a new A ticket waits %s, want %s", c.hours, s.EstimatedWait, c.want)
		}
	}
}

// A ticket with more than PlayLimit people ahead is estimated at the
// agents' pace (rule 4): the play's cost has a bound, whatever the queue.
func TestALongQueueIsEstimatedAtThePace(t *testing.T) {
	site := testSite()
	site.Policy.CloseWhenFull = false
	h := newHarness(t, site)
	h.open("1", "ana")
	var last string
	for i := range PlayLimit + 2 {
		last = h.issue(issueReq{ID: fmt.Sprintf("Q%03d", i), Service: "A"})
	}
	_, shown, _ := h.e.Estimate(h.now, last)
	_, pace := h.e.EstimateWith(PredictPace, h.now, last)
	if !shown.Known || shown.Wait != pace.Wait {
		t.Errorf("%d ahead: shown %+v, want the pace's %+v", PlayLimit+1, shown, pace)
	}
	// Within the limit the play decides, and says otherwise here (Ana is
	// free: the first ticket is called at once, the pace counts half a
	// service for it).
	_, shown, _ = h.e.Estimate(h.now, "Q002")
	_, pace = h.e.EstimateWith(PredictPace, h.now, "Q002")
	if shown.Wait != 12*time.Minute || shown.Wait == pace.Wait {
		t.Errorf("2 ahead: shown %s (pace %s), want 12m played", shown.Wait, pace.Wait)
	}
}

// What is left of a service under way: all of it at its start, less as it
// lasts, never below zero, and a little when it has lasted far beyond the
// law (an agent who forgot to finish).
func TestRemainingFollowsTheTimeElapsed(t *testing.T) {
	mean := 12 * time.Minute
	for _, c := range []struct {
		elapsed, want time.Duration
	}{
		{0, 12 * time.Minute},
		{10 * time.Minute, 6*time.Minute + 4*time.Second},
		{4 * time.Hour, mean / 10},
	} {
		if got := remaining(mean, DefaultSpread, c.elapsed).Round(time.Second); got != c.want {
			t.Errorf("after %s: %s left, want %s", c.elapsed, got, c.want)
		}
	}
	prev := mean
	for e := time.Minute; e < time.Hour; e += time.Minute {
		r := remaining(mean, DefaultSpread, e)
		if r < 0 || r > prev+time.Minute {
			t.Fatalf("after %s: %s left (before: %s)", e, r, prev)
		}
		prev = r
	}
}

// Citizens keep coming in the play, at each lane's recent pace: six
// priority-public citizens came at 09:00, :10, … :50 (and left), one every
// 8 min 20 s up to 09:50. Ana opens at 09:50 with two état civil tickets
// waiting. She calls them at 09:50 and 09:56; at 10:02 the priority citizen
// who came at 09:58:20 goes first, then at 10:08 the one of 10:06:40; at
// 10:14 the next (10:15) is not there yet and a new ticket is called: 24
// minutes. Nobody to come would say 12.
func TestCitizensStillToComeAreInThePlay(t *testing.T) {
	site := testSite()
	site.Policy.CloseWhenFull = false
	h := newHarness(t, site)
	for i := range ArrivalMin {
		if i > 0 {
			h.tick(10 * time.Minute)
		}
		id := h.issue(issueReq{ID: fmt.Sprintf("P%d", i), Service: "A", Priority: PriorityPublic})
		h.must(func(b By) ([]Event, error) { return h.e.Cancel(b, api.CancelArgs{Ticket: id, Reason: "left"}) })
	}
	h.issue(issueReq{ID: "T1", Service: "A"})
	h.issue(issueReq{ID: "T2", Service: "A"})
	h.open("1", "ana")
	if s := summaryOf(t, h.e, h.now, "A"); s.EstimatedWait != 24*time.Minute {
		t.Errorf("a new A ticket: %s, want 24m", s.EstimatedWait)
	}
	priority := laneKey{"A", Visit, PriorityPublic}
	if gap := h.e.arrivalGap(priority, h.now); gap != 8*time.Minute+20*time.Second {
		t.Errorf("priority public comes every %s, want 8m20s", gap)
	}
	// An hour later with nobody come, the lane has slowed down: 110 min ÷ 6.
	if gap := h.e.arrivalGap(priority, h.now.Add(time.Hour)); gap != 18*time.Minute+20*time.Second {
		t.Errorf("an hour later, every %s, want 18m20s", gap)
	}
}

// A family that comes together is not a pace: six priority tickets within
// a minute give none (they would flood the play with a citizen every ten
// seconds), until they span ArrivalSpan.
func TestABurstOfArrivalsIsNotAPace(t *testing.T) {
	h := newHarness(t, testSite())
	for i := range ArrivalMin {
		h.tick(10 * time.Second)
		h.issue(issueReq{ID: fmt.Sprintf("F%d", i), Service: "A", Priority: PriorityPublic})
	}
	priority := laneKey{"A", Visit, PriorityPublic}
	if gap := h.e.arrivalGap(priority, h.now); gap != 0 {
		t.Errorf("six within a minute: a citizen every %s, want no pace", gap)
	}
	if gap := h.e.arrivalGap(priority, h.now.Add(ArrivalSpan)); gap <= 0 {
		t.Errorf("%s later: no pace", ArrivalSpan)
	}
}

// Calls join with the PBX's time, a little before the hub hears of them:
// they are arrivals all the same (a ticket printed offline is not).
func TestCallsAreArrivalsAndOfflineTicketsAreNot(t *testing.T) {
	h := newHarness(t, callSite())
	for i := range ArrivalMin {
		h.tick(4 * time.Minute)
		h.join(fmt.Sprintf("p%d", i), fmt.Sprintf("17953350%02d.0", i), "A", h.now.Add(-2*time.Second))
	}
	if a := h.e.arrived[laneKey{"A", Phone, PriorityNone}]; a == nil || a.n != ArrivalMin {
		t.Fatalf("calls noted as arrivals: %+v, want %d", a, ArrivalMin)
	}
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "B", h.e.Day(b.At), 10) })
	off := h.offline("kiosk-1", h.now.Add(-time.Minute), "")
	if tk := h.ticket(off); !tk.Offline {
		t.Fatalf("not an offline ticket: %+v", tk)
	}
	if a := h.e.arrived[laneKey{"B", Visit, PriorityNone}]; a != nil {
		t.Errorf("a ticket printed offline noted as an arrival: %+v", a)
	}
}

// Calls the PBX hands out itself are played as taken in their turn by
// whoever takes calls: five wait for pat, alone at the phone (6 minutes
// each, the service's time before any is measured), and a new call joins
// them — 30 minutes, not "moins de 5 min" as if the phone were free.
func TestCallsThePBXHandsOutAreInThePlay(t *testing.T) {
	h := newHarness(t, callSite())
	h.open("9", "pat")
	for i := range 5 {
		h.tick(time.Second)
		h.must(func(b By) ([]Event, error) {
			return h.e.JoinCall(b, CallJoin{ID: fmt.Sprintf("x%d", i), Call: fmt.Sprintf("c%d", i), Service: "A", JoinedAt: h.now, ByPBX: true})
		})
	}
	s := summaryOf(t, h.e, h.now, "A")
	if s.AheadPhone != 5 || !s.EstimatedPhone || s.EstimatedWaitPhone != 30*time.Minute {
		t.Errorf("a new call behind 5 the PBX hands out: %d ahead, %s (known %v); want 5, 30m", s.AheadPhone, s.EstimatedWaitPhone, s.EstimatedPhone)
	}
	if _, est, _ := h.e.Estimate(h.now, "x4"); est.Wait != 24*time.Minute {
		t.Errorf("the fifth call waits %s, want 24m", est.Wait)
	}
}

// A ticket transferred to carl (paused) is held for him until 09:16: ana,
// free, may take it only then — 15 minutes, not "moins de 5 min".
func TestAHeldTicketIsPlayedToTheEndOfItsHold(t *testing.T) {
	h, id := transferToCarl(t)
	if _, est, _ := h.e.Estimate(h.now, id); !est.Known || est.Wait != 15*time.Minute {
		t.Errorf("held for carl until 09:16, at 09:01: %+v, want 15m", est)
	}
}

// A service the new site file no longer has, while an agent still serves
// one of its tickets: the play counts the default time for it, and does
// not fail.
func TestAServiceRemovedWhileServedDoesNotBreakThePlay(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	h.issue(issueReq{ID: "B1", Service: "B"})
	h.next("1")
	next := testSite()
	next.Services = slices.DeleteFunc(next.Services, func(s Service) bool { return s.ID == "B" })
	for i := range next.Agents {
		delete(next.Agents[i].Skills, "B")
	}
	next.Agents = slices.DeleteFunc(next.Agents, func(a Agent) bool { return len(a.Skills) == 0 })
	h.must(func(b By) ([]Event, error) { return h.e.LoadSite(b, next, "hash-2") })
	h.issue(issueReq{ID: "A1", Service: "A"})
	// ana's B1 goes on for the default 5 minutes, then A1.
	if _, est, _ := h.e.Estimate(h.now, "A1"); !est.Known || est.Wait != DefaultServiceTime {
		t.Errorf("A1 behind a ticket of a removed service: %+v, want %s", est, DefaultServiceTime)
	}
}

// The summary of a moment is made once and shared until the next event (or
// SummaryFresh later): a reader's copy is its own, an event or a restore
// makes a new one.
func TestTheSummaryIsSharedUntilTheNextEvent(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	h.issue(issueReq{ID: "A1", Service: "A"})
	first := h.e.Summary(h.now)
	made := h.e.sumCache.at
	first[0].Waiting = 99
	if again := h.e.Summary(h.now.Add(SummaryFresh / 2)); again[0].Waiting != 1 || h.e.sumCache.at != made {
		t.Fatalf("asked again within %s: %d waiting, made at %s (first at %s); want 1, the same", SummaryFresh, again[0].Waiting, h.e.sumCache.at, made)
	}
	if later := h.e.Summary(h.now.Add(SummaryFresh)); h.e.sumCache.at == made || later[0].Waiting != 1 {
		t.Fatalf("asked %s later: not made again", SummaryFresh)
	}
	snap := h.e.Snapshot()
	h.issue(issueReq{ID: "A2", Service: "A"})
	if s := h.e.Summary(h.now); s[0].Waiting != 2 {
		t.Fatalf("after an event: %d waiting, want 2", s[0].Waiting)
	}
	h.e.Restore(snap)
	if s := h.e.Summary(h.now); s[0].Waiting != 1 {
		t.Fatalf("after a restore: %d waiting, want 1", s[0].Waiting)
	}
}

// The answer to an issue reuses the estimate the engine made at the issue
// (for the range's learning): the same as one made afresh, and made afresh
// once anything happened since.
func TestTheAnswerToAnIssueReusesItsEstimate(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	h.issue(issueReq{ID: "A1", Service: "A"})
	h.next("1")
	id := h.issue(issueReq{ID: "A2", Service: "A"})
	if h.e.atIssue.id != id {
		t.Fatalf("kept for %q, want %q", h.e.atIssue.id, id)
	}
	_, kept, _ := h.e.Estimate(h.now, id)
	h.e.atIssue = issued{}
	_, fresh, _ := h.e.Estimate(h.now, id)
	if kept != fresh || !fresh.Known || fresh.Wait != 6*time.Minute {
		t.Errorf("kept %+v, made afresh %+v, want both 6m", kept, fresh)
	}
	h.e.atIssue = issued{id: id, at: h.now, applied: h.e.applied - 1, est: Estimate{Wait: time.Hour, Known: true}}
	if _, est, _ := h.e.Estimate(h.now, id); est.Wait == time.Hour {
		t.Errorf("an estimate kept from another state was used: %+v", est)
	}
}
