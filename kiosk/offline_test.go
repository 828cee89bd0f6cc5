package kiosk_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/sitetest"
	"guichet/kiosk"
)

// printed is a ticket a kiosk printed, in the order they came out.
type printed struct {
	number string
	at     time.Time
}

// TestFiftyTicketsAcrossTwoKiosksWhileTheBrokerIsCut: every printed ticket
// is in the hub exactly once, in issue order; no two printed tickets share
// a number; the hub never issued a leased number.
func TestFiftyTicketsAcrossTwoKiosksWhileTheBrokerIsCut(t *testing.T) {
	cases := []struct {
		name      string
		mosquitto bool
		cut       func(s *sitetest.Site)
		restore   func(s *sitetest.Site)
	}{
		{"embedded broker cut", false, func(s *sitetest.Site) { s.Stop() }, func(s *sitetest.Site) { s.Restart() }},
		{"mosquitto cut", true, func(s *sitetest.Site) { s.Mosquitto.Stop() }, func(s *sitetest.Site) { s.Mosquitto.Start() }},
		// The broker stays up, the hub goes: requests go out and get no
		// answer, so each offline ticket replaces a request the hub will
		// find when it is back.
		{"hub down behind mosquitto", true, func(s *sitetest.Site) { s.Stop() }, func(s *sitetest.Site) { s.Restart() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Numbers start again at the site's midnight: a run across it
			// prints E901 once each day, which is right, and this test
			// cannot tell the days apart.
			paris, _ := time.LoadLocation("Europe/Paris")
			day := time.Now().In(paris).Format(time.DateOnly)
			s := sitetest.Start(t, sitetest.Options{Mosquitto: c.mosquitto})
			kiosks := []*rig{newRig(t, s, "kiosk-a"), newRig(t, s, "kiosk-b")}
			for _, r := range kiosks {
				r.close()
				r.timeout = 200 * time.Millisecond
				r.open()
				r.ready()
			}
			var out []printed
			issue := func(i int) {
				r := kiosks[i%2]
				res, err := r.kiosk.Issue(context.Background(), kiosk.Press{Service: []string{"A", "E"}[i/2%2], Lang: "fr"})
				if err != nil {
					t.Fatalf("ticket %d: %v", i, err)
				}
				out = append(out, printed{res.Number, time.Now()})
				time.Sleep(2 * time.Millisecond) // distinct issue times
			}
			for i := 0; i < 10; i++ {
				issue(i)
			}
			c.cut(s)
			for i := 10; i < 40; i++ {
				issue(i)
			}
			offline := 0
			for _, p := range out[10:] {
				if p.number[1] == '9' {
					offline++
				}
			}
			if offline < 25 {
				t.Fatalf("only %d of 30 tickets printed offline while cut", offline)
			}
			c.restore(s)
			for i := 40; i < 50; i++ {
				issue(i)
			}
			// Every kiosk delivers what it printed.
			for _, r := range kiosks {
				deadline := time.Now().Add(30 * time.Second)
				for r.link.Pending() != 0 {
					if time.Now().After(deadline) {
						for _, e := range r.link.PendingEntries() {
							t.Logf("pending %s %s %s", e.ID, e.Op, e.Payload)
						}
						t.Logf("hub logs:\n%s", grepLines(s.Logs.String(), r.id))
						t.Fatalf("%s's outbox not empty", r.id)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			if time.Now().In(paris).Format(time.DateOnly) != day {
				t.Skip("the run crossed the site's midnight (Europe/Paris): numbers started again")
			}
			numbers := map[string]int{}
			for _, p := range out {
				numbers[p.number]++
				if numbers[p.number] > 1 {
					t.Fatalf("number %s printed twice", p.number)
				}
			}
			var live []api.Ticket
			for _, tk := range s.Tickets() {
				if tk.State == "cancelled" {
					if numbers[tk.Number] > 0 {
						t.Fatalf("printed ticket %s cancelled", tk.Number)
					}
					continue // a request replaced by an offline ticket
				}
				live = append(live, tk)
			}
			if len(live) != 50 {
				t.Fatalf("%d tickets in the hub for 50 printed", len(live))
			}
			sort.Slice(live, func(i, j int) bool { return live[i].IssuedAt.Before(live[j].IssuedAt) })
			for i, tk := range live {
				if numbers[tk.Number] != 1 {
					t.Fatalf("hub ticket %s was not printed", tk.Number)
				}
				if tk.Number != out[i].number {
					t.Fatalf("ticket %d in the hub's order is %s, printed %s", i, tk.Number, out[i].number)
				}
				var n int
				fmt.Sscanf(tk.Number[1:], "%d", &n)
				if offlineTicket := n >= 901; offlineTicket != (tk.Device != "" && out[i].number == tk.Number && tk.Number[1] == '9') {
					t.Fatalf("ticket %s: offline %v", tk.Number, offlineTicket)
				}
			}
		})
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.Contains(l, "level=DEBUG") {
			out = append(out, l)
		}
	}
	if len(out) > 60 {
		out = out[len(out)-60:]
	}
	return strings.Join(out, "\n")
}
