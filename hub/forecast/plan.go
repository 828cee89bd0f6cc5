package forecast

import (
	"fmt"
	"time"
)

// Need is a service's demand and staff for a target, used by Plan.
type Need struct {
	Service string
	Mean    time.Duration // mean service time
	Target  time.Duration // target wait
	// Patience is the citizens' mean patience (Patience learns it from the
	// log): the agents are then those of Erlang A; zero, Erlang C's.
	Patience time.Duration
}

// Slot is an hour of the plan: the tickets a service is expected to have,
// and the agents it needs to serve Share of them within its target.
type Slot struct {
	Start   time.Time
	Service string
	Tickets float64
	Agents  int
	// Within is the share of citizens whose wait is within the target with
	// those agents (Erlang A, or C without a patience).
	Within float64
}

// Plan is the staffing plan of days days from the day of from, hour by
// hour, for each need: the hours with no expected ticket are left out. The
// agents are Erlang A's for a need with a patience (citizens who give up
// shorten the line: fewer agents at busy hours), Erlang C's without.
// share is the part of citizens to serve within the target (0.8 commonly).
func (m *Model) Plan(from time.Time, days int, needs []Need, share float64) ([]Slot, error) {
	if days < 1 || days > 62 {
		return nil, fmt.Errorf("plan of %d days: from 1 to 62", days)
	}
	var out []Slot
	start := date(from, m.loc)
	for d := range days {
		day := start.AddDate(0, 0, d)
		for h := range 24 {
			at := time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, m.loc)
			for _, n := range needs {
				tickets := m.Expected(n.Service, at)
				if tickets <= 0 {
					continue
				}
				agents, err := AgentsNeededA(tickets, n.Mean, n.Patience, n.Target, share)
				if err != nil {
					return nil, fmt.Errorf("service %s, %s: %w", n.Service, at.Format("2006-01-02 15h"), err)
				}
				out = append(out, Slot{Start: at, Service: n.Service, Tickets: tickets, Agents: agents,
					Within: WithinTargetA(agents, tickets, n.Mean, n.Patience, n.Target)})
			}
		}
	}
	return out, nil
}

// Wait is one citizen's time in the queue, read from the log: how long they
// waited until called or until they gave up (a ticket cancelled before its
// call, or a no-show).
type Wait struct {
	Service string
	Waited  time.Duration
	GaveUp  bool
}

// MinGaveUp is how many citizens of a service must have given up before
// its patience is learnt: fewer say too little.
const MinGaveUp = 20

// Patience learns each service's citizens' mean patience for Erlang A: the
// sum of every wait (of those who gave up, and of those called, whose
// patience was longer than their wait) over the number who gave up — the
// maximum-likelihood mean of an exponential patience seen only up to the
// wait (Mandelbaum and Zeltyn: θ = P(ab) / E[W]). A service where fewer
// than MinGaveUp gave up has none (its plan stays Erlang C).
func Patience(waits []Wait) map[string]time.Duration {
	sum, gave := map[string]time.Duration{}, map[string]int{}
	for _, w := range waits {
		if w.Waited < 0 {
			continue
		}
		sum[w.Service] += w.Waited
		if w.GaveUp {
			gave[w.Service]++
		}
	}
	out := map[string]time.Duration{}
	for s, n := range gave {
		if n >= MinGaveUp {
			out[s] = sum[s] / time.Duration(n)
		}
	}
	return out
}
