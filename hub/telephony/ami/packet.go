// Package ami is the hub's link to Asterisk-based telephone systems
// (Asterisk, FreePBX, Wazo's Asterisk, Issabel) over the Asterisk Manager
// Interface: a small AMI client of our own (Conn) and the Adapter that
// translates queue events into the telephony package's calls and agents
// and implements telephony.Link.
//
// Our own client because the Go AMI libraries drop events, take events for
// replies or lose repeated headers. Here a packet is an ordered list of
// headers with repeats; replies are matched by ActionID only; list
// responses are collected whole; every value sent has CR and LF stripped;
// packets are bounded in size and header count.
//
// The protocol as Asterisk documents it: main/manager_doc.xml and the
// managerEvent blocks of apps/app_queue.c in Asterisk's source (read for
// Asterisk 22); what it does beyond its documentation is recorded in
// shared/fixtures/ami (a real Asterisk 22.10.1 session) and handled where
// the code says so.
package ami

import (
	"strings"
)

// Header is one "Key: Value" line of a packet.
type Header struct {
	Key, Value string
}

// Packet is one AMI message: its headers in the order they came, repeats
// included (Originate's Variable, for example). Keys compare without case,
// as Asterisk compares them.
type Packet []Header

// NewAction returns an action packet: "Action: name" then the headers given
// as key, value pairs. Conn adds the ActionID after the Action line.
func NewAction(name string, kv ...string) Packet {
	p := make(Packet, 0, 1+len(kv)/2)
	p = append(p, Header{"Action", name})
	for i := 0; i+1 < len(kv); i += 2 {
		p = append(p, Header{kv[i], kv[i+1]})
	}
	return p
}

// Get returns the value of the first header with this key, "" if none.
func (p Packet) Get(key string) string {
	v, _ := p.Lookup(key)
	return v
}

// Lookup returns the value of the first header with this key.
func (p Packet) Lookup(key string) (string, bool) {
	for _, h := range p {
		if strings.EqualFold(h.Key, key) {
			return h.Value, true
		}
	}
	return "", false
}

// All returns the values of every header with this key, in order.
func (p Packet) All(key string) []string {
	var vs []string
	for _, h := range p {
		if strings.EqualFold(h.Key, key) {
			vs = append(vs, h.Value)
		}
	}
	return vs
}

// Event returns the packet's event name, "" if it is not an event.
func (p Packet) Event() string { return p.Get("Event") }

// IsEvent reports whether the packet is an event (it has an Event header;
// OriginateResponse carries Response and ActionID too, and is an event).
func (p Packet) IsEvent() bool {
	_, ok := p.Lookup("Event")
	return ok
}

// IsReply reports whether the packet answers an action: a Response header
// and no Event header.
func (p Packet) IsReply() bool {
	_, ok := p.Lookup("Response")
	return ok && !p.IsEvent()
}

// with returns a copy of the packet with key set to value: the first header
// with that key replaced (any others dropped), or the header inserted after
// the first one (after "Action", where Asterisk's clients put ActionID).
func (p Packet) with(key, value string) Packet {
	out := make(Packet, 0, len(p)+1)
	if _, ok := p.Lookup(key); ok {
		set := false
		for _, h := range p {
			if strings.EqualFold(h.Key, key) {
				if !set {
					out = append(out, Header{h.Key, value})
					set = true
				}
				continue
			}
			out = append(out, h)
		}
		return out
	}
	if len(p) == 0 {
		return append(out, Header{key, value})
	}
	out = append(out, p[0], Header{key, value})
	return append(out, p[1:]...)
}

// AppendWire appends the packet as it goes on the wire: "Key: Value\r\n"
// per header, then an empty line. CR and LF are stripped from every key
// and value, so that a value a caller controls (a name, a number) cannot
// end its header and inject another; a header left without a key is
// dropped.
func (p Packet) AppendWire(b []byte) []byte {
	for _, h := range p {
		k := appendClean(nil, h.Key)
		if len(k) == 0 {
			continue
		}
		b = append(b, k...)
		b = append(b, ':', ' ')
		b = appendClean(b, h.Value)
		b = append(b, '\r', '\n')
	}
	return append(b, '\r', '\n')
}

func appendClean(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\r\n") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\r' && s[i] != '\n' {
			b = append(b, s[i])
		}
	}
	return b
}

// String returns the packet as on the wire, for tests and debugging. Never
// log a packet: events carry callers' numbers and names.
func (p Packet) String() string { return string(p.AppendWire(nil)) }
