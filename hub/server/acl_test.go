package server_test

import (
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// raw is a plain MQTT client, doing what our firmware never does.
type raw struct {
	t    *testing.T
	c    paho.Client
	mu   sync.Mutex
	got  map[string][][]byte
	conn net.Conn // the socket, to drop it as a crash would
}

func dial(t *testing.T, s *sitetest.Site, clientID, user, pass string) (*raw, error) {
	return dialWith(t, s, clientID, user, pass, nil)
}

// dialWith is dial with more options set by set (a will, a persistent session).
func dialWith(t *testing.T, s *sitetest.Site, clientID, user, pass string, set func(*paho.ClientOptions)) (*raw, error) {
	r := &raw{t: t, got: map[string][][]byte{}}
	o := paho.NewClientOptions().AddBroker(s.MQTTURL).SetClientID(clientID).SetUsername(user).SetPassword(pass).
		SetAutoReconnect(false).SetConnectTimeout(3 * time.Second).
		SetProtocolVersion(4). // MQTT 3.1.1 only: paho tries 3.1 again after a refusal
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { r.record(m) }).
		SetCustomOpenConnectionFn(func(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
			c, err := net.DialTimeout("tcp", u.Host, 3*time.Second)
			r.mu.Lock()
			r.conn = c
			r.mu.Unlock()
			return c, err
		})
	if set != nil {
		set(o)
	}
	r.c = paho.NewClient(o)
	tok := r.c.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return nil, errTimeout
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { r.c.Disconnect(0) })
	return r, nil
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "timeout" }

var errTimeout = timeoutErr{}

// drop closes the client's socket without a DISCONNECT, as a crash or a
// cut cable would: the broker then publishes its will.
func (r *raw) drop() {
	r.mu.Lock()
	c := r.conn
	r.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

func (r *raw) record(m paho.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[m.Topic()] = append(r.got[m.Topic()], m.Payload())
}

func (r *raw) messages(topic string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.got[topic]...)
}

// subscribe returns the granted QoS (0x80: refused).
func (r *raw) subscribe(topic string) byte {
	r.t.Helper()
	tok := r.c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) { r.record(m) })
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		r.t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	return tok.(*paho.SubscribeToken).Result()[topic]
}

