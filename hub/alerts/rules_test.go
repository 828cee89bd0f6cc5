package alerts

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// step runs the rules at t0+at and returns what changed, as
// "+kind:subject" and "-kind:subject".
func step(r *Rules, at time.Duration, f Facts) string {
	f.At = t0.Add(at)
	raised, cleared := r.Step(f)
	var out []string
	for _, a := range raised {
		out = append(out, "+"+string(a.Kind)+":"+a.Service+a.Device)
	}
	for _, a := range cleared {
		out = append(out, "-"+string(a.Kind)+":"+a.Service+a.Device)
	}
	return strings.Join(out, " ")
}

func wait(id string, target, longest time.Duration) Facts {
	return Facts{Services: []ServiceFacts{{ID: id, Target: target, LongestWait: longest}}}
}

func device(id string, online bool, p *api.PrinterHealth) Facts {
	return Facts{Devices: []DeviceFacts{{ID: id, Seen: true, Online: online, Printer: p}}}
}

func hot(id string, online bool, c float64) Facts {
	return Facts{Devices: []DeviceFacts{{ID: id, Seen: true, Online: online, Health: &api.DeviceHealth{TempC: &c}}}}
}

// Each rule, step by step in virtual time: what is raised and cleared, and
// when. A blank "want" is "nothing changes".
func TestEachRuleRaisesOnceAndClearsOnceAfterItsHold(t *testing.T) {
	paperOut := &api.PrinterHealth{PaperOut: true}
	paperLow := &api.PrinterHealth{OK: true, PaperLow: true}
	type st struct {
		at   time.Duration
		f    Facts
		want string
	}
	cases := []struct {
		name  string
		steps []st
	}{
		{"a wait past its target raises, and clears a minute after it is not", []st{
			{0, wait("E", 15*time.Minute, 14*time.Minute), ""},
			{time.Minute, wait("E", 15*time.Minute, 15*time.Minute), ""}, // at the target: not past it
			{time.Minute + time.Second, wait("E", 15*time.Minute, 15*time.Minute+time.Second), "+wait_past_target:E"},
			{2 * time.Minute, wait("E", 15*time.Minute, 16*time.Minute), ""},
			{3 * time.Minute, wait("E", 15*time.Minute, 2*time.Minute), ""}, // called: the next waits 2 min
			{3*time.Minute + 59*time.Second, wait("E", 15*time.Minute, 3*time.Minute), ""},
			{4 * time.Minute, wait("E", 15*time.Minute, 3*time.Minute), "-wait_past_target:E"},
		}},
		{"a wait that flickers around its target raises once", []st{
			{0, wait("E", 15*time.Minute, 16*time.Minute), "+wait_past_target:E"},
			{10 * time.Second, wait("E", 15*time.Minute, 14*time.Minute), ""},
			{20 * time.Second, wait("E", 15*time.Minute, 16*time.Minute), ""},
			{30 * time.Second, wait("E", 15*time.Minute, 0), ""},
			{80 * time.Second, wait("E", 15*time.Minute, 16*time.Minute), ""}, // 50 s after: held
			{90 * time.Second, wait("E", 15*time.Minute, 0), ""},
			{150 * time.Second, wait("E", 15*time.Minute, 0), "-wait_past_target:E"},
		}},
		{"a service without a target never alerts", []st{
			{0, wait("A", 0, 5*time.Hour), ""},
		}},
		{"paper out raises; paper low does not; paper back clears", []st{
			{0, device("kiosk", true, paperLow), ""},
			{time.Second, device("kiosk", true, paperOut), "+printer_paper_out:kiosk"},
			{2 * time.Second, device("kiosk", true, &api.PrinterHealth{OK: true}), ""},
			{62 * time.Second, device("kiosk", true, &api.PrinterHealth{OK: true}), "-printer_paper_out:kiosk"},
		}},
		{"cover open and printer offline are alerts of their own", []st{
			{0, device("kiosk", true, &api.PrinterHealth{CoverOpen: true, Offline: true}), "+printer_cover_open:kiosk +printer_offline:kiosk"},
		}},
		{"a device offline past its grace raises; a short blip does not", []st{
			{0, device("screen", true, nil), ""},
			{time.Second, device("screen", false, nil), ""},
			{30 * time.Second, device("screen", true, nil), ""}, // back within the minute
			{40 * time.Second, device("screen", false, nil), ""},
			{99 * time.Second, device("screen", false, nil), ""},
			{100 * time.Second, device("screen", false, nil), "+device_offline:screen"},
			{110 * time.Second, device("screen", true, nil), ""},
			{170 * time.Second, device("screen", true, nil), "-device_offline:screen"},
		}},
		{"an offline kiosk's printer is not alerted: its state is stale", []st{
			{0, device("kiosk", false, paperOut), ""},
			{time.Minute, device("kiosk", false, paperOut), "+device_offline:kiosk"},
		}},
		{"a disabled or never seen device alerts nothing, and a raised alert clears when it is disabled", []st{
			{0, Facts{Devices: []DeviceFacts{{ID: "old", Disabled: true, Seen: true}, {ID: "new"}}}, ""},
			{time.Hour, Facts{Devices: []DeviceFacts{{ID: "old", Disabled: true, Seen: true}, {ID: "new"}}}, ""},
			{2 * time.Hour, device("old", false, nil), ""},
			{2*time.Hour + time.Minute, device("old", false, nil), "+device_offline:old"},
			{3 * time.Hour, Facts{Devices: []DeviceFacts{{ID: "old", Disabled: true, Seen: true}}}, ""},
			{3*time.Hour + time.Minute, Facts{Devices: []DeviceFacts{{ID: "old", Disabled: true, Seen: true}}}, "-device_offline:old"},
		}},
		{"a board at 80 °C or more raises, cooler clears after the hold; an offline one's temperature is stale", []st{
			{0, hot("screen", true, 79.9), ""},
			{time.Second, hot("screen", true, 80), "+overheating:screen"},
			{2 * time.Second, hot("screen", true, 70), ""},
			{62 * time.Second, hot("screen", true, 70), "-overheating:screen"},
			{63 * time.Second, hot("screen", false, 95), ""},
		}},
		{"offline tickets raise for ten minutes after the last one arrived", []st{
			{0, Facts{OfflineTickets: map[string]time.Time{"kiosk": t0}}, "+offline_tickets:kiosk"},
			{5 * time.Minute, Facts{OfflineTickets: map[string]time.Time{"kiosk": t0.Add(5 * time.Minute)}}, ""},
			{14 * time.Minute, Facts{OfflineTickets: map[string]time.Time{"kiosk": t0.Add(5 * time.Minute)}}, ""},
			{15 * time.Minute, Facts{OfflineTickets: map[string]time.Time{"kiosk": t0.Add(5 * time.Minute)}}, ""},
			{16 * time.Minute, Facts{OfflineTickets: map[string]time.Time{"kiosk": t0.Add(5 * time.Minute)}}, "-offline_tickets:kiosk"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r Rules
			for i, s := range c.steps {
				if got := step(&r, s.at, s.f); got != s.want {
					t.Fatalf("step %d (+%s): %q, want %q", i, s.at, got, s.want)
				}
			}
		})
	}
}

// After a restart the alerts read back from the log are not raised again
// while their rule holds, and are cleared when it no longer does.
func TestRestoredAlertsAreNotRaisedTwice(t *testing.T) {
	var r Rules
	r.Restore([]Alert{{Kind: WaitPastTarget, Service: "E", Since: t0.Add(-time.Hour)}, {Kind: DeviceOffline, Device: "screen", Since: t0.Add(-time.Hour)}})
	f := Facts{Services: []ServiceFacts{{ID: "E", Target: time.Minute, LongestWait: time.Hour}}, Devices: []DeviceFacts{{ID: "screen", Seen: true, Online: true}}}
	if got := step(&r, 0, f); got != "" {
		t.Fatalf("at restart: %q", got)
	}
	if got := step(&r, time.Minute, f); got != "-device_offline:screen" {
		t.Fatalf("a minute later: %q", got)
	}
	if a := r.Active(); len(a) != 1 || !a[0].Since.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("active %+v: the wait's alert keeps when it was raised", a)
	}
}

