package server_test

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/internal/sitetest"
)

// follow collects the retained payloads of a counter's topic.
func followCounter(t *testing.T, s *sitetest.Site, l interface {
	Follow(string, func([]byte))
}, id string) <-chan api.Counter {
	ch := make(chan api.Counter, 64)
	l.Follow(s.Topics.Counter(id), func(p []byte) {
		var c api.Counter
		if json.Unmarshal(p, &c) == nil {
			ch <- c
		}
	})
	return ch
}

// waitCounter waits for the counter's retained state to show ticket.
func waitCounter(t *testing.T, ch <-chan api.Counter, number string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case c := <-ch:
			if c.Ticket != nil && c.Ticket.Number == number {
				return
			}
		case <-deadline:
			t.Fatalf("the counter's retained state never showed %s", number)
		}
	}
}

func TestAKioskCannotBreakTheQueueWithAYear9999Appointment(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		kiosk := s.Link("kiosk-hall", s.AddDevice("kiosk-hall", api.RoleKiosk, ""), api.RoleKiosk)
		desk := s.Link("desk-3", s.AddDevice("desk-3", api.RoleCounter, "3"), api.RoleCounter)
		counter := followCounter(t, s, desk, "3")
		for name, args := range map[string]string{
			"year 9999":      `{"service":"E","priority":"appointment","appointment_at":"9999-12-31T23:30:00Z"}`,
			"lone surrogate": `{"service":"E","lang":"fr\ud800"}`,
		} {
			r := send(t, kiosk, api.OpIssueTicket, json.RawMessage(args))
			if r.OK || r.Error == nil || r.Error.Code != api.CodeInvalid {
				t.Fatalf("%s: %+v %s, want %s", name, r.Error, r.Result, api.CodeInvalid)
			}
		}
		if !strings.Contains(s.Logs.String(), "command refused") || !strings.Contains(s.Logs.String(), "code=invalid_argument") {
			t.Fatal("no log line for the refused commands")
		}
		if r := send(t, kiosk, api.OpIssueTicket, api.IssueArgs{Service: "E"}); !r.OK {
			t.Fatalf("issue: %+v", r.Error)
		}
		if r := send(t, desk, api.OpOpen, api.OpenArgs{Agent: "bob"}); !r.OK {
			t.Fatalf("open: %+v", r.Error)
		}
		if r := send(t, desk, api.OpCallNext, nil); !r.OK {
			t.Fatalf("call next: %+v", r.Error)
		}
		waitCounter(t, counter, "E001")
		if n := len(s.Tickets()); n != 1 {
			t.Fatalf("%d tickets, want the one valid request's", n)
		}
	})
}

// An older build stored a year-9999 slot; the hub restarts on that log and
// the counter still calls it and shows it on its MQTT topic.
func TestAnOlderLogsYear9999SlotBreaksNoCounter(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		secret := s.AddDevice("desk-3", api.RoleCounter, "3")
		s.Stop()
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(s.Dir, "hub", "guichet.db")+"?_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		paris, _ := time.LoadLocation("Europe/Paris")
		ev, _ := json.Marshal(map[string]any{"at": now, "type": "ticket.issued", "ticket": "old-1", "service": "E", "number": 1,
			"day": now.In(paris).Format(time.DateOnly), "channel": "visit", "priority": "appointment",
			"appointment_at": "9999-12-31T23:30:00Z", "device": "kiosk-old", "token": "tok-old-1"})
		if _, err := db.Exec(`INSERT INTO events(at, type, ticket, actor, payload) VALUES (?, 'ticket.issued', 'old-1', 'old', ?)`, now.UnixMilli(), ev); err != nil {
			t.Fatal(err)
		}
		db.Close()
		s.Restart()
		desk := s.Link("desk-3", secret, api.RoleCounter)
		counter := followCounter(t, s, desk, "3")
		if r := send(t, desk, api.OpOpen, api.OpenArgs{Agent: "bob"}); !r.OK {
			t.Fatalf("open: %+v", r.Error)
		}
		if r := send(t, desk, api.OpCallNext, nil); !r.OK {
			t.Fatalf("call next on the old log: %+v", r.Error)
		}
		waitCounter(t, counter, "E001")
		s.Tickets()
	})
}

func TestAKioskClaimingTwoHoursEarlyDoesNotJumpTheQueue(t *testing.T) {
	brokers(t, func(t *testing.T, s *sitetest.Site) {
		kiosk := s.Link("kiosk-hall", s.AddDevice("kiosk-hall", api.RoleKiosk, ""), api.RoleKiosk)
		paris, _ := time.LoadLocation("Europe/Paris")
		today := time.Now().In(paris).Format(time.DateOnly)
		var number int
		sitetest.Eventually(t, 10*time.Second, "kiosk-hall's lease for A today", func() bool {
			s.Engine(func(e *queue.Engine) {
				for _, l := range e.Leases("kiosk-hall") {
					if l.Service == "A" && l.Day == today {
						number = l.From
					}
				}
			})
			return number != 0
		})
		var t0, t2 api.Ticket
		s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, &t0)
		r := send(t, kiosk, api.OpIssueTicket, api.IssueArgs{Service: "A"})
		var t1 api.Ticket
		if !r.OK || json.Unmarshal(r.Result, &t1) != nil {
			t.Fatalf("online ticket: %+v", r.Error)
		}
		s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, &t2)

		// It says it printed two hours ago (or at midnight, if that is later:
		// its number is today's).
		now := time.Now().In(paris)
		claim := now.Add(-2 * time.Hour)
		if midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 1, 0, paris); claim.Before(midnight) {
			claim = midnight
		}
		r = send(t, kiosk, api.OpIssueTicket, api.IssueArgs{Service: "A", OfflineNumber: number, IssuedAt: &claim,
			Token: "AAAAAAAAAAAAAAAAAAAAAA"})
		var off api.Ticket
		if !r.OK || json.Unmarshal(r.Result, &off) != nil {
			t.Fatalf("offline ticket: %+v", r.Error)
		}
		var waiting struct{ Tickets []api.Ticket }
		s.Must("GET", "/api/v1/tickets?state=waiting&service=A", "", 200, &waiting)
		var order []string
		for _, tk := range waiting.Tickets {
			order = append(order, tk.Number)
		}
		want := []string{t0.Number, t1.Number, off.Number, t2.Number}
		if strings.Join(order, " ") != strings.Join(want, " ") {
			t.Fatalf("waiting in the order %v, want %v: the offline ticket is placed no earlier than its kiosk's last online ticket", order, want)
		}
		if off.IssuedAt.Before(t1.IssuedAt) {
			t.Fatalf("offline ticket placed at %s, before its kiosk's online ticket at %s", off.IssuedAt, t1.IssuedAt)
		}
	})
}
