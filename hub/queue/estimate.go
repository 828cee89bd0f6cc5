package queue

import (
	"math"
	"slices"
	"sort"
	"time"
)

// The people ahead and the estimated wait, for one ticket or for a new one,
// in a queue where visits and phone calls may share agents:
//
//  1. The capacity of a service on a channel is the agents serving it on
//     that channel now (open counter taking the channel and serving the
//     service, agent skilled and not paused); an agent able to serve several
//     services counts for each in proportion to their skill levels.
//  2. The blended capacity is the part of it at counters that take both
//     channels: only there do calls and visitors take the same agents' time.
//  3. The people ahead of a ticket are the tickets of its service and
//     channel ahead of it (priority public first when the policy puts it
//     first, then by issue time), plus the tickets of the other channel
//     ahead of it, each counting for the share of that channel's capacity
//     that is blended: a visitor does not wait behind calls that only the
//     phone position answers. The count shown is this sum, rounded.
//  4. At the agents' pace (PredictPace; what the hub shows when rule 7
//     cannot play), the estimated wait is the time the
//     agents at work now take to reach the ticket: the people ahead (rule
//     3), plus ½, less the agents free right now who may take it, divided by
//     the rate at which those people are taken — the lane's rate plus the
//     other channel's, counted for its blended share as in rule 3. A lane's
//     rate is the sum, over the agents at work who may take it, of their
//     share of the lane over their cycle (pace.go: both learnt from the log,
//     so that an agent the policy moves to the service under pressure, a
//     phone position, a pause or a departure count as they are). Never
//     below zero.
//  5. The range shown ("entre 10 et 20 min") holds about 80 % of real waits
//     (calibrated on simulated days, docs/benchmarks.md): the waits to reach
//     a ticket n calls away are spread like a gamma law of shape n ×
//     RangeShape (several agents take calls in parallel, at times less
//     spread than an exponential's), widened by the uncertainty of the rate
//     (RangeSpread); its 10th and 90th percentiles bound the range. A ticket an agent free now will take has
//     a range from zero to RangeFloor.
//  6. No capacity on the ticket's channel: nobody serves it now, and there
//     is no estimate (the screens say so rather than show a number).
//  7. Played (PredictPlay, what the hub shows: Shown): the call-next policy
//     played forward from the queue as it is, until it calls the ticket
//     (play.go); the range as in rule 5, n the calls of the ticket's
//     service before it in the play. Rule 4 when the queue ahead is longer
//     than PlayLimit or the play does not reach the ticket.
//
// PredictQueueLength is the rule of issue 10, kept to measure against: the
// people ahead (rule 3), plus ½, less the free agents, times the service's
// mean service time, over the capacity of rule 1.

// Predictor names a way to estimate a wait.
type Predictor int

const (
	// PredictPace is rule 4: the lane's tickets ahead at the agents' learnt pace.
	PredictPace Predictor = iota
	// PredictQueueLength is the rule of issue 10: people ahead × mean
	// service time ÷ agents by skill shares.
	PredictQueueLength
	// PredictPlay is rule 7 (play.go): the call-next policy played forward.
	PredictPlay
)

// Shown is the predictor whose estimate the hub shows, prints and decides
// close_when_full with.
const Shown = PredictPlay

// Estimate is an expected wait and the range that about 80 % of real waits
// fall in; Known is false when nobody serves the ticket's lane now.
type Estimate struct {
	Wait, Low, High time.Duration
	Known           bool
}

// RangeShape and RangeSpread shape the range (rule 5): the calls' spread,
// and the relative uncertainty of a lane's rate, which widens the range of
// a long wait; RangeFloor is the top of the range of a ticket an agent will
// take at once. All are calibrated in docs/benchmarks.md.
const (
	RangeShape  = 2.6
	RangeSpread = 0.35
	RangeFloor  = 5 * time.Minute
)

// DefaultServiceTime is assumed for a service that states none and has not
// been measured yet.
const DefaultServiceTime = 5 * time.Minute

