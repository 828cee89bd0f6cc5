package queue

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// MaxRetained is how many finished tickets stay in memory (the rest stay in
// the log); finished tickets of past days are dropped at local midnight.
const MaxRetained = 50_000

// Engine holds the live queue of one site.
type Engine struct {
	// The summary of the last moment asked (Summary), shared by its readers
	// until the next event: the only thing readers write, under its own lock.
	sumMu    sync.Mutex
	sumCache summaryCache

	// The site, and its indices: changed only by the site's events
	// (admin.go), which replace it whole (a view may hold the old one).
	site     Site
	siteHash string // the site file's hash, as site.loaded last recorded it
	siteRev  uint64 // how many times the site was installed (index): see SiteRevision
	services map[string]*Service
	counters map[string]*Counter
	agents   map[string]*Agent

	// Mutable: the projection of the event log.
	day       string // local day of the newest event
	tickets   map[string]*Ticket
	byToken   map[string]*Ticket
	lanes     map[laneKey]*lane
	counterSt map[string]*CounterState
	agentSt   map[string]*AgentStatus
	next      map[numKey]int // next number the hub hands out itself
	nextLease map[numKey]int // next number leased to kiosks (from OfflineFrom)
	// The leases, by device and by number series, so that a kiosk's leases
	// and a series' blocks are found without scanning every kiosk's.
	leasesOf map[string]map[leaseKey]*Lease
	leasesIn map[numKey]map[leaseKey]*Lease
	leaseRev int64 // changes whenever a lease does; never repeats, even across a reset
	board    []Call
	stats    map[string]*ServiceStats
	retired  []string // finished ticket ids, oldest first
	appts    map[string]*Appointment
	recent   map[string][]*Ticket  // each device's last online tickets (see offline.go)
	applied  int64                 // events applied since New
	calls    map[string]*Ticket    // the live tickets of PBX calls, by call id (calls.go)
	clamped  int64                 // times from the log held within bounds (see clamp)
	paces    map[string]*pace      // what the engine learnt of each agent (pace.go)
	occs     map[Lane]*occupation  // what the engine learnt of each lane's tickets (play.go)
	arrived  map[laneKey]*arrivals // each lane's last arrivals (play.go)
	// The range's calibration (calibrate.go): each waiting ticket's
	// estimate at issue, and the recent ratios of real wait to estimate.
	issueEst map[string]time.Duration
	atIssue  issued // the last ticket's estimate at its issue, for its answer
	calib    map[calibKey]*ratios
	priors   map[[2]string]map[Lane]float64 // priorShares by counter and agent: the site's alone, rebuilt with it
	serves   map[[2]string][]string         // servable by counter and agent, rebuilt with the site
}

type numKey struct{ prefix, day string }

type leaseKey struct {
	device, service, day string
	from                 int
}

// ServiceStats is what the engine has measured of a service.
type ServiceStats struct {
	Mean   time.Duration `json:"mean"`   // moving mean of service time (call to end)
	Served int           `json:"served"` // services measured
}

// New returns an empty engine for site.
func New(site Site) (*Engine, error) {
	if err := site.Validate(); err != nil {
		return nil, err
	}
	if len(site.Policy.Tiers) == 0 && site.Policy.BoardSize == 0 {
		site.Policy = DefaultPolicy()
	}
	if site.Policy.BoardSize <= 0 {
		site.Policy.BoardSize = 10
	}
	e := &Engine{site: site.Clone()}
	e.index()
	e.reset()
	return e, nil
}

// SiteRevision changes whenever the site does (a site file loaded, a
// service, counter, agent or setting saved, a snapshot restored): views
// keep what they make of the site for one revision. It counts up for the
// life of the engine and is not kept in snapshots.
func (e *Engine) SiteRevision() uint64 { return e.siteRev }

// index rebuilds the site's indices.
func (e *Engine) index() {
	e.siteRev++
	e.services = make(map[string]*Service, len(e.site.Services))
	e.counters = make(map[string]*Counter, len(e.site.Counters))
	e.agents = make(map[string]*Agent, len(e.site.Agents))
	for i := range e.site.Services {
		s := &e.site.Services[i]
		e.services[s.ID] = s
	}
	for i := range e.site.Counters {
		c := &e.site.Counters[i]
		e.counters[c.ID] = c
	}
	for i := range e.site.Agents {
		a := &e.site.Agents[i]
		e.agents[a.ID] = a
	}
	e.priors = make(map[[2]string]map[Lane]float64, len(e.site.Counters)*len(e.site.Agents))
	e.serves = make(map[[2]string][]string, len(e.site.Counters)*len(e.site.Agents))
	for i := range e.site.Counters {
		for j := range e.site.Agents {
			c, a := &e.site.Counters[i], &e.site.Agents[j]
			if m := e.computePriorShares(c.ID, a.ID); len(m) > 0 {
				e.priors[[2]string{c.ID, a.ID}] = m
			}
			e.serves[[2]string{c.ID, a.ID}] = e.servable(c, a)
		}
	}
}

