package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/queue"
)

// Run publishes through pub until ctx ends: the retained topics at once and
// after every change, the queue summary at least every Refresh, and the
// hub's retained topics again when something else changed them. The log's
// events are published by the outbox (cloud.Bus), not here.
func (b *Bus) Run(ctx context.Context, pub Publisher) error {
	ch, cancel := b.hub.Watch()
	defer cancel()
	tick := time.NewTicker(b.refresh)
	defer tick.Stop()
	b.mu.Lock()
	b.last, b.echoes, b.unheard = map[string][]byte{}, nil, nil // a new broker knows nothing
	b.asserted = false
	b.mu.Unlock()
	var leases leaseMark // what the kiosks' leases were last seen at
	for {
		kiosks := b.kiosks()
		moved := false
		if mark := b.leaseMark(kiosks); mark != leases {
			moved = true
			leases = leaseMark{} // a failed grant is tried again next time
			if b.maintainLeases(ctx, kiosks) {
				leases = b.leaseMark(kiosks) // with the grants
			}
		}
		b.publishState(pub, false, kiosks, moved)
		b.assert()
		var reassert <-chan time.Time
		if at := b.reassertRetained(pub); !at.IsZero() {
			reassert = time.After(time.Until(at))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ch:
		case <-b.kick:
		case <-reassert:
		case <-tick.C:
			b.publishState(pub, true, kiosks, true)
		}
	}
}

// leaseMark is what the kiosks' leases depend on: when it has not moved,
// the leases need no grant and their retained views have not changed. Most
// changes (calls, services) leave it alone, so they do not pay for every
// kiosk's leases.
type leaseMark struct {
	rev    int64
	day    string
	kiosks string
}

func (b *Bus) leaseMark(kiosks []string) leaseMark {
	m := leaseMark{kiosks: strings.Join(kiosks, "\n")}
	b.hub.Read(func(e *queue.Engine) { m.rev, m.day = e.LeaseRev(), e.Day(b.hub.Now()) })
	return m
}

// kiosks lists the enabled kiosks, sorted. The list is read from the
// registry again only after it changed (the registry tells of changes made
// by another process too, within its polling period).
func (b *Bus) kiosks() []string {
	b.mu.Lock()
	if !b.kiosksStale {
		k := b.kioskList
		b.mu.Unlock()
		return k
	}
	b.kiosksStale = false // a change while reading marks it stale again
	b.mu.Unlock()
	devs, err := b.reg.List()
	if err != nil {
		b.log.Warn("list devices", "err", err)
		b.mu.Lock()
		b.kiosksStale = true
		b.mu.Unlock()
		return nil
	}
	var out []string
	for _, d := range devs {
		if d.Role == api.RoleKiosk && !d.Disabled {
			out = append(out, d.ID)
		}
	}
	slices.Sort(out)
	b.mu.Lock()
	b.kioskList = out
	b.mu.Unlock()
	return out
}

// publishState publishes the retained topics whose payload changed; with
// refresh, the queue summary (whose waits grow with time) in any case. The
// kiosks' lease views are made only if leases says they may have changed.
func (b *Bus) publishState(pub Publisher, refresh bool, kiosks []string, leases bool) {
	type msg struct {
		topic string
		v     any
	}
	var msgs []msg
	now := b.hub.Now()
	b.hub.Read(func(e *queue.Engine) {
		if leases {
			for _, k := range kiosks {
				msgs = append(msgs, msg{b.topics.Lease(k), leaseView(e, k)})
			}
		}
		msgs = append(msgs, msg{b.topics.Config(), b.config(e, now)}, msg{b.topics.Board(), hub.BoardView(e)})
		for _, c := range e.Counters() {
			msgs = append(msgs, msg{b.topics.Counter(c.ID), hub.CounterView(e, now, c.ID)})
		}
		msgs = append(msgs, msg{b.topics.Queue(), hub.QueueView(e, now)})
	})
	for _, m := range msgs {
		payload, err := json.Marshal(m.v)
		if err != nil {
			b.log.Error("encode retained", "topic", m.topic, "err", err)
			continue
		}
		b.retain(pub, m.topic, payload, refresh && m.topic == b.topics.Queue())
	}
}

// retain publishes a retained payload unless it is the one last published.
// The payload is the hub's from before it is published: a broker may
// deliver it back (to Heard) before Publish returns.
func (b *Bus) retain(pub Publisher, topic string, payload []byte, force bool) {
	b.mu.Lock()
	prev, had := b.last[topic]
	same := bytes.Equal(prev, payload)
	if topic == b.topics.Queue() && !force && prev != nil {
		same = sameQueue(prev, payload) // only "at" moved
	}
	if !same {
		b.last[topic] = payload
		b.published(topic, payload)
	}
	b.mu.Unlock()
	if same {
		return
	}
	if err := pub.Publish(topic, payload, true); err != nil {
		b.log.Warn("publish", "topic", topic, "err", err)
		b.mu.Lock()
		if e := b.echoes[topic]; len(e) > 0 && bytes.Equal(e[len(e)-1], payload) {
			b.echoes[topic] = e[:len(e)-1] // it will not come back
		}
		if bytes.Equal(b.last[topic], payload) { // to be tried again
			if had {
				b.last[topic] = prev
			} else {
				delete(b.last, topic)
			}
		}
		b.mu.Unlock()
	}
}

// sameQueue compares two queue summaries but for their time stamps.
func sameQueue(a, b []byte) bool {
	var qa, qb api.Queue
	if json.Unmarshal(a, &qa) != nil || json.Unmarshal(b, &qb) != nil {
		return false
	}
	qa.At, qb.At = time.Time{}, time.Time{}
	ja, _ := json.Marshal(qa)
	jb, _ := json.Marshal(qb)
	return bytes.Equal(ja, jb)
}

// config is the retained config: the site as the engine has it now, so
// that a change made in the browser reaches the devices at once.
func (b *Bus) config(e *queue.Engine, now time.Time) api.SiteConfig {
	s := e.Site()
	b.mu.Lock()
	url := b.publicURL
	b.mu.Unlock()
	if url == "" {
		url = s.PublicURL
	}
	site := api.SiteInfo{ID: s.ID, Name: s.Name, Timezone: s.Location.String(), PublicURL: url, Info: names(s.Info),
		Message: names(s.Message), Clock: b.hub.SimClock()}
	c := api.SiteConfig{Site: site, Services: hub.ServicesView(e, now), Languages: e.Site().Languages}
	for _, ct := range e.Site().Counters {
		v := hub.CounterView(e, now, ct.ID)
		c.Counters = append(c.Counters, api.CounterInfo{ID: ct.ID, Name: ct.Name, Channels: v.Channels})
	}
	return c
}

// names copies texts by language (nil for none).
func names(m map[string]string) api.Names {
	if len(m) == 0 {
		return nil
	}
	out := make(api.Names, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
