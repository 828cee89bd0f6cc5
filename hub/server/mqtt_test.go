package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/internal/sitetest"
)

// brokers runs a test against the embedded broker and against Mosquitto.
func brokers(t *testing.T, test func(t *testing.T, s *sitetest.Site)) {
	brokersWith(t, sitetest.Options{}, test)
}

// brokersWith runs a test on a site of options o, with each broker.
func brokersWith(t *testing.T, o sitetest.Options, test func(t *testing.T, s *sitetest.Site)) {
	for _, name := range []string{"embedded", "mosquitto"} {
		o.Mosquitto = name == "mosquitto"
		t.Run(name, func(t *testing.T) { test(t, sitetest.Start(t, o)) })
	}
}

func send(t testing.TB, l interface {
	Send(context.Context, string, any) (api.Reply, error)
}, op string, args any) api.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := l.Send(ctx, op, args)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return r
}

func TestDeviceIssuesCallsAndFinishesOverMQTT(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		kiosk := s.Link("kiosk-hall", s.AddDevice("kiosk-hall", api.RoleKiosk, ""), api.RoleKiosk)
		desk := s.Link("desk-3", s.AddDevice("desk-3", api.RoleCounter, "3"), api.RoleCounter)
		counter := make(chan api.Counter, 16)
		desk.Follow(s.Topics.Counter("3"), func(p []byte) {
			var c api.Counter
			json.Unmarshal(p, &c)
			counter <- c
		})

		r := send(t, kiosk, api.OpIssueTicket, api.IssueArgs{Service: "E"})
		var tk api.Ticket
		if !r.OK || json.Unmarshal(r.Result, &tk) != nil || tk.Number != "E001" || tk.Device != "kiosk-hall" {
			t.Fatalf("issue: %+v %s", r, r.Result)
		}
		if r := send(t, desk, api.OpOpen, api.OpenArgs{Agent: "bob"}); !r.OK {
			t.Fatalf("open: %+v", r.Error)
		}
		r = send(t, desk, api.OpCallNext, nil)
		var c api.Counter
		if !r.OK || json.Unmarshal(r.Result, &c) != nil || c.Ticket == nil || c.Ticket.Number != "E001" {
			t.Fatalf("call next: %+v %s", r, r.Result)
		}
		// The retained counter topic follows.
		deadline := time.After(5 * time.Second)
		for got := false; !got; {
			select {
			case c := <-counter:
				got = c.Ticket != nil && c.Ticket.Number == "E001" && c.AgentState == "serving"
			case <-deadline:
				t.Fatal("counter/3 never showed E001")
			}
		}
		if r := send(t, desk, api.OpFinish, nil); !r.OK {
			t.Fatalf("finish: %+v", r.Error)
		}

		// A device that arrives late sees the board at once, from the retained message.
		late := s.Link("screen", s.AddDevice("screen", api.RoleDisplay, ""), api.RoleDisplay)
		board := make(chan api.Board, 4)
		late.Follow(s.Topics.Board(), func(p []byte) {
			var b api.Board
			json.Unmarshal(p, &b)
			board <- b
		})
		select {
		case b := <-board:
			if len(b.Calls) != 1 || b.Calls[0].Ticket != "E001" || b.Calls[0].CounterName != "Guichet 3" {
				t.Fatalf("board %+v", b)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a late subscriber got no retained board")
		}
		var q api.Queue
		queue := make(chan []byte, 4)
		late.Follow(s.Topics.Queue(), func(p []byte) { queue <- p })
		select {
		case p := <-queue:
			if json.Unmarshal(p, &q) != nil || len(q.Services) != 2 {
				t.Fatalf("queue %s", p)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no retained queue summary")
		}
		var dev api.Device
		sitetest.Eventually(t, 5*time.Second, "the hub sees kiosk-hall online", func() bool {
			s.Must("GET", "/api/v1/devices/kiosk-hall", "", 200, &dev)
			return dev.Online
		})
	})
}