func (e *Engine) reset() {
	e.sumMu.Lock()
	e.sumCache = summaryCache{}
	e.sumMu.Unlock()
	e.day = ""
	e.tickets = map[string]*Ticket{}
	e.byToken = map[string]*Ticket{}
	e.lanes = map[laneKey]*lane{}
	e.counterSt = map[string]*CounterState{}
	e.agentSt = map[string]*AgentStatus{}
	e.next = map[numKey]int{}
	e.nextLease = map[numKey]int{}
	e.leasesOf = map[string]map[leaseKey]*Lease{}
	e.leasesIn = map[numKey]map[leaseKey]*Lease{}
	e.leaseRev++
	e.board = nil
	e.stats = map[string]*ServiceStats{}
	e.retired = nil
	e.appts = map[string]*Appointment{}
	e.recent = map[string][]*Ticket{}
	e.calls = map[string]*Ticket{}
	e.paces = map[string]*pace{}
	e.occs = map[Lane]*occupation{}
	e.arrived = map[laneKey]*arrivals{}
	e.issueEst = map[string]time.Duration{}
	e.atIssue = issued{}
	e.calib = map[calibKey]*ratios{}
	for _, c := range e.site.Counters {
		e.counterSt[c.ID] = &CounterState{ID: c.ID}
	}
	for _, a := range e.site.Agents {
		e.agentSt[a.ID] = &AgentStatus{ID: a.ID, State: AgentOffline}
	}
	for _, s := range e.site.Services {
		e.stats[s.ID] = &ServiceStats{Mean: s.ServiceTime}
	}
}

// Site returns the site the engine runs, as it is now. It is the engine's:
// read it, never change it (a change is an event: admin.go).
func (e *Engine) Site() *Site { return &e.site }

// SiteHash returns the hash of the site file last loaded (site.loaded), ""
// if the log records none.
func (e *Engine) SiteHash() string { return e.siteHash }

// Service returns the service with id, or nil.
func (e *Engine) Service(id string) *Service { return e.services[id] }

// Counter returns the counter with id, or nil.
func (e *Engine) Counter(id string) *Counter { return e.counters[id] }

// Agent returns the agent with id, or nil.
func (e *Engine) Agent(id string) *Agent { return e.agents[id] }

// Applied returns how many events the engine has applied since New or Restore.
func (e *Engine) Applied() int64 { return e.applied }

// Day returns the site's local day of t, "2006-01-02".
func (e *Engine) Day(t time.Time) string { return t.In(e.site.Location).Format(time.DateOnly) }

