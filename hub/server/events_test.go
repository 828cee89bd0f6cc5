package server_test

import (
	paho "github.com/eclipse/paho.mqtt.golang"

	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// Every event reaches a consumer with a persistent session at QoS 1 —
// Node-RED as a town runs it — however it was away: stopped, killed, away
// while the hub restarted, or connected while the hub restarted under it.
func TestEventsReachAConsumerThatWasAway(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		c := sitetest.NewConsumer(t, s.MQTTURL, s.Topics, "nodered", s.AddDevice("nodered", api.RoleIntegration, ""))
		c.Start()
		// A witness that stays connected: once it has an event, the broker
		// had it, and queued it for the consumer if it was away.
		witness := sitetest.NewConsumer(t, s.MQTTURL, s.Topics, "witness", s.AddDevice("witness", api.RoleIntegration, ""))
		witness.Start()
		_, from := sitetest.EventIDs(t, s.HTTPURL, s.Token, s.Topics.Site, 0)
		issue := func(n int) {
			t.Helper()
			for range n {
				s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
			}
		}
		all := func(what string) {
			t.Helper()
			ids, _ := sitetest.EventIDs(t, s.HTTPURL, s.Token, s.Topics.Site, from)
			t.Logf("%s: %d events", what, len(ids))
			c.WaitFor(ids, 15*time.Second)
		}
		issue(3)
		all("connected")

		c.Stop()
		issue(5)
		c.Start()
		all("after the consumer stopped")

		// Node-RED killed: the process dies, its socket closes without a DISCONNECT.
		c.Stop()
		c.StartProcess()
		issue(2)
		all("as mosquitto_sub")
		c.Kill()
		issue(5)
		c.StartProcess()
		all("after the consumer was killed")

		c.Stop()
		c.Start()
		c.Stop()
		issue(5)
		// Published to the broker, queued for the consumer, then the hub restarts.
		ids, _ := sitetest.EventIDs(t, s.HTTPURL, s.Token, s.Topics.Site, from)
		witness.WaitFor(ids, 5*time.Second)
		s.Restart()
		c.Start()
		all("after the hub restarted while the consumer was away")

		issue(3)
		s.Restart()
		issue(3)
		all("after the hub restarted under the consumer")
		t.Logf("%d events received twice", c.Repeats())
	})
}

// An integration that publishes at QoS 1 (a command, its state) while
// events are in flight to it still gets every event it had not
// acknowledged when it comes back.
func TestConsumerThatPublishesGetsItsUnacknowledgedEventsAgain(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		secret := s.AddDevice("nodered", api.RoleIntegration, "")
		lazy, err := dialWith(t, s, "nodered", "nodered", secret, func(o *paho.ClientOptions) {
			o.SetCleanSession(false).SetAutoAckDisabled(true) // receives, never acknowledges
		})
		if err != nil {
			t.Fatal(err)
		}
		lazy.subscribe(s.Topics.EventsFilter())
		_, from := sitetest.EventIDs(t, s.HTTPURL, s.Token, s.Topics.Site, 0)
		for range 10 {
			s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
		}
		ids, _ := sitetest.EventIDs(t, s.HTTPURL, s.Token, s.Topics.Site, from)
		sitetest.Eventually(t, 5*time.Second, "the events reached the consumer", func() bool {
			return len(lazy.messages(s.Topics.Event("ticket.issued"))) >= 10
		})
		for range 10 {
			lazy.publish(s.Topics.DeviceState("nodered"), []byte(`{"online":true,"role":"integration"}`))
		}
		lazy.c.Disconnect(100)
		c := sitetest.NewConsumer(t, s.MQTTURL, s.Topics, "nodered", secret)
		c.Start()
		c.WaitFor(ids, 10*time.Second)
	})
}
