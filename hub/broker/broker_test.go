package broker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/bus"
	"guichet/hub/config"
	"guichet/hub/devices"
	"guichet/hub/store"
	"guichet/internal/logbuf"
)

const site = `
site: { id: test, name: "Mairie de Test", timezone: Europe/Paris }
services:
  - { id: A, name: "Accueil", sla: 10m, service_time: 4m }
counters:
  - { id: "1" }
agents:
  - { id: ana, skills: { A: 1 } }
`

// testBroker is a hub with its embedded broker on loopback TCP.
type testBroker struct {
	*Broker
	hub  *hub.Hub
	reg  *devices.Registry
	url  string
	logs *logbuf.Buffer
}

// noSessions as Options.Sessions starts a broker without broker.db.
const noSessions = "none"

func start(t testing.TB, o Options) *testBroker {
	t.Helper()
	dir := t.TempDir()
	logs := &logbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, s, err := config.Parse("site.yaml", []byte(site))
	if err != nil {
		t.Fatal(err)
	}
	s.Policy.IgnoreHours = true
	st, err := store.Open(filepath.Join(dir, "guichet.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Options{Site: s, Store: st, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	reg := devices.New(st, func(string) bool { return true }, log)
	o.Bus = bus.New(bus.Options{Hub: h, Devices: reg, Log: log})
	o.Log, o.Addr = log, "127.0.0.1:0"
	switch o.Sessions {
	case "":
		o.Sessions = filepath.Join(dir, "broker.db")
	case noSessions:
		o.Sessions = ""
	}
	b, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); h.Close(); st.Close() })
	return &testBroker{Broker: b, hub: h, reg: reg, url: "tcp://" + b.Addr().String(), logs: logs}
}

func (b *testBroker) retained(topic string) ([]byte, bool) {
	pk, ok := b.srv.Topics.Retained.Get(topic)
	return pk.Payload, ok
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A retained message stays until it is replaced, however old: mochi's
// default deletes those older than a day, and a configuration or a lease
// that did not change over a weekend was gone for a screen or a kiosk
// that restarted on Monday.
func TestRetainedMessagesDoNotExpire(t *testing.T) {
	b := start(t, Options{})
	topics := b.bus.Topics()
	eventually(t, "the hub's retained config", func() bool { _, ok := b.retained(topics.Config()); return ok })
	cfg, _ := b.retained(topics.Config())
	twoDaysAgo := time.Now().Add(-48 * time.Hour).Unix()
	b.srv.Topics.RetainMessage(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Retain: true},
		TopicName: topics.Config(), Payload: cfg, Created: twoDaysAgo})
	// A sentinel that expires at the broker's next sweep (it asked to, MQTT 5).
	b.srv.Topics.RetainMessage(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Retain: true},
		TopicName: "sentinel", Payload: []byte("x"), Created: twoDaysAgo, ProtocolVersion: 5, Expiry: time.Now().Unix() - 1})
	eventually(t, "the broker's sweep of expired retained messages", func() bool { _, ok := b.retained("sentinel"); return !ok })
	if got, ok := b.retained(topics.Config()); !ok || !bytes.Equal(got, cfg) {
		t.Fatal("the two-day-old retained config was deleted")
	}
}

// When something other than the hub changes one of the hub's retained
// topics — through a path that escaped the ACL — the hub publishes its own
// again, and clears one it does not use; with a log line.
func TestHubReassertsItsRetainedTopics(t *testing.T) {
	b := start(t, Options{})
	topics := b.bus.Topics()
	eventually(t, "the hub's board", func() bool { _, ok := b.retained(topics.Board()); return ok })
	board, _ := b.retained(topics.Board())
	b.srv.Publish(topics.Board(), []byte(`{"calls":[{"ticket":"forged"}]}`), true, 1)
	b.srv.Publish(topics.Counter("99"), []byte(`{"id":"99","name":"forged"}`), true, 1)
	b.srv.Publish(topics.Lease("gone"), []byte(`{"blocks":[]}`), true, 1)
	eventually(t, "the hub's board again", func() bool { got, _ := b.retained(topics.Board()); return bytes.Equal(got, board) })
	eventually(t, "counter/99 and lease/gone cleared", func() bool {
		_, c := b.retained(topics.Counter("99"))
		_, l := b.retained(topics.Lease("gone"))
		return !c && !l
	})
	if n := strings.Count(b.logs.String(), "retained topic changed by someone other than the hub"); n != 3 {
		t.Fatalf("%d log lines for 3 topics re-asserted", n)
	}
	// Its own publications are not taken for someone else's.
	for range 5 {
		if _, err := b.hub.Do(t.Context(), "", "test", hub.IssueTicket(api.IssueArgs{Service: "A"}, "test"),
			func(hub.Outcome, json.RawMessage) []byte { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(b.logs.String(), "retained topic changed by someone other than the hub"); n != 3 {
		t.Fatalf("%d log lines after the hub's own changes", n)
	}
}

// consumer is a persistent session at QoS 1 on events/#.
func consumer(t testing.TB, b *testBroker, id, secret string, got func(paho.Message)) paho.Client {
	t.Helper()
	subscribed := make(chan struct{}, 1)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.url).SetClientID(id).SetUsername(id).SetPassword(secret).
		SetCleanSession(false).SetProtocolVersion(4).SetAutoReconnect(false).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { got(m) }).
		SetOnConnectHandler(func(c paho.Client) {
			tok := c.Subscribe(b.bus.Topics().EventsFilter(), 1, func(_ paho.Client, m paho.Message) { got(m) })
			go func() { tok.Wait(); subscribed <- struct{}{} }()
		}))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatalf("consumer %s: no SUBACK after 10 s", id)
	}
	return c
}

