package bus

import (
	"bytes"
	"time"
)

// The retained board, queue, config, counter/… and lease/… topics are the
// hub's: devices may not publish there (hub/devices), but a broker lets
// whoever holds the hub's credentials do it, keeps what an earlier
// configuration left (a counter or a kiosk since removed), and a bug could
// slip through. So the bus listens to them: when a message it did not
// publish arrives on one, it publishes its own again — or clears the topic
// if it publishes nothing there — at most once a second per topic (two
// hubs on one site would otherwise answer each other without end).

// reassertEvery is how often, at most, the bus re-asserts one topic.
const reassertEvery = time.Second

// OwnFilters returns the filters of the topics the hub alone publishes,
// retained, for a broker to tell Heard what arrives there.
func (b *Bus) OwnFilters() []string {
	t := b.topics
	return []string{t.Board(), t.Queue(), t.Config(), t.Counter("+"), t.Lease("+")}
}

// maxEchoes is how many of its own publications on a topic the bus
// expects back from the broker at most.
const maxEchoes = 16

// published notes that the hub publishes payload on topic: the broker will
// deliver it back to Heard, maybe after later ones were published.
// Called with b.mu held.
func (b *Bus) published(topic string, payload []byte) {
	if b.echoes == nil {
		b.echoes = map[string][][]byte{}
	}
	e := append(b.echoes[topic], payload)
	if len(e) > maxEchoes { // echoes lost (a broker that went away): forget the oldest
		e = e[len(e)-maxEchoes:]
	}
	b.echoes[topic] = e
}

// Heard is told a message the broker delivered on one of OwnFilters. If it
// is not the hub's — the next of its own publications there to come back,
// or what it published last — Run publishes the hub's again. It never
// blocks: brokers call it on their delivery path.
func (b *Bus) Heard(topic string, payload []byte) {
	b.mu.Lock()
	last, ours := b.last[topic]
	if e := b.echoes[topic]; len(e) > 0 && bytes.Equal(e[0], payload) {
		b.echoes[topic] = e[1:]
		b.mu.Unlock()
		return
	}
	switch {
	case ours && bytes.Equal(last, payload):
	case !ours && len(payload) == 0: // a topic the hub does not use, and empty
	case !ours && !b.asserted:
		// What a broker held before the hub's first publication (since Run
		// started) reached it: judged once that publication is done.
		if b.unheard == nil {
			b.unheard = map[string]bool{}
		}
		b.unheard[topic] = true
	default:
		if b.reassert == nil {
			b.reassert = map[string]bool{}
		}
		b.reassert[topic] = true
		b.mu.Unlock()
		b.Kick()
		return
	}
	b.mu.Unlock()
}

// assert is called once Run has published every retained topic: of the
// topics heard before, those the hub did not publish are to be cleared.
func (b *Bus) assert() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asserted = true
	for topic := range b.unheard {
		if _, ours := b.last[topic]; !ours {
			if b.reassert == nil {
				b.reassert = map[string]bool{}
			}
			b.reassert[topic] = true
		}
	}
	b.unheard = nil
}

// reassertRetained publishes again the hub's payload of every topic Heard
// found changed, or an empty retained message to clear one the hub does
// not publish. It returns when it should run again for topics it had to
// put off (zero: none).
func (b *Bus) reassertRetained(pub Publisher) time.Time {
	now := time.Now()
	type msg struct {
		topic   string
		payload []byte
	}
	var msgs []msg
	var later time.Time
	b.mu.Lock()
	for topic := range b.reassert {
		if next := b.reassertedAt[topic].Add(reassertEvery); now.Before(next) {
			if later.IsZero() || next.Before(later) {
				later = next
			}
			continue
		}
		delete(b.reassert, topic)
		b.reassertedAt[topic] = now
		b.published(topic, b.last[topic])
		msgs = append(msgs, msg{topic, b.last[topic]})
	}
	b.mu.Unlock()
	for _, m := range msgs {
		b.log.Warn("retained topic changed by someone other than the hub: the hub's is published again", "topic", m.topic, "cleared", m.payload == nil)
		if err := pub.Publish(m.topic, m.payload, true); err != nil {
			b.log.Warn("publish", "topic", m.topic, "err", err)
		}
	}
	return later
}

// Republish makes Run publish every retained topic again, as to a new
// broker: one the hub connected to again may have lost them.
func (b *Bus) Republish() {
	b.mu.Lock()
	b.last, b.echoes, b.unheard = map[string][]byte{}, nil, nil
	b.asserted = false
	b.mu.Unlock()
	b.Kick()
}
