package webhook

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	tel "guichet/hub/telephony"
)

// errState marks a message that contradicts what the provider said before
// (a call abandoned after it was connected): 409, nothing changed.
var errState = errors.New("contradicts the call's state")

// book is the calls and agents present as the provider told them. It is
// pure (no I/O, no clock) and not safe for concurrent use: the Adapter
// holds its lock around it. apply computes a message's events without
// changing anything, and returns the change to commit once the events
// have room to go; a refused message changes nothing.
//
// The rules, as apply runs them:
//   - call.waiting announces a call in a mapped queue (CallWaiting); a
//     call already present is left as it is; an unmapped queue is ignored.
//   - call.offered, call.offer_ended and call.connected need the call
//     waiting (connected: or connected to another agent, a transfer);
//     offers to one agent count once; a connect ends the other offers
//     (answered elsewhere).
//   - call.abandoned ends a waiting call; refused (409) for a connected
//     one, whose end is call.ended.
//   - call.ended ends a connected call (CallEnded); a waiting call that
//     ends this way was abandoned (its caller hung up).
//   - A call.* message for a call not present (never announced, in an
//     unmapped queue, or already ended) is ignored: an end is never sent
//     twice, a call never comes back to life.
//   - snapshot replaces everything (Resync); agent.state is sent when it
//     changes the agent's state.
type book struct {
	m      tel.Mapping
	calls  map[tel.CallID]tel.Call
	agents map[string]tel.AgentState // by hub agent
}

func newBook(m tel.Mapping) *book {
	return &book{m: m, calls: map[tel.CallID]tel.Call{}, agents: map[string]tel.AgentState{}}
}

// change is a message's effect: the events to send and how to commit it.
// ignored says why nothing happens, when nothing does.
type change struct {
	events  []tel.Event
	commit  func()
	ignored string
}

func ignore(format string, args ...any) change {
	return change{ignored: fmt.Sprintf(format, args...)}
}

// snapshot returns what the book holds, in Snapshot's order.
func (b *book) snapshot() tel.Snapshot {
	var s tel.Snapshot
	for _, c := range b.calls {
		c.Offers = slices.Clone(c.Offers)
		s.Calls = append(s.Calls, c)
	}
	tel.SortCalls(s.Calls)
	for _, a := range slices.Sorted(maps.Keys(b.agents)) {
		s.Agents = append(s.Agents, b.agents[a])
	}
	return s
}

func (b *book) call(typ string, c Call, at time.Time) (change, error) {
	if err := checkID("call_id", c.CallID); err != nil {
		return change{}, err
	}
	if c.Agent != "" {
		if err := checkID("agent", c.Agent); err != nil {
			return change{}, err
		}
	}
	id := tel.CallID(c.CallID)
	cur, present := b.calls[id]
	if !present {
		return ignore("call %s is not present (never announced, in an unmapped queue, or ended)", id), nil
	}
	put := func(n tel.Call) func() { return func() { b.calls[id] = n } }
	drop := func() { delete(b.calls, id) }
	return b.callChange(typ, c, cur, b.m.Agent(c.Agent), at, put, drop)
}

