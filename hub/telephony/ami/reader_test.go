package ami

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// Read one byte per Read call, the recording gives the same packets as
// read at once: no packet depends on how TCP cut the stream.
func TestReaderParsesTheRecordingOneByteAtATime(t *testing.T) {
	lines := loadFixture(t)
	whole := asteriskPackets(t, lines)
	r := NewReader(iotest.OneByteReader(bytes.NewReader(asteriskBytes(lines))), 0, 0, nil)
	if g, err := r.ReadLine(); err != nil || g != "Asterisk Call Manager/11.0.0" {
		t.Fatalf("greeting %q, %v", g, err)
	}
	for i, want := range whole {
		p, err := r.Next()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("packet %d byte by byte:\n%v\nat once:\n%v", i, p, want)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last packet: %v", err)
	}
	if len(whole) < 300 {
		t.Fatalf("only %d packets in the recording", len(whole))
	}
}

// Headers keep their order and their repeats; values keep what Asterisk
// sent after ": ", empty ones included; keys compare without case.
func TestPacketKeepsOrderAndRepeatedHeaders(t *testing.T) {
	raw := "Event: VarSet\r\nVariable: A=1\r\nAccountCode: \r\nvariable: B=2\r\nCID-CallingPres: 0 (Presentation Allowed, Not Screened)\r\nVariable: C=3\r\n\r\n"
	p, err := NewReader(strings.NewReader(raw), 0, 0, nil).Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := p.All("Variable"); !reflect.DeepEqual(got, []string{"A=1", "B=2", "C=3"}) {
		t.Errorf("All(Variable) = %q", got)
	}
	if v, ok := p.Lookup("accountcode"); !ok || v != "" {
		t.Errorf("AccountCode = %q, %v", v, ok)
	}
	if p.Get("CID-CallingPres") != "0 (Presentation Allowed, Not Screened)" {
		t.Errorf("a value with colons and spaces: %q", p.Get("CID-CallingPres"))
	}
	if p.String() != raw {
		t.Errorf("written back:\n%q\nread:\n%q", p.String(), raw)
	}
	if !p.IsEvent() || p.IsReply() {
		t.Error("an event taken for a reply")
	}
	resp := Packet{{"Event", "OriginateResponse"}, {"ActionID", "x"}, {"Response", "Success"}}
	if resp.IsReply() || !resp.IsEvent() {
		t.Error("OriginateResponse taken for a reply")
	}
}

// Lines ending in LF alone (a proxy, a test tool) are read too, and blank
// lines between packets are no packet.
func TestReaderAcceptsBareLFAndBlankLines(t *testing.T) {
	r := NewReader(strings.NewReader("\r\n\r\nEvent: A\nX: 1\n\n\n\nEvent: B\r\n\r\n"), 0, 0, nil)
	for _, want := range []string{"A", "B"} {
		p, err := r.Next()
		if err != nil || p.Event() != want {
			t.Fatalf("got %v, %v; want event %s", p, err, want)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

// An endless packet — no end ever comes — is discarded as it arrives:
// the reader's memory stays bounded.
func TestReaderMemoryStaysBoundedOnAnEndlessPacket(t *testing.T) {
	endless := io.MultiReader(strings.NewReader("Event: X\r\nValue: "), &repeatReader{b: []byte("yyyyyyyyyyyyyyyy")})
	r := NewReader(io.LimitReader(endless, 16<<20), 8<<10, 0, nil)
	if _, err := r.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("end of an endless packet: %v", err)
	}
	if cap(r.buf) > 8<<10+readBuffer {
		t.Fatalf("the reader grew to %d bytes on a 16 MiB packet", cap(r.buf))
	}
}

type repeatReader struct{ b []byte }

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r.b)
	}
	return n, nil
}
