// Package forecast is the staffing forecast of the reception (issue 14):
// how many agents a service needs, hour by hour, to keep its target wait.
// This file is the queueing part: Erlang C (M/M/c), the waiting
// probability, the share of citizens served within a target wait, and the
// fewest agents that reach it.
package forecast

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErlangC is the probability that a citizen waits at all (all agents busy)
// with agents agents and an offered load of load erlangs (arrivals per unit
// of time × mean service time), in an M/M/c queue; 1 when the load is at or
// above the agents (the line grows without end). It computes Erlang B by its
// stable recurrence, B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)), then
// C = c·B / (c − a·(1 − B)).
func ErlangC(agents int, load float64) float64 {
	if load <= 0 {
		return 0
	}
	if agents <= 0 || load >= float64(agents) {
		return 1
	}
	b := 1.0
	for k := 1; k <= agents; k++ {
		b = load * b / (float64(k) + load*b)
	}
	c := float64(agents)
	return c * b / (c - load*(1-b))
}

// WithinTarget is the share of citizens whose wait is at most target, with
// agents agents, arrivals per hour and a mean service time:
// 1 − C · exp(−(c − a) · target / service).
func WithinTarget(agents int, perHour float64, service, target time.Duration) float64 {
	load := perHour * service.Hours()
	if load <= 0 {
		return 1
	}
	if agents <= 0 || load >= float64(agents) {
		return 0
	}
	return 1 - ErlangC(agents, load)*math.Exp(-(float64(agents)-load)*target.Seconds()/service.Seconds())
}

// MeanWait is the mean wait (of all citizens, those who do not wait
// included) with agents agents: C · service / (c − a); false when the load
// is at or above the agents.
func MeanWait(agents int, perHour float64, service time.Duration) (time.Duration, bool) {
	load := perHour * service.Hours()
	if load <= 0 {
		return 0, true
	}
	if agents <= 0 || load >= float64(agents) {
		return 0, false
	}
	return time.Duration(ErlangC(agents, load) * float64(service) / (float64(agents) - load)), true
}

// MaxAgents bounds AgentsNeeded: no reception desk has more.
const MaxAgents = 500

// AgentsNeeded is the fewest agents that serve a share of citizens (0 to
// 1, e.g. 0.8) within target, for arrivals per hour and a mean service
// time; zero when nobody comes.
func AgentsNeeded(perHour float64, service, target time.Duration, share float64) (int, error) {
	switch {
	case perHour < 0 || math.IsNaN(perHour) || math.IsInf(perHour, 0):
		return 0, fmt.Errorf("arrivals per hour %g: not a rate", perHour)
	case service <= 0:
		return 0, fmt.Errorf("service time %v: must be positive", service)
	case target < 0:
		return 0, fmt.Errorf("target wait %v: negative", target)
	case !(share > 0 && share < 1):
		return 0, fmt.Errorf("share %g: between 0 and 1, both excluded", share)
	}
	if perHour == 0 {
		return 0, nil
	}
	load := perHour * service.Hours()
	for c := max(1, int(math.Floor(load))+1); c <= MaxAgents; c++ {
		if WithinTarget(c, perHour, service, target) >= share {
			return c, nil
		}
	}
	return 0, errTooMany
}

var errTooMany = errors.New("more than " + fmt.Sprint(MaxAgents) + " agents needed")