// Next says when time alone changes a decision: the monitor sleeps until
// then, so a wait crossing its target is alerted when it does.
func TestNextIsWhenTimeAloneChangesADecision(t *testing.T) {
	var r Rules
	f := wait("E", 15*time.Minute, 10*time.Minute)
	f.At = t0
	r.Step(f)
	if got, want := r.Next(f), t0.Add(5*time.Minute+time.Millisecond); !got.Equal(want) {
		t.Fatalf("next %v, want %v", got, want)
	}
	f = device("screen", false, nil)
	f.At = t0
	r.Step(f)
	if got := r.Next(f); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("next %v, want the end of the grace", got)
	}
	var empty Rules
	f = Facts{At: t0}
	if got := empty.Next(f); !got.IsZero() {
		t.Fatalf("nothing pending, next %v", got)
	}
}

// Many services and devices, flapping at random: never two raises of one
// key without a clear between, never a clear of what is not raised.
func TestRaisesAndClearsAlternatePerKey(t *testing.T) {
	var r Rules
	state := map[string]bool{}
	seed := uint64(42)
	rnd := func(n int) int { seed = seed*6364136223846793005 + 1442695040888963407; return int(seed>>33) % n }
	for i := range 5000 {
		var f Facts
		for s := range 3 {
			f.Services = append(f.Services, ServiceFacts{ID: fmt.Sprint("S", s), Target: 10 * time.Minute, LongestWait: time.Duration(rnd(20)) * time.Minute})
		}
		for d := range 3 {
			f.Devices = append(f.Devices, DeviceFacts{ID: fmt.Sprint("d", d), Seen: true, Online: rnd(3) > 0, Printer: &api.PrinterHealth{PaperOut: rnd(2) == 0}})
		}
		f.At = t0.Add(time.Duration(i) * 7 * time.Second)
		raised, cleared := r.Step(f)
		for _, a := range raised {
			if state[a.Key()] {
				t.Fatalf("step %d: %s raised twice", i, a.Key())
			}
			state[a.Key()] = true
		}
		for _, a := range cleared {
			if !state[a.Key()] {
				t.Fatalf("step %d: %s cleared but not raised", i, a.Key())
			}
			state[a.Key()] = false
		}
	}
}
