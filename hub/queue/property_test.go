package queue

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"guichet/hub/api"
)

// randomSite builds a site of 1–5 services, 1–5 counters and 1–6 agents with
// random skills, channels, SLAs and a random policy.
func randomSite(r *rand.Rand) Site {
	s := Site{ID: "rand", Name: "Mairie", Location: paris, Policy: DefaultPolicy(), Languages: []string{"fr"}}
	s.Policy.RecallsBeforeNoShow = r.IntN(3)
	s.Policy.IgnoreHours = true
	tiers := []Tier{TierAppointmentDue, TierPriority, TierOverdue}
	r.Shuffle(len(tiers), func(i, j int) { tiers[i], tiers[j] = tiers[j], tiers[i] })
	s.Policy.Tiers = tiers[:r.IntN(4)]
	s.Policy.PriorityBoost = time.Duration(r.IntN(10)) * time.Minute
	ns := 1 + r.IntN(5)
	for i := 0; i < ns; i++ {
		chans := []Channel{Visit}
		switch r.IntN(3) {
		case 0:
			chans = []Channel{Visit, Phone}
		case 1:
			chans = []Channel{Phone, Visit}
		}
		s.Services = append(s.Services, Service{
			ID: string(rune('A' + i)), Names: map[string]string{"fr": "Service " + string(rune('A'+i))}, SLA: time.Duration(5+r.IntN(30)) * time.Minute,
			Weight: []float64{0, 1, 1.5, 2}[r.IntN(4)], Channels: chans,
			ServiceTime: time.Duration(r.IntN(10)) * time.Minute,
		})
	}
	for i := 0; i < 1+r.IntN(5); i++ {
		c := Counter{ID: strconv.Itoa(i + 1), Name: "Guichet " + strconv.Itoa(i+1)}
		switch r.IntN(4) {
		case 0:
			c.Channels = []Channel{Phone}
		case 1:
			c.Channels = []Channel{Visit, Phone}
		}
		if r.IntN(3) == 0 {
			c.Services = []string{s.Services[r.IntN(ns)].ID}
		}
		s.Counters = append(s.Counters, c)
	}
	for i := 0; i < 1+r.IntN(6); i++ {
		a := Agent{ID: fmt.Sprintf("ag%d", i), Skills: map[string]int{}}
		for _, sv := range s.Services {
			if r.IntN(2) == 0 {
				a.Skills[sv.ID] = 1 + r.IntN(3)
			}
		}
		if len(a.Skills) == 0 {
			a.Skills[s.Services[0].ID] = 1
		}
		s.Agents = append(s.Agents, a)
	}
	return s
}

func propertySeeds() int {
	if n, err := strconv.Atoi(os.Getenv("GUICHET_PROPERTY_SEEDS")); err == nil {
		return n
	}
	if testing.Short() || raceDetector {
		return 20 // go test -race (make test) runs the engine 10× slower for nothing: see race_test.go
	}
	return 100
}

func TestPropertyRandomOperationsKeepInvariants(t *testing.T) {
	for seed := 0; seed < propertySeeds(); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runProperty(t, uint64(seed), 250) })
	}
}