// ServiceSummary is one service's line of the queue summary.
type ServiceSummary struct {
	Service      string        `json:"service"`
	Waiting      int           `json:"waiting"`       // tickets waiting, every channel
	WaitingPhone int           `json:"waiting_phone"` // of which phone calls
	LongestWait  time.Duration `json:"longest_wait"`
	// Ahead is the people a new ticket of the service's main channel (visit
	// if it takes visits) would wait behind; EstimatedWait its wait, within
	// WaitLow and WaitHigh.
	Ahead         int           `json:"ahead"`
	EstimatedWait time.Duration `json:"estimated_wait"`
	WaitLow       time.Duration `json:"wait_low"`
	WaitHigh      time.Duration `json:"wait_high"`
	Estimated     bool          `json:"estimated"` // false: nobody is serving it now
	// The same for a new phone call, when the service takes calls.
	AheadPhone         int           `json:"ahead_phone"`
	EstimatedWaitPhone time.Duration `json:"estimated_wait_phone"`
	WaitLowPhone       time.Duration `json:"wait_low_phone"`
	WaitHighPhone      time.Duration `json:"wait_high_phone"`
	EstimatedPhone     bool          `json:"estimated_phone"`
	Agents             float64       `json:"agents"` // agents serving its main channel now, shares counted
	MeanService        time.Duration `json:"mean_service"`
	Open               bool          `json:"open"`               // within opening hours
	NextOpen           time.Time     `json:"next_open,omitzero"` // when closed: when it opens next, within a fortnight
}

// SummaryFresh is how long the summary of a moment serves those who ask
// for it again, while no event comes.
const SummaryFresh = time.Second

// summaryCache is the summary made last: at which event, site and moment.
type summaryCache struct {
	applied int64
	siteRev uint64
	at      time.Time
	list    []ServiceSummary
}

// Summary returns the queue summary of every service, in site order. The
// bus, the consoles, the metrics and the alerts all ask for it after each
// event, and it plays the policy for each service (rule 7): until the next
// event, and for SummaryFresh, they share one.
func (e *Engine) Summary(now time.Time) []ServiceSummary {
	e.sumMu.Lock()
	defer e.sumMu.Unlock()
	c := &e.sumCache
	if c.list != nil && c.applied == e.applied && c.siteRev == e.siteRev && !now.Before(c.at) && now.Sub(c.at) < SummaryFresh {
		return slices.Clone(c.list)
	}
	list := e.summary(now)
	*c = summaryCache{e.applied, e.siteRev, now, list}
	return slices.Clone(list)
}

func (e *Engine) summary(now time.Time) []ServiceSummary {
	local := now.In(e.site.Location)
	out := make([]ServiceSummary, 0, len(e.site.Services))
	for i := range e.site.Services {
		s := &e.site.Services[i]
		main := mainChannel(s)
		sum := ServiceSummary{Service: s.ID, MeanService: e.meanService(s), Agents: e.capacity(s, main, false)}
		sum.Open, _ = s.Hours.OpenAt(local)
		sum.Open = (sum.Open || e.site.Policy.IgnoreHours) && s.Closed == nil
		if !sum.Open && s.Closed == nil {
			sum.NextOpen = s.Hours.NextOpen(local)
		}
		for k, l := range e.lanes {
			if k.service != s.ID || len(l.tickets) == 0 {
				continue
			}
			sum.Waiting += len(l.tickets)
			if k.channel == Phone {
				sum.WaitingPhone += len(l.tickets)
			}
			sum.LongestWait = max(sum.LongestWait, now.Sub(l.earliest().IssuedAt))
		}
		var ahead float64
		var est Estimate
		ahead, est = e.newTicket(Shown, now, s, main)
		sum.Ahead, sum.EstimatedWait, sum.WaitLow, sum.WaitHigh, sum.Estimated = people(ahead), est.Wait, est.Low, est.High, est.Known
		if s.Takes(Phone) {
			ahead, est = e.newTicket(Shown, now, s, Phone)
			sum.AheadPhone, sum.EstimatedWaitPhone, sum.WaitLowPhone, sum.WaitHighPhone, sum.EstimatedPhone = people(ahead), est.Wait, est.Low, est.High, est.Known
		}
		out = append(out, sum)
	}
	return out
}

// mainChannel is the channel a service's summary speaks of: visits when it
// takes them, the people in the room.
func mainChannel(s *Service) Channel {
	if s.Takes(Visit) || len(s.Channels) == 0 {
		return Visit
	}
	return Phone
}

// people rounds a count of people ahead for showing.
func people(x float64) int { return int(math.Round(x)) }

// Position returns how many people are ahead of the waiting ticket id, as
// the rule above counts them, and its estimated wait.
func (e *Engine) Position(now time.Time, id string) (ahead int, wait time.Duration, known bool) {
	ahead, est := e.EstimateWith(Shown, now, id)
	return ahead, est.Wait, est.Known
}

