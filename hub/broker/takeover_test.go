package broker

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
)

// A consumer whose persistent session is taken over again and again — it
// reconnects while the hub publishes — gets every message published: none
// is lost with the old connection's session, and no message reaches the
// new connection before its CONNACK (paho drops such a connection).
func TestATakenOverSessionLosesNoMessage(t *testing.T) {
	b := start(t, Options{})
	secret, err := b.reg.Add("crm", api.RoleIntegration, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[int]bool{}
	record := func(m paho.Message) {
		n, err := strconv.Atoi(string(m.Payload()))
		if err != nil {
			return
		}
		mu.Lock()
		got[n] = true
		mu.Unlock()
	}
	c := consumer(t, b, "crm", secret, record)
	var sent atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := b.Publish(b.bus.Topics().Event("test"), []byte(strconv.Itoa(i)), false); err != nil {
				t.Error(err)
				return
			}
			sent.Store(int64(i + 1))
			if i%20 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for range 40 {
		next := consumer(t, b, "crm", secret, record) // takes the session over from c; its CONNACK comes first
		c.Disconnect(0)
		c = next
	}
	close(stop)
	<-done
	defer c.Disconnect(0)
	n := int(sent.Load())
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		var missing []int
		for i := range n {
			if !got[i] {
				missing = append(missing, i)
			}
		}
		mu.Unlock()
		if len(missing) == 0 {
			t.Logf("%d messages, all received across 40 take-overs", n)
			return
		}
		if time.Now().After(deadline) {
			for _, l := range strings.Split(b.logs.String(), "\n") {
				if strings.Contains(l, "quota") || strings.Contains(l, "handed") || strings.Contains(l, "WARN") {
					t.Log(l)
				}
			}
			t.Fatalf("%d of %d messages never received across 40 take-overs, the first %v", len(missing), n, missing[:min(len(missing), 10)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A consumer that publishes (its state) while events are in flight to it,
// and whose session is taken over meanwhile by its next connection, loses
// none of them: the message set aside while its publish was handled
// (packetids.go) goes to the new connection.
func TestAPublishDuringATakeOverLosesNoMessage(t *testing.T) {
	b := start(t, Options{})
	secret, err := b.reg.Add("crm", api.RoleIntegration, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	state := b.bus.Topics().DeviceState("crm")
	for round := range 15 {
		lazy := paho.NewClient(paho.NewClientOptions().AddBroker(b.url).SetClientID("crm").SetUsername("crm").SetPassword(secret).
			SetCleanSession(false).SetProtocolVersion(4).SetAutoReconnect(false).SetAutoAckDisabled(true).
			SetDefaultPublishHandler(func(paho.Client, paho.Message) {}))
		if tok := lazy.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		if tok := lazy.Subscribe(b.bus.Topics().EventsFilter(), 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		want := map[string]bool{}
		for i := range 10 {
			id := fmt.Sprintf("r%d-%d", round, i)
			want[id] = true
			if err := b.Publish(b.bus.Topics().Event("test"), []byte(id), false); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan struct{})
		go func() { // its state, with packet ids that collide with the events in flight
			defer close(done)
			for range 10 {
				lazy.Publish(state, 1, true, []byte(`{"online":true,"role":"integration"}`)).WaitTimeout(time.Second)
			}
		}()
		var mu sync.Mutex
		got := map[string]bool{}
		next := consumer(t, b, "crm", secret, func(m paho.Message) {
			mu.Lock()
			got[string(m.Payload())] = true
			mu.Unlock()
		})
		<-done
		lazy.Disconnect(0)
		eventually(t, fmt.Sprintf("round %d: the 10 events at the new connection", round), func() bool {
			mu.Lock()
			defer mu.Unlock()
			for id := range want {
				if !got[id] {
					return false
				}
			}
			return true
		})
		next.Disconnect(0)
	}
}