func (b *book) callChange(typ string, c Call, cur tel.Call, agent string, at time.Time, put func(tel.Call) func(), drop func()) (change, error) {
	id := cur.ID
	switch typ {
	case TypeCallOffered:
		if c.Agent == "" {
			return change{}, invalidf("agent is missing")
		}
		if cur.State != tel.Waiting {
			return ignore("call %s is connected: an offer changes nothing", id), nil
		}
		if slices.ContainsFunc(cur.Offers, func(o tel.Offer) bool { return o.Member == c.Agent }) {
			return ignore("call %s already rings %s", id, c.Agent), nil
		}
		if len(cur.Offers) >= maxOffers {
			return change{}, invalidf("call %s already rings %d phones", id, maxOffers)
		}
		n := cur
		n.Offers = slices.Clone(cur.Offers)
		i, _ := slices.BinarySearchFunc(n.Offers, c.Agent, func(o tel.Offer, m string) int { return cmp.Compare(o.Member, m) })
		n.Offers = slices.Insert(n.Offers, i, tel.Offer{Agent: agent, Member: c.Agent})
		return change{events: []tel.Event{tel.CallOffered{ID: id, Agent: agent, Member: c.Agent}}, commit: put(n)}, nil
	case TypeOfferEnded:
		why, ok := offerReasons[c.Reason]
		if !ok {
			return change{}, invalidf("reason %q is not no_answer, declined, cancelled or answered_elsewhere", cleanText(c.Reason, maxReason))
		}
		if c.Agent == "" {
			return change{}, invalidf("agent is missing")
		}
		if !slices.ContainsFunc(cur.Offers, func(o tel.Offer) bool { return o.Member == c.Agent }) {
			return ignore("call %s does not ring %s", id, c.Agent), nil
		}
		n := cur
		n.Offers = slices.DeleteFunc(slices.Clone(cur.Offers), func(o tel.Offer) bool { return o.Member == c.Agent })
		return change{events: []tel.Event{tel.OfferEnded{ID: id, Agent: agent, Member: c.Agent, Reason: why}}, commit: put(n)}, nil
	case TypeCallConnected:
		if c.Agent == "" {
			return change{}, invalidf("agent is missing")
		}
		if cur.State == tel.Connected && cur.Member == c.Agent {
			return ignore("call %s is already connected to %s", id, c.Agent), nil
		}
		var evs []tel.Event
		for _, o := range cur.Offers {
			if o.Member != c.Agent {
				evs = append(evs, tel.OfferEnded{ID: id, Agent: o.Agent, Member: o.Member, Reason: tel.OfferAnsweredElsewhere})
			}
		}
		wait := max(at.Sub(cur.JoinedAt), 0)
		if cur.State == tel.Connected {
			wait = max(cur.ConnectedAt.Sub(cur.JoinedAt), 0)
		}
		n := cur
		n.State, n.Offers, n.Agent, n.Member, n.ConnectedAt = tel.Connected, nil, agent, c.Agent, at
		evs = append(evs, tel.CallConnected{ID: id, Agent: agent, Member: c.Agent, Wait: wait, At: at})
		return change{events: evs, commit: put(n)}, nil
	case TypeCallAbandoned:
		why, ok := abandonReasons[c.Reason]
		if c.Reason == "" {
			why, ok = tel.AbandonHungUp, true
		}
		if !ok {
			return change{}, invalidf("reason %q is not hung_up or left_queue", cleanText(c.Reason, maxReason))
		}
		if cur.State == tel.Connected {
			return change{}, fmt.Errorf("%w: call %s is connected to %s; send call.ended", errState, id, cur.Member)
		}
		return change{events: []tel.Event{tel.CallAbandoned{ID: id, Wait: max(at.Sub(cur.JoinedAt), 0), Reason: why}}, commit: drop}, nil
	case TypeCallEnded:
		by, ok := endedBy[c.By]
		if !ok {
			return change{}, invalidf("by %q is not caller, agent or transfer", cleanText(c.By, maxReason))
		}
		if cur.State == tel.Waiting {
			return change{events: []tel.Event{tel.CallAbandoned{ID: id, Wait: max(at.Sub(cur.JoinedAt), 0), Reason: tel.AbandonHungUp}}, commit: drop}, nil
		}
		return change{events: []tel.Event{tel.CallEnded{
			ID: id, Agent: cur.Agent, Member: cur.Member, Wait: max(cur.ConnectedAt.Sub(cur.JoinedAt), 0),
			Talk: max(at.Sub(cur.ConnectedAt), 0), By: by,
		}}, commit: drop}, nil
	}
	return change{}, invalidf("unknown call message")
}

// waiting announces a call.
func (b *book) waiting(c Call, at time.Time) (change, error) {
	n, err := b.newCall(c, at)
	if err != nil || n.ID == "" {
		if err == nil {
			return ignore("queue %q is not mapped to a service", c.Queue), nil
		}
		return change{}, err
	}
	if cur, ok := b.calls[n.ID]; ok {
		return ignore("call %s is already present (waiting in %s)", n.ID, cur.Queue), nil
	}
	return change{events: []tel.Event{tel.CallWaiting{Call: n}}, commit: func() { b.calls[n.ID] = n }}, nil
}

// newCall checks a call.waiting (or a snapshot's call) and returns it as
// waiting; a zero Call when its queue is not mapped.
func (b *book) newCall(c Call, at time.Time) (tel.Call, error) {
	if err := checkID("call_id", c.CallID); err != nil {
		return tel.Call{}, err
	}
	if err := checkID("queue", c.Queue); err != nil {
		return tel.Call{}, err
	}
	num, err := cleanNumber(c.Number)
	if err != nil {
		return tel.Call{}, err
	}
	svc, ok := b.m.Service(c.Queue)
	if !ok {
		return tel.Call{}, nil
	}
	joined := at
	if c.JoinedAt != nil {
		if c.JoinedAt.After(at.Add(time.Minute)) {
			return tel.Call{}, invalidf("joined_at is after the message's timestamp")
		}
		joined = *c.JoinedAt
	}
	return tel.Call{
		ID: tel.CallID(c.CallID), Linkedid: c.CallID, Number: num, Name: cleanText(c.Name, maxName),
		Queue: c.Queue, Service: svc, JoinedAt: joined, State: tel.Waiting,
	}, nil
}

