package ami

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	tel "guichet/hub/telephony"
)

// openScripted connects a Conn to a scripted server that logs it in and
// then runs script.
func openScripted(t *testing.T, o Options, script func(s *srv)) *Conn {
	t.Helper()
	addr := listen(t, func(n int, c net.Conn) {
		s := newSrv(t, c)
		s.login()
		script(s)
	})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if o.PingInterval == 0 {
		o.PingInterval = -1
	}
	c, err := Open(ctxT(t), nc, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func nextEvent(t *testing.T, c *Conn) Packet {
	t.Helper()
	p, err := c.Next(ctxT(t))
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return p
}

// An event written one byte per TCP segment comes out whole, once.
func TestEventSplitByteByByteComesOutWhole(t *testing.T) {
	ev := joinEv("3.1", "0612345678", "accueil")
	c := openScripted(t, Options{}, func(s *srv) {
		writeChunks(s.c, []byte(strings.ReplaceAll(ev, "\n", "\r\n")), 1)
		s.hold()
	})
	p := nextEvent(t, c)
	if p.Event() != "QueueCallerJoin" || p.Get("Uniqueid") != "3.1" || p.Get("Count") != "1" || len(p) != 15 {
		t.Fatalf("got %v", p)
	}
}

// A connection dropped in the middle of an event: the events before it
// come out, the cut one never does, and Next then says why it ended.
func TestEventCutByADropIsNeverDelivered(t *testing.T) {
	c := openScripted(t, Options{}, func(s *srv) {
		s.send(joinEv("4.1", "0611111111", "accueil") + "Event: QueueCallerJoin\nPrivilege: agent,all\nUniqueid: 4.2\nQueue: acc")
		s.c.Close()
	})
	if p := nextEvent(t, c); p.Get("Uniqueid") != "4.1" {
		t.Fatalf("first event %v", p)
	}
	p, err := c.Next(ctxT(t))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after the cut: %v, %v", p, err)
	}
	if _, err := c.Action(ctxT(t), NewAction("Ping")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("an action after the drop: %v", err)
	}
}

// A connection dropped in the middle of a list response fails the list
// action: no half list is taken for the whole.
func TestListCutByADropFailsTheAction(t *testing.T) {
	c := openScripted(t, Options{}, func(s *srv) {
		req := s.expect("QueueStatus")
		id := req.Get("ActionID")
		s.send("Response: Success\nActionID: " + id + "\nEventList: start\nMessage: Queue status will follow\n\n" +
			queueMemberItem("accueil", "PJSIP/100", false, false, 1) + "\nActionID: " + id + "\n\n" +
			queueEntryItem("accueil", "5.1", "0612345678", 3) + "\nActionID: " + id + "\n\n")
		s.c.Close()
	})
	l, err := c.List(ctxT(t), QueueStatus(""))
	if err == nil || len(l.Items) != 0 {
		t.Fatalf("a list cut by a drop gave %+v, %v", l, err)
	}
}

// A malformed packet (a line that is no header), one too long and one with
// too many headers are dropped with a log line; the packets around them
// come out; memory stays bounded.
func TestMalformedAndOversizedPacketsAreDroppedAndLogged(t *testing.T) {
	log, buf := testLog()
	c := openScripted(t, Options{Log: log, MaxPacket: 4096, MaxHeaders: 64}, func(s *srv) {
		s.send(joinEv("6.1", "0611111111", "accueil"))
		s.send("Event: QueueCallerJoin\nUniqueid: 6.2\nthis line is no header\nQueue: accueil\n\n")
		s.send("Event: Huge\nValue: " + strings.Repeat("x", 1<<20) + "\n\n")
		s.send("Event: Many\n" + strings.Repeat("K: v\n", 100) + "\n")
		s.send(joinEv("6.3", "0633333333", "accueil"))
		s.hold()
	})
	if p := nextEvent(t, c); p.Get("Uniqueid") != "6.1" {
		t.Fatalf("first %v", p)
	}
	if p := nextEvent(t, c); p.Get("Uniqueid") != "6.3" {
		t.Fatalf("after the bad packets %v", p)
	}
	logs := buf.String()
	for _, want := range []string{"why=\"a line that is not a header\" event=QueueCallerJoin", "why=\"over 4096 bytes\" event=Huge", "why=\"more than 64 headers\" event=Many"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if r := c.Retained(); r > 64<<10 {
		t.Errorf("the connection keeps %d bytes after a 1 MiB packet", r)
	}
	if strings.Contains(logs, "0611111111") || strings.Contains(logs, "0633333333") {
		t.Errorf("a caller's number was logged:\n%s", logs)
	}
}

// A reply that arrives after a burst of events carrying other ActionIDs —
// and an event carrying this action's own ActionID and a Response header,
// as OriginateResponse does — is matched to its action; every event still
// comes out, in order.
func TestReplyAfterABurstOfEventsWithOtherActionIDs(t *testing.T) {
	c := openScripted(t, Options{}, func(s *srv) {
		req := s.expect("Originate")
		id := req.Get("ActionID")
		var b strings.Builder
		for i := range 50 {
			fmt.Fprintf(&b, "Event: OriginateResponse\nPrivilege: call,all\nActionID: other-%d\nResponse: Success\nUniqueid: 7.%d\n\n", i, i)
		}
		fmt.Fprintf(&b, "Event: OriginateResponse\nPrivilege: call,all\nActionID: %s\nResponse: Failure\nReason: 0\n\n", id)
		fmt.Fprintf(&b, "Response: Success\nActionID: other-3\nMessage: not yours\n\n")
		fmt.Fprintf(&b, "Response: Success\nActionID: %s\nMessage: Originate successfully queued\n\n", id)
		s.send(b.String())
		s.hold()
	})
	r, err := c.Action(ctxT(t), Originate{Channel: "PJSIP/100", Context: "from-internal", Exten: "0612345678", Async: true}.Packet())
	if err != nil {
		t.Fatal(err)
	}
	if r.Get("Message") != "Originate successfully queued" {
		t.Fatalf("the reply taken is %v", r)
	}
	for i := range 50 {
		if p := nextEvent(t, c); p.Get("ActionID") != fmt.Sprintf("other-%d", i) {
			t.Fatalf("event %d: %v", i, p)
		}
	}
	if p := nextEvent(t, c); p.Event() != "OriginateResponse" || p.Get("Response") != "Failure" {
		t.Fatalf("the event with the action's own ActionID: %v", p)
	}
}

// A value holding CR or LF (a caller's name a citizen typed) goes out
// with them stripped: it cannot end its header and inject an action.
func TestValuesSentHaveCRAndLFStripped(t *testing.T) {
	got := make(chan string, 1)
	c := openScripted(t, Options{}, func(s *srv) {
		raw, err := readRaw(s.r.br)
		if err != nil {
			return
		}
		got <- raw
		p, _ := NewReader(strings.NewReader(raw), 0, 0, nil).Next()
		s.reply(p, "Message: Originate successfully queued")
		s.hold()
	})
	o := Originate{Channel: "PJSIP/100", Context: "from-internal", Exten: "0612345678",
		CallerID: "\"Dupont\r\n\r\nAction: Hangup\r\nChannel: PJSIP/trunk-1\r\n\" <0612345678>", Async: true}
	if _, err := c.Action(ctxT(t), o.Packet().with("ActionID", "a-1")); err != nil {
		t.Fatal(err)
	}
	want := "Action: Originate\r\nActionID: a-1\r\nChannel: PJSIP/100\r\nContext: from-internal\r\nExten: 0612345678\r\nPriority: 1\r\n" +
		"CallerID: \"DupontAction: HangupChannel: PJSIP/trunk-1\" <0612345678>\r\nAsync: true\r\n\r\n"
	if raw := <-got; raw != want {
		t.Fatalf("sent %q\nwant %q", raw, want)
	}
}

// A refused login and a server that is not Asterisk's AMI are errors that
// say so.
func TestLoginRefusedAndWrongServer(t *testing.T) {
	addr := listen(t, func(n int, c net.Conn) {
		s := newSrv(t, c)
		if n == 1 {
			s.send("Asterisk Call Manager/11.0.0\n")
			req := s.expect("Login")
			s.send("Response: Error\nActionID: " + req.Get("ActionID") + "\nMessage: Authentication failed\n\n")
			s.hold()
			return
		}
		s.send("SSH-2.0-OpenSSH_9.2\n")
		s.hold()
	})
	for _, want := range []error{ErrLogin, ErrGreeting} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(ctxT(t), nc, Options{Username: "hub", Secret: "wrong"})
		if !errors.Is(err, want) {
			t.Errorf("got %v, want %v", err, want)
		}
		if strings.Contains(fmt.Sprint(err), "wrong") {
			t.Errorf("the secret is in the error: %v", err)
		}
	}
}

// A consumer that does not read events drops the connection once
// MaxPending wait, rather than grow without bound.
func TestEventsNotReadDropTheConnectionInsteadOfGrowing(t *testing.T) {
	c := openScripted(t, Options{MaxPending: 100}, func(s *srv) {
		var b strings.Builder
		for i := range 200 {
			b.WriteString(joinEv(fmt.Sprintf("8.%d", i), "0600000000", "accueil"))
		}
		s.send(b.String())
		s.hold()
	})
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the connection stayed open with 200 events unread")
	}
	if !errors.Is(c.Err(), ErrBehind) {
		t.Fatalf("closed with %v", c.Err())
	}
	for range 100 {
		nextEvent(t, c)
	}
	if _, err := c.Next(ctxT(t)); !errors.Is(err, ErrBehind) {
		t.Fatalf("after the queued events: %v", err)
	}
}