// Apply applies an event from the log. Events come from the engine's own
// decisions, so Apply does not refuse; it tolerates what a changed
// configuration left behind (a removed service or counter). An event that
// is not the queue's (the log also holds the accounts' and the devices'
// events, which the hub writes beside the engine) changes nothing, not
// even the day: the engine rebuilt from the log is then the live one.
func (e *Engine) Apply(ev Event) {
	if !ev.Type.Queue() {
		return
	}
	e.applied++
	if d := e.Day(ev.At); d > e.day {
		e.rollover(d)
	}
	if IsSiteChange(ev.Type) {
		e.applySite(ev)
		return
	}
	e.learn(ev)
	t := e.tickets[ev.Ticket]
	switch ev.Type {
	case TicketIssued:
		e.applyIssued(ev)
		e.noteIssued(e.tickets[ev.Ticket], ev.At)
		e.noteArrival(e.tickets[ev.Ticket], ev.At)
	case TicketCalled:
		if t == nil {
			return
		}
		if t.CalledAt.IsZero() {
			e.noteCalled(t, ev.At)
		}
		e.unlane(t)
		t.State, t.Counter, t.Agent, t.CalledAt, t.Recalls = Called, ev.Counter, ev.Agent, ev.At, 0
		e.hold(ev.Counter, t.ID, ev.At)
		e.addCall(t, Call{Ticket: t.Display(), TicketID: t.ID, Service: t.Service, Counter: ev.Counter, At: ev.At})
	case TicketRecalled:
		if t == nil {
			return
		}
		t.Recalls = ev.Recall
		e.addCall(t, Call{Ticket: t.Display(), TicketID: t.ID, Service: t.Service, Counter: t.Counter, At: ev.At, Recall: true})
	case TicketStarted:
		if t == nil {
			return
		}
		t.State, t.StartedAt = Serving, ev.At
	case TicketServed:
		if t == nil {
			return
		}
		e.measure(t, ev.At)
		e.end(t, Done, ev.At)
	case TicketNoShow:
		if t != nil {
			e.end(t, NoShow, ev.At)
		}
	case TicketCancelled:
		if t != nil {
			e.unlane(t)
			e.end(t, Cancelled, ev.At)
		}
	case TicketTransferred:
		if t == nil {
			return
		}
		e.unhold(t, ev.At)
		t.Service, t.ForAgent, t.HoldUntil, t.Note = ev.Service, ev.ToAgent, ev.Until, ev.Note
		t.Transfers++
		e.enlane(t)
	case TicketReturned:
		if t == nil || t.State != Called && t.State != Serving {
			return
		}
		e.unhold(t, ev.At)
		e.enlane(t)
	case CounterOpened:
		if c := e.counterSt[ev.Counter]; c != nil {
			c.Open, c.Agent = true, ev.Agent
		}
		e.setAgent(ev.Agent, AgentAvailable, ev.Counter, "", ev.At)
	case CounterClosed:
		if c := e.counterSt[ev.Counter]; c != nil {
			c.Open, c.Agent, c.Ticket = false, "", ""
		}
		e.setAgent(ev.Agent, AgentOffline, "", "", ev.At)
		e.releaseHolds(ev.Agent)
	case AgentPausedEvent:
		e.setAgent(ev.Agent, AgentPaused, ev.Counter, ev.Reason, ev.At)
	case AgentResumed:
		e.setAgent(ev.Agent, AgentAvailable, ev.Counter, "", ev.At)
	case AppointmentBooked:
		at := e.clamp(ev.AppointmentAt, ev.At, BookBehind, BookAhead)
		e.appts[ev.Code] = &Appointment{Code: ev.Code, Service: ev.Service, At: at, Citizen: ev.Citizen}
	case AppointmentDrop:
		delete(e.appts, ev.Code)
	case LeaseGranted:
		e.addLease(&Lease{Device: ev.Device, Service: ev.Service, Day: ev.Day, From: ev.Number, To: ev.To, Used: map[int]bool{},
			GrantedAt: ev.At})
		nk := numKey{ev.Service, ev.Day}
		if e.nextLeased(nk) <= ev.To {
			e.nextLease[nk] = ev.To + 1
		}
	default:
		e.applyLinks(ev, t)
	}
}

func (e *Engine) applyIssued(ev Event) {
	issued := ev.At
	if !ev.IssuedAt.IsZero() {
		issued = e.clamp(ev.IssuedAt, ev.At, MaxOfflineAge, 0)
	}
	t := &Ticket{
		ID: ev.Ticket, Number: ev.Number, Prefix: ev.Service, Day: ev.Day,
		Channel: ev.Channel, Priority: ev.Priority, AppointmentAt: e.clamp(ev.AppointmentAt, ev.At, SlotWindow, SlotWindow),
		IssuedAt: issued, Device: ev.Device, Citizen: ev.Citizen, Token: ev.Token, Lang: ev.Lang,
		Service: ev.Service, State: Waiting,
	}
	e.tickets[t.ID] = t
	if t.Token != "" {
		e.byToken[t.Token] = t
	}
	e.issuedCall(t, ev)
	if a := e.appts[ev.Code]; a != nil && ev.Code != "" {
		a.Ticket = t.ID
	}
	nk := numKey{t.Prefix, t.Day}
	if l := e.leaseOf(ev.Device, t.Prefix, t.Day, t.Number); l != nil {
		l.Used[t.Number] = true
		t.Offline = true
		e.leaseRev++
	} else if e.next[nk] <= t.Number {
		e.next[nk] = t.Number + 1
	}
	e.remember(t)
	e.enlane(t)
}

// OfflineFrom is where the numbers leased to kiosks start each day: the hub
// numbers from 1, kiosks print from 901 when it does not answer.
const OfflineFrom = 901

// nextNumber is the next number the hub may hand out itself: after the last
// one, past any leased block.
func (e *Engine) nextNumber(k numKey) int {
	n := max(e.next[k], 1)
	for moved := true; moved; {
		moved = false
		for _, l := range e.leasesIn[k] {
			if n >= l.From && n <= l.To {
				n, moved = l.To+1, true
			}
		}
	}
	return n
}