func runProperty(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 7))
	site := randomSite(r)
	h := newHarness(t, site)
	h.now = time.Date(2026, 11, 17, 22, 30, 0, 0, paris) // crosses midnight
	issuedNumbers := map[string]string{}                 // prefix/day/number → ticket
	anyCounter := func() string {
		counters := h.e.Site().Counters
		if r.IntN(20) == 0 || len(counters) == 0 {
			return "nope"
		}
		return counters[r.IntN(len(counters))].ID
	}
	anyService := func() string {
		svcs := h.e.Site().Services
		if r.IntN(20) == 0 {
			return "Z"
		}
		return svcs[r.IntN(len(svcs))].ID
	}
	anyAgent := func() string {
		ags := h.e.Site().Agents
		if r.IntN(20) == 0 || len(ags) == 0 {
			return "nobody"
		}
		return ags[r.IntN(len(ags))].ID
	}
	anyTicket := func() string {
		ts := h.e.Tickets("", "")
		if len(ts) == 0 || r.IntN(10) == 0 {
			return "missing"
		}
		return ts[r.IntN(len(ts))].ID
	}
	for step := 0; step < steps; step++ {
		h.tick(time.Duration(r.IntN(240)) * time.Second)
		var op string
		var err error
		switch k := r.IntN(100); {
		case k < 4:
			op = "lease"
			dev, svc := fmt.Sprintf("k%d", r.IntN(2)), anyService()
			err = h.do(func(b By) ([]Event, error) { return h.e.GrantLease(b, dev, svc, h.e.Day(b.At), 1+r.IntN(5)) })
		case k < 9:
			op = "offline issue"
			dev := fmt.Sprintf("k%d", r.IntN(2))
			var req issueReq
			for _, l := range h.e.Leases(dev) {
				for n := l.From; n <= l.To; n++ {
					if !l.Used[n] && r.IntN(3) > 0 {
						req = issueReq{Service: l.Service, Device: dev, OfflineNumber: n}
					}
				}
			}
			if req.Service == "" {
				req = issueReq{Service: h.e.Site().Services[0].ID, Device: dev, OfflineNumber: OfflineFrom + r.IntN(30)}
			}
			req.ID, req.IssuedAt = fmt.Sprintf("o%04d", step), h.now.Add(-time.Duration(r.IntN(300))*time.Second)
			req.Channel = Visit
			if svc := h.e.services[req.Service]; svc != nil {
				req.Channel = svc.Channels[0]
			}
			err = h.do(func(b By) ([]Event, error) { return h.e.Issue(b, req.request()) })
		case k < 30:
			op = "issue"
			svcs := h.e.Site().Services
			svc := svcs[r.IntN(len(svcs))]
			req := issueReq{ID: fmt.Sprintf("t%04d", step), Service: svc.ID, Channel: svc.Channels[r.IntN(len(svc.Channels))]}
			if r.IntN(20) == 0 {
				req.Service = "Z"
			}
			switch r.IntN(6) {
			case 0:
				req.Priority = PriorityPublic
			case 1:
				req.Priority = PriorityAppointment
				req.AppointmentAt = h.now.Add(time.Duration(r.IntN(60)-20) * time.Minute).Truncate(5 * time.Minute)
			}
			err = h.do(func(b By) ([]Event, error) { return h.e.Issue(b, req.request()) })
		case k < 40:
			op = "open"
			c, a := anyCounter(), anyAgent()
			err = h.do(func(b By) ([]Event, error) { return h.e.OpenCounter(b, c, api.OpenArgs{Agent: a}) })
		case k < 62:
			op = "call next"
			c := anyCounter()
			want := referencePick(h.e, h.now, c)
			err = h.do(func(b By) ([]Event, error) { return h.e.CallNext(b, c) })
			if err == nil {
				cs, _ := h.e.CounterState(c)
				if want == nil || cs.Ticket != want.ID {
					t.Fatalf("seed %d step %d: call next at %s picked %s, reference %v", seed, step, c, cs.Ticket, want)
				}
				checkPickFair(t, h.e, h.now, c, cs.Ticket)
			} else if want != nil && err.(*Error).Code == "queue_empty" {
				t.Fatalf("seed %d step %d: queue_empty but %s waits for counter %s", seed, step, want.ID, c)
			}
		case k < 67:
			op = "recall"
			c := anyCounter()
			err = h.do(func(b By) ([]Event, error) { return h.e.Recall(b, c) })
		case k < 72:
			op = "start"
			c := anyCounter()
			err = h.do(func(b By) ([]Event, error) { return h.e.Start(b, c) })
		case k < 80:
			op = "finish"
			c := anyCounter()
			err = h.do(func(b By) ([]Event, error) { return h.e.Finish(b, c) })
		case k < 83:
			op = "no-show"
			c := anyCounter()
			err = h.do(func(b By) ([]Event, error) { return h.e.NoShow(b, c) })
		case k < 87:
			op = "transfer"
			c, a := anyCounter(), api.TransferArgs{Service: anyService(), Note: "note"}
			switch r.IntN(3) {
			case 0:
				a.Agent = anyAgent()
			case 1:
				a.Service, a.Agent = "", anyAgent()
			}
			err = h.do(func(b By) ([]Event, error) { return h.e.Transfer(b, c, a) })
		case k < 90:
			op = "cancel"
			id := anyTicket()
			err = h.do(func(b By) ([]Event, error) { return h.e.Cancel(b, api.CancelArgs{Ticket: id, Reason: ""}) })
		case k < 93:
			op = "pause"
			c := anyCounter()
			err = h.do(func(b By) ([]Event, error) { return h.e.Pause(b, c, api.PauseArgs{Reason: "pause"}) })
		case k < 95:
			op = "resume"
			c := anyCounter()
			err = h.do(func(b By) ([]Event, error) { return h.e.Resume(b, c) })
		case k < 96:
			op = "close"
			c := anyCounter()
			err = h.do(func(b By) ([]Event, error) { return h.e.CloseCounter(b, c) })
		default:
			op, err = siteChange(h, r, anyService, anyCounter, anyAgent, anyTicket)
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("seed %d step %d %s: untyped error %v", seed, step, op, err)
			}
		}
		where := fmt.Sprintf("seed %d step %d (%s)", seed, step, op)
		checkInvariants(t, h.e, issuedNumbers, where)
		checkViewsEncode(t, h.e, h.now, where)
	}
	// The live state is the projection of the log: replaying it, or restoring
	// a snapshot, gives the same state.
	replay, _ := New(site)
	for _, ev := range h.log {
		replay.Apply(ev)
	}
	live := h.state()
	if got := stateOf(t, replay); got != live {
		t.Fatalf("seed %d: replayed state differs from live state", seed)
	}
	restored, _ := New(site)
	b, _ := json.Marshal(h.e.Snapshot())
	var snap Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	restored.Restore(snap)
	if got := stateOf(t, restored); got != live {
		t.Fatalf("seed %d: restored snapshot differs from live state", seed)
	}
}

