package server_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// The property test of the whole hub: a real hub (its store on a SQLite
// file, the embedded broker on TCP, the HTTP API) takes a random sequence
// of operations over HTTP and MQTT — valid ones, and the invalid ones an
// attacker or a careless integrator sends: malformed JSON, wrong types,
// unknown services, huge strings, text that is not UTF-8, times in year
// 9999, other devices' topics, wills on the board, retained floods, a
// button pressed fifty times, tickets printed offline that claim to be
// hours old. After each one, every view still encodes and the queue's
// invariants hold (property_check_test.go).
//
// A run draws its seed at random and prints it; GUICHET_HUB_PROPERTY_SEED
// replays one, GUICHET_HUB_PROPERTY_STEPS sets its length (300, or 60
// with -short), GUICHET_HUB_PROPERTY_BROKER=mosquitto runs it on
// Mosquitto. make test runs the default; a longer run:
//
//	GUICHET_HUB_PROPERTY_STEPS=5000 go test -run TestPropertyTheWholeHub -timeout 60m ./hub/server
func TestPropertyTheWholeHubKeepsItsInvariants(t *testing.T) {
	seed := mrand.Uint64()
	if s := os.Getenv("GUICHET_HUB_PROPERTY_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("GUICHET_HUB_PROPERTY_SEED=%q: %v", s, err)
		}
	}
	steps := 300
	if testing.Short() {
		steps = 60
	}
	if s := os.Getenv("GUICHET_HUB_PROPERTY_STEPS"); s != "" {
		steps, _ = strconv.Atoi(s)
	}
	t.Logf("seed %d, %d steps (replay: GUICHET_HUB_PROPERTY_SEED=%d)", seed, steps, seed)
	s := sitetest.Start(t, sitetest.Options{OpenHours: true, Mosquitto: os.Getenv("GUICHET_HUB_PROPERTY_BROKER") == "mosquitto"})
	p := newPropertyRun(t, s, seed)
	for p.step = 0; p.step < steps; p.step++ {
		op := p.pick()
		p.last = op.name
		op.run(p)
		p.check()
	}
	p.settle()
	p.checkLog()
	p.checkRetainedMatch()
	t.Logf("seed %d: %d steps, %d tickets, ops: %v", seed, steps, len(p.numbers), p.counts)
}

// propertyRun is one run: the site, its devices, and what the test has
// seen so far.
type propertyRun struct {
	t      *testing.T
	s      *sitetest.Site
	r      *mrand.Rand
	seed   uint64
	step   int
	last   string // the operation of the step
	counts map[string]int

	kiosk, desk, screen, crm *client
	secrets                  map[string]string
	sent                     []sent            // MQTT commands sent, to wait for their replies
	numbers                  map[string]string // "E 2026-03-02 42" → ticket id, over the whole run
	offlineUsed              map[string]bool   // "E 2026-03-02 901": sent once by this test
	lastOnline               *api.Ticket       // the kiosk's last ticket issued online
	nextID                   int
}

type sent struct {
	c  *client
	id string
}

// client is an MQTT client as a device: it keeps the last payload of each
// topic and the replies by command id.
type client struct {
	id      string
	c       paho.Client
	mu      sync.Mutex
	latest  map[string][]byte
	replies map[string]api.Reply
}

func newPropertyRun(t *testing.T, s *sitetest.Site, seed uint64) *propertyRun {
	p := &propertyRun{t: t, s: s, r: mrand.New(mrand.NewPCG(seed, 0x9e3779b97f4a7c15)), seed: seed, counts: map[string]int{},
		secrets: map[string]string{}, numbers: map[string]string{}, offlineUsed: map[string]bool{}}
	for _, d := range []struct{ id, role, counter string }{
		{"kiosk-p", api.RoleKiosk, ""}, {"desk-1", api.RoleCounter, "1"}, {"screen-p", api.RoleDisplay, ""}, {"crm-p", api.RoleIntegration, ""},
		{"screen-w", api.RoleDisplay, ""}, // leaves wills: on Mosquitto, its connections take each other's place
	} {
		p.secrets[d.id] = s.AddDevice(d.id, d.role, d.counter)
	}
	tp := s.Topics
	p.kiosk = p.connect("kiosk-p", tp.Reply("kiosk-p"), tp.Lease("kiosk-p"), tp.Board(), tp.Queue(), tp.Config())
	p.desk = p.connect("desk-1", tp.Reply("desk-1"), tp.Counter("1"))
	p.screen = p.connect("screen-p", tp.Reply("screen-p"), tp.Board(), tp.Queue(), tp.Config())
	p.crm = p.connect("crm-p", tp.EventsFilter(), tp.DeviceStateFilter())
	sitetest.Eventually(p.t, 10*time.Second, "the kiosk's lease", func() bool {
		l, err := api.ParseLeases(p.kiosk.get(tp.Lease("kiosk-p")), "kiosk-p")
		return err == nil && len(l.Blocks) > 0
	})
	return p
}

