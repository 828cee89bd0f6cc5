package queue

import (
	"math"
	"slices"
	"time"
)

// Rule 7 of the estimate (PredictPlay, what the hub shows): the engine plays
// its own call-next policy forward, from the queue as it is now, until the
// ticket is called.
//
//   - The players are the agents at open counters, not paused: each is free
//     now, or when the ticket they serve is expected to end — its lane's
//     mean occupation, knowing how long it has lasted already (a log-normal
//     law of the lane's learnt spread, conditioned on the time elapsed) —
//     plus their own mean pause before the next call. An agent away now who
//     states hours joins at the counter they last worked at when their next
//     period starts today (as rule 4 over time counts them); an agent who
//     states hours leaves when their period ends and comes back at the next.
//  2. The player free first calls the ticket the policy would give them
//     then (policy.go: tiers, weighted waits, skills, holds), among the
//     tickets waiting now; that ticket keeps them for its lane's mean
//     occupation, plus their pause. Calls the PBX hands out itself
//     (calls.go) are played as taken in their turn by those who take
//     calls, and a new call joins them when some wait.
//  3. Citizens keep coming in the play, at each lane's recent pace
//     (ArrivalWindow arrivals, visits and calls, priority public apart,
//     while the service is open today): they take the agents the policy
//     gives them, and priority public goes before the ticket. An agent with
//     nothing to call waits for the next of them.
//  4. The estimate is when the ticket is called.
//  5. It is played only for a ticket with at most PlayLimit people ahead,
//     over at most PlaySteps calls and PlayHorizon: a longer queue, or a
//     play that does not reach the ticket (nobody at work may take it), is
//     estimated at the agents' pace (rule 4), so that an estimate's cost
//     has a bound, whatever the queue.
//
// A lane's occupation is learnt from the log, like the paces: the time from
// a ticket's call to its end (served, no-show, transfer) — the agents' time
// it takes, no-shows included — in a moving mean of weight OccWeight, with
// the moving mean and spread of its logarithm. Before any is measured, the
// service's mean time. A snapshot does not keep them: after a restart they
// are learnt again within a few dozen calls, as the paces are.

// PlayLimit, PlaySteps and PlayHorizon bound a play (rule 7, 5).
const (
	PlayLimit   = 100
	PlaySteps   = 4 * PlayLimit
	PlayHorizon = 12 * time.Hour
)

// OccWeight is the weight of the newest ticket in a lane's occupation.
const OccWeight = 0.05

// occupation is what the engine learnt of how long a lane's tickets keep an
// agent.
type occupation struct {
	mean      time.Duration
	n         int
	lnM, lnM2 float64 // moving means of ln(seconds) and of its square
}

func (o *occupation) add(d time.Duration) {
	if o.mean > 0 && d > 6*o.mean {
		d = 6 * o.mean // a forgotten "finish" must not wreck the mean
	}
	x := math.Log(max(d.Seconds(), 1))
	if o.n == 0 {
		o.mean, o.lnM, o.lnM2 = d, x, x*x
	} else {
		o.mean += time.Duration(OccWeight * float64(d-o.mean))
		o.lnM += OccWeight * (x - o.lnM)
		o.lnM2 += OccWeight * (x*x - o.lnM2)
	}
	o.n++
}

// ArrivalWindow is how many of a lane's last arrivals set its pace in a
// play, and ArrivalMin how many it needs.
// ArrivalSpan is the shortest time those arrivals must span: a family
// that comes together is not a pace.
const (
	ArrivalWindow = 20
	ArrivalMin    = 6
	ArrivalSpan   = 15 * time.Minute
)

// arrivals are a lane's last arrival times, in a ring.
type arrivals struct {
	at   [ArrivalWindow]time.Time
	n    int // how many are in the ring
	next int // where the next goes
}

// noteArrival keeps when ticket t reached the hub, at: a citizen come now,
// or a call (whose issue time is the PBX's, a little before). Not a ticket
// printed offline (it came earlier, and its place is behind it) or an
// appointment.
func (e *Engine) noteArrival(t *Ticket, at time.Time) {
	if t == nil || t.State != Waiting || t.Offline || t.Priority == PriorityAppointment {
		return
	}
	a := learnt(e.arrived, e.laneOf(t))
	a.at[a.next] = at
	a.next = (a.next + 1) % ArrivalWindow
	a.n = min(a.n+1, ArrivalWindow)
}

