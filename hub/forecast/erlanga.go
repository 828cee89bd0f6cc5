package forecast

import (
	"fmt"
	"math"
	"time"
)

// Erlang A (Palm's M/M/n+M queue): Erlang C with citizens who give up.
// Each citizen waits at most a patience drawn from an exponential law of
// mean patience (learnt from the log: Patience); one who has waited longer
// leaves the queue. With n agents, λ arrivals, a mean service time 1/μ and
// θ = 1/patience, the number in the queue beyond n is a birth-and-death
// chain of rates λ and nμ + jθ, which gives, with x = nμ/θ, y = λ/θ and
// A(y) = Σ_j y^j / ((x+1)…(x+j)) (Mandelbaum and Zeltyn, "The Palm/Erlang-A
// queue, with applications to call centers", 2007, §3; Riordan 1962):
//
//	π_n       = 1 / (1/B(n, a) + A(y) − 1)   B: Erlang B, a = λ/μ
//	P(wait)   = A(y)·π_n
//	L_q       = π_n · Σ_j j·y^j/((x+1)…(x+j))
//	P(ab)     = θ·L_q/λ                         (those who leave equal θ·L_q)
//	E[W_q]    = L_q/λ                           (Little, every arrival)
//	P(V > t)  = P(wait) · e^{−nμt} · e^{y−z} · A(z)/A(y),   z = y·e^{−θt}
//
// V is the offered wait: how long a citizen would wait to be called if they
// did not give up (those ahead who do are counted); WithinTargetA is
// P(V ≤ target). As θ → 0 every formula becomes Erlang C's.

// QueueA is what Erlang A says of a service's hour.
type QueueA struct {
	Waits    float64       // probability that a citizen waits at all
	Abandons float64       // share of citizens who give up
	MeanWait time.Duration // mean time in the queue, those who give up included
	Within   float64       // share whose offered wait is at most the target
}

// ErlangA is the Erlang A measures with agents agents, arrivals per hour, a
// mean service time, the citizens' mean patience and a target wait. A
// patience of zero is infinite (Erlang C; then an overloaded hour has no
// mean wait and nobody within target).
func ErlangA(agents int, perHour float64, service, patience, target time.Duration) (QueueA, error) {
	switch {
	case agents < 0 || agents > MaxAgents:
		return QueueA{}, fmt.Errorf("%d agents: 0 to %d", agents, MaxAgents)
	case perHour < 0 || math.IsNaN(perHour) || math.IsInf(perHour, 0):
		return QueueA{}, fmt.Errorf("arrivals per hour %g: not a rate", perHour)
	case service <= 0:
		return QueueA{}, fmt.Errorf("service time %v: must be positive", service)
	case patience < 0:
		return QueueA{}, fmt.Errorf("patience %v: negative", patience)
	case target < 0:
		return QueueA{}, fmt.Errorf("target wait %v: negative", target)
	}
	load := perHour * service.Hours()
	if load == 0 {
		return QueueA{Within: 1}, nil
	}
	if patience == 0 {
		q := QueueA{Waits: ErlangC(agents, load), Within: WithinTarget(agents, perHour, service, target)}
		if w, ok := MeanWait(agents, perHour, service); ok {
			q.MeanWait = w
		} else {
			q.MeanWait = time.Duration(math.MaxInt64)
		}
		return q, nil
	}
	if agents == 0 {
		// Nobody serves: everybody gives up, after their patience.
		return QueueA{Waits: 1, Abandons: 1, MeanWait: patience}, nil
	}
	// In units of the mean service time: μ = 1.
	n := float64(agents)
	theta := float64(service) / float64(patience)
	lambda := load
	x, y := n/theta, lambda/theta
	logA, logJ := seriesA(x, y)
	b := erlangB(agents, load)
	// π_n = 1/(1/B + A − 1), computed so that a huge A does not overflow.
	A := math.Exp(logA)
	pin := 1 / (1/b + A - 1)
	if math.IsInf(A, 1) {
		pin = 0
	}
	var q QueueA
	if pin == 0 { // A overflowed: the queue is long, P(wait) → 1
		q.Waits = 1
	} else {
		q.Waits = A * pin
	}
	// L_q = π_n·Σ j t_j = P(wait)·(Σ j t_j / Σ t_j).
	lq := q.Waits * math.Exp(logJ-logA)
	q.Abandons = min(theta*lq/lambda, 1)
	q.MeanWait = time.Duration(lq / lambda * float64(service))
	t := target.Seconds() / service.Seconds()
	z := y * math.Exp(-theta*t)
	logZ, _ := seriesA(x, z)
	over := q.Waits * math.Exp(-n*t+(y-z)+logZ-logA)
	q.Within = 1 - min(max(over, 0), 1)
	return q, nil
}

// WithinTargetA is the share of citizens whose offered wait is at most
// target (Erlang A), with the citizens' mean patience.
func WithinTargetA(agents int, perHour float64, service, patience, target time.Duration) float64 {
	q, err := ErlangA(agents, perHour, service, patience, target)
	if err != nil {
		return 0
	}
	return q.Within
}

// AgentsNeededA is AgentsNeeded with citizens who give up after a mean
// patience (Erlang A): the fewest agents whose offered wait is within target
// for share of citizens. A patience of zero is Erlang C's AgentsNeeded.
func AgentsNeededA(perHour float64, service, patience, target time.Duration, share float64) (int, error) {
	if patience == 0 {
		return AgentsNeeded(perHour, service, target, share)
	}
	if _, err := ErlangA(1, perHour, service, patience, target); err != nil {
		return 0, err
	}
	if !(share > 0 && share < 1) {
		return 0, fmt.Errorf("share %g: between 0 and 1, both excluded", share)
	}
	if perHour == 0 {
		return 0, nil
	}
	// Within target grows with the agents: the fewest is found by halving.
	lo, hi := 0, MaxAgents // lo fails, hi is to be checked
	if WithinTargetA(hi, perHour, service, patience, target) < share {
		return 0, errTooMany
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if WithinTargetA(mid, perHour, service, patience, target) >= share {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// seriesA is log A(y) = log Σ_j t_j and log Σ_j j·t_j, t_0 = 1,
// t_j = t_{j−1}·y/(x+j), summed in logarithms (the terms grow while
// j < y − x, then fall).
func seriesA(x, y float64) (logA, logJ float64) {
	logT := 0.0
	logA, logJ = 0, math.Inf(-1)
	for j := 1; ; j++ {
		logT += math.Log(y / (x + float64(j)))
		logA = logAdd(logA, logT)
		logJ = logAdd(logJ, logT+math.Log(float64(j)))
		if float64(j) > y-x && logT < logA-40 {
			return logA, logJ
		}
		if j > 10_000_000 {
			return logA, logJ // never with the agents and patience allowed
		}
	}
}

// logAdd is log(e^a + e^b).
func logAdd(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if b > a {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// erlangB is the probability that all agents are busy in a loss system
// (Erlang B), by its stable recurrence.
func erlangB(agents int, load float64) float64 {
	b := 1.0
	for k := 1; k <= agents; k++ {
		b = load * b / (float64(k) + load*b)
	}
	return b
}