// connect connects device id with its own client id and subscribes it.
func (p *propertyRun) connect(id string, topics ...string) *client {
	return p.connectAs(id, id, nil, topics...)
}

func (p *propertyRun) connectAs(id, clientID string, set func(*paho.ClientOptions), topics ...string) *client {
	c := &client{id: id, latest: map[string][]byte{}, replies: map[string]api.Reply{}}
	record := func(_ paho.Client, m paho.Message) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if kind, _, _ := p.s.Topics.Parse(m.Topic()); kind == api.KindReply {
			var r api.Reply
			if err := json.Unmarshal(m.Payload(), &r); err != nil {
				p.t.Errorf("seed %d: a reply that is not JSON on %s: %q", p.seed, m.Topic(), m.Payload())
			}
			c.replies[r.ID] = r
			return
		}
		if kind, _, _ := p.s.Topics.Parse(m.Topic()); kind != api.KindEvent {
			c.latest[m.Topic()] = append([]byte(nil), m.Payload()...)
		}
	}
	o := paho.NewClientOptions().AddBroker(p.s.MQTTURL).SetClientID(clientID).SetUsername(id).SetPassword(p.secrets[id]).
		SetProtocolVersion(4).SetAutoReconnect(true).SetConnectRetry(true).SetConnectTimeout(3 * time.Second).
		SetMaxReconnectInterval(200 * time.Millisecond).SetOrderMatters(false).SetDefaultPublishHandler(record)
	if set != nil {
		set(o)
	}
	c.c = paho.NewClient(o)
	if tok := c.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		p.t.Fatalf("connect %s: %v", clientID, tok.Error())
	}
	p.t.Cleanup(func() { c.c.Disconnect(0) })
	for _, tp := range topics {
		if tok := c.c.Subscribe(tp, 1, record); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			p.t.Fatalf("subscribe %s to %s: %v", clientID, tp, tok.Error())
		}
	}
	return c
}

func (c *client) get(topic string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latest[topic]
}

func (c *client) reply(id string) (api.Reply, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.replies[id]
	return r, ok
}

// publish sends a payload; a refusal by the broker may close the
// connection, which the client opens again.
func (c *client) publish(topic string, retained bool, payload []byte) {
	c.c.Publish(topic, 1, retained, payload).WaitTimeout(5 * time.Second)
}

// command sends a command from c on its own topic and notes it, to wait
// for its reply.
func (p *propertyRun) command(c *client, op string, args any) string {
	p.nextID++
	id := fmt.Sprintf("p%d-%d", p.seed%1000, p.nextID)
	b, _ := json.Marshal(map[string]any{"id": id, "op": op, "args": args})
	c.publish(p.s.Topics.Cmd(c.id), false, b)
	p.sent = append(p.sent, sent{c, id})
	return id
}

// await waits for the reply to command id of c.
func (p *propertyRun) await(c *client, id string) api.Reply {
	var r api.Reply
	sitetest.Eventually(p.t, 10*time.Second, fmt.Sprintf("seed %d step %d (%s): the reply to %s", p.seed, p.step, p.last, id), func() bool {
		var ok bool
		r, ok = c.reply(id)
		return ok
	})
	return r
}

