package queue

import "fmt"

// Check verifies the engine's invariants and returns the first one broken,
// nil when all hold. It reads the whole state (every ticket, lane, counter
// and agent), so it is for tests and checks, not for every operation:
//
//   - every waiting ticket is in exactly one lane, the lane of its service,
//     channel and priority class, and no other ticket is in any lane;
//   - each lane is in its order (issue time, or slot time for appointments);
//   - a called or serving ticket is held by exactly one open counter, the
//     one it names, and a counter holds only such a ticket;
//   - an open counter has an agent, who sits at that counter only, and is
//     serving exactly when the counter holds a ticket; a closed counter
//     holds nobody; an agent who is not offline sits at an open counter;
//   - among the tickets held, a number is given once per service and day;
//   - the tickets found by their mobile-page token are the ones holding it.
func (e *Engine) Check() error {
	inLanes := map[string]int{}
	for k, l := range e.lanes {
		for i, t := range l.tickets {
			inLanes[t.ID]++
			if e.tickets[t.ID] != t {
				return fmt.Errorf("lane %v holds ticket %s, which the engine does not", k, t.ID)
			}
			if e.laneOf(t) != k {
				return fmt.Errorf("ticket %s in lane %v, belongs in %v", t.ID, k, e.laneOf(t))
			}
			if i > 0 && l.less(t, l.tickets[i-1]) {
				return fmt.Errorf("lane %v out of order at ticket %s", k, t.ID)
			}
		}
	}
	heldBy := map[string]string{}
	agentAt := map[string]string{}
	for id, cs := range e.counterSt {
		if !cs.Open {
			if cs.Ticket != "" || cs.Agent != "" {
				return fmt.Errorf("closed counter %s holds ticket %q and agent %q", id, cs.Ticket, cs.Agent)
			}
			continue
		}
		if cs.Agent == "" {
			return fmt.Errorf("open counter %s has no agent", id)
		}
		if prev, dup := agentAt[cs.Agent]; dup {
			return fmt.Errorf("agent %s at counters %s and %s", cs.Agent, prev, id)
		}
		agentAt[cs.Agent] = id
		st := e.agentSt[cs.Agent]
		if st == nil || st.Counter != id {
			return fmt.Errorf("counter %s says agent %s, who is not at it", id, cs.Agent)
		}
		switch {
		case cs.Ticket != "":
			if _, dup := heldBy[cs.Ticket]; dup {
				return fmt.Errorf("ticket %s held by counters %s and %s", cs.Ticket, heldBy[cs.Ticket], id)
			}
			heldBy[cs.Ticket] = id
			if st.State != AgentServing {
				return fmt.Errorf("agent %s holds ticket %s at counter %s while %s", cs.Agent, cs.Ticket, id, st.State)
			}
		case st.State == AgentServing:
			return fmt.Errorf("agent %s serving at counter %s, which holds no ticket", cs.Agent, id)
		}
	}
	for id, st := range e.agentSt {
		if st.State != AgentOffline && agentAt[id] == "" {
			return fmt.Errorf("agent %s is %s at no open counter", id, st.State)
		}
	}
	numbers := map[string]string{}
	for id, t := range e.tickets {
		switch t.State {
		case Waiting:
			if inLanes[id] != 1 || heldBy[id] != "" {
				return fmt.Errorf("waiting ticket %s in %d lanes, held by counter %q", id, inLanes[id], heldBy[id])
			}
		case Called, Serving:
			if inLanes[id] != 0 || heldBy[id] == "" || heldBy[id] != t.Counter {
				return fmt.Errorf("%s ticket %s in %d lanes, held by counter %q, says counter %q", t.State, id, inLanes[id], heldBy[id], t.Counter)
			}
		default:
			if inLanes[id] != 0 || heldBy[id] != "" {
				return fmt.Errorf("%s ticket %s still in a lane or held by counter %q", t.State, id, heldBy[id])
			}
		}
		key := fmt.Sprintf("%s %s %d", t.Prefix, t.Day, t.Number)
		if other, dup := numbers[key]; dup {
			return fmt.Errorf("number %s given to tickets %s and %s", key, other, id)
		}
		numbers[key] = id
		if t.Token != "" && e.byToken[t.Token] != t {
			return fmt.Errorf("ticket %s is not found by its token", id)
		}
	}
	for id := range heldBy {
		if e.tickets[id] == nil {
			return fmt.Errorf("counter %s holds ticket %s, which the engine does not", heldBy[id], id)
		}
	}
	for tok, t := range e.byToken {
		if t.Token != tok || e.tickets[t.ID] != t {
			return fmt.Errorf("token index holds ticket %s under another token or after it was dropped", t.ID)
		}
	}
	return nil
}
