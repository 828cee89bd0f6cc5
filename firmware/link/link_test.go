package link_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// The test binary doubles as a device process: with GUICHET_LINK_CHILD set,
// TestMain runs a kiosk that enqueues GUICHET_LINK_N tickets (ids c-0,
// c-1…), says so, and waits to be killed or to drain its outbox.
func TestMain(m *testing.M) {
	if os.Getenv("GUICHET_LINK_CHILD") != "" {
		child()
		return
	}
	os.Exit(m.Run())
}

func child() {
	var o link.Options
	if err := json.Unmarshal([]byte(os.Getenv("GUICHET_LINK_CHILD")), &o); err != nil {
		panic(err)
	}
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	l, err := link.Open(o)
	if err != nil {
		panic(err)
	}
	n, _ := strconv.Atoi(os.Getenv("GUICHET_LINK_N"))
	for i := 0; i < n; i++ {
		if err := l.Enqueue(fmt.Sprintf("c-%d", i), api.OpIssueTicket, api.IssueArgs{Service: "A"}); err != nil {
			panic(err)
		}
		fmt.Println("ENQUEUED", i)
	}
	for {
		fmt.Println("PENDING", l.Pending())
		time.Sleep(20 * time.Millisecond)
	}
}

type device struct {
	cmd *exec.Cmd
	out *bufio.Scanner
}

func startDevice(t *testing.T, o link.Options, n int) *device {
	t.Helper()
	o.Log = nil
	conf, _ := json.Marshal(o)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GUICHET_LINK_CHILD="+string(conf), "GUICHET_LINK_N="+strconv.Itoa(n))
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &device{cmd: cmd, out: bufio.NewScanner(stdout)}
}

// waitFor reads the device's output until a line starts with prefix.
func (d *device) waitFor(t *testing.T, prefix string) string {
	t.Helper()
	lines := make(chan string)
	go func() {
		for d.out.Scan() {
			if strings.HasPrefix(d.out.Text(), prefix) {
				lines <- d.out.Text()
				return
			}
		}
		close(lines)
	}()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("device exited before %q", prefix)
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatalf("device never printed %q", prefix)
	}
	return ""
}

func (d *device) kill() {
	d.cmd.Process.Kill() // SIGKILL
	d.cmd.Wait()
}

func ticketsOnce(t *testing.T, s *sitetest.Site, n int) {
	t.Helper()
	tickets := s.Tickets()
	if len(tickets) != n {
		t.Fatalf("%d tickets in the hub for %d commands", len(tickets), n)
	}
}

func TestDeviceKilledWhileTheHubIsDownReplaysItsOutboxOnce(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	o := s.LinkOptions("kiosk-1", s.AddDevice("kiosk-1", api.RoleKiosk, ""), api.RoleKiosk, t.TempDir())
	s.Stop() // the hub is unreachable
	d := startDevice(t, o, 20)
	d.waitFor(t, "ENQUEUED 19")
	d.kill()
	s.Restart()
	d = startDevice(t, o, 0)
	d.waitFor(t, "PENDING 0")
	ticketsOnce(t, s, 20)
}

func TestDeviceKilledMidBurstReplaysWhatWasNotAnswered(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	o := s.LinkOptions("kiosk-1", s.AddDevice("kiosk-1", api.RoleKiosk, ""), api.RoleKiosk, t.TempDir())
	d := startDevice(t, o, 60)
	d.waitFor(t, "ENQUEUED 59")
	sitetest.Eventually(t, 10*time.Second, "the first tickets", func() bool { return len(s.Tickets()) > 0 })
	d.kill()
	before := len(s.Tickets())
	t.Logf("killed with %d of 60 commands done", before)
	d = startDevice(t, o, 0)
	d.waitFor(t, "PENDING 0")
	ticketsOnce(t, s, 60)
}

