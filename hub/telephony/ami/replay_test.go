package ami

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// listActionIDs are the recorded actions answered by a list: their items
// are not events.
var listActionIDs = map[string]bool{"probe-3": true, "probe-5": true, "probe-6": true, "probe-7": true, "probe-12": true, "probe-16": true}

// recordedEvents returns the events of the recording a client must deliver:
// every event but the items of list responses.
func recordedEvents(t *testing.T, lines []fixLine) []Packet {
	var evs []Packet
	for _, p := range asteriskPackets(t, lines) {
		if p.IsEvent() && !listActionIDs[p.Get("ActionID")] {
			evs = append(evs, p)
		}
	}
	return evs
}

// runRecordedClient plays the recorded client's part over conn: the same
// actions, with the same headers in the same order, built with this
// package's helpers. It returns the ActionIDs it used for the recorded
// Originates (probe-4, probe-9, probe-11).
func runRecordedClient(t *testing.T, ctx context.Context, c *Conn, got <-chan int) map[string]string {
	t.Helper()
	originates := map[string]string{}
	act := func(p Packet, wantMessage string) Packet {
		t.Helper()
		r, err := c.Action(ctx, p)
		if err != nil {
			t.Fatalf("%s: %v", p.Get("Action"), err)
		}
		if m := r.Get("Message"); m != wantMessage {
			t.Errorf("%s answered %q, want %q", p.Get("Action"), m, wantMessage)
		}
		return r
	}
	list := func(p Packet, items int) List {
		t.Helper()
		l, err := c.List(ctx, p)
		if err != nil {
			t.Fatalf("%s: %v", p.Get("Action"), err)
		}
		if len(l.Items) != items || l.Complete.Get("ListItems") != strconv.Itoa(items) {
			t.Errorf("%s: %d items, ListItems %q, want %d", p.Get("Action"), len(l.Items), l.Complete.Get("ListItems"), items)
		}
		return l
	}
	originate := func(rec string, o Originate) {
		t.Helper()
		id := c.NewActionID()
		act(o.Packet().with("ActionID", id), "Originate successfully queued")
		originates[rec] = id
	}
	call := Originate{Channel: "Local/caller@callers/n", Context: "incoming", Exten: "600", CallerID: `"Jean Dupont" <0612345678>`, Timeout: 30 * time.Second, Async: true}

	act(NewAction("QueueAdd", "Queue", "reception", "Interface", "Local/101@agents/n", "MemberName", "Agent 101",
		"Penalty", "0", "Paused", "false", "StateInterface", "Local/101@agents"), "Added interface to queue")
	l := list(QueueStatus("reception"), 3)
	if l.Items[1].Get("Name") != "Agent 101" || l.Items[1].Get("Location") != "Local/101@agents/n" {
		t.Errorf("QueueMember item: %v", l.Items[1])
	}
	first := call
	first.Variables = []string{"CALLREF=call-1"}
	originate("probe-4", first)
	l = list(QueueStatus("reception"), 4)
	if e := l.Items[3]; e.Event() != "QueueEntry" || e.Get("Uniqueid") != "1795335017.0" || e.Get("Wait") != "1" {
		t.Errorf("QueueEntry item: %v", e)
	}
	list(CoreShowChannels(), 6)
	list(CoreShowChannels(), 4)
	act(QueuePause("Local/100@agents/n", true, "lunch", "reception"), "Interface paused successfully")
	originate("probe-9", call)
	act(QueuePause("Local/101@agents/n", true, "", "reception"), "Interface paused successfully")
	originate("probe-11", call)
	list(QueueStatus("reception"), 4)
	act(NewAction("Hangup", "Channel", "Local/caller@callers-00000005;1"), "Channel Hungup")
	// Two actions in flight at once: their replies are matched by ActionID.
	done := make(chan error, 1)
	go func() {
		_, err := c.Action(ctx, QueuePause("Local/100@agents/n", false, "", ""))
		done <- err
	}()
	for n := range got {
		if n == 14 {
			break
		}
	}
	act(QueuePause("Local/101@agents/n", false, "", ""), "Interface unpaused successfully")
	if err := <-done; err != nil {
		t.Fatalf("unpause 100: %v", err)
	}
	list(NewAction("QueueSummary", "Queue", "reception"), 1)
	r, err := c.Action(ctx, NewAction("Logoff"))
	if err != nil || r.Get("Response") != "Goodbye" {
		t.Fatalf("Logoff: %v %v", r, err)
	}
	return originates
}

// collect reads events until the connection ends.
func collect(ctx context.Context, c *Conn) ([]Packet, error) {
	var evs []Packet
	for {
		p, err := c.Next(ctx)
		if err != nil {
			return evs, err
		}
		evs = append(evs, p)
	}
}

func testReplay(t *testing.T, chunk int) {
	lines := loadFixture(t)
	got := make(chan int, 32)
	addr := listen(t, func(n int, c net.Conn) { replay(t, c, lines, chunk, got) })
	ctx := ctxT(t)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(ctx, nc, Options{Username: "ceo", Secret: "secret", Events: "on", PingInterval: -1, IDPrefix: "hub-"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Banner() != "Asterisk Call Manager/11.0.0" {
		t.Errorf("greeting %q", c.Banner())
	}
	events := make(chan []Packet, 1)
	var end error
	go func() {
		evs, err := collect(ctx, c)
		end = err
		events <- evs
	}()
	ids := runRecordedClient(t, ctx, c, got)
	evs := <-events
	if !errors.Is(end, io.EOF) {
		t.Errorf("the connection ended with %v, want EOF", end)
	}
	want := recordedEvents(t, lines)
	back := map[string]string{}
	for rec, id := range ids {
		back[id] = rec
	}
	if len(evs) != len(want) {
		t.Fatalf("delivered %d events, the recording has %d", len(evs), len(want))
	}
	for i := range want {
		e := evs[i]
		if id, ok := e.Lookup("ActionID"); ok {
			e = e.with("ActionID", back[id])
		}
		if !reflect.DeepEqual(e, want[i]) {
			t.Fatalf("event %d is\n%v\nthe recording has\n%v", i, e, want[i])
		}
	}
}

// The client against the recorded Asterisk session, byte for byte: what it
// sends matches the recording's client (ActionIDs apart), and every event
// comes out in order, none taken for a reply (OriginateResponse carries
// Response and the Originate's ActionID), none lost, list items apart.
func TestClientReplaysTheRecordedAsteriskSession(t *testing.T) {
	testReplay(t, 0)
}

// The same session, Asterisk's side written seven bytes at a time: events
// split across TCP reads come out whole.
func TestClientReplaysTheRecordedSessionSplitAcrossReads(t *testing.T) {
	testReplay(t, 7)
}
