package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
	"guichet/hub/devices"
	"guichet/internal/sitetest"
)

// retained subscribes r to topic, then to sentinel (a topic that always has
// a retained message), and returns what topic held: the broker sends a
// subscription's retained messages in order, so once the sentinel's has
// arrived, topic's has too, if there is one.
func (r *raw) retained(topic, sentinel string) [][]byte {
	r.t.Helper()
	r.subscribe(topic)
	r.subscribe(sentinel)
	deadline := time.Now().Add(5 * time.Second)
	for len(r.messages(sentinel)) == 0 {
		if time.Now().After(deadline) {
			r.t.Fatalf("no retained message on %s", sentinel)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if topic == sentinel {
		return r.messages(topic)[:1]
	}
	return r.messages(topic)
}

// A device's last will is held to the rights of its publishes: a screen
// that connects with a will on the board, the configuration, a kiosk's
// lease, a counter or another device's topics, and then drops its
// connection, changes nothing. The embedded broker refuses such a
// connection (with a log line); Mosquitto, with the ACL the hub writes,
// accepts it and never publishes the will.
func TestWillOnTopicsTheDeviceMayNotPublishIsRefused(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		screen := s.AddDevice("screen", api.RoleDisplay, "")
		kiosk := s.AddDevice("kiosk-a", api.RoleKiosk, "")
		desk := s.AddDevice("desk-3", api.RoleCounter, "3")
		crm := s.AddDevice("crm", api.RoleIntegration, "")
		before := waiting(s)
		forged := map[string]string{
			s.Topics.Board():                                        `{"calls":[{"ticket":"forged","service":"A","counter":"3","counter_name":"Guichet 3"}]}`,
			s.Topics.Config():                                       `{"site":{"id":"test","name":"forged","public_url":"http://forged.example"}}`,
			s.Topics.Queue():                                        `{"services":[{"service":"forged"}]}`,
			s.Topics.Lease("kiosk-a"):                               `{"blocks":[{"service":"A","day":"forged","from":1,"to":999}]}`,
			s.Topics.Counter("3"):                                   `{"id":"3","name":"forged"}`,
			s.Topics.DeviceState("kiosk-a"):                         `{"online":true,"version":"forged"}`,
			s.Topics.Cmd("kiosk-a"):                                 `{"id":"forged","op":"issue_ticket","args":{"service":"A"}}`,
			s.Topics.Reply("kiosk-a"):                               `{"id":"forged","ok":true}`,
			s.Topics.Event("ticket.issued"):                         `{"id":"forged"}`,
			"$SYS/broker/version":                                   `forged`,
			"guichet/v1/other-site/board":                           `{"calls":[{"ticket":"forged"}]}`,
			s.Topics.DeviceState("screen") + "/../../kiosk-a/state": `{"online":true,"version":"forged"}`,
		}
		attempts := 0
		for topic, payload := range forged {
			attempts++
			r, err := dialWith(t, s, "screen", "screen", screen, func(o *paho.ClientOptions) {
				o.SetWill(topic, payload, 1, true)
			})
			if s.Mosquitto == nil {
				if err == nil {
					r.c.Disconnect(0)
					t.Fatalf("connection with a will on %s accepted", topic)
				}
				continue
			}
			if err != nil {
				t.Fatalf("mosquitto refused the connection with a will on %s: %v", topic, err)
			}
			r.drop()
			sitetest.Eventually(t, 5*time.Second, "mosquitto saw the connection end", func() bool {
				return mosquittoDisconnects(s, "screen") >= attempts
			})
		}
		if s.Mosquitto == nil && strings.Count(s.Logs.String(), "mqtt connection refused: will") < len(forged) {
			t.Fatalf("no log line for each refused will:\n%s", s.Logs)
		}

		// The device's own state, saying it is offline, is the will it may leave.
		own, err := dialWith(t, s, "screen", "screen", screen, func(o *paho.ClientOptions) {
			o.SetWill(s.Topics.DeviceState("screen"), `{"online":false,"role":"display"}`, 1, true)
		})
		if err != nil {
			t.Fatalf("a will on the device's own state refused: %v", err)
		}
		tok := own.c.Publish(s.Topics.DeviceState("screen"), 1, true, `{"online":true,"role":"display"}`)
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		online := func() bool {
			var d api.Device
			s.Must("GET", "/api/v1/devices/screen", "", 200, &d)
			return d.Online
		}
		sitetest.Eventually(t, 5*time.Second, "the hub sees the screen online", online)
		own.drop()
		sitetest.Eventually(t, 5*time.Second, "the screen's will says it is offline", func() bool { return !online() })

		// Nothing forged is retained, or was done.
		k, err := dial(t, s, "kiosk-a", "kiosk-a", kiosk)
		if err != nil {
			t.Fatal(err)
		}
		for _, topic := range []string{s.Topics.Board(), s.Topics.Config(), s.Topics.Queue(), s.Topics.Lease("kiosk-a")} {
			got := k.retained(topic, topic)
			if len(got) != 1 || strings.Contains(string(got[0]), "forged") {
				t.Errorf("retained %s: %s", topic, got)
			}
		}
		d, err := dial(t, s, "desk-3", "desk-3", desk)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.retained(s.Topics.Counter("3"), s.Topics.Counter("3")); len(got) != 1 || strings.Contains(string(got[0]), "forged") {
			t.Errorf("retained counter/3: %s", got)
		}
		c, err := dial(t, s, "crm", "crm", crm)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.retained(s.Topics.DeviceState("kiosk-a"), s.Topics.Board()); len(got) != 0 {
			t.Errorf("retained state of kiosk-a, which never connected: %s", got)
		}
		if after := waiting(s); after != before {
			t.Fatalf("%d tickets issued by a will", after-before)
		}
	})
}