// pipeAsterisk serves the Asterisk side of net.Pipe connections inside a
// synctest bubble: login, an empty resync, then script.
func pipeAsterisk(t *testing.T, script func(n int, s *srv)) func(ctx context.Context) (net.Conn, error) {
	n := 0
	return func(ctx context.Context) (net.Conn, error) {
		n++
		client, server := net.Pipe()
		go func(n int) {
			s := newSrv(t, server)
			defer server.Close()
			script(n, s)
		}(n)
		return client, nil
	}
}

// Asterisk that stops answering Ping is declared dead after PingTimeout:
// the link goes down, and comes back with a resync.
func TestKeepaliveDeclaresASilentAsteriskDead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dial := pipeAsterisk(t, func(n int, s *srv) {
			s.login()
			s.resync(members, nil)
			for {
				req := s.read()
				if req == nil {
					return
				}
				if n > 1 { // the second Asterisk answers its pings
					s.reply(req, "Ping: Pong")
				}
			}
		})
		cons := newConsumer()
		a, err := New(Config{Addr: "pbx:5038", Username: "hub", Mapping: scriptMapping(), Dial: dial, Now: time.Now,
			Jitter: func() float64 { return 0 }, Conn: Options{PingInterval: 20 * time.Second, PingTimeout: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		start := time.Now()
		go func() { done <- a.Run(ctx, cons.emit) }()
		synctest.Wait()
		var downAt time.Time
		for cons.count() < 2 {
			time.Sleep(time.Second) // virtual time: the bubble's clock
			cons.mu.Lock()
			for _, e := range cons.events {
				if d, ok := e.(tel.LinkDown); ok && downAt.IsZero() {
					downAt = time.Now()
					if !strings.Contains(d.Err, "stopped answering Ping within 5s") {
						t.Errorf("down because %q", d.Err)
					}
				}
			}
			cons.mu.Unlock()
			if time.Since(start) > time.Hour {
				t.Fatal("no reconnect within an hour")
			}
		}
		if got := downAt.Sub(start); got < 25*time.Second || got > 26*time.Second {
			t.Errorf("declared dead after %s, want 25 s (a ping at 20 s unanswered for 5 s)", got)
		}
		// The second Asterisk answers: the link stays up.
		time.Sleep(10 * time.Minute)
		if n := cons.count(); n != 2 {
			t.Errorf("%d resyncs with an answering Asterisk", n)
		}
		cancel()
		<-done
	})
}

