package queue

import (
	"strings"
	"testing"
	"time"
)

// offline is the ticket kiosk printed offline at printed, with the first
// free number of its lease; replaces is the ticket of the request it stands
// for, if the hub issued one.
func (h *harness) offline(kiosk string, printed time.Time, replaces string) string {
	h.t.Helper()
	for _, l := range h.e.Leases(kiosk) {
		for n := l.From; n <= l.To; n++ {
			if !l.Used[n] {
				return h.issue(issueReq{Service: l.Service, Device: kiosk, OfflineNumber: n, IssuedAt: printed, Replaces: replaces})
			}
		}
	}
	h.t.Fatalf("%s has no free number", kiosk)
	return ""
}

// order calls every waiting ticket at counter 1 (ana serves A) and returns
// them in the order called.
func (h *harness) order() []string {
	h.t.Helper()
	h.open("1", "ana")
	var out []string
	for h.e.WaitingCount() > 0 {
		out = append(out, h.next("1"))
	}
	return out
}

func TestAnOfflineTicketClaimingTwoHoursEarlyIsPlacedAfterItsKiosksLastOnlineTicket(t *testing.T) {
	h := newHarness(t, testSite())
	h.now = day0.Add(-time.Hour) // 08:00
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", h.e.Day(b.At), 10) })
	h.tick(30 * time.Minute)
	early := h.issue(issueReq{Service: "A"}) // 08:30, at the counter's desk
	h.now = day0.Add(105 * time.Minute)      // 10:45
	before := h.issue(issueReq{Service: "A"})
	h.tick(14 * time.Minute) // 10:59: the kiosk's last ticket online
	last := h.issue(issueReq{Service: "A", Device: "kiosk-1"})
	lastAt := h.now
	h.tick(30 * time.Second)
	after := h.issue(issueReq{Service: "A"})
	h.tick(30 * time.Second) // 11:00: the kiosk says it printed at 09:00
	jumper := h.offline("kiosk-1", day0, "")

	tk := h.ticket(jumper)
	if !tk.IssuedAt.Equal(lastAt) {
		t.Fatalf("placed at %s, want %s (its kiosk's last ticket online)", tk.IssuedAt.Format("15:04:05"), lastAt.Format("15:04:05"))
	}
	ev := h.log[len(h.log)-1]
	if ev.Type != TicketIssued || !ev.PrintedAt.Equal(day0) || !ev.IssuedAt.Equal(lastAt) {
		t.Fatalf("event %+v: want printed_at the kiosk's word, issued_at the place given", ev)
	}
	got := strings.Join(h.order(), " ")
	if want := strings.Join([]string{early, before, last, jumper, after}, " "); got != want {
		t.Fatalf("called %s, want %s", got, want)
	}
}

func TestAGenuineOfflineTicketKeepsItsPlaceAfterATwentyMinuteCut(t *testing.T) {
	h := newHarness(t, testSite())
	h.now = day0.Add(-time.Hour)
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", h.e.Day(b.At), 10) })
	h.now = day0.Add(time.Hour) // 10:00: the kiosk's last ticket before the cut
	first := h.issue(issueReq{Service: "A", Device: "kiosk-1"})
	// The cut: the kiosk prints offline; people come by the other kiosk.
	cut := h.now
	h.now = cut.Add(2 * time.Minute)
	a := h.issue(issueReq{Service: "A", Device: "kiosk-2"})
	printed1 := cut.Add(5 * time.Minute) // its request went unanswered: it was sent just as the cut began
	h.now = cut.Add(7 * time.Minute)
	b := h.issue(issueReq{Service: "A", Device: "kiosk-2"})
	printed2 := cut.Add(12 * time.Minute)
	h.now = cut.Add(15 * time.Minute)
	c := h.issue(issueReq{Service: "A", Device: "kiosk-2"})
	// 10:20, back: the broker redelivers the unanswered request first, the
	// hub issues it, then the two tickets printed offline arrive.
	h.now = cut.Add(20 * time.Minute)
	redelivered := h.issue(issueReq{Service: "A", Device: "kiosk-1"})
	h.tick(time.Second)
	off1 := h.offline("kiosk-1", printed1, redelivered)
	off2 := h.offline("kiosk-1", printed2, "")
	h.tick(time.Minute)
	d := h.issue(issueReq{Service: "A", Device: "kiosk-2"})

	if got := h.ticket(redelivered).State; got != Cancelled {
		t.Fatalf("the request the offline ticket replaces is %s, want cancelled", got)
	}
	if at := h.ticket(off1).IssuedAt; !at.Equal(printed1) {
		t.Fatalf("first offline ticket placed at %s, want %s", at.Format("15:04"), printed1.Format("15:04"))
	}
	if at := h.ticket(off2).IssuedAt; !at.Equal(printed2) {
		t.Fatalf("second offline ticket placed at %s, want %s", at.Format("15:04"), printed2.Format("15:04"))
	}
	got := strings.Join(h.order(), " ")
	if want := strings.Join([]string{first, a, off1, b, off2, c, d}, " "); got != want {
		t.Fatalf("called %s, want %s", got, want)
	}
}

func TestAnOfflineTicketIsNotPlacedBeforeItsLeaseWasGranted(t *testing.T) {
	h := newHarness(t, testSite())
	before := h.issue(issueReq{Service: "A"}) // 09:00
	h.tick(time.Hour)                         // 10:00: a new kiosk gets its lease
	granted := h.now
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-9", "A", h.e.Day(b.At), 10) })
	h.tick(10 * time.Minute)
	off := h.offline("kiosk-9", day0.Add(-30*time.Minute), "")
	if at := h.ticket(off).IssuedAt; !at.Equal(granted) {
		t.Fatalf("placed at %s, want %s (when its lease was granted)", at.Format("15:04"), granted.Format("15:04"))
	}
	if got := strings.Join(h.order(), " "); got != before+" "+off {
		t.Fatalf("called %s", got)
	}
}

func TestAnOfflineTicketIsNeverPlacedInTheFuture(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", h.e.Day(b.At), 10) })
	off := h.offline("kiosk-1", h.now.Add(MaxClockSkew), "")
	if at := h.ticket(off).IssuedAt; !at.Equal(h.now) {
		t.Fatalf("a kiosk whose clock runs ahead put its ticket at %s, after the hub's now %s", at, h.now)
	}
}

func TestOfflinePlacesSurviveASnapshot(t *testing.T) {
	h := newHarness(t, testSite())
	h.now = day0.Add(-time.Hour)
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", h.e.Day(b.At), 10) })
	h.now = day0.Add(time.Hour)
	h.issue(issueReq{Service: "A", Device: "kiosk-1"})
	lastAt := h.now
	snap := h.e.Snapshot()
	restored, _ := New(testSite())
	restored.Restore(snap)
	h.e = restored
	h.tick(time.Minute)
	off := h.offline("kiosk-1", day0, "")
	if at := h.ticket(off).IssuedAt; !at.Equal(lastAt) {
		t.Fatalf("after a restore, placed at %s, want %s: the kiosk's last online ticket was forgotten", at.Format("15:04"), lastAt.Format("15:04"))
	}
}
