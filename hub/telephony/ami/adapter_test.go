package ami

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tel "guichet/hub/telephony"
)

func scriptMapping() tel.Mapping {
	return tel.Mapping{
		Queues:  map[string]string{"accueil": "A"},
		Members: map[string]string{"PJSIP/100": "alice", "Local/101@agents/n": "bob"},
	}
}

// consumer is what the hub will do with a link's events: keep a View,
// repaired with Reconcile at every Resync. It counts each call's
// announcements and ends.
type consumer struct {
	mu        sync.Mutex
	view      *tel.View
	events    []tel.Event
	announced map[tel.CallID]int
	ended     map[tel.CallID]int
	resyncs   int
	changed   chan struct{}
}

func newConsumer() *consumer {
	return &consumer{view: tel.NewView(), announced: map[tel.CallID]int{}, ended: map[tel.CallID]int{}, changed: make(chan struct{}, 1)}
}

func (c *consumer) emit(e tel.Event) {
	c.mu.Lock()
	if r, ok := e.(tel.Resync); ok {
		c.resyncs++
		for _, f := range tel.Reconcile(c.view.Snapshot(), r.Snapshot, t0) {
			c.apply(f)
		}
	} else {
		c.apply(e)
	}
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *consumer) apply(e tel.Event) {
	c.events = append(c.events, e)
	c.view.Apply(e)
	switch e := e.(type) {
	case tel.CallWaiting:
		c.announced[e.Call.ID]++
	case tel.CallAbandoned:
		c.ended[e.ID]++
	case tel.CallEnded:
		c.ended[e.ID]++
	}
}

// count returns how many Resyncs came.
func (c *consumer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resyncs
}

// await waits until cond holds, told by every event.
func (c *consumer) await(t *testing.T, what string, cond func(*consumer) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		ok := cond(c)
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.changed:
		case <-timeout:
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("timed out waiting for %s; events: %+v", what, c.events)
		}
	}
}

// runAdapter runs an adapter against addr until the test ends.
func runAdapter(t *testing.T, addr string, cons *consumer, tweak func(*Config)) *Adapter {
	t.Helper()
	log, _ := testLog()
	cfg := Config{
		Addr: addr, Username: "hub", Secret: "s", Mapping: scriptMapping(), OriginateContext: "from-internal",
		MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Jitter: func() float64 { return 0 },
		Now: func() time.Time { return t0 }, Log: log, Conn: Options{PingInterval: -1},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, cons.emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	})
	return a
}

// hold keeps a scripted connection open until the client leaves.
func (s *srv) hold() {
	for s.read() != nil {
	}
}

var members = []string{
	queueMemberItem("accueil", "PJSIP/100", false, false, 1),
	queueMemberItem("accueil", "Local/101@agents/n", false, false, 1),
}

// firstConnection: three calls join, the third rings bob and is connected
// to him; then the connection drops in the middle of an event.
func firstConnection(s *srv) {
	s.login()
	s.resync(members, nil)
	s.send(joinEv("1.1", "0611111111", "accueil") + joinEv("1.2", "0622222222", "accueil") + joinEv("1.3", "0633333333", "accueil") +
		calledEv("1.3", "1.4", "Local/101@agents/n", "accueil") + dialEndEv("1.3", "1.4", "ANSWER") +
		leaveEv("1.3", "accueil") + connectEv("1.3", "1.4", "Local/101@agents/n", "accueil", 5))
	s.send("Event: QueueCallerJoin\nPrivilege: agent,all\nChannel: PJSIP/trunk-000")
	s.c.Close()
}

func callStates(v *tel.View) map[tel.CallID]string {
	out := map[tel.CallID]string{}
	for _, c := range v.Snapshot().Calls {
		out[c.ID] = string(c.State) + " " + c.Agent
	}
	return out
}

