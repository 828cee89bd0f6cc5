package sitetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
)

// Consumer follows the hub's events as the town's integration would
// (Node-RED, a CRM bridge): a persistent session (clean session off) at
// QoS 1 on events/#, subscribing again at every connection. It records the
// id of every CloudEvent it receives. It runs as a paho client (Start) or
// as a mosquitto_sub process (StartProcess), which can be stopped
// (DISCONNECT) or killed (SIGKILL: no DISCONNECT), and started again with
// the same session; while it runs, it reconnects by itself.
type Consumer struct {
	t      testing.TB
	broker string
	topics api.Topics
	id     string
	secret string

	mu     sync.Mutex
	client paho.Client    // with Start
	proc   *exec.Cmd      // with StartProcess
	away   bool           // refuse to connect: stopped
	seen   map[string]int // CloudEvent id → times received
}

// NewConsumer returns a consumer for the integration device id; Start
// connects it.
func NewConsumer(t testing.TB, broker string, topics api.Topics, id, secret string) *Consumer {
	c := &Consumer{t: t, broker: broker, topics: topics, id: id, secret: secret, seen: map[string]int{}}
	t.Cleanup(func() { c.Stop() })
	return c
}

// Start connects and subscribes, and waits until it is subscribed.
func (c *Consumer) Start() {
	c.t.Helper()
	subscribed := make(chan error, 1)
	o := paho.NewClientOptions().AddBroker(c.broker).SetClientID(c.id).SetUsername(c.id).SetPassword(c.secret).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(100 * time.Millisecond).SetMaxReconnectInterval(200 * time.Millisecond).
		SetKeepAlive(5 * time.Second).SetConnectTimeout(2 * time.Second).
		// Messages of the session arrive right after CONNACK, before the subscription.
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { c.record(m) }).
		SetOnConnectHandler(func(cl paho.Client) {
			tok := cl.Subscribe(c.topics.EventsFilter(), 1, func(_ paho.Client, m paho.Message) { c.record(m) })
			go func() {
				tok.WaitTimeout(5 * time.Second)
				select {
				case subscribed <- tok.Error():
				default:
				}
			}()
		}).
		SetCustomOpenConnectionFn(func(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.away {
				return nil, fmt.Errorf("consumer %s is away", c.id)
			}
			return net.DialTimeout("tcp", u.Host, 2*time.Second)
		})
	c.mu.Lock()
	c.away = false
	c.client = paho.NewClient(o)
	cl := c.client
	c.mu.Unlock()
	cl.Connect()
	select {
	case err := <-subscribed:
		if err != nil {
			c.t.Fatalf("consumer %s: subscribe: %v", c.id, err)
		}
	case <-time.After(10 * time.Second):
		c.t.Fatalf("consumer %s not subscribed after 10 s", c.id)
	}
}

// Stop disconnects cleanly (DISCONNECT); the session stays on the broker.
func (c *Consumer) Stop() {
	c.mu.Lock()
	cl, cmd := c.client, c.proc
	c.client, c.proc, c.away = nil, nil, true
	c.mu.Unlock()
	if cl != nil {
		cl.Disconnect(100)
	}
	if cmd != nil {
		cmd.Process.Signal(os.Interrupt) // mosquitto_sub disconnects cleanly
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			c.t.Logf("mosquitto_sub %s still running 5 s after SIGINT: killed", c.id)
			cmd.Process.Kill()
			<-exited
		}
	}
}

// StartProcess runs the consumer as a mosquitto_sub process, with the
// same persistent session (-c, QoS 1), and waits until it is subscribed.
// mosquitto_sub reconnects by itself when the broker goes away.
func (c *Consumer) StartProcess() {
	c.t.Helper()
	u, err := url.Parse(c.broker)
	if err != nil {
		c.t.Fatal(err)
	}
	// stdbuf: mosquitto_sub's debug lines (SUBACK) are written at once, not when a message comes.
	cmd := exec.Command("stdbuf", "-oL", "mosquitto_sub", "-h", u.Hostname(), "-p", u.Port(), "-u", c.id, "-P", c.secret, "-i", c.id,
		"-c", "-q", "1", "-d", "-t", c.topics.EventsFilter())
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("mosquitto_sub: %v (make test installs it)", err)
	}
	subscribed := make(chan struct{})
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			switch {
			case bytes.HasPrefix(line, []byte("{")):
				c.recordPayload("events", line)
			case bytes.Contains(line, []byte("received SUBACK")):
				once.Do(func() { close(subscribed) })
			}
		}
	}()
	c.mu.Lock()
	c.proc, c.away = cmd, false
	c.mu.Unlock()
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		c.t.Fatalf("mosquitto_sub %s not subscribed after 10 s", c.id)
	}
}

// Kill kills the mosquitto_sub process of StartProcess (SIGKILL): its
// socket closes without a DISCONNECT, as when Node-RED is killed.
func (c *Consumer) Kill() {
	c.t.Helper()
	c.mu.Lock()
	cmd := c.proc
	c.proc = nil
	c.mu.Unlock()
	if cmd == nil {
		c.t.Fatal("Kill needs a consumer started with StartProcess")
	}
	cmd.Process.Kill()
	cmd.Wait()
}

func (c *Consumer) record(m paho.Message) { c.recordPayload(m.Topic(), m.Payload()) }

func (c *Consumer) recordPayload(topic string, payload []byte) {
	var ce struct{ ID string }
	if err := json.Unmarshal(payload, &ce); err != nil || ce.ID == "" {
		c.t.Errorf("consumer %s: not a CloudEvent on %s: %.100q", c.id, topic, payload)
		return
	}
	c.mu.Lock()
	c.seen[ce.ID]++
	c.mu.Unlock()
}

// Missing returns those of ids not received yet.
func (c *Consumer) Missing(ids []string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, id := range ids {
		if c.seen[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// Repeats counts the events received more than once.
func (c *Consumer) Repeats() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.seen {
		if k > 1 {
			n++
		}
	}
	return n
}

// WaitFor waits until every event of ids was received, and fails the test
// with the missing ones otherwise.
func (c *Consumer) WaitFor(ids []string, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing := c.Missing(ids)
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			sort.Strings(missing)
			c.t.Fatalf("consumer %s: %d of %d events never arrived: %s", c.id, len(missing), len(ids),
				strings.Join(missing[:min(len(missing), 20)], " "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// EventIDs returns the CloudEvent ids of the log's events after seq, and
// the last sequence number, read over HTTP from the hub at base with token.
func EventIDs(t testing.TB, base, token, site string, after int64) ([]string, int64) {
	t.Helper()
	var ids []string
	for {
		var page struct {
			Events []struct{ Seq int64 }
			Next   int64
		}
		if err := getJSON(base+fmt.Sprintf("/api/v1/events?after=%d&limit=1000", after), token, &page); err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			ids = append(ids, fmt.Sprintf("%s-%d", site, ev.Seq))
		}
		if len(page.Events) == 0 {
			return ids, after
		}
		after = page.Next
	}
}

func getJSON(u, token string, v any) error {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}
