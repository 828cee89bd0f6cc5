package queue

import (
	"fmt"
	"sort"
	"time"
)

// The call-next policy, declared in the site's Policy:
//
//  1. A ticket belongs to the first tier of Policy.Tiers it matches:
//     appointment_due (slot minus AppointmentWindow has come), priority
//     (priority public), overdue (waited longer than its service's SLA).
//     Tickets matching none are in the weighted_wait tier, last.
//  2. A higher tier always wins.
//  3. Within a tier the score decides: appointment_due, the earliest slot;
//     overdue, the largest wait/SLA ratio; priority and weighted_wait, the
//     largest weighted wait = (wait + boost) × service weight × skill level,
//     where boost is Policy.PriorityBoost for priority public when priority is
//     not a tier of its own.
//  4. Ties go to the earliest issue time, then the smallest id: first come,
//     first served among equals, and deterministic.
//
// Only the services the agent has a skill for, that the counter serves, on a
// channel the counter takes, are candidates.
//
// A ticket transferred to a named agent (supervise.go) is held for them: it
// is a candidate for that agent alone while they are signed in, until its
// hold ends (the transfer's time plus Policy.TransferHold, 15 minutes by
// default); from then on, or as soon as that agent signs out, it is its
// service's again, a candidate for everyone. Held or not, it keeps its
// place: the rules above rank it as any other, and Explain says for whom
// it is held and until when.

// Candidate is a ticket the policy considered, with its tier and score.
type Candidate struct {
	Ticket   string        `json:"ticket"` // display number
	TicketID string        `json:"ticket_id"`
	Service  string        `json:"service"`
	Channel  Channel       `json:"channel"`
	Priority Priority      `json:"priority"`
	Tier     Tier          `json:"tier"`
	Rank     int           `json:"rank"` // 0 is the highest tier
	Score    float64       `json:"score"`
	Wait     time.Duration `json:"wait"`
	Level    int           `json:"skill_level"`
	Why      string        `json:"why"`

	ticket *Ticket
}

// Decision is who call next would pick for a counter now, and why.
type Decision struct {
	Counter    string      `json:"counter"`
	Agent      string      `json:"agent"`
	Next       *Candidate  `json:"next"`       // nil when nobody waits for this counter
	Candidates []Candidate `json:"candidates"` // the best of each lane, best first
	Policy     []Tier      `json:"policy"`     // the tiers, highest first, then weighted_wait
}

// Explain tells who call next at counter would pick at now, and why, without
// changing anything.
func (e *Engine) Explain(now time.Time, counter string) (Decision, error) {
	c, cs, err := e.openCounter(counter)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{Counter: c.ID, Agent: cs.Agent, Policy: append(append([]Tier(nil), e.site.Policy.Tiers...), TierWeightedWait)}
	e.pick(now, c, e.agents[cs.Agent], func(cd Candidate) { d.Candidates = append(d.Candidates, cd) })
	sort.SliceStable(d.Candidates, func(i, j int) bool { return better(&d.Candidates[i], &d.Candidates[j]) })
	if len(d.Candidates) > 0 {
		n := d.Candidates[0]
		d.Next = &n
	}
	return d, nil
}

// pick returns the policy's choice for agent at counter c, or nil. If seen is
// not nil it receives every candidate considered.
func (e *Engine) pick(now time.Time, c *Counter, a *Agent, seen func(Candidate)) *Candidate {
	if a == nil {
		return nil
	}
	var best *Candidate
	consider := func(t *Ticket, level int) {
		cd := e.rank(now, t, level)
		if seen != nil {
			seen(cd)
		}
		if best == nil || better(&cd, best) {
			best = &cd
		}
	}
	for _, sid := range e.servable(c, a) {
		level := a.Skills[sid]
		for _, ch := range []Channel{Visit, Phone} {
			if !c.Takes(ch) {
				continue
			}
			for _, class := range []Priority{PriorityAppointment, PriorityPublic, PriorityNone} {
				l := e.lanes[laneKey{sid, ch, class}]
				if l == nil || len(l.tickets) == 0 {
					continue
				}
				head := e.firstFor(l.tickets, a.ID, now)
				if head == nil {
					continue
				}
				consider(head, level)
				if class == PriorityAppointment {
					// Sorted by slot; the earliest issued competes on its wait.
					if first := e.earliestIssuedFor(l.tickets, a.ID, now); first != head {
						consider(first, level)
					}
				}
			}
		}
	}
	return best
}

// heldFrom reports whether t is held for another agent than agent at now.
func (e *Engine) heldFrom(t *Ticket, agent string, now time.Time) bool {
	return t.ForAgent != "" && t.ForAgent != agent && e.holding(t, now)
}

// HeldFor returns the agent a waiting ticket is held for at now (it was
// transferred to them, its hold has not run out and they are signed in),
// or "" when anyone with the skill may call it.
func (e *Engine) HeldFor(t Ticket, now time.Time) string {
	if t.State != Waiting || !e.holding(&t, now) {
		return ""
	}
	return t.ForAgent
}

