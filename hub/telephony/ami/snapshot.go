package ami

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	tel "guichet/hub/telephony"
)

// reset replaces what the tracker knows with what Asterisk listed after a
// (re)connection: QueueStatus's items (QueueMember, QueueEntry) and
// CoreShowChannels's (CoreShowChannel).
//
//   - A waiting call is a QueueEntry of a mapped queue; its Linkedid comes
//     from its channel.
//   - A connected call is a channel running the Queue application (its
//     ApplicationData starts with the queue) that is in a bridge; its agent
//     is the AppQueue channel in the same bridge. Its talk so far is that
//     channel's Duration, its wait the caller channel's age less that.
//   - A phone ringing for a waiting call is an AppQueue channel in no
//     bridge with the call's Linkedid.
//
// A caller running Queue, in no bridge and in no QueueEntry, is between
// the queue and an agent: its AgentConnect follows and announces it.
func (t *tracker) reset(status, channels []Packet) {
	t.clear()
	now := t.now()
	for _, p := range status {
		if p.Event() == "QueueMember" {
			t.memberEvent(p, false)
		}
	}
	byID := map[string]Packet{}
	byBridge := map[string][]Packet{}
	for _, p := range channels {
		if p.Event() != "CoreShowChannel" {
			continue
		}
		byID[p.Get("Uniqueid")] = p
		if b := p.Get("BridgeId"); b != "" {
			byBridge[b] = append(byBridge[b], p)
		}
	}
	byLinked := map[string]*tcall{}
	for _, p := range status {
		if p.Event() != "QueueEntry" {
			continue
		}
		queue := p.Get("Queue")
		svc, ok := t.m.Service(queue)
		if !ok || p.Get("Uniqueid") == "" {
			continue
		}
		c := callFrom(p, queue, svc, now.Add(-seconds(p.Get("Wait"))))
		if ch, ok := byID[string(c.ID)]; ok && ch.Get("Linkedid") != "" {
			c.Linkedid = ch.Get("Linkedid")
		}
		tc := &tcall{c: c}
		t.calls[c.ID] = tc
		byLinked[c.Linkedid] = tc
	}
	for _, p := range channels {
		if p.Event() != "CoreShowChannel" {
			continue
		}
		switch p.Get("Application") {
		case "Queue":
			t.connectedFrom(p, byBridge, now)
		case "AppQueue":
			if p.Get("BridgeId") != "" {
				continue
			}
			tc := byLinked[p.Get("Linkedid")]
			if tc == nil {
				continue
			}
			member := t.memberOfChannel(p.Get("Channel"))
			t.legs[p.Get("Uniqueid")] = leg{call: tc.c.ID, member: member}
			if !hasOffer(tc.c.Offers, member) {
				tc.c.Offers = insertOffer(tc.c.Offers, tel.Offer{Agent: t.m.Agent(member), Member: member})
			}
		}
	}
	for iface := range t.members {
		if t.m.Agent(iface) != "" {
			t.agents[iface] = t.agentState(iface)
		}
	}
}

func (t *tracker) connectedFrom(p Packet, byBridge map[string][]Packet, now time.Time) {
	bridge := p.Get("BridgeId")
	queue, _, _ := strings.Cut(p.Get("ApplicationData"), ",")
	svc, ok := t.m.Service(queue)
	id := tel.CallID(p.Get("Uniqueid"))
	if !ok || bridge == "" || id == "" || t.calls[id] != nil {
		return
	}
	var agentLeg Packet
	for _, q := range byBridge[bridge] {
		if q.Get("Application") == "AppQueue" {
			agentLeg = q
			break
		}
	}
	if agentLeg == nil {
		return
	}
	age := duration(p.Get("Duration"))
	talk := min(duration(agentLeg.Get("Duration")), age)
	c := callFrom(p, queue, svc, now.Add(-age))
	member := t.memberOfChannel(agentLeg.Get("Channel"))
	c.State, c.Agent, c.Member, c.ConnectedAt = tel.Connected, t.m.Agent(member), member, now.Add(-talk)
	t.calls[id] = &tcall{c: c, answered: true, wait: age - talk}
}

// memberOfChannel returns the member interface whose device a channel
// belongs to, or the channel's device when no member has it.
func (t *tracker) memberOfChannel(channel string) string {
	dev := channelDevice(channel)
	for _, iface := range slices.Sorted(maps.Keys(t.members)) {
		if m := t.members[iface]; m.dev == dev || interfaceDevice(iface) == dev {
			return iface
		}
	}
	return dev
}

// snapshot returns the calls present and the mapped agents' states.
func (t *tracker) snapshot() tel.Snapshot {
	var s tel.Snapshot
	for _, tc := range t.calls {
		if tc.done {
			continue
		}
		c := tc.c
		c.Offers = slices.Clone(c.Offers)
		s.Calls = append(s.Calls, c)
	}
	tel.SortCalls(s.Calls)
	for iface := range t.members {
		if t.m.Agent(iface) != "" {
			s.Agents = append(s.Agents, t.agentState(iface))
		}
	}
	slices.SortFunc(s.Agents, func(a, b tel.AgentState) int { return cmp.Compare(a.Agent, b.Agent) })
	return s
}

// duration parses CoreShowChannel's Duration, "HH:MM:SS".
func duration(s string) time.Duration {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0
	}
	var d time.Duration
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0
		}
		d = d*60 + time.Duration(n)
	}
	return d * time.Second
}

func hasOffer(offers []tel.Offer, member string) bool {
	return slices.ContainsFunc(offers, func(o tel.Offer) bool { return o.Member == member })
}

func insertOffer(offers []tel.Offer, o tel.Offer) []tel.Offer {
	i, _ := slices.BinarySearchFunc(offers, o.Member, func(x tel.Offer, m string) int { return cmp.Compare(x.Member, m) })
	return slices.Insert(offers, i, o)
}

func removeOffer(offers []tel.Offer, member string) []tel.Offer {
	return slices.DeleteFunc(offers, func(o tel.Offer) bool { return o.Member == member })
}

func sortedQueues(m map[string]memberInQueue) []string {
	return slices.Sorted(maps.Keys(m))
}
