package config

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"guichet/hub/queue"
)

func TestSampleIsAValidTownOfFiftyThousand(t *testing.T) {
	_, site, err := Parse("sample.yaml", Sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(site.Services) != 6 || len(site.Counters) != 8 || len(site.Agents) != 12 {
		t.Fatalf("%d services, %d counters, %d agents", len(site.Services), len(site.Counters), len(site.Agents))
	}
	if site.Location.String() != "Europe/Paris" || site.Policy.RecallsBeforeNoShow != 2 {
		t.Fatalf("site = %+v", site)
	}
	var u *queue.Service
	for i := range site.Services {
		if site.Services[i].ID == "U" {
			u = &site.Services[i]
		}
	}
	thu := time.Date(2026, 11, 19, 14, 0, 0, 0, site.Location)
	tue := time.Date(2026, 11, 17, 14, 0, 0, 0, site.Location)
	if open, _ := u.Hours.OpenAt(thu); !open {
		t.Fatal("urbanisme closed on Thursday afternoon")
	}
	if open, _ := u.Hours.OpenAt(tue); open {
		t.Fatal("urbanisme open on Tuesday afternoon")
	}
	xmas := time.Date(2026, 12, 25, 10, 0, 0, 0, site.Location)
	if open, _ := site.Services[0].Hours.OpenAt(xmas); open {
		t.Fatal("open on Christmas day")
	}
	if _, err := queue.New(site); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	base := string(Sample)
	cases := []struct {
		name, from, to, want string
	}{
		{"bad duration", "sla: 15m", "sla: quinze", "services[1].sla:"},
		{"unknown field", "service_time: 8m", "service_tme: 8m", `services[1].service_tme: unknown field "service_tme"`},
		{"unknown service in skills", "skills: { P: 3 } }", "skills: { Q: 3 } }", `agents[3].skills.Q: unknown service "Q"`},
		{"bad channel", "channels: [phone] }", "channels: [fax] }", `counters[7].channels[0]: unknown channel "fax"`},
		{"bad tier", "tiers: [appointment_due, priority, overdue]", "tiers: [appointment_due, vip]", `policy.tiers[1]: unknown tier "vip"`},
		{"bad hours", `sat: "09:00-12:00"`, `sat: "9h-12h"`, `site.hours.sat: "9h-12h" is not a period`},
		{"bad agent hours", `mon-fri: "08:30-12:00 13:00-17:30" }`, `mon-fri: "08:30-12:00 13:00-25:00" }`, `agents[0].hours.mon-fri: "13:00-25:00" is not a period`},
		{"overlapping agent hours", `mon-fri: "08:30-12:00 13:00-17:30" }`, `mon-fri: "08:30-12:00 11:00-17:30" }`, `agents[0].hours.mon-fri: "11:00-17:30" begins before the period before it ends`},
		{"too many periods", `sat: "09:00-12:00"`, `sat: "` + minutePeriods(queue.MaxSpans+1) + `"`, `site.hours.sat: more than 12 periods in a day`},
		{"agent hours on no day", `hours: { mon-fri: "08:30-12:00 13:00-17:30" }`, `hours: { lundi: "08:30-12:00" }`, `agents[0].hours.lundi:`},
		{"bad time zone", "timezone: Europe/Paris", "timezone: Europe/Lutece", `site.timezone: unknown time zone`},
		{"service id not a letter", "- id: A\n", "- id: AB\n", `services[0].id: a service id is one capital letter`},
		{"wrong type", "board_size: 10", "board_size: dix", "policy.board_size: cannot unmarshal"},
		{"syntax", "counters:\n", "counters: [\n", ""},
		{"SLA of a year", "sla: 15m", "sla: 8760h", "services[1].sla: must be 0 to 24h0m0s"},
		{"weight not a number", "weight: 1.5", "weight: .nan", "services[5].weight: weight must be 0"},
		{"infinite weight", "weight: 1.5", "weight: .inf", "services[5].weight: weight must be 0"},
		{"huge weight", "weight: 1.5", "weight: 1e308", "services[5].weight: weight must be 0"},
		{"window of a week", "appointment_window: 10m", "appointment_window: 168h", "policy.appointment_window: must be 0 to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(base, c.from) {
				t.Fatalf("sample has no %q", c.from)
			}
			_, _, err := Parse("cfg.yaml", []byte(strings.Replace(base, c.from, c.to, 1)))
			// The error points at the line we broke.
			line := strings.Count(base[:strings.Index(base, c.from)], "\n") + 1
			want := fmt.Sprintf("cfg.yaml:%d: %s", line, c.want)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error = %v, want it to contain %q", err, want)
			}
		})
	}
}

// minutePeriods writes n periods of a minute each from 09:00, one after the
// other: "09:00-09:01 09:01-09:02 …".
func minutePeriods(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("09:%02d-09:%02d", i, i+1)
	}
	return strings.Join(parts, " ")
}
