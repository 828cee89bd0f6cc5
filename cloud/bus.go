package cloud

import (
	"context"
	"fmt"

	"guichet/hub/api"
)

// Publisher publishes a message at QoS 1: the hub's MQTT side, on its
// embedded broker or the town's (hub/broker, hub/bus.External).
type Publisher interface {
	Publish(topic string, payload []byte, retain bool) error
}

// BusCursor is the MQTT bus's place in the log (the name earlier builds
// kept in hub/bus: a hub upgraded goes on where it was).
const BusCursor = "mqtt-events"

// Bus is the destination of the hub's own MQTT bus: each event as a
// CloudEvent on events/{type}, where integration devices (Node-RED)
// subscribe. A public destination.
type Bus struct {
	Pub    Publisher
	Topics api.Topics
}

// BusDestination returns the options of the bus's destination.
func BusDestination(pub Publisher, topics api.Topics) DestinationOptions {
	return DestinationOptions{Name: "mqtt", Kind: "mqtt", Dest: &Bus{Pub: pub, Topics: topics}, Purpose: Public,
		Batch: page, Cursor: BusCursor, DeadLetterAfter: -1}
}

// Send publishes each event on its topic, in order.
func (b *Bus) Send(_ context.Context, evs []Event) error {
	for _, ev := range evs {
		if err := b.Pub.Publish(b.Topics.Event(ev.Type), ev.JSON, false); err != nil {
			return fmt.Errorf("publish event %d: %w", ev.Seq, err)
		}
	}
	return nil
}

// Sync makes what was published durable for the absent consumers' sessions
// (the embedded broker's), when the publisher can.
func (b *Bus) Sync() error {
	if s, ok := b.Pub.(Syncer); ok {
		return s.Sync()
	}
	return nil
}