// The connection drops with two calls waiting and one connected; they are
// still there when it comes back: after the resynchronisation the
// consumer's view holds exactly those calls, each announced once, none
// ended, and the event cut by the drop never came out.
func TestReconnectKeepsExactlyThePresentCallsOnce(t *testing.T) {
	addr := listen(t, func(n int, c net.Conn) {
		s := newSrv(t, c)
		switch n {
		case 1:
			firstConnection(s)
		default:
			s.login()
			s.resync(
				[]string{members[0], queueMemberItem("accueil", "Local/101@agents/n", false, true, 2),
					queueEntryItem("accueil", "1.1", "0611111111", 40), queueEntryItem("accueil", "1.2", "0622222222", 35)},
				[]string{
					channelItem(trunk("1.1"), "1.1", "1.1", "Queue", "accueil,,,,45", "", "00:00:40"),
					channelItem(trunk("1.2"), "1.2", "1.2", "Queue", "accueil,,,,45", "", "00:00:35"),
					channelItem(trunk("1.3"), "1.3", "1.3", "Queue", "accueil,,,,45", "br-1", "00:01:00"),
					channelItem("Local/101@agents-0000000a;1", "1.4", "1.3", "AppQueue", "(Outgoing Line)", "br-1", "00:00:40"),
					channelItem("Local/101@agents-0000000a;2", "1.5", "1.3", "Wait", "6", "", "00:00:40"),
				})
			s.hold()
		}
	})
	cons := newConsumer()
	runAdapter(t, addr, cons, nil)
	cons.await(t, "the second resync", func(c *consumer) bool { return c.resyncs == 2 })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	want := map[tel.CallID]string{"1.1": "waiting ", "1.2": "waiting ", "1.3": "connected bob"}
	if got := callStates(cons.view); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the reconnect the consumer holds %v, want %v", got, want)
	}
	for id, n := range cons.announced {
		if n != 1 {
			t.Errorf("call %s announced %d times", id, n)
		}
	}
	if len(cons.announced) != 3 || len(cons.ended) != 0 {
		t.Errorf("announced %v, ended %v", cons.announced, cons.ended)
	}
	var down int
	for _, e := range cons.events {
		if _, ok := e.(tel.LinkDown); ok {
			down++
		}
	}
	if down != 1 {
		t.Errorf("%d LinkDown events, want 1", down)
	}
}

// While the link was down one call was abandoned, the connected one ended
// and a new one joined; the second connection also drops in the middle of
// its QueueStatus list. After the third, the consumer holds exactly what
// Asterisk has, and the calls gone have ended once each.
func TestReconnectAccountsForWhatChangedDuringTheOutage(t *testing.T) {
	addr := listen(t, func(n int, c net.Conn) {
		s := newSrv(t, c)
		switch n {
		case 1:
			firstConnection(s)
		case 2:
			s.login()
			req := s.expect("QueueStatus")
			if req == nil {
				return
			}
			id := req.Get("ActionID")
			s.send("Response: Success\nActionID: " + id + "\nEventList: start\nMessage: Queue status will follow\n\n" +
				members[0] + "\nActionID: " + id + "\n\nEvent: QueueMember\nQueue: accu")
			s.c.Close()
		default:
			s.login()
			s.resync(
				append(members[:2:2], queueEntryItem("accueil", "1.1", "0611111111", 60), queueEntryItem("accueil", "1.9", "0699999999", 3)),
				[]string{channelItem(trunk("1.9"), "1.9", "1.9", "Queue", "accueil,,,,45", "", "00:00:03")})
			s.hold()
		}
	})
	cons := newConsumer()
	runAdapter(t, addr, cons, nil)
	cons.await(t, "the resync after the cut list", func(c *consumer) bool { return c.resyncs == 2 })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	want := map[tel.CallID]string{"1.1": "waiting ", "1.9": "waiting "}
	if got := callStates(cons.view); !reflect.DeepEqual(got, want) {
		t.Fatalf("the consumer holds %v, want %v", got, want)
	}
	wantEnded := map[tel.CallID]int{"1.2": 1, "1.3": 1}
	if !reflect.DeepEqual(cons.ended, wantEnded) {
		t.Errorf("ended %v, want %v", cons.ended, wantEnded)
	}
	for _, e := range cons.events {
		switch e := e.(type) {
		case tel.CallAbandoned:
			if e.ID != "1.2" || !e.Inferred || e.Reason != tel.AbandonUnknown {
				t.Errorf("abandon %+v", e)
			}
		case tel.CallEnded:
			if e.ID != "1.3" || !e.Inferred || e.Agent != "bob" {
				t.Errorf("end %+v", e)
			}
		}
	}
	if cons.announced["1.9"] != 1 || cons.announced["1.1"] != 1 {
		t.Errorf("announced %v", cons.announced)
	}
}