func TestRefusedCommandIsDroppedNotRetried(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	l := s.Link("kiosk-1", s.AddDevice("kiosk-1", api.RoleKiosk, ""), api.RoleKiosk)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []struct {
		op   string
		args any
		code string
	}{
		{api.OpIssueTicket, api.IssueArgs{Service: "Z"}, "unknown_service"},
		{api.OpCallNext, nil, "forbidden"}, // a kiosk calls nobody
	} {
		r, err := l.Send(ctx, c.op, c.args)
		if err != nil || r.OK || r.Error.Code != c.code {
			t.Fatalf("%s: %+v %v, want %s", c.op, r, err, c.code)
		}
	}
	// The waiter hears the reply before the outbox forgets the command (a
	// kiosk prints without waiting for that write): give it a moment.
	sitetest.Eventually(t, 5*time.Second, "refused commands dropped from the outbox", func() bool { return l.Pending() == 0 })
	if _, err := l.Send(ctx, api.OpIssueTicket, api.IssueArgs{Service: strings.Repeat("x", api.MaxCommandSize)}); err == nil {
		t.Fatal("an oversized command was journaled")
	}
}

func TestRebootedDeviceShowsTheLastRetainedStateAtOnce(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("screen", api.RoleDisplay, "")
	dir := t.TempDir()
	l, err := link.Open(s.LinkOptions("screen", secret, api.RoleDisplay, dir))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 8)
	l.Follow(s.Topics.Board(), func(p []byte) { got <- p })
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	s.Must("POST", "/api/v1/counters/1/open", `{"agent":"ana"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/1/next", ``, 200, nil)
	sitetest.Eventually(t, 5*time.Second, "the board with A001", func() bool {
		select {
		case p := <-got:
			return strings.Contains(string(p), "A001")
		default:
			return false
		}
	})
	l.Close()
	s.Stop() // the hub is gone when the screen reboots
	l, err = link.Open(s.LinkOptions("screen", secret, api.RoleDisplay, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	first := make(chan []byte, 1)
	l.Follow(s.Topics.Board(), func(p []byte) {
		select {
		case first <- p:
		default:
		}
	})
	select {
	case p := <-first:
		if !strings.Contains(string(p), "A001") {
			t.Fatalf("cached board %s", p)
		}
	default:
		t.Fatal("no cached board right after a reboot")
	}
	if l.Connected() {
		t.Fatal("connected to a stopped hub")
	}
}

// TestLinkStaysReachableWithMessagesItHasNoRouteFor: a topic an earlier
// session subscribed to (the broker keeps the subscription) and this one no
// longer follows keeps arriving. paho does not acknowledge a message it has
// no route for; without the link's default handler, twenty of them fill
// Mosquitto's in-flight window and no reply ever reaches the device again.
func TestLinkStaysReachableWithMessagesItHasNoRouteFor(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Mosquitto: true})
	secret := s.AddDevice("kiosk-1", api.RoleKiosk, "")
	dir := t.TempDir()
	l, err := link.Open(s.LinkOptions("kiosk-1", secret, api.RoleKiosk, dir))
	if err != nil {
		t.Fatal(err)
	}
	l.Follow(s.Topics.Board(), func([]byte) {})
	// Up, the link has its subscriptions: those of onConnect are
	// acknowledged before it says so, and Follow waits for its own.
	sitetest.Eventually(t, 5*time.Second, "link up", l.Connected)
	l.Close()

	l, err = link.Open(s.LinkOptions("kiosk-1", secret, api.RoleKiosk, t.TempDir())) // follows nothing now
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sitetest.Eventually(t, 5*time.Second, "link up again", l.Connected)
	// Thirty messages on the old subscription, with the hub's credentials.
	// Mosquitto makes the hub's user its client id: this client takes the
	// hub's place until it leaves, so it leaves at once.
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(s.MQTTURL).SetClientID("guichet-hub-extra").
		SetUsername("guichet-hub").SetPassword(sitetest.HubPassword).SetAutoReconnect(false))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	for i := 0; i < 30; i++ {
		pub.Publish(s.Topics.Board(), 1, false, fmt.Sprintf(`{"calls":[],"n":%d}`, i)).WaitTimeout(time.Second)
	}
	pub.Disconnect(100)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r, err := l.Send(ctx, api.OpIssueTicket, api.IssueArgs{Service: "A"}); err != nil || !r.OK {
		t.Fatalf("no reply after 30 messages with no route: %+v %v", r, err)
	}
}

// TestASlowFollowerDoesNotHoldUpReplies: a follower slower than the hub (a
// screen busy drawing, a kiosk writing its journal) holds nothing else up:
// the reply a press waits for still comes, and the follower then gets the
// newest payload. paho's handler queued every message on a channel of 256
// and blocked once it was full; paho, blocked, read nothing more, the
// replies included.
func TestASlowFollowerDoesNotHoldUpReplies(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Mosquitto: true})
	secret := s.AddDevice("kiosk-1", api.RoleKiosk, "")
	l, err := link.Open(s.LinkOptions("kiosk-1", secret, api.RoleKiosk, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock() // before Close: the follower must return
	stuck := make(chan struct{}, 1)
	var mu sync.Mutex
	last := ""
	l.Follow(s.Topics.Board(), func(p []byte) {
		if strings.Contains(string(p), `"n":`) {
			select {
			case stuck <- struct{}{}:
			default:
			}
			<-release
		}
		mu.Lock()
		last = string(p)
		mu.Unlock()
	})
	sitetest.Eventually(t, 5*time.Second, "link up", l.Connected)
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(s.MQTTURL).SetClientID("guichet-hub-extra").
		SetUsername("guichet-hub").SetPassword(sitetest.HubPassword))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	const n = 600
	probe := s.AddDevice("screen-probe", api.RoleDisplay, "")
	for i := 0; i < n; i++ {
		// Mosquitto may cut the publisher while it reloads its files for
		// the device just added: paho reconnects, and the payload is sent again.
		for try := 0; ; try++ {
			tok := pub.Publish(s.Topics.Board(), 1, true, fmt.Sprintf(`{"calls":[],"n":%d}`, i))
			if tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
				break
			}
			if try == 5 {
				t.Fatalf("publish %d: %v", i, tok.Error())
			}
			sitetest.Eventually(t, 10*time.Second, "the publisher connected again", pub.IsConnectionOpen)
		}
	}
	pub.Disconnect(0)
	select {
	case <-stuck:
	case <-time.After(10 * time.Second):
		t.Fatal("the follower got none of the board's payloads")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r, err := l.Send(ctx, api.OpIssueTicket, api.IssueArgs{Service: "A"}); err != nil || !r.OK {
		t.Fatalf("no reply while a follower is stuck behind %d payloads: %+v %v", n, r, err)
	}
	unblock()
	// The hub's own user is the publisher's: on Mosquitto
	// (use_username_as_clientid) the hub and it take each other's session
	// over, and the hub puts its own board back each time. Once the
	// publisher is gone, the board the broker keeps is the hub's or our
	// last; the follower must end with it, whichever it is.
	sitetest.Eventually(t, 10*time.Second, "the follower has the board the broker keeps", func() bool {
		kept := retainedBoard(t, s, probe)
		mu.Lock()
		defer mu.Unlock()
		return kept != "" && last == kept
	})
}

// retainedBoard reads the board the broker keeps, as a screen would.
func retainedBoard(t *testing.T, s *sitetest.Site, secret string) string {
	t.Helper()
	got := make(chan string, 1)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(s.MQTTURL).SetClientID("screen-probe").
		SetUsername("screen-probe").SetPassword(secret).SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		return ""
	}
	defer c.Disconnect(0)
	c.Subscribe(s.Topics.Board(), 1, func(_ paho.Client, m paho.Message) {
		select {
		case got <- string(m.Payload()):
		default:
		}
	})
	select {
	case b := <-got:
		return b
	case <-time.After(2 * time.Second):
		return ""
	}
}