func TestBrokerRestartWithCommandsInFlightDoesEachOnce(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		const kiosks, each = 4, 25
		var links []*link.Link
		replies := make(chan api.Reply, kiosks*each*2)
		for k := 0; k < kiosks; k++ {
			id := fmt.Sprintf("kiosk-%d", k)
			l := s.Link(id, s.AddDevice(id, api.RoleKiosk, ""), api.RoleKiosk)
			l.OnReply(func(_ link.Entry, r api.Reply) { replies <- r })
			links = append(links, l)
		}
		for _, l := range links {
			sitetest.Eventually(t, 10*time.Second, "links up", l.Connected)
		}
		var wg sync.WaitGroup
		for k, l := range links {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					if err := l.Enqueue(fmt.Sprintf("k%d-%02d", k, i), api.OpIssueTicket, api.IssueArgs{Service: "A"}); err != nil {
						t.Error(err)
					}
					time.Sleep(2 * time.Millisecond)
				}
			}()
		}
		// Restart when some commands are done and others are on the wire or not sent.
		done := 0
		sitetest.Eventually(t, 10*time.Second, "the first tickets", func() bool {
			s.Engine(func(e *queue.Engine) { done = e.WaitingCount() })
			return done >= 10
		})
		if done >= kiosks*each {
			t.Fatal("every command was done before the restart")
		}
		t.Logf("restarting the broker with %d of %d commands done", done, kiosks*each)
		if s.Mosquitto != nil {
			s.Mosquitto.Stop() // SIGKILL: what it had queued is lost
			s.Mosquitto.Start()
		} else {
			s.Restart()
		}
		wg.Wait()
		seen := map[string]string{}
		deadline := time.After(45 * time.Second)
		for len(seen) < kiosks*each {
			select {
			case r := <-replies:
				var tk api.Ticket
				if !r.OK || json.Unmarshal(r.Result, &tk) != nil {
					t.Fatalf("reply %+v", r)
				}
				seen[r.ID] = tk.ID
			case <-deadline:
				t.Fatalf("%d of %d commands answered after the broker restart", len(seen), kiosks*each)
			}
		}
		for _, l := range links {
			sitetest.Eventually(t, 5*time.Second, "outboxes empty", func() bool { return l.Pending() == 0 })
		}
		tickets := s.Tickets()
		if len(tickets) != kiosks*each {
			t.Fatalf("%d tickets for %d commands", len(tickets), kiosks*each)
		}
		byID := map[string]bool{}
		for _, tk := range tickets {
			byID[tk.ID] = true
		}
		for cmd, tk := range seen {
			if !byID[tk] {
				t.Fatalf("command %s answered with ticket %s, which the hub does not hold", cmd, tk)
			}
		}
	})
}

