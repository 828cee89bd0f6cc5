package queue

import (
	"maps"
	"time"
)

// The agents' pace: what the engine learns, from the log alone, of how fast
// each agent takes tickets and from which lanes. The estimate (estimate.go)
// reads it; nothing here reads a clock.
//
//   - An agent's cycle is the time from calling a ticket to calling the
//     next one while there is work: the ticket's occupation (call to served,
//     no-show or transfer) plus the pause before the next call, counted up to
//     WrapUpCap (beyond it the agent was idle, not slow). Its moving mean
//     (weight PaceWeight for the newest) is the agent's pace; before any is
//     measured, the mean service time of the services the agent may serve,
//     weighted by skill.
//   - An agent's lane shares are the moving share (the same weight) of each
//     lane — service and channel — among the tickets the agent called: the
//     call-next policy moves a shared agent towards the service under most
//     pressure, and the shares follow it. Before any call, the skill levels
//     decide, as the queue-length rule does.
//
// A snapshot does not keep the paces: after a restart they start again
// from the skills and the services' mean times, and are learnt within a few
// calls.

// PaceWeight is the weight of the newest ticket in an agent's moving means.
const PaceWeight = 0.2

// PriorShare is the weight of the skills' shares in an agent's lane shares,
// however many calls were learnt.
const PriorShare = 0.3

// WrapUpCap is the longest pause between a ticket's end and the agent's next
// call that still counts as the agent's work (filing, notes).
const WrapUpCap = 90 * time.Second

// pace is what the engine learnt of one agent.
type pace struct {
	cycle   time.Duration // moving mean of the cycle; 0 until one is measured
	cycles  int
	shares  map[Lane]float64 // moving shares of the lanes called; nil until the first call
	lastEnd time.Time        // when the agent's last ticket ended
	occ     time.Duration    // the occupation of that ticket, waiting for its wrap-up
	wrap    time.Duration    // moving mean of the pause between a ticket's end and the next call
	counter string           // the counter the agent last opened or called at (schedule.go)
}

// learn updates the paces from an event, before Apply changes the state
// (it reads the ticket as it was).
func (e *Engine) learn(ev Event) {
	t := e.tickets[ev.Ticket]
	switch ev.Type {
	case CounterOpened:
		if ev.Agent != "" && e.counters[ev.Counter] != nil {
			e.paceOf(ev.Agent).counter = ev.Counter
		}
	case TicketCalled:
		if t == nil || ev.Agent == "" {
			return
		}
		p := e.paceOf(ev.Agent)
		p.counter = ev.Counter
		if p.occ > 0 {
			wrap := min(max(ev.At.Sub(p.lastEnd), 0), WrapUpCap)
			e.addCycle(p, p.occ+wrap)
			if p.cycles == 1 { // the first cycle: addCycle has just counted it
				p.wrap = wrap
			} else {
				p.wrap += time.Duration(PaceWeight * float64(wrap-p.wrap))
			}
			p.occ = 0
		}
		l := Lane{t.Service, t.Channel}
		if p.shares == nil {
			p.shares = maps.Clone(e.priorShares(ev.Counter, ev.Agent))
		}
		for k := range p.shares {
			p.shares[k] *= 1 - PaceWeight
		}
		p.shares[l] += PaceWeight
	case TicketServed, TicketNoShow, TicketTransferred, TicketReturned, TicketCancelled:
		if t == nil || t.Agent == "" || t.CalledAt.IsZero() || (t.State != Called && t.State != Serving) {
			return
		}
		p := e.paceOf(t.Agent)
		if occ := ev.At.Sub(t.CalledAt); occ > 0 {
			p.occ, p.lastEnd = occ, ev.At
			learnt(e.occs, Lane{t.Service, t.Channel}).add(occ)
		}
	}
}

func (e *Engine) paceOf(agent string) *pace { return learnt(e.paces, agent) }