// Events that arrive while the lists are read were, for some, already in
// the snapshot: replayed after it, they announce nothing twice, and those
// after it still count.
func TestEventsAroundTheSnapshotAreNotAppliedTwice(t *testing.T) {
	addr := listen(t, func(n int, c net.Conn) {
		s := newSrv(t, c)
		s.login()
		// The join and connect of 2.1 come before the lists, which already
		// show it connected; 2.2 joins after them.
		s.send(joinEv("2.1", "0611111111", "accueil") + calledEv("2.1", "2.3", "PJSIP/100", "accueil") +
			dialEndEv("2.1", "2.3", "ANSWER") + leaveEv("2.1", "accueil") + connectEv("2.1", "2.3", "PJSIP/100", "accueil", 4))
		s.resync(members, []string{
			channelItem(trunk("2.1"), "2.1", "2.1", "Queue", "accueil,,,,45", "br-2", "00:00:10"),
			channelItem("PJSIP/100-0000000b", "2.3", "2.1", "AppQueue", "(Outgoing Line)", "br-2", "00:00:06"),
		})
		s.send(joinEv("2.2", "0622222222", "accueil") + hangupEv("2.1", "16"))
		s.hold()
	})
	cons := newConsumer()
	runAdapter(t, addr, cons, nil)
	cons.await(t, "2.1's end", func(c *consumer) bool { return c.ended["2.1"] == 1 && c.announced["2.2"] == 1 })
	cons.mu.Lock()
	defer cons.mu.Unlock()
	if cons.announced["2.1"] != 1 {
		t.Errorf("2.1 announced %d times", cons.announced["2.1"])
	}
	var connected int
	for _, e := range cons.events {
		if c, ok := e.(tel.CallConnected); ok && c.ID == "2.1" {
			connected++
			if c.Agent != "alice" {
				t.Errorf("connected to %q", c.Agent)
			}
		}
	}
	if connected != 1 {
		t.Errorf("2.1 connected %d times", connected)
	}
	if got := callStates(cons.view); !reflect.DeepEqual(got, map[tel.CallID]string{"2.2": "waiting "}) {
		t.Errorf("view %v", got)
	}
}

