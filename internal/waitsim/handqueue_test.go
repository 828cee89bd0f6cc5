package waitsim

import (
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// One agent, a 12-minute service, three citizens at 09:00, 09:01 and 09:02:
// every estimate and every error worked out by hand.
//
//	09:00 T1: bob is free and takes it at once: 0 (range 0 to 5 min); waits 0.
//	09:01 T2: bob busy, nobody ahead: (1 − ½) × 12 = 6 min; waits 11 (called 09:12).
//	09:02 T3: one ahead: (2 − ½) × 12 = 18 min at bob's pace, blended with the
//	      span of the line ahead (T2 came 1 min before): 0.7 × 18 + 0.3 × 1.5 × 1
//	      = 13.05 min; waits 22 (called 09:24).
//
// The queue-length rule says 0, 6 and 18. Errors: pace 0, −5, −8.95 (MAE
// 4.65 min); queue length 0, −5, −4 (MAE 3 min).
//
// Played (rule 7, what the hub shows), with the service's 12 minutes: at
// 09:01 bob's citizen has been with him a minute — 11 minutes left (the
// law's tail so early is its mean): T2 waits 11; at 09:02, 10 minutes left
// and T2's 12: T3 waits 22. Both exactly: errors 0, 0, 0.
func TestHandComputableQueueGivesTheExpectedEstimatesAndErrors(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Paris")
	site := queue.Site{ID: "hand", Location: loc, Policy: queue.DefaultPolicy(),
		Services: []queue.Service{{ID: "B", SLA: time.Hour, Channels: []queue.Channel{queue.Visit}, ServiceTime: 12 * time.Minute}},
		Counters: []queue.Counter{{ID: "1"}},
		Agents:   []queue.Agent{{ID: "bob", Skills: map[string]int{"B": 1}}},
	}
	site.Policy.IgnoreHours = true
	e, err := queue.New(site)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 3, 9, 0, 0, 0, loc)
	by := func(m int) queue.By { return queue.By{At: at.Add(time.Duration(m) * time.Minute)} }
	must := func(_ []queue.Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.OpenCounter(by(0), "1", api.OpenArgs{Agent: "bob"}))
	recs := map[string]*Record{}
	issue := func(m int, id string) {
		must(e.Issue(by(m), queue.IssueRequest{ID: id, Args: api.IssueArgs{Service: "B"}}))
		rec := &Record{Ticket: id, IssuedAt: by(m).At, Est: map[string]queue.Estimate{}}
		for _, p := range []string{Play, Pace, QueueLength} {
			_, rec.Est[p] = e.EstimateWith(predictor(p), by(m).At, id)
		}
		recs[id] = rec
	}
	call := func(m int, id string) {
		must(e.CallNext(by(m), "1"))
		if cs, _ := e.CounterState("1"); cs.Ticket != id {
			t.Fatalf("at +%d min counter holds %s, want %s", m, cs.Ticket, id)
		}
		recs[id].CalledAt = by(m).At
	}
	issue(0, "T1")
	call(0, "T1")
	issue(1, "T2")
	issue(2, "T3")
	call(12, "T2")
	call(24, "T3")

	want := map[string]queue.Estimate{
		"T1": {Wait: 0, Low: 0, High: 5 * time.Minute, Known: true},
		"T2": {Wait: 6 * time.Minute, Low: 94 * time.Second, High: 700 * time.Second, Known: true},
		"T3": {Wait: 13*time.Minute + 3*time.Second, Low: 299 * time.Second, High: 1369 * time.Second, Known: true},
	}
	for id, w := range want {
		if got := recs[id].Est[Pace]; got != w {
			t.Errorf("%s at pace: %+v, want %+v", id, got, w)
		}
	}
	for id, w := range map[string]time.Duration{"T1": 0, "T2": 6 * time.Minute, "T3": 18 * time.Minute} {
		if got := recs[id].Est[QueueLength].Wait; got != w {
			t.Errorf("%s by queue length: %s, want %s", id, got, w)
		}
	}
	for id, w := range map[string]time.Duration{"T1": 0, "T2": 11 * time.Minute, "T3": 22 * time.Minute} {
		if got := recs[id].Est[Play]; !got.Known || got.Wait != w {
			t.Errorf("%s played: %+v, want %s", id, got, w)
		}
	}
	res := &Result{Records: []*Record{recs["T1"], recs["T2"], recs["T3"]}}
	if play := Measure(res.AtIssue(Play, "")); play.N != 3 || play.MAE != 0 || play.Bias != 0 {
		t.Errorf("played errors %+v, want none", play)
	}
	pace := Measure(res.AtIssue(Pace, ""))
	if pace.N != 3 || pace.MAE != 279*time.Second || pace.Bias != -279*time.Second || pace.P90 != 537*time.Second ||
		pace.MeanWait != 11*time.Minute || pace.InRange != 1 {
		t.Errorf("pace errors %+v, want MAE = −bias = 4m39s, P90 8m57s, mean wait 11m, all in range", pace)
	}
	ql := Measure(res.AtIssue(QueueLength, ""))
	if ql.MAE != 3*time.Minute || ql.Bias != -3*time.Minute || ql.P90 != 5*time.Minute {
		t.Errorf("queue-length errors %+v, want MAE 3m, bias −3m, P90 5m", ql)
	}
	if got := api.FormatWait("fr", int(want["T3"].Low.Seconds()), int(want["T3"].High.Seconds())); got != "entre 4 et 23 min" {
		t.Errorf("T3 shows %q", got)
	}
}