// Estimate returns the people ahead of the waiting ticket id and its
// estimated wait with its range (rules 3 to 6); ok is false if the ticket is
// not waiting.
func (e *Engine) Estimate(now time.Time, id string) (ahead int, est Estimate, ok bool) {
	t := e.tickets[id]
	if t == nil || t.State != Waiting || e.services[t.Service] == nil {
		return 0, Estimate{}, false
	}
	ahead, est = e.EstimateWith(Shown, now, id)
	return ahead, est, true
}

// EstimateWith is Estimate by predictor p (the benchmark compares them).
func (e *Engine) EstimateWith(p Predictor, now time.Time, id string) (ahead int, est Estimate) {
	return e.estimateWith(p, now, id, true)
}

// estimateWith is EstimateWith, its range calibrated or not (the wait is
// the same).
func (e *Engine) estimateWith(p Predictor, now time.Time, id string, calibrate bool) (ahead int, est Estimate) {
	t := e.tickets[id]
	if t == nil || t.State != Waiting {
		return 0, Estimate{}
	}
	s := e.services[t.Service]
	if s == nil {
		return 0, Estimate{}
	}
	share := e.blendedShare(s, other(t.Channel))
	priorityFirst := e.priorityFirst()
	var n float64
	for k, l := range e.lanes {
		if k.service != t.Service {
			continue
		}
		weight := 1.0
		if k.channel != t.Channel {
			weight = share
		}
		if weight == 0 {
			continue
		}
		n += weight * float64(l.countAhead(t, k.class, priorityFirst))
	}
	if p == PredictQueueLength {
		return people(n), e.estimateQL(s, t.Channel, n)
	}
	if m := &e.atIssue; p == Shown && m.id == t.ID && m.applied == e.applied && m.at.Equal(now) {
		est = m.est // made by noteIssued for this very state and moment
	} else {
		var played bool
		if est, played = e.estimatePlay(p, now, t, false, n); !played {
			est = withSpan(e.estimatePace(now, s, t.Channel, n, share), t.IssuedAt.Sub(e.headIssued(s, t.Channel, t.IssuedAt)))
		}
	}
	if !calibrate {
		return people(n), est
	}
	return people(n), e.calibrated(Lane{s.ID, t.Channel}, est, now.After(t.IssuedAt))
}

// countAhead counts the tickets of lane l (of priority class) that are
// served before t: priority public first when the policy has a priority
// tier, then by issue time. A lane sorted by issue time is searched, not
// scanned, so that a position costs the same at 30 and 30,000 waiting;
// only the appointments' lanes, sorted by slot, are counted one by one.
func (l *lane) countAhead(t *Ticket, class Priority, priorityFirst bool) int {
	tc := t.Priority
	if !tc.Valid() {
		tc = PriorityNone
	}
	switch {
	case priorityFirst && class == PriorityPublic && tc != PriorityPublic:
		return len(l.tickets)
	case priorityFirst && tc == PriorityPublic && class != PriorityPublic:
		return 0
	}
	if l.byAppointment {
		n := 0
		for _, u := range l.tickets {
			if u.before(t) {
				n++
			}
		}
		return n
	}
	return sort.Search(len(l.tickets), func(i int) bool { return !l.tickets[i].before(t) })
}

func (e *Engine) priorityFirst() bool {
	for _, tier := range e.site.Policy.Tiers {
		if tier == TierPriority {
			return true
		}
	}
	return false
}

// newTicket is the people ahead of, and the estimate of, a new ticket of
// service s on channel ch issued now (with no priority), by predictor p.
func (e *Engine) newTicket(p Predictor, now time.Time, s *Service, ch Channel) (ahead float64, est Estimate) {
	share := e.blendedShare(s, other(ch))
	for k, l := range e.lanes {
		if k.service != s.ID {
			continue
		}
		if k.channel == ch {
			ahead += float64(len(l.tickets))
		} else {
			ahead += share * float64(len(l.tickets))
		}
	}
	if p == PredictQueueLength {
		return ahead, e.estimateQL(s, ch, ahead)
	}
	// A new call joins the PBX's own line when calls wait there (calls.go).
	phantom := &Ticket{Service: s.ID, Channel: ch, IssuedAt: now, State: Waiting, ByPBX: ch == Phone && e.pbxWaiting(s.ID, ch)}
	est, played := e.estimatePlay(p, now, phantom, true, ahead)
	if !played {
		est = withSpan(e.estimatePace(now, s, ch, ahead, share), now.Sub(e.headIssued(s, ch, now)))
	}
	return ahead, e.calibrated(Lane{s.ID, ch}, est, false)
}