// siteChange makes a random change of the site, as an administrator or a
// supervisor would, or a new site file.
func siteChange(h *harness, r *rand.Rand, anyService, anyCounter, anyAgent, anyTicket func() string) (string, error) {
	e := h.e
	switch r.IntN(12) {
	case 0:
		sv := Service{ID: string(rune('A' + r.IntN(8))), Names: map[string]string{"fr": "Nouveau"}, SLA: time.Duration(1+r.IntN(30)) * time.Minute,
			Channels: []Channel{Visit}, Weight: float64(r.IntN(3))}
		if old := e.Service(sv.ID); old != nil && r.IntN(2) == 0 {
			sv = old.Clone()
			sv.SLA = time.Duration(1+r.IntN(30)) * time.Minute
		}
		if r.IntN(3) == 0 {
			sv.Channels = []Channel{Visit, Phone}
		}
		return "save service", h.do(func(b By) ([]Event, error) { return e.SaveService(b, sv) })
	case 1:
		id := anyService()
		return "remove service", h.do(func(b By) ([]Event, error) { return e.RemoveService(b, id) })
	case 2:
		id := anyService()
		return "close service", h.do(func(b By) ([]Event, error) {
			return e.CloseService(b, id, map[string]string{"fr": "Fermé", "en": "Closed"})
		})
	case 3:
		id := anyService()
		return "reopen service", h.do(func(b By) ([]Event, error) { return e.ReopenService(b, id) })
	case 4:
		c := Counter{ID: strconv.Itoa(1 + r.IntN(7)), Name: "Guichet"}
		if r.IntN(2) == 0 {
			c.Services = []string{anyService()}
		}
		if r.IntN(3) == 0 {
			c.Channels = []Channel{Visit, Phone}
		}
		return "save counter", h.do(func(b By) ([]Event, error) { return e.SaveCounter(b, c) })
	case 5:
		id := anyCounter()
		return "remove counter", h.do(func(b By) ([]Event, error) { return e.RemoveCounter(b, id) })
	case 6:
		a := Agent{ID: fmt.Sprintf("ag%d", r.IntN(8)), Skills: map[string]int{anyService(): 1 + r.IntN(5)}}
		return "save agent", h.do(func(b By) ([]Event, error) { return e.SaveAgent(b, a) })
	case 7:
		id := anyAgent()
		return "remove agent", h.do(func(b By) ([]Event, error) { return e.RemoveAgent(b, id) })
	case 8:
		id := anyAgent()
		return "sign out", h.do(func(b By) ([]Event, error) { return e.SignOut(b, id) })
	case 9:
		a := api.TicketTransferArgs{Ticket: anyTicket(), TransferArgs: api.TransferArgs{Service: anyService(), Note: "n"}}
		if r.IntN(2) == 0 {
			a.Agent = anyAgent()
		}
		return "supervisor transfer", h.do(func(b By) ([]Event, error) { return e.TransferTicket(b, a) })
	case 10:
		msg := map[string]string{"fr": fmt.Sprintf("Message %d", r.IntN(3))}
		return "board message", h.do(func(b By) ([]Event, error) { return e.SetBoardMessage(b, msg) })
	default:
		// A new site file: the current site, some services, counters and agents fewer.
		next := e.Site().Clone()
		next.Counters = next.Counters[:r.IntN(len(next.Counters)+1)]
		next.Agents = next.Agents[:r.IntN(len(next.Agents)+1)]
		if len(next.Services) > 1 && r.IntN(2) == 0 {
			gone := next.Services[len(next.Services)-1].ID
			withoutService(&next, gone)
			next.Counters = slices.DeleteFunc(next.Counters, func(c Counter) bool { return c.Services != nil && len(c.Services) == 0 })
			next.Agents = slices.DeleteFunc(next.Agents, func(a Agent) bool { return len(a.Skills) == 0 })
		}
		return "load site", h.do(func(b By) ([]Event, error) { return e.LoadSite(b, next, fmt.Sprint(r.Uint64())) })
	}
}

