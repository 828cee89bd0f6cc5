package queue

import (
	"testing"
	"time"

	"guichet/hub/api"
)

func (h *harness) open(counter, agent string) {
	h.t.Helper()
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, counter, api.OpenArgs{Agent: agent}) })
}

// next calls next at counter and returns the called ticket's id.
func (h *harness) next(counter string) string {
	h.t.Helper()
	h.must(func(b By) ([]Event, error) { return h.e.CallNext(b, counter) })
	cs, _ := h.e.CounterState(counter)
	return cs.Ticket
}

func TestCallNextPrefersAppointmentDueNow(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	early := h.issue(issueReq{Service: "A"})
	h.tick(5 * time.Minute)
	notYet := h.issue(issueReq{Service: "A", Priority: PriorityAppointment, AppointmentAt: h.now.Add(30 * time.Minute)})
	due := h.issue(issueReq{Service: "A", Priority: PriorityAppointment, AppointmentAt: h.now.Add(5 * time.Minute)})
	prio := h.issue(issueReq{Service: "A", Priority: PriorityPublic})
	h.tick(time.Minute)
	for i, want := range []string{due, prio, early, notYet} {
		if got := h.next("1"); got != want {
			t.Fatalf("call %d: got %s (%s), want %s", i, got, h.ticket(got).Priority, want)
		}
	}
}

func TestCallNextPriorityPublicFirstWhenItIsATier(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	normal := h.issue(issueReq{Service: "A"})
	h.tick(10 * time.Minute)
	prio := h.issue(issueReq{Service: "B", Priority: PriorityPublic})
	// ana serves B at level 1 and A at level 3, yet priority public wins.
	if got := h.next("1"); got != prio {
		t.Fatalf("got %s, want priority ticket %s", got, prio)
	}
	if got := h.next("1"); got != normal {
		t.Fatalf("got %s, want %s", got, normal)
	}
}

func TestCallNextPriorityBoostWhenPriorityIsNotATier(t *testing.T) {
	site := testSite()
	site.Policy.Tiers = []Tier{TierAppointmentDue, TierOverdue}
	site.Policy.PriorityBoost = 5 * time.Minute
	h := newHarness(t, site)
	h.open("1", "ana")
	long := h.issue(issueReq{Service: "A"})
	h.tick(8 * time.Minute)
	short := h.issue(issueReq{Service: "A"})
	h.tick(time.Minute)
	prio := h.issue(issueReq{Service: "A", Priority: PriorityPublic})
	// waits: long 9 min, short 1 min, prio 0 + 5 min boost.
	for i, want := range []string{long, prio, short} {
		if got := h.next("1"); got != want {
			t.Fatalf("call %d: got %s, want %s", i, got, want)
		}
	}
}

func TestCallNextWeightsWaitBySkillLevel(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana") // A level 3, B level 1
	b := h.issue(issueReq{Service: "B"})
	h.tick(6 * time.Minute)
	a := h.issue(issueReq{Service: "A"})
	h.tick(3 * time.Minute)
	// B waited 9 min × 1, A waited 3 min × 3 = 9: tie, first come wins.
	if got := h.next("1"); got != b {
		t.Fatalf("tie: got %s, want the earlier %s", got, b)
	}
	h2 := newHarness(t, testSite())
	h2.open("1", "ana")
	b = h2.issue(issueReq{Service: "B"})
	h2.tick(5 * time.Minute)
	a = h2.issue(issueReq{Service: "A"})
	h2.tick(3 * time.Minute)
	// B 8 min × 1 < A 3 min × 3.
	if got := h2.next("1"); got != a {
		t.Fatalf("got %s, want %s (skill 3)", got, a)
	}
}