// NewTicketEstimate is the people ahead of, and the estimate of, a new
// ticket of service on channel ch issued now, by predictor p.
func (e *Engine) NewTicketEstimate(p Predictor, now time.Time, service string, ch Channel) (ahead int, est Estimate) {
	s := e.services[service]
	if s == nil {
		return 0, Estimate{}
	}
	a, est := e.newTicket(p, now, s, ch)
	return people(a), est
}

// estimateQL is the queue-length rule's wait, on channel ch, of a ticket
// with ahead people before it. Its range is ±50 %, as issue 14 measured it.
func (e *Engine) estimateQL(s *Service, ch Channel, ahead float64) Estimate {
	c := e.capacity(s, ch, false)
	if c <= 0 {
		return Estimate{}
	}
	idle := e.capacity(s, ch, true)
	d := time.Duration(max(ahead+0.5-idle, 0) * float64(e.meanService(s)) / c).Round(time.Second)
	return Estimate{Wait: d, Low: d / 2, High: d * 3 / 2, Known: true}
}

// estimatePace is rules 4 and 5: the wait, on channel ch, of a ticket with
// ahead people before it, share the blended share of the other channel.
func (e *Engine) estimatePace(now time.Time, s *Service, ch Channel, ahead, share float64) Estimate {
	rate, idle := e.laneRate(Lane{s.ID, ch})
	if rate <= 0 {
		return Estimate{}
	}
	changes := e.rateAhead(Lane{s.ID, ch}, now)
	if share > 0 {
		o, _ := e.laneRate(Lane{s.ID, other(ch)})
		rate += share * o
		for _, c := range e.rateAhead(Lane{s.ID, other(ch)}, now) {
			changes = append(changes, rateChange{c.at, share * c.delta})
		}
		slices.SortStableFunc(changes, func(x, y rateChange) int { return x.at.Compare(y.at) })
	}
	calls := ahead + 1 - idle // the calls before this ticket's, itself included
	if calls <= 0 {
		return Estimate{Known: true, High: RangeFloor}
	}
	return spread(reachCalls(now, rate, changes, calls-0.5), calls)
}

// estimatePlay is rule 7 by predictor p for ticket t (a new one not issued
// yet if phantom) with ahead people before it; false when p is not
// PredictPlay, the queue ahead is too long or the play did not reach it
// (rule 4 estimates then). Nobody serving the ticket's lane now is no
// estimate, as in rule 6.
func (e *Engine) estimatePlay(p Predictor, now time.Time, t *Ticket, phantom bool, ahead float64) (Estimate, bool) {
	if p != PredictPlay || ahead > PlayLimit {
		return Estimate{}, false
	}
	wait, before, end := e.play(now, t, phantom)
	switch {
	case end == nobodyNow:
		return Estimate{}, true // rule 6
	case end == notReached:
		return Estimate{}, false
	case wait <= 0:
		return Estimate{Known: true, High: RangeFloor}, true
	}
	return spread(wait, float64(before+1)), true
}

// spread is rule 5: the range of a wait that reaches a ticket calls calls
// away.
func spread(wait time.Duration, calls float64) Estimate {
	// The wait to the n-th call is spread like a gamma law of shape n; the
	// rate's own uncertainty keeps a long wait's range from narrowing to nothing.
	shape := 1 / (1/(RangeShape*calls) + RangeSpread*RangeSpread)
	lo, hi := gammaQuantile(shape, -zRange), gammaQuantile(shape, zRange)
	mean := float64(wait)
	return Estimate{Wait: wait.Round(time.Second), Known: true,
		Low:  time.Duration(mean * lo).Round(time.Second),
		High: max(time.Duration(mean*hi).Round(time.Second), RangeFloor)}
}

// SpanWeight is the weight, in the wait shown, of the span of the line
// ahead (rule 4): how long before the ticket the first of its lane still
// waiting came, times SpanScale — the head-of-line wait of Ibrahim and
// Whitt ("Real-time delay estimation based on delay history", M&SOM 2009),
// which knows what the agents' pace does not: the departures, pauses and
// pressure of the last minutes. Calibrated in docs/benchmarks.md.
const (
	SpanWeight = 0.3
	SpanScale  = 1.5
)

