package telephony

import (
	"slices"
	"time"
)

// Reconcile returns the events that turn what a consumer believes present
// (believed, e.g. its View's Snapshot) into what the PBX has now (now, a
// Resync's snapshot taken at time at), so that after a reconnect no call is
// duplicated and none is lost. The rule, as the code below runs it:
//
//  1. A call believed present but gone now ended while the link was down:
//     CallEnded (By unknown, Talk = at − ConnectedAt) if it was connected,
//     else CallAbandoned (Reason unknown, Wait = at − JoinedAt), both
//     Inferred. A call now in another queue, or waiting again after being
//     connected, ended the same way and is then new (rule 2).
//  2. A call present now and not believed is announced: CallWaiting, then
//     CallOffered for each phone ringing for it, or CallConnected.
//  3. A call in both: if it is connected now and was waiting, or was
//     connected to another member, CallConnected; if it is still waiting,
//     OfferEnded (cancelled) for each offer gone and CallOffered for each
//     new one.
//  4. Every agent whose state differs from the one believed, or is not
//     believed, gets an AgentStateChanged. Agents absent from now are left
//     as they are (the mapping does not change while a link runs).
//
// Ends come first, then the present calls in Snapshot order, then agents.
// Applying the events to a View holding believed gives now's calls exactly.
func Reconcile(believed, now Snapshot, at time.Time) []Event {
	var out []Event
	was := map[CallID]Call{}
	for _, c := range believed.Calls {
		was[c.ID] = c
	}
	is := map[CallID]Call{}
	for _, c := range now.Calls {
		is[c.ID] = c
	}
	// Rule 1: ends.
	for _, b := range believed.Calls {
		n, present := is[b.ID]
		if present && n.Queue == b.Queue && !(b.State == Connected && n.State == Waiting) {
			continue
		}
		out = append(out, inferredEnd(b, at))
		delete(was, b.ID)
	}
	// Rules 2 and 3.
	for _, n := range now.Calls {
		b, known := was[n.ID]
		if !known {
			w := n
			w.State, w.Offers, w.Agent, w.Member, w.ConnectedAt = Waiting, nil, "", "", time.Time{}
			out = append(out, CallWaiting{Call: w})
			b = w
		}
		switch n.State {
		case Connected:
			if b.State != Connected || b.Member != n.Member || b.Agent != n.Agent {
				out = append(out, CallConnected{ID: n.ID, Agent: n.Agent, Member: n.Member, Wait: nonNegative(n.ConnectedAt.Sub(n.JoinedAt)), At: n.ConnectedAt})
			}
		case Waiting:
			for _, o := range b.Offers {
				if !hasOffer(n.Offers, o.Member) {
					out = append(out, OfferEnded{ID: n.ID, Agent: o.Agent, Member: o.Member, Reason: OfferCancelled})
				}
			}
			for _, o := range n.Offers {
				if !hasOffer(b.Offers, o.Member) {
					out = append(out, CallOffered{ID: n.ID, Agent: o.Agent, Member: o.Member})
				}
			}
		}
	}
	// Rule 4: agents.
	before := map[string]AgentState{}
	for _, a := range believed.Agents {
		before[a.Agent] = a
	}
	for _, a := range now.Agents {
		if b, ok := before[a.Agent]; !ok || b != a {
			out = append(out, AgentStateChanged{State: a})
		}
	}
	return out
}

func inferredEnd(c Call, at time.Time) Event {
	if c.State == Connected {
		return CallEnded{ID: c.ID, Agent: c.Agent, Member: c.Member, Wait: nonNegative(c.ConnectedAt.Sub(c.JoinedAt)),
			Talk: nonNegative(at.Sub(c.ConnectedAt)), By: EndedByUnknown, Inferred: true}
	}
	return CallAbandoned{ID: c.ID, Wait: nonNegative(at.Sub(c.JoinedAt)), Reason: AbandonUnknown, Inferred: true}
}

func hasOffer(offers []Offer, member string) bool {
	return slices.ContainsFunc(offers, func(o Offer) bool { return o.Member == member })
}

func nonNegative(d time.Duration) time.Duration {
	return max(d, 0)
}
