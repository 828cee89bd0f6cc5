package telephony

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// View is what a consumer believes present at the PBX, kept by applying the
// link's events in order. The hub keeps its own projection; View is the
// reference one (and the one tests compare with the adapter's own state).
// It is not safe for concurrent use.
type View struct {
	calls  map[CallID]Call
	agents map[string]AgentState // by agent
}

// NewView returns an empty view.
func NewView() *View {
	return &View{calls: map[CallID]Call{}, agents: map[string]AgentState{}}
}

// Apply updates the view with one event. A Resync changes nothing by
// itself: apply the events Reconcile returns for it.
func (v *View) Apply(e Event) {
	switch e := e.(type) {
	case CallWaiting:
		c := e.Call
		c.State, c.Offers = Waiting, nil
		c.Agent, c.Member, c.ConnectedAt = "", "", time.Time{}
		v.calls[c.ID] = c
	case CallOffered:
		c, ok := v.calls[e.ID]
		if !ok || c.State != Waiting {
			return
		}
		c.Offers = addOffer(c.Offers, Offer{Agent: e.Agent, Member: e.Member})
		v.calls[e.ID] = c
	case OfferEnded:
		c, ok := v.calls[e.ID]
		if !ok {
			return
		}
		c.Offers = removeOffer(c.Offers, e.Member)
		v.calls[e.ID] = c
	case CallConnected:
		c, ok := v.calls[e.ID]
		if !ok {
			return
		}
		c.State, c.Offers = Connected, nil
		c.Agent, c.Member, c.ConnectedAt = e.Agent, e.Member, e.At
		v.calls[e.ID] = c
	case CallAbandoned:
		delete(v.calls, e.ID)
	case CallEnded:
		delete(v.calls, e.ID)
	case AgentStateChanged:
		v.agents[e.State.Agent] = e.State
	}
}

// Call returns a present call.
func (v *View) Call(id CallID) (Call, bool) {
	c, ok := v.calls[id]
	c.Offers = slices.Clone(c.Offers)
	return c, ok
}

// Snapshot returns what the view holds, in Snapshot's order.
func (v *View) Snapshot() Snapshot {
	var s Snapshot
	for _, c := range v.calls {
		c.Offers = slices.Clone(c.Offers)
		s.Calls = append(s.Calls, c)
	}
	SortCalls(s.Calls)
	for _, a := range slices.Sorted(maps.Keys(v.agents)) {
		s.Agents = append(s.Agents, v.agents[a])
	}
	return s
}

// SortCalls sorts calls by JoinedAt, then ID: Snapshot's order.
func SortCalls(calls []Call) {
	slices.SortFunc(calls, func(a, b Call) int {
		if c := a.JoinedAt.Compare(b.JoinedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

func addOffer(offers []Offer, o Offer) []Offer {
	i, found := slices.BinarySearchFunc(offers, o.Member, func(x Offer, m string) int { return cmp.Compare(x.Member, m) })
	if found {
		return offers
	}
	return slices.Insert(slices.Clone(offers), i, o)
}

func removeOffer(offers []Offer, member string) []Offer {
	return slices.DeleteFunc(slices.Clone(offers), func(o Offer) bool { return o.Member == member })
}