// arrivalGap is the mean time between arrivals in lane k at now, from its
// last arrivals up to now (a lane where nobody came for a while slows
// down); 0 when too few are known.
func (e *Engine) arrivalGap(k laneKey, now time.Time) time.Duration {
	a := e.arrived[k]
	if a == nil || a.n < ArrivalMin {
		return 0
	}
	oldest := a.at[(a.next-a.n+ArrivalWindow)%ArrivalWindow]
	span := now.Sub(oldest)
	if span < ArrivalSpan {
		return 0
	}
	return span / time.Duration(a.n)
}

// DefaultSpread is the spread (σ of the logarithm) of a lane's occupation
// before OccMin are measured; learnt spreads are held within [0.15, 1.2].
const (
	DefaultSpread = 0.5
	OccMin        = 10
)

// occupied is lane l's mean occupation and its spread.
func (e *Engine) occupied(l Lane) (time.Duration, float64) {
	o := e.occs[l]
	if o == nil || o.n == 0 {
		if s := e.services[l.Service]; s != nil {
			return e.meanService(s), DefaultSpread
		}
		return DefaultServiceTime, DefaultSpread // a service the site no longer has
	}
	if o.n < OccMin {
		return o.mean, DefaultSpread
	}
	return o.mean, min(max(math.Sqrt(max(o.lnM2-o.lnM*o.lnM, 0)), 0.15), 1.2)
}

// remaining is how long a ticket of mean occupation mean and spread sigma
// that has lasted elapsed is still expected to last.
func remaining(mean time.Duration, sigma float64, elapsed time.Duration) time.Duration {
	if elapsed <= 0 {
		return mean
	}
	mu := math.Log(float64(mean)) - sigma*sigma/2
	z := (math.Log(float64(elapsed)) - mu) / sigma
	tail := 1 - normalCDF(z)
	if tail < 1e-6 {
		return mean / 10 // far past the law: the agent has forgotten to finish
	}
	return max(time.Duration(float64(mean)*normalCDF(sigma-z)/tail)-elapsed, 0)
}

func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// player is an agent in a play.
type player struct {
	agent    *Agent
	counter  *Counter
	services []string     // what they may serve at the counter
	lanes    []playChoice // the lanes they may call from, found at their first pick
	free     time.Time
	wrap     time.Duration
	hours    bool // they leave and come back by their stated hours
	now      bool // at work now (not joining later)
}

// playChoice is a lane a player may call from, with their skill for it.
type playChoice struct {
	lane  *playLane
	level int
	appt  bool
}

// playLane is a lane in a play: its tickets, those before pos called,
// others called out of their order (held, appointments) in taken; then the
// phantom, a new ticket not issued yet.
type playLane struct {
	ts      []*Ticket
	pos     int
	taken   map[*Ticket]bool
	phantom *Ticket
	// phantomTaken: the phantom was called.
	phantomTaken bool
	// The citizens to come (rule 7, 3): one every gap from start, while
	// service's hours let them in before until; those made so far, the
	// first fpos of them called.
	gap          time.Duration
	start, until time.Time
	service      *Service
	future       []*Ticket
	fpos         int
	key          laneKey
}

// game is one play.
type game struct {
	e        *Engine
	lanes    map[laneKey]*playLane
	phantom  *Ticket
	now      time.Time
	midnight time.Time
}

// playEnd is how a play ended.
type playEnd int

const (
	reached    playEnd = iota // the ticket was called
	notReached                // the play stopped before (rule 7, 5)
	nobodyNow                 // nobody at work now may take it (rule 6)
)

// play plays the policy forward from now until watch is called and returns
// its wait and how many tickets of its service were called before it.
// watch is a waiting ticket, or a new one not issued yet (phantom: in no
// lane).
func (e *Engine) play(now time.Time, watch *Ticket, phantom bool) (wait time.Duration, before int, end playEnd) {
	local := now.In(e.site.Location)
	y, m, d := local.Date()
	midnight := time.Date(y, m, d+1, 0, 0, 0, 0, e.site.Location)
	g := &game{e: e, lanes: map[laneKey]*playLane{}, now: now, midnight: midnight}
	if phantom {
		g.phantom = watch
	}
	players := e.players(now, midnight)
	if !slices.ContainsFunc(players, func(pl *player) bool { return pl.now && pl.takes(watch) }) {
		return 0, 0, nobodyNow
	}
	for range PlaySteps {
		if len(players) == 0 {
			return 0, 0, notReached
		}
		i := 0
		for j := range players {
			if players[j].free.Before(players[i].free) {
				i = j
			}
		}
		pl := players[i]
		at := pl.free
		if at.Sub(now) > PlayHorizon {
			return 0, 0, notReached
		}
		if pl.hours {
			lt := at.In(e.site.Location)
			if open, _ := pl.agent.Hours.OpenAt(lt); !open {
				next := pl.agent.Hours.NextOpen(lt)
				if next.IsZero() || !next.Before(midnight) {
					players = append(players[:i], players[i+1:]...)
				} else {
					pl.free = next
				}
				continue
			}
		}
		t := g.pick(at, pl)
		if t == nil {
			// Nothing for them now: they wait for the next citizen to come,
			// or for a ticket held for someone else to be anyone's.
			if next := g.nextFor(pl, at); !next.IsZero() {
				pl.free = next
			} else {
				players = append(players[:i], players[i+1:]...)
			}
			continue
		}
		if t == watch {
			return at.Sub(now), before, reached
		}
		if t.Service == watch.Service {
			before++
		}
		g.take(t)
		mean, _ := e.occupied(Lane{t.Service, t.Channel})
		pl.free = at.Add(mean + pl.wrap)
	}
	return 0, 0, notReached
}

