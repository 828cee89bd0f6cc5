package queue

import (
	"math"
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
//  4. The estimated wait is (ahead + ½ − idle) × the service's mean service
//     time ÷ the capacity, never below zero, where idle is the agents of
//     that capacity free right now (available, or wrapping up): a new ticket
//     in an empty service with a free agent waits nothing, one behind a busy
//     agent waits half a service on average.
//  5. No capacity on the ticket's channel: nobody serves it now, and there
//     is no estimate (the screens say so rather than show a number).

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
	// if it takes visits) would wait behind; EstimatedWait its wait.
	Ahead         int           `json:"ahead"`
	EstimatedWait time.Duration `json:"estimated_wait"`
	Estimated     bool          `json:"estimated"` // false: nobody is serving it now
	// The same for a new phone call, when the service takes calls.
	AheadPhone         int           `json:"ahead_phone"`
	EstimatedWaitPhone time.Duration `json:"estimated_wait_phone"`
	EstimatedPhone     bool          `json:"estimated_phone"`
	Agents             float64       `json:"agents"` // agents serving its main channel now, shares counted
	MeanService        time.Duration `json:"mean_service"`
	Open               bool          `json:"open"`               // within opening hours
	NextOpen           time.Time     `json:"next_open,omitzero"` // when closed: when it opens next, within a fortnight
}

// Summary returns the queue summary of every service, in site order.
func (e *Engine) Summary(now time.Time) []ServiceSummary {
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
			sum.LongestWait = max(sum.LongestWait, now.Sub(earliestIssued(l.tickets).IssuedAt))
		}
		var ahead float64
		ahead, sum.EstimatedWait, sum.Estimated = e.newTicket(s, main)
		sum.Ahead = people(ahead)
		if s.Takes(Phone) {
			ahead, sum.EstimatedWaitPhone, sum.EstimatedPhone = e.newTicket(s, Phone)
			sum.AheadPhone = people(ahead)
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
	t := e.tickets[id]
	if t == nil || t.State != Waiting {
		return 0, 0, false
	}
	s := e.services[t.Service]
	if s == nil {
		return 0, 0, false
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
		for _, u := range l.tickets {
			if u != t && aheadOf(u, t, priorityFirst) {
				n += weight
			}
		}
	}
	wait, known = e.estimate(s, t.Channel, n)
	return people(n), wait, known
}

// aheadOf reports whether u is served before t: priority public first when
// the policy has a priority tier, then by issue time.
func aheadOf(u, t *Ticket, priorityFirst bool) bool {
	switch {
	case priorityFirst && u.Priority == PriorityPublic && t.Priority != PriorityPublic:
		return true
	case priorityFirst && t.Priority == PriorityPublic && u.Priority != PriorityPublic:
		return false
	}
	return u.before(t)
}

func (e *Engine) priorityFirst() bool {
	for _, tier := range e.site.Policy.Tiers {
		if tier == TierPriority {
			return true
		}
	}
	return false
}

// newTicket is the people ahead of, and the estimated wait of, a new ticket
// of service s on channel ch issued now (with no priority).
func (e *Engine) newTicket(s *Service, ch Channel) (ahead float64, wait time.Duration, known bool) {
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
	wait, known = e.estimate(s, ch, ahead)
	return ahead, wait, known
}

// estimate is the expected wait, on channel ch, of a ticket with ahead
// people before it (rule 4).
func (e *Engine) estimate(s *Service, ch Channel, ahead float64) (time.Duration, bool) {
	if s == nil {
		return 0, false
	}
	c := e.capacity(s, ch, false)
	if c <= 0 {
		return 0, false
	}
	idle := e.capacity(s, ch, true)
	d := time.Duration(max(ahead+0.5-idle, 0) * float64(e.meanService(s)) / c)
	return d.Round(time.Second), true
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