// A session holds at most MaxQueued unacknowledged messages; those beyond
// are dropped, with a log line, and the queue is delivered when its
// consumer is back.
func TestSessionQueueIsBounded(t *testing.T) {
	b := start(t, Options{MaxQueued: 20})
	secret, err := b.reg.Add("crm", api.RoleIntegration, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	record := func(m paho.Message) {
		mu.Lock()
		got = append(got, string(m.Payload()))
		mu.Unlock()
	}
	c := consumer(t, b, "crm", secret, record)
	c.Disconnect(100)
	gone(t, b, "crm")
	for i := range 30 {
		if err := b.Publish(b.bus.Topics().Event("test"), []byte(`{"id":"`+string(rune('a'+i))+`"}`), false); err != nil {
			t.Fatal(err)
		}
	}
	cl, _ := b.srv.Clients.Get("crm")
	if n := cl.State.Inflight.Len(); n != 20 {
		t.Fatalf("the away session holds %d messages, want 20", n)
	}
	if !strings.Contains(b.logs.String(), "client store quota reached") {
		t.Fatal("no log line for the dropped messages")
	}
	c = consumer(t, b, "crm", secret, record)
	defer c.Disconnect(0)
	eventually(t, "the 20 queued messages delivered", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 20 })
}

// A disabled device's sessions are dropped — subscriptions, queue and all,
// in broker.db too — and nothing is queued for it any more.
func TestDisabledDevicesSessionIsDropped(t *testing.T) {
	b := start(t, Options{})
	secret, err := b.reg.Add("crm", api.RoleIntegration, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	c := consumer(t, b, "crm", secret, func(paho.Message) {})
	c.Disconnect(100)
	gone(t, b, "crm")
	for range 3 {
		b.Publish(b.bus.Topics().Event("test"), []byte(`{"id":"x"}`), false)
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	rows := func() (n int) {
		b.sessions.db.QueryRow(`SELECT (SELECT COUNT(*) FROM sessions) + (SELECT COUNT(*) FROM subscriptions) + (SELECT COUNT(*) FROM inflight)`).Scan(&n)
		return n
	}
	// The log's own events (device.added) may be queued too: count ours.
	var n int
	b.sessions.db.QueryRow(`SELECT (SELECT COUNT(*) FROM sessions) + (SELECT COUNT(*) FROM subscriptions) + (SELECT COUNT(*) FROM inflight WHERE instr(data, ?) > 0)`,
		b.bus.Topics().Event("test")).Scan(&n)
	if n != 5 {
		t.Fatalf("%d rows in broker.db, want a session, its subscription and 3 messages", n)
	}
	if err := b.reg.SetDisabled("crm", true, "test"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.srv.Clients.Get("crm"); ok {
		t.Fatal("the disabled device's session is still there")
	}
	b.Publish(b.bus.Topics().Event("test"), []byte(`{"id":"y"}`), false)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 0 {
		t.Fatalf("%d rows left in broker.db", n)
	}
	if !strings.Contains(b.logs.String(), "session of a disabled device dropped") {
		t.Fatal("no log line")
	}
}

// A consumer that publishes at QoS 1 while events are in flight to it —
// an integration issuing a ticket, or saying its state — still gets every
// event it had not acknowledged when it comes back: mochi would drop those
// whose packet id its publishes reused.
func TestConsumersOwnPublishesKeepItsUnacknowledgedEvents(t *testing.T) {
	b := start(t, Options{})
	secret, err := b.reg.Add("crm", api.RoleIntegration, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	topic := b.bus.Topics().Event("x")
	lazy := paho.NewClient(paho.NewClientOptions().AddBroker(b.url).SetClientID("crm").SetUsername("crm").SetPassword(secret).
		SetCleanSession(false).SetProtocolVersion(4).SetAutoReconnect(false).
		SetAutoAckDisabled(true). // receives, never acknowledges
		SetDefaultPublishHandler(func(paho.Client, paho.Message) {}))
	if tok := lazy.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if tok := lazy.Subscribe(topic, 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	for i := range 10 {
		b.Publish(topic, []byte(`{"n":`+string(rune('0'+i))+`}`), false)
	}
	for range 10 { // ids 1 to 10 on the client's side too
		if tok := lazy.Publish(b.bus.Topics().DeviceState("crm"), 1, false, `{"online":true}`); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	lazy.Disconnect(100)
	gone(t, b, "crm")
	var mu sync.Mutex
	got := map[string]bool{}
	c := consumer(t, b, "crm", secret, func(m paho.Message) {
		mu.Lock()
		got[string(m.Payload())] = true
		mu.Unlock()
	})
	defer c.Disconnect(0)
	eventually(t, "the 10 unacknowledged events delivered again", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 10 })
}

// gone waits until the broker saw client's connection end.
func gone(t testing.TB, b *testBroker, client string) {
	t.Helper()
	eventually(t, client+" disconnected", func() bool {
		cl, ok := b.srv.Clients.Get(client)
		return ok && cl.Closed()
	})
}

// A session whose client is away keeps the newest message of each retained
// topic, and every event.
func TestAwaySessionKeepsTheNewestOfEachRetainedTopic(t *testing.T) {
	b := start(t, Options{})
	secret, err := b.reg.Add("crm", api.RoleIntegration, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	topics := b.bus.Topics()
	var mu sync.Mutex
	var got []string
	c := consumer(t, b, "crm", secret, func(m paho.Message) {
		mu.Lock()
		got = append(got, m.Topic()+" "+string(m.Payload()))
		mu.Unlock()
	})
	state := topics.DeviceState("kiosk-x") // not one the hub re-asserts
	if tok := c.Subscribe(topics.DeviceStateFilter(), 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	c.Disconnect(100)
	gone(t, b, "crm")
	for i := range 50 {
		b.Publish(state, []byte(fmt.Sprintf(`{"online":true,"version":"%d"}`, i)), true)
		b.Publish(topics.Event("x"), []byte(fmt.Sprintf(`{"n":%d}`, i)), false)
	}
	cl, _ := b.srv.Clients.Get("crm")
	if n := cl.State.Inflight.Len(); n != 51 {
		t.Fatalf("the away session holds %d messages, want 50 events and the newest state", n)
	}
	mu.Lock()
	got = nil
	mu.Unlock()
	c = consumer(t, b, "crm", secret, func(m paho.Message) {
		mu.Lock()
		got = append(got, m.Topic()+" "+string(m.Payload()))
		mu.Unlock()
	})
	defer c.Disconnect(0)
	eventually(t, "the 50 events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, m := range got {
			if strings.HasPrefix(m, topics.Event("x")) {
				n++
			}
		}
		return n == 50
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(got, state+` {"online":true,"version":"49"}`) {
		t.Fatalf("the newest state was not delivered: %q", got)
	}
}

// A broker.db the hub cannot read is set aside, with an error logged, and
// the hub starts: the file holds only deliveries in progress.
func TestUnreadableSessionsFileIsSetAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "broker.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	b := start(t, Options{Sessions: path})
	if !strings.Contains(b.logs.String(), "broker.db unreadable: set aside") {
		t.Fatalf("no log line:\n%s", b.logs)
	}
	aside, _ := filepath.Glob(path + ".unreadable-*")
	if len(aside) != 1 {
		t.Fatalf("set aside as %v", aside)
	}
	secret, err := b.reg.Add("crm", api.RoleIntegration, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	consumer(t, b, "crm", secret, func(paho.Message) {}).Disconnect(0)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new broker.db: %v %v", fi.Mode(), err)
	}
}

// A change that reaches the hub while it publishes its retained topics for
// the first time (after a start, or a broker that came back) is judged
// once that publication is done, not ignored.
func TestRetainedTopicChangedDuringTheFirstPublicationIsReasserted(t *testing.T) {
	b := start(t, Options{})
	topics := b.bus.Topics()
	eventually(t, "the hub's board", func() bool { _, ok := b.retained(topics.Board()); return ok })
	forged := []byte(`{"calls":[{"ticket":"forged"}]}`)
	var once sync.Once
	published := make(chan struct{})
	armed := make(chan struct{})
	// On the hub's next board, while its publication is under way, someone
	// else's board follows at once.
	if err := b.srv.Subscribe(topics.Board(), 99, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		select {
		case <-armed:
		default:
			return
		}
		if !bytes.Equal(pk.Payload, forged) {
			once.Do(func() {
				b.srv.Publish(topics.Board(), forged, true, 1)
				close(published)
			})
		}
	}); err != nil {
		t.Fatal(err)
	}
	close(armed)
	b.bus.Republish() // as when the external broker comes back
	<-published
	eventually(t, "the hub's board again", func() bool {
		got, _ := b.retained(topics.Board())
		return !bytes.Equal(got, forged)
	})
}