// takes reports whether player pl may call a ticket like t.
func (pl *player) takes(t *Ticket) bool {
	return pl.counter.Takes(t.Channel) && slices.Contains(pl.services, t.Service)
}

// players are the agents a play starts with (rule 7, 1).
func (e *Engine) players(now, midnight time.Time) []*player {
	var out []*player
	local := now.In(e.site.Location)
	atWork := map[string]bool{}
	busy := map[string]bool{}
	for i := range e.site.Counters {
		c := &e.site.Counters[i]
		cs := e.counterSt[c.ID]
		if cs == nil || !cs.Open {
			continue
		}
		atWork[cs.Agent], busy[c.ID] = true, true
		a, st := e.agents[cs.Agent], e.agentSt[cs.Agent]
		if a == nil || st == nil || st.State == AgentPaused || st.State == AgentOffline {
			continue
		}
		pl := &player{agent: a, counter: c, services: e.serves[[2]string{c.ID, a.ID}], free: now, wrap: e.wrapOf(a.ID), now: true}
		if open, _ := a.Hours.OpenAt(local); open && a.Hours.Set() {
			pl.hours = true
		}
		if t := e.tickets[cs.Ticket]; t != nil && !t.CalledAt.IsZero() && (t.State == Called || t.State == Serving) {
			mean, sigma := e.occupied(Lane{t.Service, t.Channel})
			pl.free = now.Add(remaining(mean, sigma, now.Sub(t.CalledAt)) + pl.wrap)
		}
		out = append(out, pl)
	}
	for i := range e.site.Agents {
		a := &e.site.Agents[i]
		if atWork[a.ID] || !a.Hours.Set() {
			continue
		}
		st, p := e.agentSt[a.ID], e.paces[a.ID]
		if st == nil || p == nil || p.counter == "" || busy[p.counter] || st.State != AgentOffline {
			continue // never seen at work: where is unknown
		}
		c := e.counters[p.counter]
		if c == nil {
			continue
		}
		from := a.Hours.NextOpen(local)
		if open, _ := a.Hours.OpenAt(local); open && e.periodStart(a, local).After(local.Add(-LateGrace)) {
			from = now // back from lunch in a moment
		}
		if from.IsZero() || !from.Before(midnight) {
			continue
		}
		busy[c.ID] = true
		out = append(out, &player{agent: a, counter: c, services: e.serves[[2]string{c.ID, a.ID}], free: from, wrap: e.wrapOf(a.ID), hours: true})
	}
	return out
}

func (e *Engine) wrapOf(agent string) time.Duration {
	if p := e.paces[agent]; p != nil {
		return p.wrap
	}
	return 0
}

// lane is the play's view of lane k.
func (g *game) lane(k laneKey) *playLane {
	pl := g.lanes[k]
	if pl == nil {
		pl = &playLane{}
		if l := g.e.lanes[k]; l != nil {
			pl.ts = l.tickets
		}
		if g.phantom != nil && k == g.e.laneOf(g.phantom) {
			pl.phantom = g.phantom
		}
		if s := g.e.services[k.service]; s != nil && k.class != PriorityAppointment && s.Closed == nil {
			pl.gap, pl.start, pl.until, pl.service, pl.key = g.e.arrivalGap(k, g.now), g.now, g.midnight, s, k
		}
		g.lanes[k] = pl
	}
	return pl
}

