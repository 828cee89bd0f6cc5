package ami

import (
	"strconv"
	"time"
)

// The actions the Adapter sends, with their headers in the order Asterisk's
// documentation lists them (main/manager_doc.xml, apps/app_queue.c) and the
// recorded session sends them.

// QueuePause pauses (or unpauses) a queue member: in queue, or in every
// queue it belongs to when queue is "". Asterisk answers "Interface paused
// successfully" and sends one QueueMemberPause per queue, with the reason.
func QueuePause(iface string, paused bool, reason, queue string) Packet {
	p := NewAction("QueuePause", "Interface", iface, "Paused", strconv.FormatBool(paused))
	if reason != "" {
		p = append(p, Header{"Reason", reason})
	}
	if queue != "" {
		p = append(p, Header{"Queue", queue})
	}
	return p
}

// QueueStatus asks for the queues' parameters, members (QueueMember: Name
// and Location, where events say MemberName and Interface) and waiting
// callers (QueueEntry), as a list; queue "" for every queue.
func QueueStatus(queue string) Packet {
	if queue == "" {
		return NewAction("QueueStatus")
	}
	return NewAction("QueueStatus", "Queue", queue)
}

// CoreShowChannels asks for every channel (CoreShowChannel), as a list.
func CoreShowChannels() Packet { return NewAction("CoreShowChannels") }

// Originate is an Originate action: call Channel, and when it answers, run
// Context/Exten/Priority. Async makes Asterisk answer at once ("Originate
// successfully queued") and tell the outcome later in an
// OriginateResponse event carrying the same ActionID.
type Originate struct {
	Channel   string
	Context   string
	Exten     string
	Priority  int // 1 if zero
	CallerID  string
	Timeout   time.Duration // how long Channel may ring; Asterisk's default (30 s) if zero
	Async     bool
	Variables []string // "NAME=value", one Variable header each
}

// Packet returns the action.
func (o Originate) Packet() Packet {
	prio := o.Priority
	if prio == 0 {
		prio = 1
	}
	p := NewAction("Originate", "Channel", o.Channel, "Context", o.Context, "Exten", o.Exten, "Priority", strconv.Itoa(prio))
	if o.CallerID != "" {
		p = append(p, Header{"CallerID", o.CallerID})
	}
	if o.Timeout > 0 {
		p = append(p, Header{"Timeout", strconv.FormatInt(o.Timeout.Milliseconds(), 10)})
	}
	if o.Async {
		p = append(p, Header{"Async", "true"})
	}
	for _, v := range o.Variables {
		p = append(p, Header{"Variable", v})
	}
	return p
}
