// Package pahostore is a paho.mqtt.golang store that keeps nothing.
//
// Our clients do not need paho to resend what was in flight when a
// connection dropped: a device's commands live in its SQLite outbox and are
// sent again until answered, retained state is published again on every
// connection, and the hub's replies are asked for again by the devices. paho
// resending its own stored packets on reconnect races with its writer
// (eclipse-paho/paho.mqtt.golang#703, open in v1.5.1); with this store there
// is nothing to resend.
package pahostore

import (
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Null is a paho store that forgets everything it is given.
type Null struct{}

var _ paho.Store = Null{}

func (Null) Open()                             {}
func (Null) Put(string, packets.ControlPacket) {}
func (Null) Get(string) packets.ControlPacket  { return nil }
func (Null) All() []string                     { return nil }
func (Null) Del(string)                        {}
func (Null) Close()                            {}
func (Null) Reset()                            {}