// call sends an HTTP request with the admin token; the answer is JSON,
// and a refusal names its code.
func (p *propertyRun) call(method, path, body string) (int, []byte) {
	p.t.Helper()
	status, b := p.s.Call(method, path, body)
	if !json.Valid(b) && !strings.HasPrefix(path, "/t/") {
		p.fail("%s %s answered %d, not JSON: %.200q", method, path, status, b)
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		p.fail("%s %s answered %d: %.300s", method, path, status, b)
	}
	if status >= 400 && !strings.HasPrefix(path, "/t/") {
		var e api.ErrorBody
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			p.fail("%s %s refused with %d without a code: %.200s", method, path, status, b)
		}
	}
	return status, b
}

func (p *propertyRun) fail(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("seed %d step %d (%s): %s\nreplay: GUICHET_HUB_PROPERTY_SEED=%d go test -run TestPropertyTheWholeHub ./hub/server",
		p.seed, p.step, p.last, fmt.Sprintf(format, args...), p.seed)
}

// Choices the operations draw from.
var (
	propServices = []string{"A", "E", "A", "E", "Z", ""}
	propCounters = []string{"1", "2", "3", "4", "9", "1", "2", "nope", "\xff", strings.Repeat("9", 80)}
	propAgents   = []string{"ana", "bob", "cat", "dan", "eve", ""}
)

func (p *propertyRun) anyOf(xs []string) string { return xs[p.r.IntN(len(xs))] }

// ticketIDs returns the ids of the tickets the hub holds, and a few that
// do not exist.
func (p *propertyRun) anyTicket() string {
	var res struct{ Tickets []api.Ticket }
	_, b := p.call("GET", "/api/v1/tickets", "")
	json.Unmarshal(b, &res)
	if len(res.Tickets) == 0 || p.r.IntN(8) == 0 {
		return p.anyOf([]string{"nope", "0193b4e0-0000-7000-8000-000000000000", "%ff", strings.Repeat("x", 100)})
	}
	return res.Tickets[p.r.IntN(len(res.Tickets))].ID
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Bodies that are no request: each must get a 4xx with its code.
var badBodies = []string{
	`{"service":`, `{"service":"E"}{"service":"E"}`, `{"service":["E"]}`, `{"service":"E","unknown":1}`,
	`{"service":"E","priority":"vip"}`, `{"service":"E","channel":"pigeon"}`, `"E"`, `null`, `[]`,
	"{\"service\":\"E\",\"lang\":\"caf\xe9\"}", `{"service":"E","lang":"\ud800"}`,
	`{"service":"E","priority":"appointment","appointment_at":"9999-12-31T23:30:00Z"}`,
	`{"service":"E","priority":"appointment","appointment_at":"0001-01-01T00:00:00+14:00"}`,
	`{"service":"E","citizen":"` + strings.Repeat("c", 500) + `"}`,
	`{"service":"` + strings.Repeat("E", 70<<10) + `"}`,
	`{"service":"E","offline_number":901,"issued_at":"2026-01-01T00:00:00Z"}`,
	`{"reason":"` + strings.Repeat("pause ", 60) + `"}`, "{\"reason\":\"\x1b[2J\"}",
}

// Payloads a device publishes on its command topic that are no command.
var badCommands = []string{
	``, `{`, `[]`, `null`, `{"id":"x"}`, `{"id":"","op":"issue_ticket"}`, `{"id":"a b","op":"call_next"}`,
	`{"id":"x1","op":"launch"}`, `{"id":"x2","op":"issue_ticket","args":{"service":1}}`,
	"{\"id\":\"x3\",\"op\":\"issue_ticket\",\"args\":{\"service\":\"\xff\"}}",
	`{"id":"x4","op":"issue_ticket","args":{"service":"E","citizen":"c-1"}}`,
	`{"id":"x5","op":"issue_ticket","args":{"service":"E","force":true}}`,
	`{"id":"x6","op":"issue_ticket","args":{"service":"E","appointment_at":"9999-12-31T23:30:00Z","priority":"appointment"}}`,
	`{"id":"x7","op":"call_next","args":{"counter":"2"}}`,
	`{"id":"` + strings.Repeat("x", 100) + `","op":"call_next"}`,
	`{"id":"x8","op":"issue_ticket","args":{"service":"` + strings.Repeat("E", 20<<10) + `"}}`,
}