// agentState sets an agent's state.
func (b *book) agentState(a Agent) (change, error) {
	s, err := b.agent(a)
	if err != nil || s.Agent == "" {
		if err == nil {
			return ignore("agent %q is not mapped", a.Agent), nil
		}
		return change{}, err
	}
	if cur, ok := b.agents[s.Agent]; ok && cur == s {
		return ignore("agent %s: no change", s.Agent), nil
	}
	return change{events: []tel.Event{tel.AgentStateChanged{State: s}}, commit: func() { b.agents[s.Agent] = s }}, nil
}

func (b *book) agent(a Agent) (tel.AgentState, error) {
	if err := checkID("agent", a.Agent); err != nil {
		return tel.AgentState{}, err
	}
	dev, ok := devices[a.Device]
	if !ok {
		return tel.AgentState{}, invalidf("device %q is not idle, in_use, busy, ringing, unavailable or unknown", cleanText(a.Device, maxReason))
	}
	agent := b.m.Agent(a.Agent)
	if agent == "" {
		return tel.AgentState{}, nil
	}
	s := tel.AgentState{Agent: agent, Member: a.Agent, LoggedIn: a.LoggedIn, Paused: a.Paused && a.LoggedIn, InCall: a.InCall, Device: dev}
	if s.Paused {
		s.Reason = cleanText(a.Reason, maxReason)
	}
	return s, nil
}

// replace takes a snapshot: the Resync that replaces everything.
func (b *book) replace(s Snapshot, at time.Time) (change, error) {
	if len(s.Calls) > maxSnapshot || len(s.Agents) > maxSnapshot {
		return change{}, invalidf("a snapshot holds at most %d calls and %d agents", maxSnapshot, maxSnapshot)
	}
	calls := map[tel.CallID]tel.Call{}
	for i, c := range s.Calls {
		n, err := b.newCall(c, at)
		if err != nil {
			return change{}, fmt.Errorf("calls[%d]: %w", i, err)
		}
		if n.ID == "" {
			continue
		}
		if _, dup := calls[n.ID]; dup {
			return change{}, invalidf("calls[%d]: call %s is listed twice", i, n.ID)
		}
		if old, ok := b.calls[n.ID]; ok && old.Queue == n.Queue {
			// A lean snapshot may leave out what the hub was told already.
			if c.Number == "" {
				n.Number = old.Number
			}
			if c.Name == "" {
				n.Name = old.Name
			}
			if c.JoinedAt == nil {
				n.JoinedAt = old.JoinedAt
			}
		}
		switch c.State {
		case "", "waiting":
			if len(c.Offers) > maxOffers {
				return change{}, invalidf("calls[%d]: over %d offers", i, maxOffers)
			}
			for _, m := range slices.Sorted(slices.Values(c.Offers)) {
				if err := checkID("offer", m); err != nil {
					return change{}, fmt.Errorf("calls[%d]: %w", i, err)
				}
				if !slices.ContainsFunc(n.Offers, func(o tel.Offer) bool { return o.Member == m }) {
					n.Offers = append(n.Offers, tel.Offer{Agent: b.m.Agent(m), Member: m})
				}
			}
		case "connected":
			if err := checkID("agent", c.Agent); err != nil {
				return change{}, fmt.Errorf("calls[%d]: %w", i, err)
			}
			n.State, n.Agent, n.Member, n.ConnectedAt = tel.Connected, b.m.Agent(c.Agent), c.Agent, at
			if old, ok := b.calls[n.ID]; ok && old.State == tel.Connected && old.Member == c.Agent {
				n.ConnectedAt = old.ConnectedAt
			}
			if c.ConnectedAt != nil {
				n.ConnectedAt = *c.ConnectedAt
			}
		default:
			return change{}, invalidf("calls[%d]: state %q is not waiting or connected", i, cleanText(c.State, maxReason))
		}
		calls[n.ID] = n
	}
	agents := map[string]tel.AgentState{}
	for i, a := range s.Agents {
		st, err := b.agent(a)
		if err != nil {
			return change{}, fmt.Errorf("agents[%d]: %w", i, err)
		}
		if st.Agent != "" {
			agents[st.Agent] = st
		}
	}
	nb := &book{m: b.m, calls: calls, agents: agents}
	snap := nb.snapshot()
	return change{events: []tel.Event{tel.Resync{Snapshot: snap}}, commit: func() { b.calls, b.agents = calls, agents }}, nil
}
