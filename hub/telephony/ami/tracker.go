package ami

import (
	"log/slog"
	"strconv"
	"strings"
	"time"

	tel "guichet/hub/telephony"
)

// tracker turns Asterisk's queue events into telephony events. It is pure
// (no I/O; the clock is given) and owned by one goroutine. Each call moves
// only forward (waiting → offered → connected → ended): an event that would
// move it back, or that names another queue than the call's, was already
// reflected in a resync's snapshot and is ignored. That makes replaying the
// events that arrived around a resync safe: nothing is announced twice.
//
// The events it reads (app_queue.c's managerEvent docs, and the recorded
// session in shared/fixtures/ami):
//
//	QueueCallerJoin      → CallWaiting
//	AgentCalled          → CallOffered (one per member rung; DestUniqueid is the leg)
//	DialEnd (not ANSWER) → OfferEnded; DialEnd ANSWER marks the call answered
//	AgentRingNoAnswer    → OfferEnded (no answer: the call keeps its place)
//	AgentDump            → OfferEnded (declined)
//	AgentConnect         → CallConnected (and the other offers end)
//	AgentComplete        → talk time and who hung up; a transfer ends the call
//	QueueCallerAbandon   → CallAbandoned, HoldTime as its wait
//	QueueCallerLeave     → nothing if answered (AgentConnect follows), else CallAbandoned (left the queue)
//	Hangup               → of an offered leg: OfferEnded; of the caller: CallEnded (or CallAbandoned)
//	QueueMember*         → AgentStateChanged
type tracker struct {
	m   tel.Mapping
	now func() time.Time
	log *slog.Logger

	calls   map[tel.CallID]*tcall
	legs    map[string]leg // an offered member channel's Uniqueid → its call
	members map[string]*tmember
	agents  map[string]tel.AgentState // last state sent, by member
}

type tcall struct {
	c tel.Call
	// answered: a DialEnd ANSWER came from the caller's channel; Asterisk
	// sends it before QueueCallerLeave, which then is no abandon.
	answered bool
	// done: the call's last event was sent; it is kept until the caller's
	// Hangup so that the Leave and Hangup that follow are not taken for a
	// new end.
	done      bool
	wait      time.Duration // Asterisk's HoldTime at connect
	talk      time.Duration // Asterisk's TalkTime (AgentComplete)
	talkKnown bool
	by        tel.EndedBy
}

type leg struct {
	call   tel.CallID
	member string
}

type tmember struct {
	name   string
	queues map[string]memberInQueue // mapped queues only
	device tel.Device
	// dev is the device name its channels carry ("Local/101@agents" for
	// "Local/101@agents/n").
	dev string
}

type memberInQueue struct {
	paused bool
	reason string
	inCall bool
}

func newTracker(m tel.Mapping, now func() time.Time, log *slog.Logger) *tracker {
	t := &tracker{m: m, now: now, log: log}
	t.clear()
	return t
}

func (t *tracker) clear() {
	t.calls = map[tel.CallID]*tcall{}
	t.legs = map[string]leg{}
	t.members = map[string]*tmember{}
	t.agents = map[string]tel.AgentState{}
	for iface := range t.m.Members {
		t.member(iface)
	}
}

// handle translates one event.
func (t *tracker) handle(p Packet, emit func(tel.Event)) {
	switch p.Event() {
	case "QueueCallerJoin":
		t.join(p, emit)
	case "AgentCalled":
		t.offered(p, emit)
	case "DialEnd":
		t.dialEnd(p, emit)
	case "AgentRingNoAnswer":
		t.endLeg(p.Get("DestUniqueid"), tel.OfferNoAnswer, emit)
	case "AgentDump":
		t.endLeg(p.Get("DestUniqueid"), tel.OfferDeclined, emit)
	case "AgentConnect":
		t.connect(p, emit)
	case "AgentComplete":
		t.complete(p, emit)
	case "QueueCallerAbandon":
		t.abandon(p, emit)
	case "QueueCallerLeave":
		t.leave(p, emit)
	case "Hangup":
		t.hangup(p, emit)
	case "QueueMemberStatus", "QueueMemberPause", "QueueMemberAdded", "QueueMemberPenalty", "QueueMemberRinginuse":
		t.memberEvent(p, false)
		t.sendAgent(memberOf(p), emit)
	case "QueueMemberRemoved":
		t.memberEvent(p, true)
		t.sendAgent(memberOf(p), emit)
	}
	// Any other event is none of the hub's business.
}