// holding reports whether t is still held for its agent at now: before its
// hold ends, and while that agent is signed in.
func (e *Engine) holding(t *Ticket, now time.Time) bool {
	if t.ForAgent == "" || !now.Before(t.HoldUntil) {
		return false
	}
	st := e.agentSt[t.ForAgent]
	return st != nil && st.State != AgentOffline
}

// firstFor is the first ticket of a lane that agent may call at now.
func (e *Engine) firstFor(ts []*Ticket, agent string, now time.Time) *Ticket {
	for _, t := range ts {
		if !e.heldFrom(t, agent, now) {
			return t
		}
	}
	return nil
}

func earliestIssued(ts []*Ticket) *Ticket {
	first := ts[0]
	for _, t := range ts[1:] {
		if t.before(first) {
			first = t
		}
	}
	return first
}

func (e *Engine) earliestIssuedFor(ts []*Ticket, agent string, now time.Time) *Ticket {
	var first *Ticket
	for _, t := range ts {
		if !e.heldFrom(t, agent, now) && (first == nil || t.before(first)) {
			first = t
		}
	}
	return first
}

// servable lists the services agent a may serve at counter c, on a channel
// both take, in site order.
func (e *Engine) servable(c *Counter, a *Agent) []string {
	var out []string
	for i := range e.site.Services {
		s := &e.site.Services[i]
		if a.Skills[s.ID] > 0 && c.Serves(s.ID) && (c.Takes(Visit) && s.Takes(Visit) || c.Takes(Phone) && s.Takes(Phone)) {
			out = append(out, s.ID)
		}
	}
	return out
}

// rank places t in the policy for an agent of the given skill level, and
// says why.
func (e *Engine) rank(now time.Time, t *Ticket, level int) Candidate {
	cd := e.place(now, t, level)
	cd.Ticket = t.Display()
	switch cd.Tier {
	case TierAppointmentDue:
		cd.Why = fmt.Sprintf("appointment at %s is due", t.AppointmentAt.In(e.site.Location).Format("15:04"))
	case TierPriority:
		cd.Why = "priority public"
	case TierOverdue:
		cd.Why = fmt.Sprintf("waited %s, past the %s target", cd.Wait.Round(time.Second), e.services[t.Service].SLA)
	default:
		weight := 1.0
		if s := e.services[t.Service]; s != nil {
			weight = s.weight()
		}
		cd.Why = fmt.Sprintf("waited %s × weight %.2g × skill %d", cd.Wait.Round(time.Second), weight, level)
		if t.Priority == PriorityPublic && e.site.Policy.PriorityBoost > 0 {
			cd.Why = fmt.Sprintf("waited %s + priority %s × weight %.2g × skill %d", cd.Wait.Round(time.Second), e.site.Policy.PriorityBoost, weight, level)
		}
	}
	if t.ForAgent != "" {
		if e.holding(t, now) {
			cd.Why += fmt.Sprintf("; transferred to %s, held for them until %s", t.ForAgent, t.HoldUntil.In(e.site.Location).Format("15:04"))
		} else {
			cd.Why += fmt.Sprintf("; transferred to %s, no longer held for them", t.ForAgent)
		}
	}
	return cd
}

// place is rank without the why: the tier and score alone (the estimate
// plays the policy forward with it, rule 7).
func (e *Engine) place(now time.Time, t *Ticket, level int) Candidate {
	p := &e.site.Policy
	s := e.services[t.Service]
	sla, weight := time.Duration(0), 1.0
	if s != nil {
		sla, weight = s.SLA, s.weight()
	}
	wait := max(now.Sub(t.IssuedAt), 0)
	cd := Candidate{TicketID: t.ID, Service: t.Service, Channel: t.Channel,
		Priority: t.Priority, Wait: wait, Level: level, ticket: t}
	weighted := func(boost time.Duration) float64 {
		return (wait + boost).Seconds() * weight * float64(level)
	}
	for i, tier := range p.Tiers {
		switch {
		case tier == TierAppointmentDue && t.Priority == PriorityAppointment && !now.Before(t.AppointmentAt.Add(-p.AppointmentWindow)):
			cd.Tier, cd.Rank, cd.Score = tier, i, now.Sub(t.AppointmentAt).Seconds()
			return cd
		case tier == TierPriority && t.Priority == PriorityPublic:
			cd.Tier, cd.Rank, cd.Score = tier, i, weighted(0)
			return cd
		case tier == TierOverdue && sla > 0 && wait > sla:
			cd.Tier, cd.Rank, cd.Score = tier, i, float64(wait)/float64(sla)
			return cd
		}
	}
	boost := time.Duration(0)
	if t.Priority == PriorityPublic {
		boost = p.PriorityBoost
	}
	cd.Tier, cd.Rank, cd.Score = TierWeightedWait, len(p.Tiers), weighted(boost)
	return cd
}

// better orders candidates: higher tier, then higher score, then first come.
func better(a, b *Candidate) bool {
	if a.Rank != b.Rank {
		return a.Rank < b.Rank
	}
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.ticket.before(b.ticket)
}