// learnt is m's entry for k, made empty the first time.
func learnt[K comparable, V any](m map[K]*V, k K) *V {
	v := m[k]
	if v == nil {
		v = new(V)
		m[k] = v
	}
	return v
}

func (e *Engine) addCycle(p *pace, d time.Duration) {
	if p.cycle > 0 && d > 6*p.cycle {
		d = 6 * p.cycle // a forgotten "finish" must not wreck the pace
	}
	if p.cycles == 0 {
		p.cycle = d
	} else {
		p.cycle += time.Duration(PaceWeight * float64(d-p.cycle))
	}
	p.cycles++
}

// priorShares is an agent's lane shares at counter before any call: each
// service it may serve there in proportion to its skill level, split evenly
// between the channels both the counter and the service take. They depend
// on the site alone: index computes them all when the site changes, and
// the estimate only reads them (readers share the engine: nothing here may
// write). The map is shared: read it only.
func (e *Engine) priorShares(counter, agent string) map[Lane]float64 {
	if m, ok := e.priors[[2]string{counter, agent}]; ok {
		return m
	}
	return e.computePriorShares(counter, agent)
}

func (e *Engine) computePriorShares(counter, agent string) map[Lane]float64 {
	out := map[Lane]float64{}
	c, a := e.counters[counter], e.agents[agent]
	if c == nil || a == nil {
		return out
	}
	sum := 0
	ids := e.servable(c, a)
	for _, sid := range ids {
		sum += a.Skills[sid]
	}
	for _, sid := range ids {
		s := e.services[sid]
		var chs []Channel
		for _, ch := range []Channel{Visit, Phone} {
			if c.Takes(ch) && s.Takes(ch) {
				chs = append(chs, ch)
			}
		}
		for _, ch := range chs {
			out[Lane{sid, ch}] = float64(a.Skills[sid]) / float64(sum) / float64(len(chs))
		}
	}
	return out
}

// laneRate is how many tickets of lane l the agents at work now take per
// unit of time (per nanosecond), each at their pace and share, and how many
// of them are free right now to take one.
func (e *Engine) laneRate(l Lane) (rate, idle float64) {
	for i := range e.site.Counters {
		c := &e.site.Counters[i]
		cs := e.counterSt[c.ID]
		if !cs.Open || !c.Serves(l.Service) || !c.Takes(l.Channel) {
			continue
		}
		st, a := e.agentSt[cs.Agent], e.agents[cs.Agent]
		if a == nil || st == nil || st.State == AgentPaused || st.State == AgentOffline || a.Skills[l.Service] == 0 {
			continue
		}
		share, cycle := e.shareAndCycle(c, a, l)
		if share <= 0 || cycle <= 0 {
			continue
		}
		rate += share / float64(cycle)
		if st.State == AgentAvailable || st.State == AgentWrapUp {
			idle++
		}
	}
	return rate, idle
}

// shareAndCycle is agent a's share of lane l at counter c (its learnt
// shares of the lanes it may take there, renormalised) and its cycle.
func (e *Engine) shareAndCycle(c *Counter, a *Agent, l Lane) (float64, time.Duration) {
	prior := e.priorShares(c.ID, a.ID)
	p := e.paces[a.ID]
	share, inPrior := prior[l]
	if p != nil && p.shares != nil && inPrior {
		sum := 0.0
		for k := range prior {
			sum += p.shares[k]
		}
		if sum > 0 {
			// Learnt, but never far from what the skills say: an agent whose
			// colleagues took a lane so far takes it when they leave.
			share = (1-PriorShare)*p.shares[l]/sum + PriorShare*prior[l]
		}
	}
	if p != nil && p.cycles > 0 {
		return share, p.cycle
	}
	// Not measured yet: the services' mean times, weighted by share.
	var cycle float64
	for k, sh := range prior {
		cycle += sh * float64(e.meanService(e.services[k.Service]))
	}
	return share, time.Duration(cycle)
}