// Two short days of every scenario play without an error on the engine,
// every ticket issued gets an estimate, and most are called.
func TestEveryScenarioPlaysOnTheEngine(t *testing.T) {
	for k, sc := range Scenarios() {
		r, err := Run(sc, 2, uint64(7+k))
		if err != nil {
			t.Fatal(err)
		}
		called := 0
		for _, rec := range r.Records {
			if _, ok := rec.Est[Play]; !ok {
				t.Fatalf("%s: ticket %s has no estimate", sc.Name, rec.Ticket)
			}
			if !rec.CalledAt.IsZero() {
				called++
			}
		}
		if len(r.Records) < 300 || called < len(r.Records)*8/10 {
			t.Errorf("%s: %d tickets, %d called", sc.Name, len(r.Records), called)
		}
	}
}

// A fork of the day that replays its own chances calls every ticket when
// the day did: the oracle's futures differ from the day by nothing but the
// service times drawn again.
func TestAForkWithTheDaysOwnChancesCallsEveryTicketWhenTheDayDid(t *testing.T) {
	for _, k := range []int{0, 2} { // ordinary, lunch
		sc := Scenarios()[k]
		r, err := RunWith(sc, 1, 11, Options{checkForks: true})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, rec := range r.Records {
			if rec.CalledAt.IsZero() {
				continue
			}
			n++
			if !rec.replayed.Equal(rec.CalledAt) {
				t.Errorf("%s: %s called at %s, its fork called it at %s", sc.Name, rec.Ticket, rec.CalledAt.Format("15:04:05"), rec.replayed.Format("15:04:05"))
			}
		}
		if n < 150 {
			t.Errorf("%s: only %d tickets called", sc.Name, n)
		}
	}
}

// The range shown holds 75 to 85 % of real waits, at issue and on the
// mobile page, on an ordinary day and on a day the agents leave for lunch
// (the range learns from the tickets already called: hub/queue/calibrate.go).
func TestTheRangeHoldsFourRealWaitsInFive(t *testing.T) {
	if testing.Short() {
		t.Skip("plays 16 simulated days")
	}
	for _, k := range []int{0, 2} {
		sc := Scenarios()[k]
		r, err := Run(sc, 8, uint64(500+k))
		if err != nil {
			t.Fatal(err)
		}
		at, phone := Measure(r.AtIssue(Play, "")), Measure(r.OnThePhone(Play, ""))
		for what, in := range map[string]float64{"at issue": at.InRange, "on the phone": phone.InRange} {
			if in < 0.75 || in > 0.85 {
				t.Errorf("%s, %s: %.1f %% of real waits in the range", sc.Name, what, 100*in)
			}
		}
	}
}
