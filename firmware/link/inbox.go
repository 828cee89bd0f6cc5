package link

import (
	"slices"
	"sync"

	"guichet/hub/api"
)

// maxReplies bounds the replies waiting for the reply loop. A reply dropped
// past it is not lost: its command stays in the outbox, is sent again, and
// the hub answers the same.
const maxReplies = 1024

// maxRetained bounds the retained messages waiting for the followers. Past
// it — a follower stuck, not merely slow — the oldest waiting message of the
// same topic goes: retained topics are state, the newest is what counts.
// Below it every message is handed over, in order: a screen announces each
// call of the boards it is given.
const maxRetained = 4096

// inbox is what paho's message handler hands to the link's loops. Handing
// over never blocks — a blocked handler stops paho from reading anything,
// the replies a press waits for included — and what waits is bounded.
type inbox struct {
	mu       sync.Mutex
	replies  []api.Reply
	retained []message
	dropped  int // retained messages dropped since the last warning
	gotReply chan struct{}
	gotState chan struct{}
}

// message is a retained message waiting for the followers.
type message struct {
	topic   string
	payload []byte
}

func newInbox() inbox {
	return inbox{gotReply: make(chan struct{}, 1), gotState: make(chan struct{}, 1)}
}

// reply queues r; false if too many wait.
func (in *inbox) reply(r api.Reply) bool {
	in.mu.Lock()
	full := len(in.replies) >= maxReplies
	if !full {
		in.replies = append(in.replies, r)
	}
	in.mu.Unlock()
	signal(in.gotReply)
	return !full
}

// state queues a retained message; past maxRetained, the oldest waiting
// message of its topic goes. It returns how many were dropped since the
// last time it said so, when it first drops one and every 1,000 after.
func (in *inbox) state(topic string, payload []byte) (dropped int) {
	in.mu.Lock()
	if len(in.retained) >= maxRetained {
		i := slices.IndexFunc(in.retained, func(m message) bool { return m.topic == topic })
		if i < 0 {
			i = 0 // a topic of its own: the oldest of all goes
		}
		in.retained = slices.Delete(in.retained, i, i+1)
		in.dropped++
		if in.dropped == 1 || in.dropped%1000 == 0 {
			dropped = in.dropped
		}
	} else {
		in.dropped = 0
	}
	in.retained = append(in.retained, message{topic, payload})
	in.mu.Unlock()
	signal(in.gotState)
	return dropped
}

// nextReply waits for the oldest reply; false once stop is closed.
func (in *inbox) nextReply(stop <-chan struct{}) (api.Reply, bool) {
	for {
		in.mu.Lock()
		if len(in.replies) > 0 {
			r := in.replies[0]
			in.replies = in.replies[1:]
			in.mu.Unlock()
			return r, true
		}
		in.mu.Unlock()
		select {
		case <-stop:
			return api.Reply{}, false
		case <-in.gotReply:
		}
	}
}

// nextState waits for the oldest retained message; false once stop is
// closed.
func (in *inbox) nextState(stop <-chan struct{}) (string, []byte, bool) {
	for {
		in.mu.Lock()
		if len(in.retained) > 0 {
			m := in.retained[0]
			in.retained = in.retained[1:]
			in.mu.Unlock()
			return m.topic, m.payload, true
		}
		in.mu.Unlock()
		select {
		case <-stop:
			return "", nil, false
		case <-in.gotState:
		}
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