// mosquittoDisconnects counts the connections of client that Mosquitto saw end.
func mosquittoDisconnects(s *sitetest.Site, client string) int {
	l := s.Mosquitto.Log()
	return strings.Count(l, "Client "+client+" closed its connection") +
		strings.Count(l, "Socket error on client "+client+",") +
		strings.Count(l, "Client "+client+" disconnected")
}

// A will on the device's own state topic must be a state that says the
// device is offline, of a bounded size: anything else is refused at
// connect by the embedded broker. (Mosquitto's ACL cannot look at a
// payload: there a device may lie about itself, and only about itself.)
func TestWillOnTheDevicesOwnStateMustSayOffline(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("screen", api.RoleDisplay, "")
	for _, payload := range []string{
		`{"online":true,"role":"display"}`,
		`not json`,
		`["online",false]`,
		`{"online":false,"extra":{"x":"` + strings.Repeat("x", 8<<10) + `"}}`,
	} {
		r, err := dialWith(t, s, "screen", "screen", secret, func(o *paho.ClientOptions) {
			o.SetWill(s.Topics.DeviceState("screen"), payload, 1, true)
		})
		if err == nil {
			r.c.Disconnect(0)
			t.Errorf("will %.40q accepted", payload)
		}
	}
	if n := strings.Count(s.Logs.String(), "mqtt connection refused: will"); n != 4 {
		t.Fatalf("%d log lines for 4 refused wills", n)
	}
}