func TestCallNextServesOverdueTicketDespiteLowSkill(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	old := h.issue(issueReq{Service: "B"}) // SLA 30 min, ana level 1
	h.tick(20 * time.Minute)
	fresh := h.issue(issueReq{Service: "A"}) // ana level 3
	h.tick(11 * time.Minute)                 // B waited 31 min (overdue), A 11 min × 3 = 33 > 31
	d, err := h.e.Explain(h.now, "1")
	if err != nil {
		t.Fatal(err)
	}
	if d.Next == nil || d.Next.TicketID != old || d.Next.Tier != TierOverdue {
		t.Fatalf("explain: %+v, want %s overdue", d.Next, old)
	}
	if got := h.next("1"); got != old {
		t.Fatalf("got %s, want overdue %s", got, old)
	}
	_ = fresh
}

func TestCallNextOverdueOrderedByRatioToSLA(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "carl") // A (SLA 20) and C (SLA 15)
	a := h.issue(issueReq{Service: "A"})
	h.tick(2 * time.Minute)
	c := h.issue(issueReq{Service: "C"})
	h.tick(22 * time.Minute) // A 24/20 = 1.2, C 22/15 = 1.47
	if got := h.next("1"); got != c {
		t.Fatalf("got %s, want %s (further past its SLA)", got, c)
	}
	if got := h.next("1"); got != a {
		t.Fatalf("got %s, want %s", got, a)
	}
}

func TestCallNextFirstComeFirstServedAmongEquals(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, h.issue(issueReq{Service: "A"}))
	}
	h.tick(time.Minute)
	for i, want := range ids {
		if got := h.next("1"); got != want {
			t.Fatalf("call %d: got %s, want %s", i, got, want)
		}
	}
}

func TestCallNextPhonePositionTakesOnlyPhoneTickets(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("9", "pat")
	h.open("1", "carl")
	visit := h.issue(issueReq{Service: "A"})
	h.tick(time.Minute)
	phone := h.issue(issueReq{Service: "A", Channel: Phone})
	if got := h.next("9"); got != phone {
		t.Fatalf("phone position got %s, want phone ticket %s", got, phone)
	}
	if got := h.next("1"); got != visit {
		t.Fatalf("desk got %s, want visit ticket %s", got, visit)
	}
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "9") }), "queue_empty")
}

func TestCallNextOnlyServicesTheAgentHasSkillsFor(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "bob") // B only
	h.issue(issueReq{Service: "A"})
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, "1") }), "queue_empty")
}

func TestCallNextFinishesTheHeldTicketFirst(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	first := h.issue(issueReq{Service: "A"})
	second := h.issue(issueReq{Service: "A"})
	h.next("1")
	h.tick(4 * time.Minute)
	if got := h.next("1"); got != second {
		t.Fatalf("got %s, want %s", got, second)
	}
	if s := h.ticket(first).State; s != Done {
		t.Fatalf("first ticket %s, want done", s)
	}
}

func TestExplainAgreesWithCallNext(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	h.issue(issueReq{Service: "B"})
	h.tick(3 * time.Minute)
	h.issue(issueReq{Service: "A", Priority: PriorityAppointment, AppointmentAt: h.now})
	h.issue(issueReq{Service: "A"})
	d, err := h.e.Explain(h.now, "1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Candidates) != 3 || d.Next.Tier != TierAppointmentDue || d.Next.Why == "" {
		t.Fatalf("explain = %+v", d)
	}
	if got := h.next("1"); got != d.Next.TicketID {
		t.Fatalf("call next picked %s, explain said %s", got, d.Next.TicketID)
	}
}

func TestRecallTurnsIntoNoShowPastTheLimit(t *testing.T) {
	h := newHarness(t, testSite()) // two recalls allowed
	id := reach(h, Called)
	for i := 1; i <= 2; i++ {
		h.must(func(b By) ([]Event, error) { return h.e.Recall(b, "1") })
		if tk := h.ticket(id); tk.State != Called || tk.Recalls != i {
			t.Fatalf("after recall %d: %s with %d recalls", i, tk.State, tk.Recalls)
		}
	}
	h.must(func(b By) ([]Event, error) { return h.e.Recall(b, "1") })
	if s := h.ticket(id).State; s != NoShow {
		t.Fatalf("third recall left the ticket %s, want noshow", s)
	}
	if board := h.e.Board(); len(board) != 3 || !board[0].Recall || board[2].Recall {
		t.Fatalf("board = %+v, want two recalls over the call", board)
	}
}