func (t *tracker) join(p Packet, emit func(tel.Event)) {
	queue := p.Get("Queue")
	svc, ok := t.m.Service(queue)
	if !ok {
		return
	}
	id := tel.CallID(p.Get("Uniqueid"))
	if id == "" {
		t.log.Warn("ami: QueueCallerJoin without Uniqueid ignored", "queue", queue)
		return
	}
	if tc := t.calls[id]; tc != nil && !tc.done {
		return // known: a stale event after a resync
	}
	c := callFrom(p, queue, svc, t.now())
	t.calls[id] = &tcall{c: c}
	emit(tel.CallWaiting{Call: c})
}

// callFrom makes a waiting call from an event's caller channel snapshot.
func callFrom(p Packet, queue, svc string, joined time.Time) tel.Call {
	id := p.Get("Uniqueid")
	linked := p.Get("Linkedid")
	if linked == "" {
		linked = id
	}
	return tel.Call{
		ID: tel.CallID(id), Linkedid: linked,
		Number: callerID(p.Get("CallerIDNum")), Name: callerID(p.Get("CallerIDName")),
		Queue: queue, Service: svc, JoinedAt: joined, State: tel.Waiting,
	}
}

// callerID returns a caller id as sent, "" for Asterisk's "<unknown>".
func callerID(s string) string {
	if s == "<unknown>" {
		return ""
	}
	return s
}

// ensure returns the live call an agent event is about, announcing it
// first if its join was not seen (it happened in the moment between a
// reconnect and the snapshot); nil when the event is not for a live call
// of that queue.
func (t *tracker) ensure(p Packet, emit func(tel.Event)) *tcall {
	queue := p.Get("Queue")
	id := tel.CallID(p.Get("Uniqueid"))
	if tc := t.calls[id]; tc != nil {
		if tc.done || tc.c.Queue != queue {
			return nil
		}
		return tc
	}
	svc, ok := t.m.Service(queue)
	if !ok || id == "" {
		return nil
	}
	c := callFrom(p, queue, svc, t.now().Add(-seconds(p.Get("HoldTime"))))
	tc := &tcall{c: c}
	t.calls[id] = tc
	emit(tel.CallWaiting{Call: c})
	return tc
}

func (t *tracker) offered(p Packet, emit func(tel.Event)) {
	tc := t.ensure(p, emit)
	if tc == nil || tc.c.State != tel.Waiting {
		return
	}
	dest, member := p.Get("DestUniqueid"), p.Get("Interface")
	if _, seen := t.legs[dest]; seen || dest == "" {
		return
	}
	t.legs[dest] = leg{call: tc.c.ID, member: member}
	if hasOffer(tc.c.Offers, member) {
		return
	}
	o := tel.Offer{Agent: t.m.Agent(member), Member: member}
	tc.c.Offers = insertOffer(tc.c.Offers, o)
	emit(tel.CallOffered{ID: tc.c.ID, Agent: o.Agent, Member: member})
}

// dialEnd: the queue stopped dialling one member. The ringall loser gets
// no AgentRingNoAnswer, only this (twice) and a Hangup with cause 26: the
// first of them ends its offer.
func (t *tracker) dialEnd(p Packet, emit func(tel.Event)) {
	tc := t.calls[tel.CallID(p.Get("Uniqueid"))]
	if tc == nil || tc.done {
		return
	}
	dest := p.Get("DestUniqueid")
	if lg, ok := t.legs[dest]; !ok || lg.call != tc.c.ID {
		return
	}
	switch p.Get("DialStatus") {
	case "ANSWER":
		tc.answered = true
	case "NOANSWER":
		t.endLeg(dest, tel.OfferNoAnswer, emit)
	case "BUSY", "CONGESTION", "CHANUNAVAIL":
		t.endLeg(dest, tel.OfferDeclined, emit)
	case "CANCEL", "ABORT", "CONTINUE", "GOTO":
		t.endLeg(dest, t.cancelReason(tc), emit)
	}
}

func (t *tracker) cancelReason(tc *tcall) tel.OfferReason {
	if tc.answered {
		return tel.OfferAnsweredElsewhere
	}
	return tel.OfferCancelled
}

// endLeg ends the offer an offered leg carried.
func (t *tracker) endLeg(dest string, why tel.OfferReason, emit func(tel.Event)) {
	lg, ok := t.legs[dest]
	if !ok {
		return
	}
	delete(t.legs, dest)
	tc := t.calls[lg.call]
	if tc == nil || tc.done || tc.c.State != tel.Waiting || !hasOffer(tc.c.Offers, lg.member) {
		return
	}
	for _, other := range t.legs { // another leg still rings that member
		if other.call == lg.call && other.member == lg.member {
			return
		}
	}
	tc.c.Offers = removeOffer(tc.c.Offers, lg.member)
	emit(tel.OfferEnded{ID: lg.call, Agent: t.m.Agent(lg.member), Member: lg.member, Reason: why})
}