// head is the first ticket of lane pl that agent may call at now; with
// earliest, the one issued first (the appointments' lane, sorted by slot).
func (g *game) head(pl *playLane, agent string, now time.Time, earliest bool) *Ticket {
	for pl.pos < len(pl.ts) && pl.taken[pl.ts[pl.pos]] {
		pl.pos++
	}
	var first *Ticket
	for _, t := range pl.ts[pl.pos:] {
		if pl.taken[t] || g.e.heldFrom(t, agent, now) {
			continue
		}
		if !earliest {
			return t
		}
		if first == nil || t.before(first) {
			first = t
		}
	}
	if first == nil && pl.phantom != nil && !pl.phantomTaken {
		return pl.phantom
	}
	if first == nil {
		if f := g.arrival(pl, pl.fpos); f != nil && !f.IssuedAt.After(now) {
			return f
		}
	}
	return first
}

// arrival is lane pl's i-th citizen to come, made when first asked; nil
// when the lane has no pace or the service takes nobody more today.
func (g *game) arrival(pl *playLane, i int) *Ticket {
	for len(pl.future) <= i {
		if pl.gap <= 0 {
			return nil
		}
		at := pl.start.Add(pl.gap)
		if n := len(pl.future); n > 0 {
			at = pl.future[n-1].IssuedAt.Add(pl.gap)
		}
		if !g.e.site.Policy.IgnoreHours {
			local := at.In(g.e.site.Location)
			if open, _ := pl.service.Hours.OpenAt(local); !open {
				next := pl.service.Hours.NextOpen(local)
				if next.IsZero() {
					return nil
				}
				at = next
			}
		}
		if !at.Before(pl.until) {
			return nil
		}
		f := &Ticket{Service: pl.key.service, Channel: pl.key.channel, Priority: pl.key.class, IssuedAt: at, State: Waiting}
		if f.Priority == PriorityNone || f.Priority == pbxLane {
			f.Priority, f.ByPBX = "", f.Priority == pbxLane
		}
		pl.future = append(pl.future, f)
	}
	return pl.future[i]
}

// nextFor is when, after at, player pl next has something to call: the
// next citizen to come to one of their lanes, or the end of the hold of a
// ticket held for another agent there; zero if nothing comes today.
func (g *game) nextFor(pl *player, at time.Time) time.Time {
	var next time.Time
	sooner := func(t time.Time) {
		if t.After(at) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, c := range pl.lanes {
		if f := g.arrival(c.lane, c.lane.fpos); f != nil {
			sooner(f.IssuedAt)
		}
		for _, t := range c.lane.ts[c.lane.pos:] {
			if !c.lane.taken[t] && g.e.heldFrom(t, pl.agent.ID, at) {
				sooner(t.HoldUntil)
			}
		}
	}
	return next
}

// pick is the policy's choice for player pl at now among what is left
// (policy.go's pick, on the play's lanes).
func (g *game) pick(now time.Time, pl *player) *Ticket {
	if pl.lanes == nil {
		pl.lanes = []playChoice{}
		for _, sid := range pl.services {
			for _, ch := range []Channel{Visit, Phone} {
				if !pl.counter.Takes(ch) {
					continue
				}
				classes := []Priority{PriorityAppointment, PriorityPublic, PriorityNone}
				if ch == Phone {
					classes = append(classes, pbxLane) // the PBX hands them to those who take calls
				}
				for _, class := range classes {
					pl.lanes = append(pl.lanes, playChoice{g.lane(laneKey{sid, ch, class}), pl.agent.Skills[sid], class == PriorityAppointment})
				}
			}
		}
	}
	var best Candidate
	found := false
	consider := func(t *Ticket, level int) {
		cd := g.e.place(now, t, level)
		if !found || better(&cd, &best) {
			best, found = cd, true
		}
	}
	for _, c := range pl.lanes {
		head := g.head(c.lane, pl.agent.ID, now, false)
		if head == nil {
			continue
		}
		consider(head, c.level)
		if c.appt {
			// Sorted by slot; the earliest issued competes on its wait.
			if first := g.head(c.lane, pl.agent.ID, now, true); first != head {
				consider(first, c.level)
			}
		}
	}
	if !found {
		return nil
	}
	return best.ticket
}

// take marks t called in the play: the lane's head moves on; a ticket
// called out of its order (held for another, an appointment) is noted.
func (g *game) take(t *Ticket) {
	pl := g.lane(g.e.laneOf(t))
	switch {
	case t == pl.phantom:
		pl.phantomTaken = true
	case pl.fpos < len(pl.future) && pl.future[pl.fpos] == t:
		pl.fpos++
	case pl.pos < len(pl.ts) && pl.ts[pl.pos] == t:
		pl.pos++
	default:
		if pl.taken == nil {
			pl.taken = map[*Ticket]bool{}
		}
		pl.taken[t] = true
	}
}