func TestTransferKeepsNumberAndOriginalIssueTime(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	h.open("2", "bob")
	id := h.issue(issueReq{Service: "A"})
	issued := h.now
	h.tick(10 * time.Minute)
	later := h.issue(issueReq{Service: "B"})
	h.next("1")
	h.must(func(b By) ([]Event, error) { return h.e.Transfer(b, "1", api.TransferArgs{Service: "B"}) })
	tk := h.ticket(id)
	if tk.Display() != "A001" || !tk.IssuedAt.Equal(issued) || tk.Service != "B" || tk.Transfers != 1 {
		t.Fatalf("transferred ticket = %+v", tk)
	}
	// Its original issue time puts it ahead of the B ticket issued later.
	if got := h.next("2"); got != id {
		t.Fatalf("got %s, want the transferred %s ahead of %s", got, id, later)
	}
}

func TestNumbersAreConsecutivePerServiceAndResetAtLocalMidnight(t *testing.T) {
	h := newHarness(t, testSite())
	h.now = time.Date(2026, 11, 17, 23, 58, 0, 0, paris)
	a1 := h.issue(issueReq{Service: "A", Force: true})
	b1 := h.issue(issueReq{Service: "B", Force: true})
	a2 := h.issue(issueReq{Service: "A", Force: true})
	// 23:30 UTC is already the next day in Paris.
	h.now = time.Date(2026, 11, 17, 23, 30, 0, 0, time.UTC)
	a3 := h.issue(issueReq{Service: "A", Force: true})
	got := []string{h.ticket(a1).Display(), h.ticket(b1).Display(), h.ticket(a2).Display(), h.ticket(a3).Display()}
	want := []string{"A001", "B001", "A002", "A001"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("numbers %v, want %v", got, want)
		}
	}
	if h.ticket(a3).Day != "2026-11-18" {
		t.Fatalf("day %s", h.ticket(a3).Day)
	}
}

func TestIssueRefusedOutsideOpeningHours(t *testing.T) {
	site := testSite()
	var week [7][]Span
	week[time.Tuesday] = []Span{{8*60 + 30, 12 * 60}}
	site.Services[0].Hours = NewHours(week, []string{"2026-11-24"})
	h := newHarness(t, site)
	h.issue(issueReq{Service: "A"}) // Tuesday 09:00
	h.now = time.Date(2026, 11, 17, 12, 0, 0, 0, paris)
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.Issue(b, issueReq{ID: "x", Service: "A"}.request()) }), "service_closed")
	h.now = time.Date(2026, 11, 24, 9, 0, 0, 0, paris) // a closed Tuesday
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.Issue(b, issueReq{ID: "y", Service: "A"}.request()) }), "service_closed")
	h.issue(issueReq{Service: "A", Force: true}) // staff may force
}

func TestIssueRefusedWhenWaitRunsPastClosing(t *testing.T) {
	site := testSite()
	var week [7][]Span
	week[time.Tuesday] = []Span{{8 * 60, 10 * 60}}
	site.Services[1].Hours = NewHours(week, nil) // B: 12 min per citizen
	h := newHarness(t, site)
	h.open("2", "bob") // one agent on B; 09:00, one hour left
	n := 0
	for {
		err := h.do(func(b By) ([]Event, error) {
			n++
			return h.e.Issue(b, issueReq{ID: "b" + string(rune('a'+n)), Service: "B"}.request())
		})
		if err != nil {
			wantCode(t, err, "service_full")
			break
		}
	}
	// bob is free: (k + 0.5 − 1) × 12 min > 60 min from k = 6: six tickets
	// are issued.
	if got := h.e.waitingIn("B"); got != 6 {
		t.Fatalf("%d tickets issued before full, want 6", got)
	}
}