// nextLeased is where the next leased block starts: after the last one, and
// after what the hub has handed out on a busy day.
func (e *Engine) nextLeased(k numKey) int {
	return max(e.nextLease[k], OfflineFrom, e.next[k])
}

func (e *Engine) leaseOf(device, service, day string, n int) *Lease {
	if device == "" {
		return nil
	}
	for k, l := range e.leasesOf[device] {
		if k.service == service && k.day == day && n >= l.From && n <= l.To {
			return l
		}
	}
	return nil
}

// addLease keeps a lease and indexes it.
func (e *Engine) addLease(l *Lease) {
	k := leaseKey{l.Device, l.Service, l.Day, l.From}
	nk := numKey{l.Service, l.Day}
	if e.leasesOf[l.Device] == nil {
		e.leasesOf[l.Device] = map[leaseKey]*Lease{}
	}
	if e.leasesIn[nk] == nil {
		e.leasesIn[nk] = map[leaseKey]*Lease{}
	}
	e.leasesOf[l.Device][k], e.leasesIn[nk][k] = l, l
	e.leaseRev++
}

// dropLease forgets a lease.
func (e *Engine) dropLease(k leaseKey) {
	nk := numKey{k.service, k.day}
	e.leaseRev++
	delete(e.leasesOf[k.device], k)
	delete(e.leasesIn[nk], k)
	if len(e.leasesOf[k.device]) == 0 {
		delete(e.leasesOf, k.device)
	}
	if len(e.leasesIn[nk]) == 0 {
		delete(e.leasesIn, nk)
	}
}

// hold gives the counter its current ticket and puts its agent to serving.
func (e *Engine) hold(counter, ticket string, at time.Time) {
	c := e.counterSt[counter]
	if c == nil {
		return
	}
	c.Ticket = ticket
	e.setAgent(c.Agent, AgentServing, counter, "", at)
}

// release frees a counter of ticket; its agent goes to wrap-up.
func (e *Engine) release(counter, ticket string, at time.Time) {
	c := e.counterSt[counter]
	if c == nil || c.Ticket != ticket {
		return
	}
	c.Ticket = ""
	e.setAgent(c.Agent, AgentWrapUp, counter, "", at)
}

// unhold takes a ticket out of the lanes or off its counter, back to
// waiting (not yet in a lane: the caller puts it in its new one), keeping
// its number and issue time.
func (e *Engine) unhold(t *Ticket, at time.Time) {
	if t.State == Waiting {
		e.unlane(t)
	} else {
		e.release(t.Counter, t.ID, at)
	}
	t.State, t.Counter, t.Agent = Waiting, "", ""
	t.CalledAt, t.StartedAt, t.Recalls = time.Time{}, time.Time{}, 0
}

// releaseHolds gives back to their service the waiting tickets held for
// agent (see policy.go): the agent signed out.
func (e *Engine) releaseHolds(agent string) {
	if agent == "" {
		return
	}
	for _, l := range e.lanes {
		for _, t := range l.tickets {
			if t.ForAgent == agent {
				t.ForAgent, t.HoldUntil = "", time.Time{}
			}
		}
	}
}

func (e *Engine) end(t *Ticket, s State, at time.Time) {
	if t.Counter != "" {
		e.release(t.Counter, t.ID, at)
	}
	t.State, t.EndedAt = s, at
	delete(e.issueEst, t.ID)
	e.unindexCall(t)
	e.retired = append(e.retired, t.ID)
	if len(e.retired) > MaxRetained {
		e.evict(len(e.retired) - MaxRetained)
	}
}

func (e *Engine) evict(n int) {
	for _, id := range e.retired[:n] {
		if t := e.tickets[id]; t != nil {
			delete(e.byToken, t.Token)
		}
		delete(e.tickets, id)
	}
	e.retired = append(e.retired[:0:0], e.retired[n:]...)
}

func (e *Engine) setAgent(id string, s AgentState, counter, reason string, at time.Time) {
	a := e.agentSt[id]
	if a == nil {
		return
	}
	a.State, a.Counter, a.PauseReason, a.Since = s, counter, reason, at
}