// A client id names one device: device "desk" may not connect with the
// client id of device "desk-3", which would take over desk-3's session —
// its subscriptions and the messages queued for it — and cut desk-3 off.
func TestClientIDOfAnotherDeviceIsRefused(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		deskSecret := s.AddDevice("desk", api.RoleCounter, "1")
		desk3Secret := s.AddDevice("desk-3", api.RoleCounter, "3")
		lost := make(chan error, 1)
		desk3, err := dialWith(t, s, "desk-3", "desk-3", desk3Secret, func(o *paho.ClientOptions) {
			o.SetCleanSession(false).SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
		})
		if err != nil {
			t.Fatal(err)
		}
		desk3.subscribe(s.Topics.Reply("desk-3"))
		for _, id := range []string{"desk-3", "desk-3" + sep + "x"} {
			r, err := dialWith(t, s, id, "desk", deskSecret, func(o *paho.ClientOptions) { o.SetCleanSession(false) })
			switch {
			case s.Mosquitto == nil && err == nil:
				r.c.Disconnect(0)
				t.Fatalf("device desk connected with client id %q", id)
			case s.Mosquitto != nil && err != nil:
				t.Fatalf("mosquitto refused desk (its client id is its username there): %v", err)
			case err == nil:
				r.subscribe(s.Topics.Reply("desk")) // a round trip: the connection is established
				r.c.Disconnect(100)
			}
		}
		// desk-3 was never cut off, and its replies still reach it alone.
		desk3.publish(s.Topics.Cmd("desk-3"), []byte(`{"id":"mine","op":"call_next"}`))
		if rep, ok := desk3.reply("desk-3", "mine", s); !ok || rep.Error == nil || rep.Error.Code != "counter_closed" {
			t.Fatalf("desk-3's own command: %+v %v", rep, ok)
		}
		select {
		case err := <-lost:
			t.Fatalf("desk-3 was cut off: %v", err)
		default:
		}
		if s.Mosquitto == nil {
			if !strings.Contains(s.Logs.String(), "mqtt connection refused: the client id") {
				t.Fatal("no log line for the refused client id")
			}
			// Its own variants are accepted: a person may watch as a device.
			r, err := dial(t, s, "desk"+sep+"watch", "desk", deskSecret)
			if err != nil {
				t.Fatalf("desk%swatch refused: %v", sep, err)
			}
			r.c.Disconnect(0)
		}
	})
}

// sep separates a device id from the rest of a client id (docs/mqtt.md).
const sep = "@"

// A device keeps one retained message, its state, of bounded size: it may
// not publish elsewhere under device/{itself}/, and a state too large or
// not a state is dropped. Payloads over the broker's limit cut the
// connection (the embedded broker) or are dropped (Mosquitto).
func TestDeviceCannotFillTheBrokerWithRetainedMessages(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		secret := s.AddDevice("kiosk-a", api.RoleKiosk, "")
		crm := s.AddDevice("crm", api.RoleIntegration, "")
		k, err := dial(t, s, "kiosk-a", "kiosk-a", secret)
		if err != nil {
			t.Fatal(err)
		}
		ok := `{"online":true,"role":"kiosk","version":"1"}`
		k.publishRetained(s.Topics.DeviceState("kiosk-a"), []byte(ok))
		for i := range 3 {
			k.publishRetained(s.Topics.DeviceState("kiosk-a")+fmt.Sprintf("/../x%d", i), []byte("extra"))
			k.publishRetained(strings.TrimSuffix(s.Topics.DeviceState("kiosk-a"), "state")+fmt.Sprintf("photo%d", i), []byte("extra"))
		}
		if s.Mosquitto == nil {
			// Not a state, or too large for one: dropped, and logged.
			k.publishRetained(s.Topics.DeviceState("kiosk-a"), []byte(`not a state`))
			k.publishRetained(s.Topics.DeviceState("kiosk-a"), []byte(`{"online":true,"extra":{"x":"`+strings.Repeat("x", 8<<10)+`"}}`))
		}
		// Over the broker's limit for any payload.
		tok := k.c.Publish(s.Topics.DeviceState("kiosk-a"), 1, true, `{"online":true,"extra":{"x":"`+strings.Repeat("x", 1<<20)+`"}}`)
		tok.WaitTimeout(5 * time.Second)
		c, err := dial(t, s, "crm", "crm", crm)
		if err != nil {
			t.Fatal(err)
		}
		c.subscribe(s.Topics.DeviceStateFilter())
		c.retained(s.Topics.Board(), s.Topics.Board())
		states := c.messages(s.Topics.DeviceState("kiosk-a"))
		if len(states) != 1 || string(states[0]) != ok {
			t.Fatalf("retained state of kiosk-a: %.80q", states)
		}
		if s.Mosquitto != nil {
			if n := strings.Count(s.Mosquitto.Log(), "Denied PUBLISH from kiosk-a"); n < 6 {
				t.Fatalf("mosquitto denied %d of 6 publishes out of the device's state", n)
			}
		} else if n := strings.Count(s.Logs.String(), "mqtt publish refused"); n < 8 {
			t.Fatalf("%d log lines for 8 refused publishes", n)
		}
	})
}