// checkViewsEncode: everything the views read of the engine encodes.
func checkViewsEncode(t *testing.T, e *Engine, now time.Time, where string) {
	t.Helper()
	views := []any{e.Summary(now), e.Board(), e.Counters(), e.Agents(), e.Tickets("", ""), e.Site()}
	for _, c := range e.Site().Counters {
		if d, err := e.Explain(now, c.ID); err == nil {
			views = append(views, d)
		}
	}
	for _, tk := range e.Tickets(Waiting, "") {
		ahead, wait, _ := e.Position(now, tk.ID)
		views = append(views, ahead, wait)
	}
	for _, v := range views {
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("%s: a view does not encode: %v", where, err)
		}
	}
}

func stateOf(t *testing.T, e *Engine) string {
	b, err := json.Marshal(e.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// eligible reports whether the waiting ticket t may be called at counter c by
// its agent, and at which skill level: written independently of the lanes.
func eligible(e *Engine, now time.Time, c *Counter, a *Agent, t *Ticket) (int, bool) {
	s := e.services[t.Service]
	lvl := a.Skills[t.Service]
	if s == nil || lvl == 0 || !c.Serves(t.Service) || !c.Takes(t.Channel) {
		return 0, false
	}
	if t.ForAgent != "" && t.ForAgent != a.ID && now.Before(t.HoldUntil) {
		if st := e.agentSt[t.ForAgent]; st != nil && st.State != AgentOffline {
			return 0, false // held for another agent
		}
	}
	return lvl, true
}

// referencePick scans every waiting ticket by brute force.
func referencePick(e *Engine, now time.Time, counter string) *Ticket {
	c := e.counters[counter]
	cs := e.counterSt[counter]
	if c == nil || !cs.Open || e.agentSt[cs.Agent].State == AgentPaused {
		return nil
	}
	a := e.agents[cs.Agent]
	var best *Candidate
	for _, t := range e.tickets {
		if t.State != Waiting {
			continue
		}
		if lvl, ok := eligible(e, now, c, a, t); ok {
			cd := e.rank(now, t, lvl)
			if best == nil || better(&cd, best) {
				best = &cd
			}
		}
	}
	if best == nil {
		return nil
	}
	return best.ticket
}

// checkPickFair checks, against the state after the call, that the called
// ticket was fair: nobody of its lane came earlier, and no eligible overdue
// ticket was passed over by a ticket of a lower tier.
func checkPickFair(t *testing.T, e *Engine, now time.Time, counter, picked string) {
	c := e.counters[counter]
	a := e.agents[e.counterSt[counter].Agent]
	p := e.tickets[picked]
	pc := e.rank(now, p, a.Skills[p.Service])
	overdueRank := -1
	for i, tier := range e.site.Policy.Tiers {
		if tier == TierOverdue {
			overdueRank = i
		}
	}
	for _, u := range e.tickets {
		if u.State != Waiting {
			continue
		}
		lvl, ok := eligible(e, now, c, a, u)
		if !ok {
			continue
		}
		if u.Service == p.Service && u.Channel == p.Channel && u.Priority == p.Priority &&
			p.Priority != PriorityAppointment && u.before(p) {
			t.Fatalf("FIFO broken: %s (issued %s) waits while %s (issued %s) is called", u.ID, u.IssuedAt, p.ID, p.IssuedAt)
		}
		sla := e.services[u.Service].SLA
		if overdueRank >= 0 && now.Sub(u.IssuedAt) > sla {
			uc := e.rank(now, u, lvl)
			if pc.Rank > overdueRank || (pc.Rank == overdueRank && uc.Rank == overdueRank && uc.Score > pc.Score) {
				t.Fatalf("starvation: overdue %s (%s) passed over by %s (%s)", u.ID, uc.Why, p.ID, pc.Why)
			}
		}
	}
}

func checkInvariants(t *testing.T, e *Engine, numbers map[string]string, where string) {
	t.Helper()
	if err := e.Check(); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	// Numbers are unique per service and day across the run, not only
	// among the tickets the engine still holds.
	for id, tk := range e.tickets {
		key := fmt.Sprintf("%s/%s/%d", tk.Prefix, tk.Day, tk.Number)
		if other, ok := numbers[key]; ok && other != id {
			t.Fatalf("%s: number %s given to %s and %s", where, key, other, id)
		}
		numbers[key] = id
	}
	inLanes := 0
	for _, l := range e.lanes {
		inLanes += len(l.tickets)
	}
	if inLanes != e.WaitingCount() {
		t.Fatalf("%s: lanes hold %d tickets, %d counted", where, inLanes, e.WaitingCount())
	}
}