func (t *tracker) dropLegs(id tel.CallID) {
	for dest, lg := range t.legs {
		if lg.call == id {
			delete(t.legs, dest)
		}
	}
}

func (t *tracker) connect(p Packet, emit func(tel.Event)) {
	tc := t.ensure(p, emit)
	if tc == nil {
		return
	}
	member := p.Get("Interface")
	if tc.c.State == tel.Connected && tc.c.Member == member {
		return
	}
	for _, o := range tc.c.Offers {
		if o.Member != member {
			emit(tel.OfferEnded{ID: tc.c.ID, Agent: o.Agent, Member: o.Member, Reason: tel.OfferAnsweredElsewhere})
		}
	}
	t.dropLegs(tc.c.ID)
	tc.wait = seconds(p.Get("HoldTime"))
	now := t.now()
	tc.c.State, tc.c.Offers = tel.Connected, nil
	tc.c.Agent, tc.c.Member, tc.c.ConnectedAt = t.m.Agent(member), member, now
	emit(tel.CallConnected{ID: tc.c.ID, Agent: tc.c.Agent, Member: member, Wait: tc.wait, At: now})
}

func (t *tracker) complete(p Packet, emit func(tel.Event)) {
	tc := t.calls[tel.CallID(p.Get("Uniqueid"))]
	if tc == nil || tc.done || tc.c.State != tel.Connected || tc.c.Queue != p.Get("Queue") {
		return
	}
	tc.talk, tc.talkKnown = seconds(p.Get("TalkTime")), true
	switch p.Get("Reason") {
	case "caller":
		tc.by = tel.EndedByCaller
	case "agent":
		tc.by = tel.EndedByAgent
	case "transfer":
		tc.by = tel.EndedByTransfer
		t.end(tc, emit)
	}
}

// end sends a connected call's CallEnded.
func (t *tracker) end(tc *tcall, emit func(tel.Event)) {
	tc.done = true
	talk := tc.talk
	if !tc.talkKnown {
		talk = max(t.now().Sub(tc.c.ConnectedAt), 0)
	}
	by := tc.by
	if by == "" {
		by = tel.EndedByUnknown
	}
	emit(tel.CallEnded{ID: tc.c.ID, Agent: tc.c.Agent, Member: tc.c.Member, Wait: tc.wait, Talk: talk, By: by})
}

func (t *tracker) abandon(p Packet, emit func(tel.Event)) {
	tc := t.calls[tel.CallID(p.Get("Uniqueid"))]
	if tc == nil || tc.done || tc.c.State != tel.Waiting || tc.c.Queue != p.Get("Queue") {
		return
	}
	tc.done = true
	t.dropLegs(tc.c.ID)
	emit(tel.CallAbandoned{ID: tc.c.ID, Wait: seconds(p.Get("HoldTime")), Reason: tel.AbandonHungUp})
}

// leave: the caller left the queue. Answered, AgentConnect follows (after
// the member's gosub, if any); otherwise the queue let it go unanswered
// (timeout, exit key, no member left: QUEUESTATUS tells the dialplan
// which) and Asterisk counts it abandoned too.
func (t *tracker) leave(p Packet, emit func(tel.Event)) {
	tc := t.calls[tel.CallID(p.Get("Uniqueid"))]
	if tc == nil || tc.done || tc.answered || tc.c.State != tel.Waiting || tc.c.Queue != p.Get("Queue") {
		return
	}
	tc.done = true
	t.dropLegs(tc.c.ID)
	emit(tel.CallAbandoned{ID: tc.c.ID, Wait: max(t.now().Sub(tc.c.JoinedAt), 0), Reason: tel.AbandonLeftQueue})
}