func (r *raw) publish(topic string, payload []byte) {
	r.t.Helper()
	tok := r.c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		r.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// reply waits for a reply with id on reply/{device}.
func (r *raw) reply(device, id string, s *sitetest.Site) (api.Reply, bool) {
	var found api.Reply
	ok := false
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && !ok {
		for _, p := range r.messages(s.Topics.Reply(device)) {
			var rep api.Reply
			if json.Unmarshal(p, &rep) == nil && rep.ID == id {
				found, ok = rep, true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return found, ok
}

func waiting(s *sitetest.Site) int {
	var q api.Queue
	s.Must("GET", "/api/v1/queue", "", 200, &q)
	n := 0
	for _, sv := range q.Services {
		n += sv.Waiting
	}
	return n
}

func TestDevicesActOnlyForThemselves(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		secretA := s.AddDevice("kiosk-a", api.RoleKiosk, "")
		secretB := s.AddDevice("kiosk-b", api.RoleKiosk, "")
		secret3 := s.AddDevice("desk-3", api.RoleCounter, "3")
		s.AddDevice("desk-4", api.RoleCounter, "4")
		a, err := dial(t, s, "kiosk-a", "kiosk-a", secretA)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dial(t, s, "kiosk-b", "kiosk-b", secretB)
		if err != nil {
			t.Fatal(err)
		}
		if q := a.subscribe(s.Topics.Reply("kiosk-a")); q == 0x80 {
			t.Fatal("own reply topic refused")
		}
		b.subscribe(s.Topics.Reply("kiosk-b"))
		// A listens on B's replies: refused by the embedded broker; Mosquitto
		// grants the subscription but never delivers (checked below).
		if q := a.subscribe(s.Topics.Reply("kiosk-b")); s.Mosquitto == nil && q != 0x80 {
			t.Fatalf("subscription to another device's replies granted (%d)", q)
		}
		a.subscribe(s.Topics.Lease("kiosk-b"))
		before := waiting(s)

		// A publishes a command on B's topic.
		a.publish(s.Topics.Cmd("kiosk-b"), []byte(`{"id":"sneaky","op":"issue_ticket","args":{"service":"A"}}`))
		if s.Mosquitto == nil {
			rep, ok := a.reply("kiosk-a", "sneaky", s)
			if !ok || rep.OK || rep.Error.Code != "forbidden" {
				t.Fatalf("command on another device's topic: %+v %v", rep, ok)
			}
			if !strings.Contains(s.Logs.String(), "command for another device refused") {
				t.Fatal("no log line for the refused command")
			}
		} else {
			time.Sleep(300 * time.Millisecond)
			if !strings.Contains(s.Mosquitto.Log(), "Denied PUBLISH from kiosk-a") {
				t.Fatal("mosquitto did not log the denied publish")
			}
		}
		// B's own command works, and A never sees B's reply.
		b.publish(s.Topics.Cmd("kiosk-b"), []byte(`{"id":"legit","op":"issue_ticket","args":{"service":"A"}}`))
		if rep, ok := b.reply("kiosk-b", "legit", s); !ok || !rep.OK {
			t.Fatalf("B's own command: %+v %v", rep, ok)
		}
		if got := a.messages(s.Topics.Reply("kiosk-b")); len(got) != 0 {
			t.Fatalf("A received B's replies: %s", got)
		}
		if after := waiting(s); after != before+1 {
			t.Fatalf("waiting %d → %d, want only B's ticket", before, after)
		}

		// A counter terminal acts for its own counter only.
		s.Must("POST", "/api/v1/counters/4/open", `{"agent":"dan"}`, 200, nil)
		d3, err := dial(t, s, "desk-3", "desk-3", secret3)
		if err != nil {
			t.Fatal(err)
		}
		d3.subscribe(s.Topics.Reply("desk-3"))
		d3.publish(s.Topics.Cmd("desk-4"), []byte(`{"id":"steal","op":"call_next"}`))
		d3.publish(s.Topics.Cmd("desk-3"), []byte(`{"id":"own","op":"call_next"}`))
		if rep, ok := d3.reply("desk-3", "own", s); !ok || rep.OK || rep.Error.Code != "counter_closed" {
			t.Fatalf("counter 3 (closed) call next: %+v %v", rep, ok)
		}
		var c4 api.Counter
		s.Must("GET", "/api/v1/counters/4", "", 200, &c4)
		if c4.Ticket != nil {
			t.Fatalf("counter 4 called %s on desk-3's command", c4.Ticket.Number)
		}
		// A kiosk may not call; a counter may not issue.
		a.publish(s.Topics.Cmd("kiosk-a"), []byte(`{"id":"k-call","op":"call_next"}`))
		if rep, ok := a.reply("kiosk-a", "k-call", s); !ok || rep.Error == nil || rep.Error.Code != "forbidden" {
			t.Fatalf("kiosk call next: %+v %v", rep, ok)
		}
		if after := waiting(s); after != before+1 {
			t.Fatalf("queue changed by refused commands: %d → %d", before+1, after)
		}
	})
}

func TestWrongSecretAndDisabledDeviceAreRefused(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		secret := s.AddDevice("kiosk-a", api.RoleKiosk, "")
		if _, err := dial(t, s, "kiosk-a", "kiosk-a", secret+"x"); err == nil {
			t.Fatal("connected with a wrong secret")
		}
		if _, err := dial(t, s, "kiosk-z", "kiosk-z", secret); err == nil {
			t.Fatal("connected as an unknown device")
		}
		if s.Mosquitto == nil {
			if _, err := dial(t, s, "someone-else", "kiosk-a", secret); err == nil {
				t.Fatal("connected with another client id")
			}
		}
		a, err := dial(t, s, "kiosk-a", "kiosk-a", secret)
		if err != nil {
			t.Fatal(err)
		}
		a.subscribe(s.Topics.Reply("kiosk-a"))
		reloads := s.Mosquitto.Reloads()
		s.Must("POST", "/api/v1/devices/kiosk-a/disable", "", 200, nil)
		s.Mosquitto.WaitReload(reloads)
		// Both brokers cut it at once (Mosquitto when it reloads the files the hub rewrote).
		sitetest.Eventually(t, 3*time.Second, "the disabled device disconnected", func() bool { return !a.c.IsConnectionOpen() })
		if s.Mosquitto == nil && !strings.Contains(s.Logs.String(), "credentials revoked") {
			t.Fatal("no log line for the revoked device")
		}
		if _, err := dial(t, s, "kiosk-a", "kiosk-a", secret); err == nil {
			t.Fatal("a disabled device connected again")
		}
		if n := waiting(s); n != 0 {
			t.Fatalf("%d tickets issued by refused devices", n)
		}
	})
}