func (r *raw) publishRetained(topic string, payload []byte) {
	r.t.Helper()
	tok := r.c.Publish(topic, 1, true, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		r.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// Shared subscriptions and $SYS give a device nothing it may not read.
func TestSharedSubscriptionsAndSysReadNothingForbidden(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		secretA := s.AddDevice("kiosk-a", api.RoleKiosk, "")
		b := s.Link("kiosk-b", s.AddDevice("kiosk-b", api.RoleKiosk, ""), api.RoleKiosk)
		a, err := dial(t, s, "kiosk-a", "kiosk-a", secretA)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{
			"$share/g/" + s.Topics.Reply("kiosk-b"),
			"$share/g/" + strings.TrimSuffix(s.Topics.Board(), "board") + "#",
			"$share/g/#",
			"$SYS/#",
		} {
			tok := a.c.Subscribe(f, 1, func(_ paho.Client, m paho.Message) { a.record(m) })
			tok.WaitTimeout(5 * time.Second)
		}
		if r := send(t, b, api.OpIssueTicket, api.IssueArgs{Service: "A"}); !r.OK {
			t.Fatalf("kiosk-b: %+v", r.Error)
		}
		a.subscribe(s.Topics.Reply("kiosk-a"))
		a.publish(s.Topics.Cmd("kiosk-a"), []byte(`{"id":"sentinel","op":"checkin","args":{"code":"x"}}`))
		if _, ok := a.reply("kiosk-a", "sentinel", s); !ok {
			t.Fatal("no reply to kiosk-a")
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		may := map[string]bool{s.Topics.Reply("kiosk-a"): true, s.Topics.Board(): true, s.Topics.Queue(): true,
			s.Topics.Config(): true, s.Topics.Lease("kiosk-a"): true}
		for topic := range a.got {
			if !may[topic] {
				t.Errorf("kiosk-a received %s", topic)
			}
		}
	})
}

// On a broker the town runs, whoever holds the hub's password can change
// the hub's retained topics; the hub publishes its own again.
func TestHubReassertsItsBoardOnMosquitto(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Mosquitto: true})
	kiosk := s.AddDevice("kiosk-a", api.RoleKiosk, "")
	k, err := dial(t, s, "kiosk-a", "kiosk-a", kiosk)
	if err != nil {
		t.Fatal(err)
	}
	k.retained(s.Topics.Board(), s.Topics.Board())
	// The hub's own changes, quick ones too, come back to it from the
	// broker: they are not taken for someone else's.
	k.subscribe(s.Topics.Queue())
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				s.Call("POST", "/api/v1/tickets", `{"service":"A"}`)
			}
		}()
	}
	wg.Wait()
	sitetest.Eventually(t, 5*time.Second, "the queue summary of 30 tickets", func() bool {
		q := k.messages(s.Topics.Queue())
		return len(q) > 0 && strings.Contains(string(q[len(q)-1]), `"waiting":30`)
	})
	if strings.Contains(s.Logs.String(), "retained topic changed by someone other than the hub") {
		t.Fatalf("the hub took its own publications for someone else's:\n%s", s.Logs)
	}
	// The forger takes the hub's place (Mosquitto makes the hub's user its
	// client id), until the hub comes back and takes it again: it tries
	// until its publication lands.
	sitetest.Eventually(t, 10*time.Second, "a forged board published", func() bool {
		forger, err := dialWith(t, s, "someone", devices.HubUser, sitetest.HubPassword, nil)
		if err != nil {
			return false
		}
		defer forger.c.Disconnect(0)
		tok := forger.c.Publish(s.Topics.Board(), 1, true, `{"calls":[{"ticket":"forged","service":"A","counter":"3"}]}`)
		return tok.WaitTimeout(2*time.Second) && tok.Error() == nil
	})
	// Its PUBACK came: the forged board is retained, until the hub's replaces it.
	sitetest.Eventually(t, 10*time.Second, "the hub's board retained again", func() bool {
		late, err := dial(t, s, "kiosk-a@late", "kiosk-a", kiosk)
		if err != nil {
			return false
		}
		defer late.c.Disconnect(0)
		got := late.retained(s.Topics.Board(), s.Topics.Board())
		return !strings.Contains(string(got[0]), "forged")
	})
}

