package wazo

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"unicode"

	"guichet/hub/telephony/ami"
)

// Bounds of a relayed event.
const (
	maxFields = 512     // an AMI event's headers
	maxValue  = 4 << 10 // one header's value
)

// busEvent is an event frame's body: a message of Wazo's bus, {"name",
// "origin_uuid", "required_acl", "data"} (message_bus.md, "Events"; built
// by wazo-bus's WazoEventMixin). For a relayed AMI event, data is the
// event's headers as an object (wazo-amid's parser puts the first header,
// "Event", in it too, and ChanVariable headers in a nested object).
type busEvent struct {
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
}

// event is a decoded frame: an AMI event, or one of calld's call events.
type event struct {
	packet ami.Packet
	name   string // call_answered, call_ended
	callID string
	cause  int // call_ended's reason_code (the hangup cause)
}

// decoder turns websocket frames into events. It drops, with a log line
// naming the event (never its values), a frame that is not JSON, an event
// without a name or data, one with too many fields or a value too long.
type decoder struct {
	log     *slog.Logger
	dropped int
}

func (d *decoder) decode(b []byte) (event, bool) {
	var f struct {
		Op    string    `json:"op"`
		Data  *busEvent `json:"data"`
		Event *busEvent `json:"event"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return d.drop("", "frame is not JSON, or not websocketd's")
	}
	switch f.Op {
	case "event":
	case "pong", "token", "subscribe", "start":
		return event{}, false // answers to our own messages
	default:
		return d.drop("", "unknown op "+strings.ToValidUTF8(trim(f.Op, 40), "?"))
	}
	be := f.Data
	if be == nil || be.Name == "" {
		be = f.Event
	}
	if be == nil || be.Name == "" {
		return d.drop("", "event without a name")
	}
	name := trim(be.Name, 64)
	switch name {
	case "call_answered", "call_ended":
		var c struct {
			CallID     string `json:"call_id"`
			ReasonCode *int   `json:"reason_code"`
		}
		if err := json.Unmarshal(be.Data, &c); err != nil || c.CallID == "" || len(c.CallID) > 128 {
			return d.drop(name, "no call_id")
		}
		e := event{name: name, callID: c.CallID}
		if c.ReasonCode != nil {
			e.cause = *c.ReasonCode
		}
		return e, true
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(be.Data, &fields); err != nil || len(fields) == 0 {
		return d.drop(name, "data is not an object of headers")
	}
	if len(fields) > maxFields {
		return d.drop(name, "too many headers")
	}
	p := make(ami.Packet, 0, len(fields)+1)
	p = append(p, ami.Header{Key: "Event", Value: name})
	for k, raw := range fields {
		if k == "Event" || len(raw) == 0 || raw[0] == '{' {
			continue // the name is set above; ChanVariable is an object of the channel's variables
		}
		if len(raw) > maxValue {
			return d.drop(name, "a value over 4 KiB")
		}
		v, ok := unquote(raw)
		if !ok {
			return d.drop(name, "a value that is not a JSON string")
		}
		p = append(p, ami.Header{Key: clean(k), Value: clean(v)})
	}
	return event{packet: p}, true
}

func (d *decoder) drop(name, why string) (event, bool) {
	d.dropped++
	d.log.Warn("wazo: event dropped", "event", name, "why", why, "dropped", d.dropped)
	return event{}, false
}

// packetOf turns one of amid's answer objects into a packet; objects
// (ChanVariable) and non-string values are left out.
func packetOf(m map[string]any) ami.Packet {
	p := make(ami.Packet, 0, len(m))
	if ev, ok := m["Event"].(string); ok {
		p = append(p, ami.Header{Key: "Event", Value: clean(ev)})
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if s, ok := m[k].(string); ok && k != "Event" && len(s) <= maxValue {
			p = append(p, ami.Header{Key: clean(k), Value: clean(s)})
		}
	}
	return p
}

// unquote decodes a JSON string, quickly when it has no escapes.
func unquote(raw json.RawMessage) (string, bool) {
	if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 && bytes.IndexByte(raw[1:len(raw)-1], '"') < 0 {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// clean removes control characters (CR, LF…) from a value: a caller's
// name relayed as JSON could hold what AMI's own framing never carries.
func clean(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

func trim(s string, n int) string {
	s = clean(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