func TestMalformedCommandsGetAnErrorReplyAndOthersAreServed(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		secret := s.AddDevice("kiosk-a", api.RoleKiosk, "")
		good := s.Link("kiosk-b", s.AddDevice("kiosk-b", api.RoleKiosk, ""), api.RoleKiosk)
		a, err := dial(t, s, "kiosk-a", "kiosk-a", secret)
		if err != nil {
			t.Fatal(err)
		}
		a.subscribe(s.Topics.Reply("kiosk-a"))
		cases := []struct {
			payload, id, code string
		}{
			{`not json`, "", "bad_request"},
			{`{"id":"w1","op":"issue_ticket","args":{"service":12}}`, "w1", "bad_request"},
			{`{"id":"w2","op":"self_destruct"}`, "w2", "unknown_op"},
			{`{"id":"w3","op":"issue_ticket","args":{"service":"A","vip":true}}`, "w3", "unknown_field"},
			{`{"id":"","op":"issue_ticket","args":{"service":"A"}}`, "", "bad_request"},
			{`{"id":"w4","op":"issue_ticket","args":{"service":"` + strings.Repeat("A", 64<<10) + `"}}`, "w4", "too_large"}, // answered with its id (api.CommandID),
			{`{"id":"w5","op":"issue_ticket","args":{"service":"Q"}}`, "w5", "unknown_service"},
		}
		for _, c := range cases {
			a.publish(s.Topics.Cmd("kiosk-a"), []byte(c.payload))
			send(t, good, api.OpIssueTicket, api.IssueArgs{Service: "A"}) // the hub keeps serving others
		}
		sitetest.Eventually(t, 5*time.Second, "an error reply for each malformed command", func() bool {
			return len(a.messages(s.Topics.Reply("kiosk-a"))) >= len(cases)
		})
		codes := map[string]string{}
		for _, p := range a.messages(s.Topics.Reply("kiosk-a")) {
			var r api.Reply
			if err := json.Unmarshal(p, &r); err != nil || r.OK || r.Error == nil {
				t.Fatalf("reply %s", p)
			}
			codes[r.ID+"/"+r.Error.Code] = r.Error.Message
		}
		for _, c := range cases {
			if _, ok := codes[c.id+"/"+c.code]; !ok {
				t.Errorf("no %s reply for id %q (got %v)", c.code, c.id, codes)
			}
		}
		if n := waiting(s); n != len(cases) {
			t.Fatalf("%d tickets waiting, want the %d of the good kiosk", n, len(cases))
		}
		if strings.Count(s.Logs.String(), "command refused") < len(cases)-1 {
			t.Fatal("malformed commands were not logged")
		}
	})
}