// A state the hub would not take — over 4 KiB, not a JSON object, text that
// is not UTF-8 — is neither kept by the hub nor left retained on the
// broker. The embedded broker refuses the publish; Mosquitto cannot read
// payloads and keeps whatever is under its size limit (256 KiB), so the hub
// clears it, as it clears what is not its own on its retained topics.
func TestAStateTheHubWouldNotTakeIsNotLeftRetained(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		secret := s.AddDevice("kiosk-a", api.RoleKiosk, "")
		crm := s.AddDevice("crm", api.RoleIntegration, "")
		k, err := dial(t, s, "kiosk-a", "kiosk-a", secret)
		if err != nil {
			t.Fatal(err)
		}
		polls := 0
		retainedState := func() []byte {
			polls++
			c, err := dial(t, s, fmt.Sprintf("crm@poll%d", polls), "crm", crm)
			if err != nil {
				t.Fatal(err)
			}
			defer c.c.Disconnect(0)
			for _, p := range c.retained(s.Topics.DeviceState("kiosk-a"), s.Topics.Board()) {
				if len(p) > 0 {
					return p
				}
			}
			return nil
		}
		for _, bad := range []string{
			`{"online":true,"extra":{"x":"` + strings.Repeat("x", 100<<10) + `"}}`,
			`["online"]`,
			"{\"online\":true,\"version\":\"\xff\xfe\"}",
		} {
			k.publishRetained(s.Topics.DeviceState("kiosk-a"), []byte(bad))
			sitetest.Eventually(t, 5*time.Second, fmt.Sprintf("the state %.40q cleared", bad), func() bool { return retainedState() == nil })
			if st, ok := s.Bus.State("kiosk-a"); ok {
				t.Fatalf("the hub keeps a state with %d extras, version %q", len(st.Extra), st.Version)
			}
		}
	})
}

// A command a device publishes retained is done once and not kept:
// Mosquitto kept it as a second retained message of the device (up to 256
// KiB) and handed it to the hub at each of its subscriptions. The hub,
// given it again after a restart, does not do it twice (a command is
// idempotent by its id) and clears it: after a second restart it is not
// given it any more. The embedded broker never retains a command.
func TestARetainedCommandIsDoneOnceAndCleared(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Mosquitto: true})
	secret := s.AddDevice("kiosk-a", api.RoleKiosk, "")
	k, err := dial(t, s, "kiosk-a", "kiosk-a", secret)
	if err != nil {
		t.Fatal(err)
	}
	k.subscribe(s.Topics.Reply("kiosk-a"))
	k.publishRetained(s.Topics.Cmd("kiosk-a"), []byte(`{"id":"r1","op":"issue_ticket","args":{"service":"E"}}`))
	if rep, ok := k.reply("kiosk-a", "r1", s); !ok || !rep.OK {
		t.Fatalf("the retained command was not answered: %+v", rep)
	}
	const cleared = "a retained command cleared"
	s.Restart() // the hub subscribes again: Mosquitto hands it what it retained
	sitetest.Eventually(t, 10*time.Second, "the retained command given again and cleared", func() bool {
		return strings.Count(s.Logs.String(), cleared) == 1
	})
	s.Restart()
	s.AddDevice("kiosk-b", api.RoleKiosk, "") // the hub has subscribed and read what is retained by now
	if n := strings.Count(s.Logs.String(), cleared); n != 1 {
		t.Fatalf("the retained command was given to the hub %d times, want once: it was not cleared", n)
	}
	if n := len(s.Tickets()); n != 1 {
		t.Fatalf("%d tickets after the hub was given the command again, want 1", n)
	}
}