func TestEstimatedWaitSharesAgentsAcrossServices(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")  // A3 B1: 0.75 of an agent on A
	h.open("2", "carl") // A1 C1: 0.5 on A
	for i := 0; i < 4; i++ {
		h.issue(issueReq{Service: "A"})
	}
	var sum ServiceSummary
	for _, s := range h.e.Summary(h.now) {
		if s.Service == "A" {
			sum = s
		}
	}
	// The queue-length rule: both are free, (4 + 0.5 − 1.25) × 6 min / 1.25 = 15.6 min.
	if _, est := h.e.NewTicketEstimate(PredictQueueLength, h.now, "A", Visit); est.Wait != 15*time.Minute+36*time.Second {
		t.Fatalf("queue-length estimate %s, want 15m36s", est.Wait)
	}
	// At the agents' pace, before any is measured: ana takes A for 0.75 of
	// her calls at a 7.5-minute cycle (0.75 × 6 + 0.25 × 12), carl for 0.5 at
	// 5.5 minutes (0.5 × 6 + 0.5 × 5): 0.1909 calls a minute; both free take
	// two of the five calls, (5 − 2 − 0.5) / 0.1909 = 13.1 min.
	if _, est := h.e.NewTicketEstimate(PredictPace, h.now, "A", Visit); est.Wait != 13*time.Minute+6*time.Second {
		t.Fatalf("estimate at the pace %s, want 13m06s", est.Wait)
	}
	// Played (what the summary shows): nothing waits for B or C, so both
	// take A — two tickets now, two at 6 min, the new one at 12 min.
	if !sum.Estimated || sum.Agents != 1.25 || sum.EstimatedWait != 12*time.Minute || sum.Waiting != 4 || sum.Ahead != 4 {
		t.Fatalf("summary = %+v", sum)
	}
	h.must(func(b By) ([]Event, error) { return h.e.Pause(b, "2", api.PauseArgs{Reason: "réunion"}) })
	for _, s := range h.e.Summary(h.now) {
		if s.Service == "C" && s.Estimated {
			t.Fatalf("C estimated with nobody serving it: %+v", s)
		}
	}
}

func TestEstimateLearnsServiceTimes(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("2", "bob")
	for i := 0; i < 20; i++ {
		h.issue(issueReq{Service: "B"})
	}
	for i := 0; i < 20; i++ {
		h.next("2")
		h.tick(4 * time.Minute)
	}
	mean := h.e.Snapshot().Stats["B"].Mean
	if mean < 4*time.Minute || mean > 4*time.Minute+10*time.Second {
		t.Fatalf("mean service time %s after 19 services of 4 min (prior 12 min)", mean)
	}
}

func TestPositionCountsPriorityAhead(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	h.issue(issueReq{Service: "A"})
	me := h.issue(issueReq{Service: "A"})
	h.issue(issueReq{Service: "A", Priority: PriorityPublic})
	h.issue(issueReq{Service: "A"})
	ahead, wait, ok := h.e.Position(h.now, me)
	if ahead != 2 || !ok || wait <= 0 {
		t.Fatalf("ahead %d wait %s ok %v, want 2 ahead", ahead, wait, ok)
	}
}

