package queue

import (
	"slices"
	"time"
)

// The agents' hours in the estimate (rule 4 over time): an agent whose
// hours the site file states (Agent.Hours: "08:30-12:00 13:00-17:30") is
// counted in a lane's rate only while those hours say they work. An agent
// at a counter now stops counting when their current period ends (lunch,
// the end of their day) and counts again when the next one starts, at the
// counter they last worked at, at their learnt pace and shares; an agent
// away now counts from their next period's start — or from now if the
// current period began less than LateGrace ago (back from lunch in a
// moment). The wait is the time the rate, changing at those moments, takes
// to reach the ticket's call. Agents without stated hours count as they
// are now, for as long as it takes; past the last change of the day, the
// rate is the one at work now.

// LateGrace is how long after the start of their period an agent still away
// is expected back at once.
const LateGrace = 15 * time.Minute

// rateChange is a change of a lane's rate at a moment ahead.
type rateChange struct {
	at    time.Time
	delta float64 // tickets per nanosecond
}

// rateAhead is the changes of lane l's rate after now, within the local day,
// from the hours of the agents who state them, in time order.
func (e *Engine) rateAhead(l Lane, now time.Time) []rateChange {
	var out []rateChange
	local := now.In(e.site.Location)
	y, m, d := local.Date()
	midnight := time.Date(y, m, d+1, 0, 0, 0, 0, e.site.Location)
	for i := range e.site.Agents {
		a := &e.site.Agents[i]
		if !a.Hours.Set() || a.Skills[l.Service] == 0 {
			continue
		}
		st, p := e.agentSt[a.ID], e.paces[a.ID]
		if st == nil || p == nil || p.counter == "" {
			continue // never seen at work: where and how fast is unknown
		}
		c := e.counters[p.counter]
		if c == nil || !c.Serves(l.Service) || !c.Takes(l.Channel) {
			continue
		}
		share, cycle := e.shareAndCycle(c, a, l)
		if share <= 0 || cycle <= 0 {
			continue
		}
		r := share / float64(cycle)
		counted := e.counts(c, st, l) // in laneRate now
		open, left := a.Hours.OpenAt(local)
		t := local
		if counted {
			if !open {
				continue // at work outside their hours: as they are now
			}
			t = local.Add(left)
			out = append(out, rateChange{t, -r})
		} else if open && e.periodStart(a, local).After(local.Add(-LateGrace)) && st.State == AgentOffline {
			out = append(out, rateChange{local, r})
			t = local.Add(left)
			out = append(out, rateChange{t, -r})
		}
		// The periods still to come today.
		for t.Before(midnight) {
			next := a.Hours.NextOpen(t)
			if next.IsZero() || !next.Before(midnight) {
				break
			}
			_, span := a.Hours.OpenAt(next)
			out = append(out, rateChange{next, r}, rateChange{next.Add(span), -r})
			t = next.Add(span)
		}
	}
	slices.SortStableFunc(out, func(x, y rateChange) int { return x.at.Compare(y.at) })
	return out
}

// counts reports whether the agent at counter c, in state st, is counted in
// lane l's rate now (laneRate's rule).
func (e *Engine) counts(c *Counter, st *AgentStatus, l Lane) bool {
	cs := e.counterSt[c.ID]
	return cs != nil && cs.Open && cs.Agent == st.ID && st.State != AgentPaused && st.State != AgentOffline
}

// periodStart is when the agent's current period of hours began (local is
// within one).
func (e *Engine) periodStart(a *Agent, local time.Time) time.Time {
	m := local.Hour()*60 + local.Minute()
	for _, sp := range a.Hours.Week[local.Weekday()] {
		if m >= sp.From && m < sp.To {
			y, mo, d := local.Date()
			return time.Date(y, mo, d, sp.From/60, sp.From%60, 0, 0, local.Location())
		}
	}
	return local
}

// reachCalls is how long a rate that starts at rate0 (> 0) and changes as
// changes say takes to serve calls tickets from now. When the rate is
// nothing past the last change (everybody gone for the day), the rest is
// served at rate0 after it: the ticket waits past the day's end.
func reachCalls(now time.Time, rate0 float64, changes []rateChange, calls float64) time.Duration {
	t, left, rate := now, calls, rate0
	for _, ch := range changes {
		if ch.at.Before(t) {
			ch.at = t
		}
		if rate > 0 {
			span := float64(ch.at.Sub(t))
			if rate*span >= left {
				return t.Add(time.Duration(left / rate)).Sub(now)
			}
			left -= rate * span
		}
		t, rate = ch.at, rate+ch.delta
		if rate < 1e-6*rate0 {
			rate = 0
		}
	}
	if rate <= 0 {
		rate = rate0
	}
	return t.Add(time.Duration(left / rate)).Sub(now)
}