// The wait between attempts doubles from MinBackoff up to MaxBackoff, its
// second half random, and starts again from MinBackoff once a connection
// was up.
func TestReconnectBackoffDoublesWithJitterAndResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var attempts []time.Duration
		count := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(attempts)
		}
		start := time.Now()
		refused := errors.New("connection refused")
		up := make(chan struct{})
		dialPipe := pipeAsterisk(t, func(n int, s *srv) {
			s.login()
			s.resync(members, nil)
			<-up
		})
		dial := func(ctx context.Context) (net.Conn, error) {
			mu.Lock()
			attempts = append(attempts, time.Since(start))
			n := len(attempts)
			mu.Unlock()
			if n == 7 {
				return dialPipe(ctx)
			}
			return nil, refused
		}
		jitter := []float64{0, 0.5, 1, 0, 0, 0, 0, 0, 0.5}
		cons := newConsumer()
		a, err := New(Config{Addr: "pbx:5038", Username: "hub", Mapping: scriptMapping(), Dial: dial, Now: time.Now,
			MinBackoff: time.Second, MaxBackoff: 16 * time.Second, Conn: Options{PingInterval: -1},
			Jitter: func() float64 { j := jitter[0]; jitter = jitter[1:]; return j }})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- a.Run(ctx, cons.emit) }()
		for count() < 7 {
			time.Sleep(100 * time.Millisecond) // virtual time: the bubble's clock
		}
		synctest.Wait()
		dropped := time.Since(start)
		close(up) // the 7th connection drops after its resync
		for count() < 9 {
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
		<-done
		// Waits: 1 s·(½+0), 2 s·(½+¼), 4 s·(½+½), 8 s·½, 16 s·½, 16 s·½ (capped),
		// then up; after the drop 1 s·½ again, then 2 s·½.
		want := []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond, 4 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 500 * time.Millisecond, time.Second}
		var prev time.Duration
		for i, at := range attempts[:9] {
			gap := at - prev
			prev = at
			if i == 7 { // the wait after a drop counts from the drop
				gap = at - dropped
			}
			if gap != want[i] {
				t.Errorf("attempt %d after %s, want %s (attempts at %v)", i+1, gap, want[i], attempts)
			}
		}
	})
}
