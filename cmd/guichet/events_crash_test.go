package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// TestEventsReachAConsumerAcrossHubKills kills a hub process (SIGKILL)
// while tickets are issued over HTTP, restarts it on the same data and
// addresses, and checks that an integration's persistent session at QoS 1
// receives every event of the log — whether it stayed connected or was
// away during the kill — with each broker: the hub's embedded one, and a
// Mosquitto that outlives the hub.
func TestEventsReachAConsumerAcrossHubKills(t *testing.T) {
	for _, broker := range []string{"embedded", "mosquitto"} {
		t.Run(broker, func(t *testing.T) {
			dir := t.TempDir()
			topics := api.Topics{Site: "test"}
			var extra []string
			var m *sitetest.Mosquitto
			if broker == "mosquitto" {
				t.Setenv("GUICHET_MQTT_PASSWORD", sitetest.HubPassword)
				m = sitetest.StartMosquitto(t, filepath.Join(dir, "mosquitto"), topics)
				extra = []string{"--mqtt-url", m.URL, "--mosquitto-dir", m.Dir, "--mosquitto-pid", m.PIDFile}
			} else {
				extra = []string{"--mqtt", fmt.Sprintf("127.0.0.1:%d", sitetest.FreePort(t))} // the same port after each restart
			}
			p := startHubProcess(t, dir, extra...)
			reloads := m.Reloads()
			st, _, body, err := p.call(context.Background(), "POST", "/api/v1/devices", `{"id":"nodered","role":"integration"}`)
			if err != nil || st != 201 {
				t.Fatalf("add device: %d %s %v", st, body, err)
			}
			m.WaitReload(reloads)
			var nd api.NewDevice
			if err := json.Unmarshal(body, &nd); err != nil {
				t.Fatal(err)
			}
			c := sitetest.NewConsumer(t, p.mqtt, topics, "nodered", nd.Secret)
			c.Start()
			_, from := sitetest.EventIDs(t, p.url, adminTok, topics.Site, 0)

			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
			for cycle := range 4 {
				away := cycle%2 == 1 // away during this kill, back after the restart
				if away {
					c.Stop()
				}
				issued := issueUntilKilled(p, time.Duration(150+r.IntN(400))*time.Millisecond)
				t.Logf("cycle %d (consumer away: %v): hub killed after %d tickets", cycle, away, issued)
				p = startHubProcess(t, dir, extra...)
				if away {
					c.Start()
				}
				for range 3 {
					p.call(context.Background(), "POST", "/api/v1/tickets", `{"service":"A"}`)
				}
				ids, _ := sitetest.EventIDs(t, p.url, adminTok, topics.Site, from)
				c.WaitFor(ids, 30*time.Second)
				t.Logf("cycle %d: all %d events received (%d more than once)", cycle, len(ids), c.Repeats())
			}
		})
	}
}

// issueUntilKilled issues tickets from 4 clients and kills the hub (SIGKILL)
// after d; it returns how many tickets were acknowledged.
func issueUntilKilled(p *hubProcess, d time.Duration) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				st, _, _, err := p.call(context.Background(), "POST", "/api/v1/tickets", `{"service":"A"}`)
				if err != nil {
					return
				}
				if st == 201 {
					mu.Lock()
					n++
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(d) // a random moment in the stream
	p.cmd.Process.Kill()
	p.cmd.Wait()
	close(stop)
	wg.Wait()
	return n
}
