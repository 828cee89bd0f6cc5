package queue

import "time"

// Estimated wait, per service: the people ahead, times the service's moving
// mean service time, divided by the agents able to serve it now. An agent
// who can serve several services counts for each in proportion to their
// skill levels. Nobody able to serve it: no estimate.

// DefaultServiceTime is assumed for a service that states none and has not
// been measured yet.
const DefaultServiceTime = 5 * time.Minute

// ServiceSummary is one service's line of the queue summary.
type ServiceSummary struct {
	Service       string        `json:"service"`
	Waiting       int           `json:"waiting"`
	WaitingPhone  int           `json:"waiting_phone"`
	LongestWait   time.Duration `json:"longest_wait"`
	EstimatedWait time.Duration `json:"estimated_wait"`
	Estimated     bool          `json:"estimated"` // false: nobody is serving it now
	Agents        float64       `json:"agents"`    // agents serving it now, shares counted
	MeanService   time.Duration `json:"mean_service"`
	Open          bool          `json:"open"` // within opening hours
}

// Summary returns the queue summary of every service, in site order.
func (e *Engine) Summary(now time.Time) []ServiceSummary {
	local := now.In(e.site.Location)
	out := make([]ServiceSummary, 0, len(e.site.Services))
	for i := range e.site.Services {
		s := &e.site.Services[i]
		sum := ServiceSummary{Service: s.ID, MeanService: e.meanService(s), Agents: e.capacity(s, Visit)}
		sum.Open, _ = s.Hours.OpenAt(local)
		sum.Open = sum.Open || e.site.Policy.IgnoreHours
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
		sum.EstimatedWait, sum.Estimated = e.estimate(s, Visit, sum.Waiting)
		out = append(out, sum)
	}
	return out
}

// Position returns how many tickets are ahead of the waiting ticket id and
// its estimated wait.
func (e *Engine) Position(now time.Time, id string) (ahead int, wait time.Duration, known bool) {
	t := e.tickets[id]
	if t == nil || t.State != Waiting {
		return 0, 0, false
	}
	priorityFirst := false
	for _, tier := range e.site.Policy.Tiers {
		priorityFirst = priorityFirst || tier == TierPriority
	}
	for k, l := range e.lanes {
		if k.service != t.Service {
			continue
		}
		for _, u := range l.tickets {
			switch {
			case u == t:
			case priorityFirst && u.Priority == PriorityPublic && t.Priority != PriorityPublic:
				ahead++
			case priorityFirst && t.Priority == PriorityPublic && u.Priority != PriorityPublic:
			case u.before(t):
				ahead++
			}
		}
	}
	wait, known = e.estimate(e.services[t.Service], t.Channel, ahead)
	return ahead, wait, known
}

// estimate is the expected wait of a ticket with ahead people before it.
func (e *Engine) estimate(s *Service, ch Channel, ahead int) (time.Duration, bool) {
	if s == nil {
		return 0, false
	}
	c := e.capacity(s, ch)
	if c <= 0 {
		return 0, false
	}
	d := time.Duration((float64(ahead) + 0.5) * float64(e.meanService(s)) / c)
	return d.Round(time.Second), true
}

func (e *Engine) meanService(s *Service) time.Duration {
	if st := e.stats[s.ID]; st != nil && st.Mean > 0 {
		return st.Mean
	}
	return DefaultServiceTime
}

// capacity counts the agents serving s on channel ch now, an agent able to
// serve several services counting for each by its share of skill levels.
func (e *Engine) capacity(s *Service, ch Channel) float64 {
	total := 0.0
	for _, c := range e.site.Counters {
		cs := e.counterSt[c.ID]
		if !cs.Open || !c.Takes(ch) || !c.Serves(s.ID) {
			continue
		}
		st := e.agentSt[cs.Agent]
		a := e.agents[cs.Agent]
		if a == nil || st == nil || st.State == AgentPaused || st.State == AgentOffline || a.Skills[s.ID] == 0 {
			continue
		}
		sum := 0
		for _, sid := range e.servable(&c, a) {
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