// withSpan blends an estimate at the agents' pace with the span of the line
// ahead, scaling its range with it.
func withSpan(est Estimate, span time.Duration) Estimate {
	if !est.Known || est.Wait <= 0 || span <= 0 {
		return est
	}
	w := time.Duration((1-SpanWeight)*float64(est.Wait) + SpanWeight*SpanScale*float64(span))
	f := float64(w) / float64(est.Wait)
	return Estimate{Wait: w.Round(time.Second), Low: time.Duration(f * float64(est.Low)).Round(time.Second),
		High: max(time.Duration(f*float64(est.High)).Round(time.Second), RangeFloor), Known: true}
}

// headIssued is when the first ticket still waiting of s on channel ch
// came (among those without an appointment), before; before itself if none.
func (e *Engine) headIssued(s *Service, ch Channel, before time.Time) time.Time {
	head := before
	for _, class := range []Priority{PriorityNone, PriorityPublic} {
		if l := e.lanes[laneKey{s.ID, ch, class}]; l != nil && len(l.tickets) > 0 && l.tickets[0].IssuedAt.Before(head) {
			head = l.tickets[0].IssuedAt
		}
	}
	return head
}

// zRange is the normal quantile of 90 %: the range is from the 10th to the
// 90th percentile.
const zRange = 1.2816

// gammaQuantile is the quantile of a gamma law of the given shape and mean
// 1 at the normal quantile z (Wilson and Hilferty's cube-root approximation),
// never below zero.
func gammaQuantile(shape, z float64) float64 {
	c := 1 / (9 * shape)
	q := 1 - c + z*math.Sqrt(c)
	return max(q*q*q, 0)
}

// blendedShare is the part of the capacity of s on channel ch that sits at
// counters taking both channels (rule 2), 0 when nobody serves ch.
func (e *Engine) blendedShare(s *Service, ch Channel) float64 {
	all := e.capacity(s, ch, false)
	if all <= 0 {
		return 0
	}
	return e.blended(s, ch) / all
}

func other(ch Channel) Channel {
	if ch == Phone {
		return Visit
	}
	return Phone
}

func (e *Engine) meanService(s *Service) time.Duration {
	if st := e.stats[s.ID]; st != nil && st.Mean > 0 {
		return st.Mean
	}
	return DefaultServiceTime
}

// capacity counts the agents serving s on channel ch now (rule 1); with
// idleOnly, only those free right now.
func (e *Engine) capacity(s *Service, ch Channel, idleOnly bool) float64 {
	return e.sumShares(s, func(c *Counter, st *AgentStatus) bool {
		return c.Takes(ch) && (!idleOnly || st.State == AgentAvailable || st.State == AgentWrapUp)
	})
}

// blended counts the agents serving s on ch at counters that take both channels.
func (e *Engine) blended(s *Service, ch Channel) float64 {
	return e.sumShares(s, func(c *Counter, _ *AgentStatus) bool { return c.Takes(ch) && c.Takes(other(ch)) })
}

// sumShares sums, over the open counters serving s whose agent is at work
// and skilled for s and that keep says to count, the agent's share of s.
func (e *Engine) sumShares(s *Service, keep func(c *Counter, st *AgentStatus) bool) float64 {
	total := 0.0
	for i := range e.site.Counters {
		c := &e.site.Counters[i]
		cs := e.counterSt[c.ID]
		if !cs.Open || !c.Serves(s.ID) {
			continue
		}
		st := e.agentSt[cs.Agent]
		a := e.agents[cs.Agent]
		if a == nil || st == nil || st.State == AgentPaused || st.State == AgentOffline || a.Skills[s.ID] == 0 || !keep(c, st) {
			continue
		}
		sum := 0
		for _, sid := range e.servable(c, a) {
			sum += a.Skills[sid]
		}
		total += float64(a.Skills[s.ID]) / float64(sum)
	}
	return total
}

func (e *Engine) waitingIn(service string) int {
	n := 0
	for k, l := range e.lanes {
		if k.service == service {
			n += len(l.tickets)
		}
	}
	return n
}

// WaitingCount returns how many tickets wait in all services.
func (e *Engine) WaitingCount() int {
	n := 0
	for _, l := range e.lanes {
		n += len(l.tickets)
	}
	return n
}
