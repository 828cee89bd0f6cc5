package queue

import (
	"fmt"
	"testing"
	"time"

	"guichet/hub/api"
)

// A ticket's first call teaches its lane the ratio of its real wait to the
// wait it printed: bob serves T1 when T2 comes; T2 is called three times
// its estimate later, and its lane's bucket holds that one ratio, 3.
func TestAFirstCallTeachesTheLaneItsRatioOfRealWaitToEstimate(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "bob"}) })
	h.issue(issueReq{ID: "T1", Service: "B"})
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
	h.tick(time.Minute)
	h.issue(issueReq{ID: "T2", Service: "B"})
	_, est, ok := h.e.Estimate(h.now, "T2")
	if !ok || !est.Known || est.Wait <= 0 {
		t.Fatalf("T2's estimate %+v", est)
	}
	h.tick(3 * est.Wait)
	h.must(func(b By) ([]Event, error) { return h.e.Finish(b, "1") })
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") })
	if got := h.ticket("T2").State; got != Called {
		t.Fatalf("T2 is %s", got)
	}
	r := h.e.calib[calibKey{Lane{"B", Visit}, bucketOf(est.Wait)}]
	if r == nil || len(r.ring) != 1 || r.ring[0] != 3 {
		t.Fatalf("lane B's ratios %+v, want [3]", r)
	}
	if len(h.e.issueEst) != 0 {
		t.Errorf("estimates at issue still kept: %v", h.e.issueEst)
	}
}

// Once a bucket has CalibrationMin ratios, an estimate of its size shows
// their TailAtIssue and 1 − TailAtIssue percentiles (at issue) or
// TailLater's (later), half a minute in on each side for the rounding
// outwards of the minutes shown: 41 ratios from 0.5 to 1.5 in steps of
// 0.025 put them at 0.65 and 1.35 at issue, so 10 min shows 7 min to 13 min
// ("entre 7 et 13 min"), and at 0.59 and 1.41 later, 6 min 24 s to 13 min
// 36 s ("entre 6 et 14 min"). With one ratio fewer, or for an estimate of
// another size, rule 5's range stays.
func TestTheRangeIsTheLanesPastRatiosPercentiles(t *testing.T) {
	h := newHarness(t, testSite())
	lane := Lane{"A", Visit}
	model := Estimate{Wait: 10 * time.Minute, Low: 4 * time.Minute, High: 17 * time.Minute, Known: true}
	learn := func(i int) {
		id := "r" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		tk := &Ticket{ID: id, Service: "A", Channel: Visit, IssuedAt: day0}
		h.e.issueEst[id] = 10 * time.Minute
		h.e.noteCalled(tk, day0.Add(time.Duration((0.5+0.025*float64(i))*float64(10*time.Minute))))
	}
	for i := 0; i < CalibrationMin-1; i++ {
		learn(i)
	}
	if got := h.e.calibrated(lane, model, false); got != model {
		t.Errorf("with %d ratios: %+v, want rule 5's %+v", CalibrationMin-1, got, model)
	}
	for i := CalibrationMin - 1; i <= 40; i++ {
		learn(i)
	}
	for _, c := range []struct {
		later     bool
		low, high time.Duration
		shows     string
	}{
		{false, 7 * time.Minute, 13 * time.Minute, "entre 7 et 13 min"},
		{true, 6*time.Minute + 24*time.Second, 13*time.Minute + 36*time.Second, "entre 6 et 14 min"},
	} {
		want := Estimate{Wait: 10 * time.Minute, Low: c.low, High: c.high, Known: true}
		got := h.e.calibrated(lane, model, c.later)
		if got != want {
			t.Errorf("later %v: calibrated %+v, want %+v", c.later, got, want)
		}
		if shown := api.FormatWait("fr", int(got.Low.Seconds()), int(got.High.Seconds())); shown != c.shows {
			t.Errorf("later %v: shows %q, want %q", c.later, shown, c.shows)
		}
	}
	short := Estimate{Wait: 3 * time.Minute, High: 5 * time.Minute, Known: true}
	if got := h.e.calibrated(lane, short, false); got != short {
		t.Errorf("a 3-minute estimate (another bucket) became %+v", got)
	}
	if got := h.e.calibrated(Lane{"A", Phone}, model, false); got != model {
		t.Errorf("another lane's estimate became %+v", got)
	}
}

// The hub lets several readers estimate at once (a read lock): the
// estimate, the summary and the range write nothing in the engine, even the
// first time a lane's ratios or an agent's shares are read after they
// changed (run with -race).
func TestReadersEstimateTogetherWithoutWriting(t *testing.T) {
	h := newHarness(t, testSite())
	for i := range 10 {
		h.issue(issueReq{ID: "w" + string(rune('a'+i)), Service: "A"})
		h.tick(time.Minute)
	}
	for i := range 2 * CalibrationMin { // a lane's ratios just learnt
		id := "r" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		h.e.issueEst[id] = 10 * time.Minute
		h.e.noteCalled(&Ticket{ID: id, Service: "A", Channel: Visit, IssuedAt: day0}, day0.Add(time.Duration(5+i%10)*time.Minute))
	}
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "2", api.OpenArgs{Agent: "carl"}) })
	waiting := h.e.Tickets(Waiting, "A")
	before := fmt.Sprintf("%+v %+v", h.e.priors, h.e.calib[calibKey{Lane{"A", Visit}, bucketOf(10 * time.Minute)}])
	first := make([]Estimate, len(waiting))
	for i, tk := range waiting {
		_, first[i], _ = h.e.Estimate(h.now, tk.ID)
	}
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 5 {
				h.e.Summary(h.now)
				for i, tk := range waiting {
					if _, est, _ := h.e.Estimate(h.now, tk.ID); est != first[i] {
						t.Errorf("%s estimated %+v, then %+v at the same time", tk.ID, first[i], est)
					}
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	// Readers wrote nothing (-race says it of the memory; this of the state).
	if after := fmt.Sprintf("%+v %+v", h.e.priors, h.e.calib[calibKey{Lane{"A", Visit}, bucketOf(10 * time.Minute)}]); after != before {
		t.Errorf("reading changed the engine:\n%s\n%s", before, after)
	}
}

// A ticket printed offline reaches the hub after its place in the queue:
// its estimate here is not the one it printed and its wait counts from
// before it came; the lane learns nothing from it.
func TestAnOfflineTicketTeachesTheRangeNothing(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", h.e.Day(b.At), 10) })
	h.open("1", "ana")
	h.issue(issueReq{Service: "A", Device: "kiosk-1"}) // the kiosk's last ticket online
	h.tick(time.Minute)
	h.issue(issueReq{Service: "A"}) // a ticket ahead, so that the offline one waits
	h.tick(20 * time.Minute)        // the kiosk comes back: it printed 19 minutes ago
	h.offline("kiosk-1", h.now.Add(-19*time.Minute), "")
	for h.e.WaitingCount() > 0 {
		h.next("1")
		h.tick(time.Minute)
	}
	n := 0
	for k, r := range h.e.calib {
		if k.lane == (Lane{"A", Visit}) {
			n += len(r.ring)
		}
	}
	if n != 1 { // the first ticket, called at once, had no estimate to learn from
		t.Fatalf("lane A learnt %d ratios from a ticket online and one printed offline, want 1", n)
	}
}