// Pause, Unpause and Originate go out as the recorded session's actions;
// a CR or LF in a reason cannot inject a header; the originate's outcome
// comes back as an event; refusals and a link down are errors callers can
// tell apart.
func TestAdapterActions(t *testing.T) {
	got := make(chan string, 8)
	addr := listen(t, func(n int, c net.Conn) {
		s := newSrv(t, c)
		s.login()
		s.resync(members, nil)
		for {
			raw, err := readRaw(s.r.br)
			if err != nil {
				return
			}
			got <- raw
			p := NewReader(strings.NewReader(raw), 0, 0, nil)
			req, _ := p.Next()
			id := req.Get("ActionID")
			switch {
			case req.Get("Action") == "QueuePause" && req.Get("Interface") == "PJSIP/999":
				s.send("Response: Error\nActionID: " + id + "\nMessage: Interface not found\n\n")
			case req.Get("Action") == "Originate":
				s.reply(req, "Message: Originate successfully queued")
				s.send("Event: OriginateResponse\nPrivilege: call,all\nActionID: " + id + "\nResponse: Failure\nChannel: PJSIP/100\nContext: from-internal\nExten: 0612345678\nReason: 5\nUniqueid: <null>\nCallerIDNum: <unknown>\nCallerIDName: <unknown>\n\n")
			default:
				s.reply(req, "Message: Interface paused successfully")
			}
		}
	})
	cons := newConsumer()
	m := scriptMapping()
	m.Members["PJSIP/999"] = "ghost"
	a := runAdapter(t, addr, cons, func(c *Config) { c.Mapping = m })
	cons.await(t, "the link up", func(c *consumer) bool { return c.resyncs == 1 })
	ctx := ctxT(t)

	if err := a.Pause(ctx, "alice", "visiteur\r\nAction: Hangup\r\nChannel: PJSIP/trunk-1"); err != nil {
		t.Fatal(err)
	}
	if raw := <-got; !strings.HasPrefix(raw, "Action: QueuePause\r\nActionID: ") ||
		!strings.HasSuffix(raw, "\r\nInterface: PJSIP/100\r\nPaused: true\r\nReason: visiteurAction: HangupChannel: PJSIP/trunk-1\r\n\r\n") {
		t.Errorf("pause sent %q", raw)
	}
	if err := a.Unpause(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if raw := <-got; !strings.HasSuffix(raw, "\r\nInterface: PJSIP/100\r\nPaused: false\r\n\r\n") {
		t.Errorf("unpause sent %q", raw)
	}
	if err := a.Pause(ctx, "ghost", "x"); !errors.Is(err, tel.ErrRefused) || !strings.Contains(err.Error(), "Interface not found") {
		t.Errorf("a refused pause: %v", err)
	}
	<-got
	if err := a.Pause(ctx, "nobody", "x"); !errors.Is(err, tel.ErrUnknownAgent) {
		t.Errorf("an unmapped agent: %v", err)
	}
	if err := a.Originate(ctx, tel.OriginateRequest{Ref: "cb-7", Agent: "alice", Number: "06 12-34.56 78"}); err != nil {
		t.Fatal(err)
	}
	raw := <-got
	if !strings.Contains(raw, "\r\nChannel: PJSIP/100\r\nContext: from-internal\r\nExten: 0612345678\r\nPriority: 1\r\nTimeout: 30000\r\nAsync: true\r\nVariable: GUICHET_REF=cb-7\r\n\r\n") {
		t.Errorf("originate sent %q", raw)
	}
	cons.await(t, "the originate's outcome", func(c *consumer) bool {
		for _, e := range c.events {
			if r, ok := e.(tel.OriginateResult); ok {
				return r == tel.OriginateResult{Ref: "cb-7", OK: false, Reason: "busy"}
			}
		}
		return false
	})
	for _, bad := range []string{"0612&PJSIP/evil", "", "+", "06 12 34 56 78 90 12 34 56 78 90"} {
		if err := a.Originate(ctx, tel.OriginateRequest{Ref: "x", Agent: "alice", Number: bad}); !errors.Is(err, tel.ErrBadNumber) {
			t.Errorf("number %q: %v", bad, err)
		}
	}
}

func TestAdapterActionsWhileDownSayNotConnected(t *testing.T) {
	a := newTestAdapter(t, scriptMapping(), time.Now)
	ctx := context.Background()
	for name, err := range map[string]error{
		"pause":     a.Pause(ctx, "alice", "x"),
		"unpause":   a.Unpause(ctx, "alice"),
		"originate": a.Originate(ctx, tel.OriginateRequest{Agent: "alice", Number: "0612345678"}),
	} {
		if !errors.Is(err, tel.ErrNotConnected) {
			t.Errorf("%s while down: %v", name, err)
		}
	}
}

func TestNewRefusesABadConfiguration(t *testing.T) {
	m := scriptMapping()
	m.Members["101"] = "carol"
	_, err := New(Config{Mapping: m})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"no AMI address", "no AMI username", `member "101" is not an Asterisk interface`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// A consumer may act on the Resync at once (re-pause the agents serving
// visitors): the connection is usable when the Resync is delivered.
func TestActionsWorkFromTheResyncOn(t *testing.T) {
	addr := listen(t, func(n int, c net.Conn) {
		s := newSrv(t, c)
		s.login()
		s.resync(members, nil)
		if req := s.expect("QueuePause"); req != nil {
			s.reply(req, "Message: Interface paused successfully")
		}
		s.hold()
	})
	paused := make(chan error, 1)
	a, err := New(Config{Addr: addr, Username: "hub", Mapping: scriptMapping(), Conn: Options{PingInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() {
		done <- a.Run(ctx, func(e tel.Event) {
			if _, ok := e.(tel.Resync); ok {
				paused <- a.Pause(ctx, "alice", "visiteur")
			}
		})
	}()
	if err := <-paused; err != nil {
		t.Fatalf("pause on the Resync: %v", err)
	}
	cancel()
	<-done
}
