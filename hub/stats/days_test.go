package stats

import (
	"testing"
	"time"

	"guichet/hub/queue"
)

// utc is a time given in UTC, for the hours a clock in Paris shows twice
// or never.
func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func hourCounts(r *Report) (labels []string, counts map[string]int) {
	counts = map[string]int{}
	for _, h := range r.Hours {
		labels = append(labels, h.Label)
		counts[h.Label] = h.Visits + h.Phone
	}
	return labels, counts
}

func TestTheMarchDayHas23HoursAndNo0200(t *testing.T) {
	h := newHarness(t)
	// Sunday 29 March 2026: at 02:00 (01:00 UTC) clocks go to 03:00.
	h.issue(utc("2026-03-28 22:59"), "A", queue.Visit, "") // 23:59 on the 28th
	h.issue(utc("2026-03-28 23:00"), "A", queue.Visit, "") // 00:00 on the 29th
	h.issue(utc("2026-03-29 00:30"), "A", queue.Visit, "") // 01:30 (+01)
	h.issue(utc("2026-03-29 01:00"), "A", queue.Visit, "") // 03:00 (+02): no 02:00 in between
	h.issue(utc("2026-03-29 01:59"), "A", queue.Visit, "") // 03:59
	h.issue(utc("2026-03-29 21:59"), "A", queue.Visit, "") // 23:59
	h.issue(utc("2026-03-29 22:00"), "A", queue.Visit, "") // 00:00 on the 30th
	for _, id := range []string{"t00001", "t00002", "t00003", "t00004", "t00005", "t00006", "t00007"} {
		h.cancel(utc("2026-03-30 06:00"), "api", id)
	}
	p := h.projection()
	r := h.report(p, Query{From: "2026-03-29", To: "2026-03-29"})
	labels, counts := hourCounts(r)
	if len(labels) != 23 {
		t.Fatalf("%d hours, want 23: %v", len(labels), labels)
	}
	if labels[1] != "01:00" || labels[2] != "03:00" {
		t.Errorf("hours around the change: %v", labels[:4])
	}
	if counts["00:00"] != 1 || counts["01:00"] != 1 || counts["03:00"] != 2 || counts["23:00"] != 1 {
		t.Errorf("per hour: %v", counts)
	}
	if r.Total.Tickets != 5 {
		t.Errorf("the 29th: %d tickets, want 5", r.Total.Tickets)
	}
	for d, want := range map[string]int{"2026-03-28": 1, "2026-03-30": 1} {
		if got := h.report(p, Query{From: d, To: d}).Total.Tickets; got != want {
			t.Errorf("%s: %d tickets, want %d", d, got, want)
		}
	}
}

func TestTheOctoberDayHas25HoursAnd0200Twice(t *testing.T) {
	h := newHarness(t)
	// Sunday 25 October 2026: at 03:00 (+02, 01:00 UTC) clocks go back to 02:00 (+01).
	h.issue(utc("2026-10-24 21:59"), "A", queue.Visit, "") // 23:59 on the 24th
	h.issue(utc("2026-10-24 22:00"), "A", queue.Visit, "") // 00:00 on the 25th
	h.issue(utc("2026-10-25 00:30"), "A", queue.Visit, "") // 02:30, the first time (+02)
	h.issue(utc("2026-10-25 01:30"), "A", queue.Visit, "") // 02:30, the second time (+01)
	h.issue(utc("2026-10-25 01:45"), "A", queue.Phone, "") // 02:45, the second time
	h.issue(utc("2026-10-25 22:59"), "A", queue.Visit, "") // 23:59
	h.issue(utc("2026-10-25 23:00"), "A", queue.Visit, "") // 00:00 on the 26th
	for i := range 7 {
		h.cancel(utc("2026-10-26 06:00"), "api", []string{"t00001", "t00002", "t00003", "t00004", "t00005", "t00006", "t00007"}[i])
	}
	p := h.projection()
	r := h.report(p, Query{From: "2026-10-25", To: "2026-10-25"})
	labels, counts := hourCounts(r)
	if len(labels) != 25 {
		t.Fatalf("%d hours, want 25: %v", len(labels), labels)
	}
	if labels[2] != "02:00 UTC+2" || labels[3] != "02:00 UTC+1" || labels[4] != "03:00" {
		t.Errorf("hours around the change: %v", labels[:6])
	}
	if counts["00:00"] != 1 || counts["02:00 UTC+2"] != 1 || counts["02:00 UTC+1"] != 2 || counts["23:00"] != 1 {
		t.Errorf("per hour: %v", counts)
	}
	if r.Total.Tickets != 5 || r.Total.Phone != 1 {
		t.Errorf("the 25th: %+v", r.Total.Counts)
	}
	// Over a range, hours are clock hours: both 02:00 are one.
	rr := h.report(p, Query{From: "2026-10-24", To: "2026-10-26"})
	if len(rr.Hours) != 24 || rr.Hours[2].Visits+rr.Hours[2].Phone != 3 || rr.Hours[23].Visits != 2 || rr.Hours[0].Visits != 2 {
		t.Errorf("range hours: 02:00 %+v, 23:00 %+v, 00:00 %+v", rr.Hours[2], rr.Hours[23], rr.Hours[0])
	}
	if len(rr.Days) != 3 || rr.Days[0].Tickets != 1 || rr.Days[1].Tickets != 5 || rr.Days[2].Tickets != 1 {
		t.Errorf("days: %+v", rr.Days)
	}
}

func TestATicketCalledYesterdayAndServedTodayCountsOnItsIssueDay(t *testing.T) {
	h := newHarness(t)
	h.open(at(day, "08:00"), "1", "ana")
	h.issue(at(day, "23:50"), "A", queue.Visit, "")
	h.next(at(day, "23:58"), "1")
	h.finish(at("2026-11-06", "00:06"), "1")
	p := h.projection()
	r := h.report(p, Query{From: day, To: day})
	if r.Total.Served != 1 {
		t.Fatalf("served on %s: %+v", day, r.Total.Counts)
	}
	checkDist(t, "service time", r.Total.ServiceTime, 1, mins(8), mins(8), mins(8))
	if n := h.report(p, Query{From: "2026-11-06", To: "2026-11-06"}).Total.Tickets; n != 0 {
		t.Errorf("the next day counts it too: %d", n)
	}
}
