package queue

import (
	"testing"
	"time"
)

func summaryOf(t *testing.T, e *Engine, now time.Time, service string) ServiceSummary {
	t.Helper()
	for _, s := range e.Summary(now) {
		if s.Service == service {
			return s
		}
	}
	t.Fatalf("no summary for %s", service)
	return ServiceSummary{}
}

// With a phone position apart, the calls waiting are not ahead of the
// people in the room: one visitor and fourteen calls is one person ahead of
// a walk-in (the screen said "15 pers." and the ticket "14 personnes avant
// vous").
func TestCallsAnsweredElsewhereAreNotAheadOfAVisitor(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana") // visits, A and B
	h.open("9", "pat") // the phone position
	h.issue(issueReq{Service: "A"})
	for i := 0; i < 14; i++ {
		h.tick(time.Second)
		h.issue(issueReq{Service: "A", Channel: Phone})
	}
	h.tick(time.Second)
	walkIn := h.issue(issueReq{Service: "A"})
	ahead, _, known := h.e.Position(h.now, walkIn)
	if ahead != 1 || !known {
		t.Fatalf("walk-in after 1 visitor and 14 calls: %d ahead (known %v), want 1", ahead, known)
	}
	sum := summaryOf(t, h.e, h.now, "A")
	if sum.Ahead != 2 || sum.Waiting != 16 || sum.WaitingPhone != 14 || sum.AheadPhone != 14 {
		t.Fatalf("summary = %+v, want 2 people ahead of a new visitor, 14 of a new call", sum)
	}
	// A call waits behind the calls only: the visitors are at the desks.
	call := h.issue(issueReq{Service: "A", Channel: Phone})
	if ahead, _, _ := h.e.Position(h.now, call); ahead != 14 {
		t.Fatalf("a new call has %d ahead, want 14", ahead)
	}
}

// At a counter that takes both channels the calls take the same agent's
// time: a walk-in after three calls waits behind three people.
func TestCallsAtABlendedCounterAreAheadOfAVisitor(t *testing.T) {
	site := testSite()
	site.Counters = []Counter{{ID: "1", Channels: []Channel{Visit, Phone}, Services: []string{"A"}}}
	h := newHarness(t, site)
	h.open("1", "ana")
	busy := h.issue(issueReq{Service: "A"})
	h.next("1") // ana is serving: nobody free
	_ = busy
	for i := 0; i < 3; i++ {
		h.tick(time.Second)
		h.issue(issueReq{Service: "A", Channel: Phone})
	}
	h.tick(time.Second)
	walkIn := h.issue(issueReq{Service: "A"})
	ahead, est := h.e.EstimateWith(PredictPace, h.now, walkIn)
	// At the agents' pace: (3 + 0.5) × 6 min ÷ 1 agent = 21 min
	if ahead != 3 || !est.Known || est.Wait != 21*time.Minute {
		t.Fatalf("walk-in after 3 calls at a blended counter, at the pace: %d ahead, %+v; want 3, 21m", ahead, est)
	}
	// Played (what the hub shows): ana's citizen came 4 s ago — 6 min less
	// those 4 s (the law's tail so early is the mean) — then the three calls
	// of 6 min each: 23 min 56 s.
	ahead, wait, known := h.e.Position(h.now, walkIn)
	if ahead != 3 || !known || wait != 23*time.Minute+56*time.Second {
		t.Fatalf("walk-in after 3 calls at a blended counter, played: %d ahead, %s (known %v); want 3, 23m56s", ahead, wait, known)
	}
}

// Half the phone capacity is at a blended counter: each call ahead counts
// for half a person.
func TestCallsCountForTheBlendedShareOfThePhoneCapacity(t *testing.T) {
	site := testSite()
	site.Counters = []Counter{
		{ID: "1", Channels: []Channel{Visit, Phone}, Services: []string{"A"}},
		{ID: "9", Channels: []Channel{Phone}, Services: []string{"A"}},
	}
	h := newHarness(t, site)
	h.open("1", "ana")
	h.open("9", "pat")
	for i := 0; i < 6; i++ {
		h.tick(time.Second)
		h.issue(issueReq{Service: "A", Channel: Phone})
	}
	h.tick(time.Second)
	walkIn := h.issue(issueReq{Service: "A"})
	if ahead, _, _ := h.e.Position(h.now, walkIn); ahead != 3 {
		t.Fatalf("6 calls, half the phone capacity blended: %d ahead, want 3", ahead)
	}
}

// An empty service with a free agent: a new ticket waits nothing (not half
// a service); with the agent busy, what is left of the service under way —
// at the agents' pace, half a service on average; played, a whole one when
// it has just begun.
func TestANewTicketInAnEmptyServiceWaitsForAFreeAgent(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("2", "bob") // B: 12 min per citizen
	if s := summaryOf(t, h.e, h.now, "B"); !s.Estimated || s.EstimatedWait != 0 || s.Ahead != 0 {
		t.Fatalf("empty, bob free: %+v, want an estimate of 0", s)
	}
	h.issue(issueReq{Service: "B"})
	h.next("2")
	if _, est := h.e.NewTicketEstimate(PredictPace, h.now, "B", Visit); est.Wait != 6*time.Minute {
		t.Fatalf("empty, bob busy, at the pace: %s, want half a service (6m)", est.Wait)
	}
	if s := summaryOf(t, h.e, h.now, "B"); s.EstimatedWait != 12*time.Minute {
		t.Fatalf("empty, bob busy since now, played: %s, want a whole service (12m)", s.EstimatedWait)
	}
}

// A service nobody serves now has no estimate, on either channel.
func TestAServiceNobodyServesHasNoEstimate(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana") // A and B on visits; nobody on the phone, nobody for C
	sum := summaryOf(t, h.e, h.now, "A")
	if !sum.Estimated || sum.EstimatedPhone {
		t.Fatalf("A: %+v, want a visit estimate and no phone estimate", sum)
	}
	if c := summaryOf(t, h.e, h.now, "C"); c.Estimated || c.EstimatedPhone {
		t.Fatalf("C: %+v, want no estimate", c)
	}
}

func TestNextOpeningOfAClosedService(t *testing.T) {
	var week [7][]Span
	week[time.Monday] = []Span{{8*60 + 30, 12 * 60}}
	week[time.Tuesday] = []Span{{8*60 + 30, 12 * 60}, {13*60 + 30, 17 * 60}}
	h := NewHours(week, []string{"2026-11-24"}) // Tuesday 24 closed
	cases := []struct{ at, want string }{
		{"2026-11-17 07:00", "2026-11-17 08:30"}, // Tuesday morning, before opening
		{"2026-11-17 12:10", "2026-11-17 13:30"}, // lunch break
		{"2026-11-17 18:00", "2026-11-23 08:30"}, // Tuesday evening: next Monday
		{"2026-11-23 12:30", "2026-11-30 08:30"}, // Monday afternoon: Tuesday is a closed date
	}
	for _, c := range cases {
		at, _ := time.ParseInLocation("2006-01-02 15:04", c.at, paris)
		got := h.NextOpen(at).Format("2006-01-02 15:04")
		if got != c.want {
			t.Errorf("NextOpen(%s) = %s, want %s", c.at, got, c.want)
		}
	}
	if always := NewHours([7][]Span{}, nil); !always.NextOpen(day0).IsZero() {
		t.Error("always open: NextOpen must be zero")
	}
}
