package stats

import (
	"math"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

const day = "2026-11-05"

// handBuiltDay plays a Thursday whose answers are worked out by hand in
// TestHandBuiltDay: every kind of ending, a transfer, recalls up to a
// no-show, an abandoned call, an offline ticket, a ticket voided by its kiosk.
func handBuiltDay(h *harness) {
	h.open(at(day, "08:00"), "1", "ana")
	h.open(at(day, "08:00"), "2", "bob")
	h.do(at(day, "08:00"), "hub", func(b queue.By) ([]queue.Event, error) {
		return h.eng.GrantLease(b, "kiosk-1", "E", day, 10)
	})
	a1 := h.issue(at(day, "09:00"), "A", queue.Visit, "kiosk-1")
	_ = a1
	h.issue(at(day, "09:02"), "A", queue.Visit, "kiosk-1")                      // A2
	h.next(at(day, "09:04"), "1")                                               // A1 called: waited 4 min
	h.issue(at(day, "09:05"), "A", queue.Visit, "kiosk-1")                      // A3
	a4 := h.issue(at(day, "09:06"), "A", queue.Phone, "")                       // a phone call
	h.next(at(day, "09:10"), "1")                                               // A1 served (6 min), A2 called: waited 8
	h.start(at(day, "09:11"), "1")                                              // A2 at the counter
	h.issue(at(day, "09:20"), "A", queue.Visit, "kiosk-1")                      // A5
	h.next(at(day, "09:22"), "1")                                               // A2 served (12 min), A3 called: waited 17
	h.recall(at(day, "09:23"), "1")                                             // recall 1
	h.recall(at(day, "09:24"), "1")                                             // recall 2
	h.recall(at(day, "09:25"), "1")                                             // past two recalls: no-show
	h.next(at(day, "09:25"), "1")                                               // A5 called: waited 5
	h.transfer(at(day, "09:27"), "1", "E")                                      // A5 → État civil
	h.cancel(at(day, "09:30"), "api", a4)                                       // the caller hung up after 24 min: abandoned
	h.next(at(day, "09:40"), "2")                                               // A5 called at État civil
	h.finish(at(day, "09:50"), "2")                                             // A5 served (10 min) in E
	h.issue(at(day, "10:00"), "E", queue.Visit, "kiosk-1")                      // E1
	h.next(at(day, "10:03"), "2")                                               // E1 called: waited 3
	h.finish(at(day, "10:13"), "2")                                             // served (10 min)
	h.do(at(day, "10:20"), "kiosk-1", func(b queue.By) ([]queue.Event, error) { // printed at 10:05, heard at 10:20
		return h.eng.Issue(b, queue.IssueRequest{ID: "offline-1", Device: "kiosk-1", Token: "offline-token-1",
			Args: api.IssueArgs{Service: "E", Channel: string(queue.Visit), OfflineNumber: 901, IssuedAt: ptr(at(day, "10:05"))}})
	})
	h.next(at(day, "10:25"), "2")                                // E901 called: waited 20 (from 10:05)
	h.finish(at(day, "10:30"), "2")                              // served (5 min)
	a6 := h.issue(at(day, "10:40"), "A", queue.Visit, "kiosk-1") // not printed…
	h.cancel(at(day, "10:41"), "kiosk-1", a6)                    // …so voided by its kiosk
	a7 := h.issue(at(day, "11:00"), "A", queue.Visit, "")
	h.next(at(day, "11:02"), "1")                   // A7 called: waited 2
	h.cancel(at(day, "11:05"), "api", a7)           // cancelled at the counter
	h.issue(at(day, "11:30"), "A", queue.Visit, "") // still waiting at the end: in no number but Open
}

func mins(m float64) float64 { return m * 60 }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestHandBuiltDay(t *testing.T) {
	h := newHarness(t)
	handBuiltDay(h)
	p := h.projection()
	r := h.report(p, Query{From: day, To: day})

	want := Counts{Tickets: 8, Visits: 7, Phone: 1, Offline: 1, Served: 5, NoShows: 1, Cancelled: 2, Abandoned: 1,
		TransfersOut: 1, TransfersIn: 1, Recalls: 2, Voided: 1}
	if r.Total.Counts != want {
		t.Errorf("counts\n got %+v\nwant %+v", r.Total.Counts, want)
	}
	// Waits, sorted: 2 3 4 5 8 17 20 minutes.
	checkDist(t, "wait", r.Total.Wait, 7, mins(59.0/7), mins(5), mins(20))
	// Service times: 5 6 10 10 12 minutes.
	checkDist(t, "service time", r.Total.ServiceTime, 5, mins(8.6), mins(10), mins(12))
	// Within target: A1 A2 A5 A7 (target 10), E1 (15); not A3 (17 > 10),
	// E901 (20 > 15), nor the call abandoned after 24 min (> 10).
	if r.Total.WithinTarget != 5 || r.Total.TargetBase != 8 || r.Total.Share == nil || !near(*r.Total.Share, 0.625) {
		t.Errorf("within target: %d of %d (%v), want 5 of 8", r.Total.WithinTarget, r.Total.TargetBase, r.Total.Share)
	}
	if r.Open != 1 {
		t.Errorf("open: %d, want 1", r.Open)
	}
	// Wait distribution in 5-minute buckets: [0,5) 2 3 4; [5,10) 5 8; [15,20) 17; [20,25) 20.
	wantB := map[float64]int{0: 3, 300: 2, 900: 1, 1200: 1}
	for _, b := range r.Total.Wait.Buckets {
		if b.N != wantB[b.From] {
			t.Errorf("wait bucket from %v s: %d, want %d", b.From, b.N, wantB[b.From])
		}
	}

	byService := map[string]Summary{}
	for _, s := range r.Services {
		byService[s.Key] = s
	}
	a, e := byService["A"], byService["E"]
	if a.Name != "Accueil" || e.Name != "État civil" {
		t.Errorf("service names %q %q", a.Name, e.Name)
	}
	// A: issued A1 A2 A3 A4 A5 A7 (+A6 voided); ended here: A1 A2 served,
	// A3 no-show, A4 abandoned, A7 cancelled; A5 went to E.
	wantA := Counts{Tickets: 6, Visits: 5, Phone: 1, Served: 2, NoShows: 1, Cancelled: 2, Abandoned: 1, TransfersOut: 1, Recalls: 2, Voided: 1}
	if a.Counts != wantA {
		t.Errorf("A\n got %+v\nwant %+v", a.Counts, wantA)
	}
	checkDist(t, "A wait", a.Wait, 5, mins(36.0/5), mins(5), mins(17))
	checkDist(t, "A service time", a.ServiceTime, 2, mins(9), mins(6), mins(12))
	// E: issued E1, E901; ended here: those and A5 (transferred in).
	wantE := Counts{Tickets: 2, Visits: 2, Offline: 1, Served: 3, TransfersIn: 1}
	if e.Counts != wantE {
		t.Errorf("E\n got %+v\nwant %+v", e.Counts, wantE)
	}
	checkDist(t, "E wait", e.Wait, 2, mins(11.5), mins(3), mins(20))
	checkDist(t, "E service time", e.ServiceTime, 3, mins(25.0/3), mins(10), mins(10))

	// The same through the service filter.
	ra := h.report(p, Query{From: day, To: day, Service: "A"})
	if ra.Total.Counts != wantA || len(ra.Services) != 1 {
		t.Errorf("filtered on A: %+v, %d services", ra.Total.Counts, len(ra.Services))
	}
	// Agent bob ended A5, E1, E901.
	rb := h.report(p, Query{From: day, To: day, Agent: "bob"})
	if rb.Total.Served != 3 || rb.Total.Tickets != 3 {
		t.Errorf("bob: %+v", rb.Total.Counts)
	}
	for _, s := range r.Agents {
		if s.Key == "bob" && s.Name != "Bob Durand" {
			t.Errorf("bob's name: %q", s.Name)
		}
	}
	// Phone channel: the one abandoned call.
	rp := h.report(p, Query{From: day, To: day, Channel: queue.Phone})
	if rp.Total.Tickets != 1 || rp.Total.Abandoned != 1 || rp.Total.Wait.N != 0 {
		t.Errorf("phone: %+v", rp.Total.Counts)
	}

	// Hours: 09:00 A1 A2 A3 A5 + the call; 10:00 E1 E901 (A6 voided); 11:00 A7.
	hours := map[string]Hour{}
	for _, hr := range r.Hours {
		hours[hr.Label] = hr
	}
	if len(r.Hours) != 24 {
		t.Errorf("%d hours in an ordinary day", len(r.Hours))
	}
	for label, w := range map[string][2]int{"09:00": {4, 1}, "10:00": {2, 0}, "11:00": {1, 0}, "12:00": {0, 0}} {
		if hr := hours[label]; hr.Visits != w[0] || hr.Phone != w[1] {
			t.Errorf("%s: %d visits %d calls, want %v", label, hr.Visits, hr.Phone, w)
		}
	}
	// 09:00 waits 4 8 17 5: median 5, 90th percentile 17.
	if hr := hours["09:00"]; hr.Waits != 4 || hr.Median != mins(5) || hr.P90 != mins(17) {
		t.Errorf("09:00 waits: %+v", hr)
	}
}

func checkDist(t *testing.T, what string, d Dist, n int, mean, median, p90 float64) {
	t.Helper()
	if d.N != n || !near(d.Mean, mean) || d.Median != median || d.P90 != p90 {
		t.Errorf("%s: n %d mean %.3f median %.0f p90 %.0f; want n %d mean %.3f median %.0f p90 %.0f",
			what, d.N, d.Mean, d.Median, d.P90, n, mean, median, p90)
	}
}

var _ = time.Minute
