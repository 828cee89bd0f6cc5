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
}

// Slot is an hour of the plan: the tickets a service is expected to have,
// and the agents it needs to serve Share of them within its target.
type Slot struct {
	Start   time.Time
	Service string
	Tickets float64
	Agents  int
}

// Plan is the staffing plan of days days from the day of from, hour by
// hour, for each need: the hours with no expected ticket are left out.
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
				agents, err := AgentsNeeded(tickets, n.Mean, n.Target, share)
				if err != nil {
					return nil, fmt.Errorf("service %s, %s: %w", n.Service, at.Format("2006-01-02 15h"), err)
				}
				out = append(out, Slot{Start: at, Service: n.Service, Tickets: tickets, Agents: agents})
			}
		}
	}
	return out, nil
}