// hangup: a channel is gone. An offered member's leg ends its offer (cause
// 26, "answered elsewhere", for the ringall loser); the caller's channel
// ends its call.
func (t *tracker) hangup(p Packet, emit func(tel.Event)) {
	uid := p.Get("Uniqueid")
	if lg, ok := t.legs[uid]; ok {
		why := tel.OfferCancelled
		switch p.Get("Cause") {
		case "26":
			why = tel.OfferAnsweredElsewhere
		case "17", "21":
			why = tel.OfferDeclined
		case "18", "19":
			why = tel.OfferNoAnswer
		default:
			if tc := t.calls[lg.call]; tc != nil && tc.answered {
				why = tel.OfferAnsweredElsewhere
			}
		}
		t.endLeg(uid, why, emit)
	}
	id := tel.CallID(uid)
	tc := t.calls[id]
	if tc == nil {
		return
	}
	delete(t.calls, id)
	t.dropLegs(id)
	if tc.done {
		return
	}
	if tc.c.State == tel.Connected {
		t.end(tc, emit)
		return
	}
	emit(tel.CallAbandoned{ID: id, Wait: max(t.now().Sub(tc.c.JoinedAt), 0), Reason: tel.AbandonHungUp})
}

// memberOf returns the member an event or list item is about: events say
// Interface, QueueStatus's QueueMember items say Location.
func memberOf(p Packet) string {
	if v := p.Get("Interface"); v != "" {
		return v
	}
	return p.Get("Location")
}

func (t *tracker) member(iface string) *tmember {
	m := t.members[iface]
	if m == nil {
		m = &tmember{queues: map[string]memberInQueue{}, device: tel.DeviceUnknown, dev: interfaceDevice(iface)}
		t.members[iface] = m
	}
	return m
}

// memberEvent records a member's state in one mapped queue.
func (t *tracker) memberEvent(p Packet, removed bool) {
	queue, iface := p.Get("Queue"), memberOf(p)
	if _, ok := t.m.Service(queue); !ok || iface == "" {
		return
	}
	m := t.member(iface)
	if name := p.Get("MemberName"); name != "" {
		m.name = name
	} else if name := p.Get("Name"); name != "" {
		m.name = name
	}
	if si := p.Get("StateInterface"); si != "" {
		m.dev = si
	}
	if removed {
		delete(m.queues, queue)
		return
	}
	m.queues[queue] = memberInQueue{paused: p.Get("Paused") == "1", reason: p.Get("PausedReason"), inCall: p.Get("InCall") == "1"}
	m.device = device(p.Get("Status"))
}

func (t *tracker) agentState(iface string) tel.AgentState {
	m := t.member(iface)
	s := tel.AgentState{Agent: t.m.Agent(iface), Member: iface, Name: m.name, LoggedIn: len(m.queues) > 0, Device: m.device}
	s.Paused = s.LoggedIn
	for _, q := range sortedQueues(m.queues) {
		mq := m.queues[q]
		s.Paused = s.Paused && mq.paused
		s.InCall = s.InCall || mq.inCall
		if mq.paused && s.Reason == "" {
			s.Reason = mq.reason
		}
	}
	if !s.Paused {
		s.Reason = ""
	}
	return s
}

// sendAgent sends a mapped member's state when it changed.
func (t *tracker) sendAgent(iface string, emit func(tel.Event)) {
	if t.m.Agent(iface) == "" {
		return
	}
	s := t.agentState(iface)
	if t.agents[iface] == s {
		return
	}
	t.agents[iface] = s
	emit(tel.AgentStateChanged{State: s})
}

// device maps Asterisk's numeric device state (AST_DEVICE_*, as
// QueueMemberStatus documents it). Local channel members stay 1 (not in
// use) while they ring: ringing is known from AgentCalled, not from here.
func device(status string) tel.Device {
	switch status {
	case "1":
		return tel.DeviceIdle
	case "2", "7", "8": // in use, ringing while in use, on hold
		return tel.DeviceInUse
	case "3":
		return tel.DeviceBusy
	case "4", "5":
		return tel.DeviceUnavailable
	case "6":
		return tel.DeviceRinging
	}
	return tel.DeviceUnknown
}

// seconds parses a count of seconds ("HoldTime: 3"); app_queue.c's docs
// call HoldTime and TalkTime "seconds since 1970", but they are durations.
func seconds(s string) time.Duration {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// interfaceDevice returns the device name a member's channels carry: a
// Local member's interface without its options ("Local/101@agents/n" →
// "Local/101@agents"), any other interface as it is ("PJSIP/101").
func interfaceDevice(iface string) string {
	if rest, ok := strings.CutPrefix(iface, "Local/"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			return "Local/" + rest[:i]
		}
	}
	return iface
}

// channelDevice returns the device of a channel name: without its
// sequence suffix ("PJSIP/101-0000001a" → "PJSIP/101") and, for Local
// channels, its half (";1", ";2").
func channelDevice(name string) string {
	if i := strings.LastIndexByte(name, ';'); i >= 0 && strings.HasPrefix(name, "Local/") {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, '-'); i > strings.IndexByte(name, '/') {
		name = name[:i]
	}
	return name
}
