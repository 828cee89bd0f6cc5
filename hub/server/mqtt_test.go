package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// brokers runs a test against the embedded broker and against Mosquitto.
func brokers(t *testing.T, test func(t *testing.T, s *sitetest.Site)) {
	for _, b := range []struct {
		name string
		o    sitetest.Options
	}{{"embedded", sitetest.Options{}}, {"mosquitto", sitetest.Options{Mosquitto: true}}} {
		t.Run(b.name, func(t *testing.T) { test(t, sitetest.Start(t, b.o)) })
	}
}

func send(t *testing.T, l interface {
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
