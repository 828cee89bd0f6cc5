package ami

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// FuzzReader: whatever Asterisk (or whoever answers on its port) sends,
// the reader returns packets within its bounds — at most maxPacket bytes
// and maxHeaders headers, each a key without colon or line end — keeps
// bounded buffers between packets, and ends with the connection's error;
// each packet written back (AppendWire) reads back the same, carriage
// returns aside (the writer strips them so that no value ends its line).
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		"Asterisk Call Manager/11.0.0\r\nEvent: QueueCallerJoin\r\nQueue: accueil\r\nCallerIDNum: 0612345678\r\nPosition: 1\r\n\r\n",
		"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n\r\n\r\nEvent: FullyBooted\r\n\r\n",
		"greeting\nEvent: VarSet\nVariable: A=1\nvariable: B=2\nAccountCode: \n\n",
		"greeting\r\nnot a header\r\nEvent: X\r\n\r\nEvent: Y\r\n\r\n",
		"greeting\r\nEvent: " + strings.Repeat("x", 300) + "\r\n\r\nEvent: After\r\n\r\n",
		"greeting\r\n" + strings.Repeat("K: v\r\n", 20) + "\r\nEvent: After\r\n\r\n",
		"greeting\r\n:no key\r\n\r\nKey:\r\nKey:: x\r\nKey:  two spaces\r\nKey: a\rb\r\r\n\r\n",
		"greeting\r\nEvent: cut short",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxPacket, maxHeaders = 256, 8
		r := NewReader(bytes.NewReader(data), maxPacket, maxHeaders, nil)
		if _, err := r.ReadLine(); err != nil {
			return
		}
		var packets []Packet
		for {
			p, err := r.Next()
			if err != nil {
				if p != nil || err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("Next ended with %v and %d headers", err, len(p))
				}
				break
			}
			size := 0
			if len(p) == 0 || len(p) > maxHeaders {
				t.Fatalf("a packet of %d headers", len(p))
			}
			for _, h := range p {
				if h.Key == "" || strings.ContainsAny(h.Key, ":\n") || strings.ContainsRune(h.Value, '\n') {
					t.Fatalf("header %q: %q", h.Key, h.Value)
				}
				size += len(h.Key) + len(h.Value) + 2
			}
			if size > maxPacket {
				t.Fatalf("a packet of %d bytes returned", size)
			}
			if kept := r.Retained(); kept > readBuffer+keepBuffer+keepBuffer {
				t.Fatalf("%d bytes kept between packets", kept)
			}
			packets = append(packets, p)
		}
		// Written back, carriage returns aside: a packet left with no key
		// is not written at all.
		var wire []byte
		var want []Packet
		for _, p := range packets {
			wire = p.AppendWire(wire)
			clean := Packet{}
			for _, h := range p {
				if k := strings.ReplaceAll(h.Key, "\r", ""); k != "" {
					clean = append(clean, Header{k, strings.ReplaceAll(h.Value, "\r", "")})
				}
			}
			if len(clean) > 0 {
				want = append(want, clean)
			}
		}
		back := NewReader(bytes.NewReader(append([]byte("greeting\r\n"), wire...)), maxPacket+len(wire), maxHeaders, nil)
		back.ReadLine()
		for i, w := range want {
			got, err := back.Next()
			if err != nil {
				t.Fatalf("packet %d written back does not read: %v", i, err)
			}
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("packet %d written back reads\n%q\nwas\n%q", i, got, w)
			}
		}
	})
}