func TestLeasedNumbersAreNeverIssuedByTheHub(t *testing.T) {
	h := newHarness(t, testSite())
	h.issue(issueReq{Service: "A"}) // A001
	rev := h.e.LeaseRev()
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", "2026-11-17", 10) })
	if h.e.LeaseRev() == rev {
		t.Fatal("a grant left LeaseRev alone: the kiosk's lease view would not be published")
	}
	rev = h.e.LeaseRev()
	l := h.e.Leases("kiosk-1")
	if len(l) != 1 || l[0].From != OfflineFrom || l[0].To != OfflineFrom+9 {
		t.Fatalf("lease = %+v", l)
	}
	if got := h.ticket(h.issue(issueReq{Service: "A"})).Number; got != 2 {
		t.Fatalf("the hub went on at %d, want 2", got)
	}
	if h.e.LeaseRev() != rev {
		t.Fatal("an online ticket moved LeaseRev: every call would recompute every kiosk's leases")
	}
	off := issueReq{ID: "off-1", Service: "A", Device: "kiosk-1", OfflineNumber: 903, IssuedAt: h.now.Add(-time.Minute)}
	h.issue(off)
	if h.e.LeaseRev() == rev {
		t.Fatal("a leased number used left LeaseRev alone")
	}
	if got := h.ticket("off-1").Display(); got != "A903" {
		t.Fatalf("offline ticket %s", got)
	}
	off.ID = "off-2"
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.Issue(b, off.request()) }), "invalid_lease")
	other := issueReq{ID: "off-3", Service: "A", Device: "kiosk-2", OfflineNumber: 904, IssuedAt: h.now}
	wantCode(t, h.do(func(b By) ([]Event, error) { return h.e.Issue(b, other.request()) }), "invalid_lease")
	if l := h.e.Leases("kiosk-1"); l[0].Free() != 9 {
		t.Fatalf("lease free = %d, want 9", l[0].Free())
	}
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-2", "A", "2026-11-17", 10) })
	if l := h.e.Leases("kiosk-2"); len(l) != 1 || l[0].From != OfflineFrom+10 {
		t.Fatalf("second kiosk's lease %+v overlaps", l)
	}
	if l := h.e.Leases("kiosk-1"); len(l) != 1 || l[0].Device != "kiosk-1" {
		t.Fatalf("kiosk-1's leases %+v", l)
	}
}

func TestABusyDayJumpsOverLeasedNumbers(t *testing.T) {
	h := newHarness(t, testSite())
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", "2026-11-17", 20) })
	for i := 1; i < OfflineFrom; i++ {
		h.issue(issueReq{Service: "A"})
	}
	if got := h.ticket(h.issue(issueReq{Service: "A"})).Number; got != OfflineFrom+20 {
		t.Fatalf("after %d tickets the hub handed out %d, inside the lease", OfflineFrom-1, got)
	}
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", "2026-11-17", 5) })
	if l := h.e.Leases("kiosk-1"); l[len(l)-1].From != OfflineFrom+21 {
		t.Fatalf("a new lease starts at %d, under what the hub handed out", l[len(l)-1].From)
	}
}

func TestOfflineTicketSlotsInByItsIssueTime(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("1", "ana")
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", "2026-11-17", 5) })
	printed := h.now
	h.tick(5 * time.Minute)
	online := h.issue(issueReq{Service: "A"})
	h.tick(5 * time.Minute)
	off := h.issue(issueReq{Service: "A", Device: "kiosk-1", OfflineNumber: OfflineFrom, IssuedAt: printed})
	if got := h.next("1"); got != off {
		t.Fatalf("got %s, want the offline ticket printed first (%s before %s)", got, off, online)
	}
}

func TestEvictsFinishedTicketsOfPastDays(t *testing.T) {
	h := newHarness(t, testSite())
	id := reach(h, Done)
	waiting := h.issue(issueReq{Service: "A"})
	h.now = h.now.Add(24 * time.Hour)
	h.issue(issueReq{Service: "A", Force: true})
	if _, ok := h.e.Ticket(id); ok {
		t.Fatal("yesterday's finished ticket still held")
	}
	if _, ok := h.e.Ticket(waiting); !ok {
		t.Fatal("yesterday's waiting ticket dropped")
	}
}

// A phone ticket's caller is on the line, not in the waiting room: its
// calls stay off the board; a visit's call shows.
func TestPhoneCallsStayOffTheBoard(t *testing.T) {
	h := newHarness(t, testSite())
	h.open("9", "ana")
	h.open("1", "carl")
	h.issue(issueReq{Service: "A", Channel: Phone})
	h.issue(issueReq{Service: "A"})
	h.next("9")
	h.must(func(b By) ([]Event, error) { return h.e.Recall(b, "9") })
	h.next("1")
	if board := h.e.Board(); len(board) != 1 || board[0].Counter != "1" {
		t.Fatalf("board = %+v, want the visit's call only", board)
	}
}