// measure feeds a finished service into the service's moving mean.
func (e *Engine) measure(t *Ticket, at time.Time) {
	st := e.stats[t.Service]
	if st == nil || t.CalledAt.IsZero() {
		return
	}
	d := at.Sub(t.CalledAt)
	if d <= 0 {
		return
	}
	if st.Mean > 0 && d > 6*st.Mean {
		d = 6 * st.Mean // one forgotten "finish" must not wreck the estimate
	}
	if st.Served == 0 && st.Mean == 0 {
		st.Mean = d
	} else {
		st.Mean += (d - st.Mean) / 5 // exponential moving mean, alpha 0.2
	}
	st.Served++
}

// addCall puts a call on the waiting-room board; a phone ticket's caller is
// not in the room, so its calls are not shown.
func (e *Engine) addCall(t *Ticket, c Call) {
	if t.Channel == Phone {
		return
	}
	e.board = append([]Call{c}, e.board...)
	if len(e.board) > e.site.Policy.BoardSize {
		e.board = e.board[:e.site.Policy.BoardSize]
	}
}

// rollover moves the engine to a new local day: finished tickets of past
// days, numbering and leases of days before yesterday are dropped.
func (e *Engine) rollover(day string) {
	e.day = day
	keep := 0
	for keep < len(e.retired) {
		t := e.tickets[e.retired[keep]]
		if t != nil && e.Day(t.EndedAt) >= day {
			break
		}
		keep++
	}
	e.evict(keep)
	prev := e.dayBefore(day)
	for k := range e.next {
		if k.day < prev {
			delete(e.next, k)
		}
	}
	for k := range e.nextLease {
		if k.day < prev {
			delete(e.nextLease, k)
		}
	}
	for nk, ls := range e.leasesIn {
		if nk.day < prev {
			for k := range ls {
				e.dropLease(k)
			}
		}
	}
	for code, a := range e.appts {
		if e.Day(a.At) < prev {
			delete(e.appts, code)
		}
	}
}

func (e *Engine) dayBefore(day string) string {
	d, err := time.ParseInLocation(time.DateOnly, day, e.site.Location)
	if err != nil {
		return day
	}
	return d.AddDate(0, 0, -1).Format(time.DateOnly)
}

// Ticket returns a copy of the ticket with id, if the engine still holds it.
func (e *Engine) Ticket(id string) (Ticket, bool) {
	t := e.tickets[id]
	if t == nil {
		return Ticket{}, false
	}
	return *t, true
}

// TicketByToken returns a copy of the ticket whose mobile-page token is tok.
func (e *Engine) TicketByToken(tok string) (Ticket, bool) {
	t := e.byToken[tok]
	if t == nil {
		return Ticket{}, false
	}
	return *t, true
}

// Tickets returns copies of the tickets held, in issue order, filtered by
// state (all if empty) and service (all if empty).
func (e *Engine) Tickets(state State, service string) []Ticket {
	var out []Ticket
	for _, t := range e.tickets {
		if (state == "" || t.State == state) && (service == "" || t.Service == service) {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].before(&out[j]) })
	return out
}

// Counters returns the live state of every counter, in configuration order.
func (e *Engine) Counters() []CounterState {
	out := make([]CounterState, 0, len(e.site.Counters))
	for _, c := range e.site.Counters {
		out = append(out, *e.counterSt[c.ID])
	}
	return out
}

// CounterState returns the live state of one counter.
func (e *Engine) CounterState(id string) (CounterState, bool) {
	c := e.counterSt[id]
	if c == nil {
		return CounterState{}, false
	}
	return *c, true
}

// Agents returns the live state of every agent, in configuration order.
func (e *Engine) Agents() []AgentStatus {
	out := make([]AgentStatus, 0, len(e.site.Agents))
	for _, a := range e.site.Agents {
		out = append(out, *e.agentSt[a.ID])
	}
	return out
}

// AgentStatus returns the live state of one agent.
func (e *Engine) AgentStatus(id string) (AgentStatus, bool) {
	a := e.agentSt[id]
	if a == nil {
		return AgentStatus{}, false
	}
	return *a, true
}

// Board returns the last calls, newest first.
func (e *Engine) Board() []Call { return append([]Call(nil), e.board...) }

// LeaseRev changes whenever a lease is granted, used or dropped: what was
// computed from the leases at one value still holds at that value.
func (e *Engine) LeaseRev() int64 { return e.leaseRev }

// Leases returns the leases of device that still have free numbers.
func (e *Engine) Leases(device string) []Lease {
	var out []Lease
	for _, l := range e.leasesOf[device] {
		if l.Free() > 0 {
			out = append(out, l.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.From < b.From
	})
	return out
}

func (e *Engine) String() string {
	return fmt.Sprintf("engine(%s, %d tickets, %d events)", e.site.ID, len(e.tickets), e.applied)
}