func TestIntegrationReceivesEveryEventAsACloudEvent(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		secret := s.AddDevice("nodered", api.RoleIntegration, "")
		r, err := dial(t, s, "nodered", "nodered", secret)
		if err != nil {
			t.Fatal(err)
		}
		if q := r.subscribe(s.Topics.EventsFilter()); q == 0x80 {
			t.Fatal("events refused to an integration")
		}
		var tk api.Ticket
		s.Must("POST", "/api/v1/tickets", `{"service":"A","channel":"phone"}`, 201, &tk)
		s.Must("POST", "/api/v1/counters/9/open", `{"agent":"ana"}`, 200, nil)
		s.Must("POST", "/api/v1/counters/9/next", ``, 200, nil)
		topic := s.Topics.Event("ticket.called")
		sitetest.Eventually(t, 5*time.Second, "ticket.called on "+topic, func() bool { return len(r.messages(topic)) > 0 })
		var ce struct {
			SpecVersion string `json:"specversion"`
			ID          string `json:"id"`
			Source      string `json:"source"`
			Type        string `json:"type"`
			Subject     string `json:"subject"`
			Time        string `json:"time"`
			Sequence    string `json:"sequence"`
			Data        struct {
				Counter string `json:"counter"`
				Agent   string `json:"agent"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.messages(topic)[0], &ce); err != nil {
			t.Fatal(err)
		}
		if ce.SpecVersion != "1.0" || ce.Type != "ticket.called" || ce.Source != "urn:guichet:test" || ce.Subject != tk.ID ||
			ce.ID != "test-"+ce.Sequence || ce.Data.Counter != "9" || ce.Data.Agent != "ana" || ce.Time == "" {
			t.Fatalf("cloud event %+v", ce)
		}
		issued := r.messages(s.Topics.Event("ticket.issued"))
		if len(issued) != 1 || !strings.Contains(string(issued[0]), `"channel":"phone"`) {
			t.Fatalf("ticket.issued: %s", issued)
		}
	})
}

func TestDevicesCanUseTLS(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{TLS: true})
	o := s.LinkOptions("kiosk-tls", s.AddDevice("kiosk-tls", api.RoleKiosk, ""), api.RoleKiosk, t.TempDir())
	o.Broker, o.TLS = s.TLSURL, &tls.Config{RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
	l, err := link.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if r := send(t, l, api.OpIssueTicket, api.IssueArgs{Service: "A"}); !r.OK {
		t.Fatalf("issue over TLS: %+v", r.Error)
	}
	// Plain MQTT on the TLS port does not get in.
	plain := strings.Replace(s.TLSURL, "ssl://", "tcp://", 1)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(plain).SetClientID("kiosk-tls-plain").SetUsername("kiosk-tls").
		SetPassword(o.Secret).SetConnectTimeout(2 * time.Second).SetAutoReconnect(false))
	if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		c.Disconnect(0)
		t.Fatal("plain MQTT accepted on the TLS listener")
	}
}

// The bus keeps its place in the log in memory and writes it when it stops:
// a hub restarted on the same broker goes on where it was, publishing no
// event twice and none lost.
func TestEventsGoOnAfterARestartWithoutRepeats(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Mosquitto: true}) // the broker outlives the hub
	secret := s.AddDevice("crm", api.RoleIntegration, "")
	r, err := dial(t, s, "crm", "crm", secret)
	if err != nil {
		t.Fatal(err)
	}
	r.subscribe(s.Topics.EventsFilter())
	topic := s.Topics.Event("ticket.issued")
	issued := func(n int) {
		t.Helper()
		sitetest.Eventually(t, 5*time.Second, fmt.Sprintf("%d ticket.issued events", n), func() bool { return len(r.messages(topic)) >= n })
	}
	for range 3 {
		s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	}
	issued(3)
	s.Restart()
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	issued(4)
	time.Sleep(500 * time.Millisecond) // time for a repeat to arrive
	var seqs []string
	for _, m := range r.messages(topic) {
		var ce struct{ Sequence string }
		json.Unmarshal(m, &ce)
		seqs = append(seqs, ce.Sequence)
	}
	if len(seqs) != 4 || seqs[0] == seqs[3] {
		t.Fatalf("ticket.issued sequences %v, want 4 distinct", seqs)
	}
}

// TestCounterTerminalTransfersToAnAgentWithANoteOverMQTT: the transfer op
// of the wire contract takes an agent and a note; the agent's counter
// terminal sees the ticket, with its note as sent, on its retained topic.
func TestCounterTerminalTransfersToAnAgentWithANoteOverMQTT(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	desk1 := s.Link("desk-1", s.AddDevice("desk-1", api.RoleCounter, "1"), api.RoleCounter)
	desk2 := s.Link("desk-2", s.AddDevice("desk-2", api.RoleCounter, "2"), api.RoleCounter)
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	for _, x := range []struct {
		l interface {
			Send(context.Context, string, any) (api.Reply, error)
		}
		agent string
	}{{desk1, "ana"}, {desk2, "dan"}} {
		if r := send(t, x.l, api.OpOpen, api.OpenArgs{Agent: x.agent}); !r.OK {
			t.Fatalf("open: %+v", r.Error)
		}
	}
	if r := send(t, desk2, api.OpPause, api.PauseArgs{Reason: "Réunion"}); !r.OK {
		t.Fatalf("pause: %+v", r.Error)
	}
	if r := send(t, desk1, api.OpCallNext, nil); !r.OK {
		t.Fatalf("call next: %+v", r.Error)
	}
	const note = `<script>alert("x")</script> dossier complet`
	r := send(t, desk1, api.OpTransfer, api.TransferArgs{Agent: "dan", Note: note})
	if !r.OK {
		t.Fatalf("transfer to dan: %+v", r.Error)
	}
	r = send(t, desk1, api.OpTransfer, api.TransferArgs{Agent: "bob"})
	if r.OK || r.Error.Code != api.CodeNoTicket {
		t.Fatalf("second transfer: %+v", r)
	}
	// ana cannot call it: it is held for dan.
	if r := send(t, desk1, api.OpCallNext, nil); r.OK || r.Error.Code != api.CodeQueueEmpty {
		t.Fatalf("ana's call next: %+v", r)
	}
	counter := make(chan api.Counter, 16)
	desk2.Follow(s.Topics.Counter("2"), func(p []byte) {
		var c api.Counter
		json.Unmarshal(p, &c)
		counter <- c
	})
	send(t, desk2, api.OpResume, nil)
	if r := send(t, desk2, api.OpCallNext, nil); !r.OK {
		t.Fatalf("dan's call next: %+v", r.Error)
	}
	deadline := time.After(5 * time.Second)
	for got := false; !got; {
		select {
		case c := <-counter:
			got = c.Ticket != nil && c.Ticket.Number == "A001" && c.Ticket.Note == note
		case <-deadline:
			t.Fatal("counter/2 never showed A001 with its note")
		}
	}
}
