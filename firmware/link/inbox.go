package link

import (
	"sync"

	"guichet/hub/api"
)

// maxReplies bounds the replies waiting for the reply loop. A reply dropped
// past it is not lost: its command stays in the outbox, is sent again, and
// the hub answers the same.
const maxReplies = 1024

// inbox is what paho's message handler hands to the link's loops. Handing
// over never blocks — a blocked handler stops paho from reading anything,
// the replies a press waits for included — and what waits is bounded:
// replies up to maxReplies, and the newest payload of each retained topic
// (state: a newer payload replaces one not yet handed to the followers).
type inbox struct {
	mu       sync.Mutex
	replies  []api.Reply
	topics   []string          // retained topics with a payload waiting, in arrival order
	payloads map[string][]byte // the newest payload of each
	gotReply chan struct{}
	gotState chan struct{}
}

func newInbox() inbox {
	return inbox{payloads: map[string][]byte{}, gotReply: make(chan struct{}, 1), gotState: make(chan struct{}, 1)}
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

// retained keeps payload as the newest of topic.
func (in *inbox) retained(topic string, payload []byte) {
	in.mu.Lock()
	if _, waiting := in.payloads[topic]; !waiting {
		in.topics = append(in.topics, topic)
	}
	in.payloads[topic] = payload
	in.mu.Unlock()
	signal(in.gotState)
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

// nextRetained waits for the retained topic that changed first and returns
// its newest payload; false once stop is closed.
func (in *inbox) nextRetained(stop <-chan struct{}) (string, []byte, bool) {
	for {
		in.mu.Lock()
		if len(in.topics) > 0 {
			t := in.topics[0]
			in.topics = in.topics[1:]
			p := in.payloads[t]
			delete(in.payloads, t)
			in.mu.Unlock()
			return t, p, true
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
