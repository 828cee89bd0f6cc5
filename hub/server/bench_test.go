package server_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hub/server"
	"guichet/internal/measure"
	"guichet/internal/sitetest"
)

// benchBrokers runs a benchmark against each broker, side by side.
func benchBrokers(b *testing.B, run func(b *testing.B, s *sitetest.Site)) {
	for _, name := range []string{"embedded", "mosquitto"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				run(b, sitetest.Start(b, sitetest.Options{Mosquitto: name == "mosquitto"}))
			}
		})
	}
}

// register adds n devices straight in the registry (prefix-000, prefix-001…)
// and returns their secrets once the broker knows them all.
func register(b *testing.B, s *sitetest.Site, prefix, role string, n int, counter func(int) string) []string {
	secrets := make([]string, n)
	for i := range secrets {
		sec, err := s.Devices.Add(fmt.Sprintf("%s-%03d", prefix, i), role, counter(i), "bench")
		if err != nil {
			b.Fatal(err)
		}
		secrets[i] = sec
	}
	if s.Mosquitto != nil {
		// Signals coalesce: reload once more now that every file is written.
		reloads := s.Mosquitto.Reloads()
		server.ReloadMosquitto(s.Mosquitto.PIDFile, slog.Default())
		s.Mosquitto.WaitReload(reloads)
	}
	return secrets
}

// devicesUp registers n devices and opens their links.
func devicesUp(b *testing.B, s *sitetest.Site, prefix, role string, n int, counter func(int) string) []*link.Link {
	secrets := register(b, s, prefix, role, n, counter)
	links := make([]*link.Link, n)
	for i := range links {
		links[i] = s.Link(fmt.Sprintf("%s-%03d", prefix, i), secrets[i], role)
	}
	for _, l := range links {
		sitetest.Eventually(b, 30*time.Second, "links up", l.Connected)
	}
	return links
}

// BenchmarkCommandRoundTrip200Devices: 200 devices, each issuing a ticket
// every 0.5–1.5 s (about 200 commands/s in all, twenty times a busy town
// hall's peak); the round trip is from the device's publish to its reply.
// The devices are plain MQTT clients here: the link's own cost (journal
// before sending) is BenchmarkLinkSend's. Target p99 < 10 ms on loopback.
func BenchmarkCommandRoundTrip200Devices(b *testing.B) {
	benchBrokers(b, func(b *testing.B, s *sitetest.Site) {
		const n, rounds = 200, 10
		secrets := register(b, s, "kiosk", api.RoleKiosk, n, func(int) string { return "" })
		var mu sync.Mutex
		var lat measure.Latencies
		var wg sync.WaitGroup
		start := time.Now()
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("kiosk-%03d", i)
			replies := make(chan []byte, 4)
			o := paho.NewClientOptions().AddBroker(s.MQTTURL).SetClientID(id).SetUsername(id).SetPassword(secrets[i]).
				SetOrderMatters(true).SetCleanSession(true)
			c := paho.NewClient(o)
			if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				b.Fatalf("connect %s: %v", id, tok.Error())
			}
			defer c.Disconnect(0)
			if tok := c.Subscribe(s.Topics.Reply(id), 1, func(_ paho.Client, m paho.Message) { replies <- m.Payload() }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				b.Fatal(tok.Error())
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(i), 9))
				for k := 0; k < rounds; k++ {
					time.Sleep(time.Duration(500+r.IntN(1000)) * time.Millisecond)
					cmd := fmt.Sprintf(`{"id":"%s-%d","op":"issue_ticket","args":{"service":"A"}}`, id, k)
					t0 := time.Now()
					c.Publish(s.Topics.Cmd(id), 1, false, cmd)
					select {
					case p := <-replies:
						if !json.Valid(p) || !strings.Contains(string(p), `"ok":true`) {
							b.Errorf("reply %s", p)
							return
						}
					case <-time.After(10 * time.Second):
						b.Error("no reply in 10 s")
						return
					}
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(len(lat))/time.Since(start).Seconds(), "commands/s")
		lat.Report(b, "rtt-")
	})
}

// BenchmarkLinkSend: one device's Send through its link, journal included
// (SQLite, synchronous=FULL), to the reply.
func BenchmarkLinkSend(b *testing.B) {
	benchBrokers(b, func(b *testing.B, s *sitetest.Site) {
		l := devicesUp(b, s, "kiosk", api.RoleKiosk, 1, func(int) string { return "" })[0]
		var lat measure.Latencies
		for k := 0; k < 300; k++ {
			t0 := time.Now()
			send(b, l, api.OpIssueTicket, api.IssueArgs{Service: "A"})
			lat = append(lat, time.Since(t0))
		}
		lat.Report(b, "send-")
	})
}

// BenchmarkCallNextToBoard: 4 counter terminals call next at random; a
// display follows the retained board; latency from sending call_next to the
// board message showing that ticket. Target p99 < 10 ms.
func BenchmarkCallNextToBoard(b *testing.B) {
	benchBrokers(b, func(b *testing.B, s *sitetest.Site) {
		desks := devicesUp(b, s, "desk", api.RoleCounter, 4, func(i int) string { return fmt.Sprint(i + 1) })
		screen := devicesUp(b, s, "screen", api.RoleDisplay, 1, func(int) string { return "" })[0]
		for i, d := range desks {
			send(b, d, api.OpOpen, api.OpenArgs{Agent: []string{"ana", "bob", "cat", "dan"}[i]})
		}
		const calls = 400
		for i := 0; i < calls; i++ {
			s.Must("POST", "/api/v1/tickets", `{"service":"E"}`, 201, nil)
		}
		var mu sync.Mutex
		seen := map[string]time.Time{}
		screen.Follow(s.Topics.Board(), func(p []byte) {
			var bd api.Board
			if json.Unmarshal(p, &bd) == nil && len(bd.Calls) > 0 {
				mu.Lock()
				if _, ok := seen[bd.Calls[0].Ticket]; !ok {
					seen[bd.Calls[0].Ticket] = time.Now()
				}
				mu.Unlock()
			}
		})
		var lat measure.Latencies
		r := rand.New(rand.NewPCG(1, 1))
		for i := 0; i < calls; i++ {
			d := desks[r.IntN(len(desks))]
			time.Sleep(time.Duration(5+r.IntN(15)) * time.Millisecond)
			t0 := time.Now()
			rep := send(b, d, api.OpCallNext, nil)
			var c api.Counter
			if !rep.OK || json.Unmarshal(rep.Result, &c) != nil || c.Ticket == nil {
				b.Fatalf("call next: %+v", rep.Error)
			}
			var at time.Time
			sitetest.Eventually(b, 5*time.Second, "board shows "+c.Ticket.Number, func() bool {
				mu.Lock()
				defer mu.Unlock()
				at = seen[c.Ticket.Number]
				return !at.IsZero()
			})
			lat = append(lat, at.Sub(t0))
		}
		lat.Report(b, "call-to-board-")
	})
}
