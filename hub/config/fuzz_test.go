package config

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/queue"
)

// FuzzParse: a site file is refused with errors that name the file, or
// accepted as a site the queue engine takes, whose ids and numbers are
// within their bounds, and whose every view encodes — with a ticket
// waiting in each service and a counter open, so that the policy's
// scores are computed too.
func FuzzParse(f *testing.F) {
	f.Add(Sample)
	for _, seed := range []string{
		"site: {id: x, name: X}\nservices: [{id: A, name: Accueil}]\n",
		"site: {id: x, name: X, timezone: Mars/Olympus}\nservices: [{id: A, name: A}]\n",
		"site: {id: x, name: X, hours: {mon-sun: \"00:00-24:00\"}}\nservices: [{id: A, name: A, weight: 100, sla: 24h}]\ncounters: [{id: '1'}]\nagents: [{id: a, skills: {A: 5}}]\n",
		"site: {id: x, name: X}\nservices: [{id: A, name: A, weight: .nan}]\n",
		"site: {id: x, name: X}\nservices: [{id: A, name: A, weight: 1e308}]\n",
		"site: {id: x, name: X}\nservices: [{id: A, name: A, sla: -1s}]\n",
		"site: {id: x, name: X}\npolicy: {board_size: 0, offline_numbers: 1, tiers: [overdue, overdue]}\nservices: [{id: A, name: A}]\n",
		"site: {id: x, name: X}\nservices: [{id: A, name: A, hours: {fri-mon: \"23:00-24:00\", \"mon,tue\": \"8:00-9:00,9:30-10:00\"}}]\n",
		"a: &a [*a, *a, *a]\nb: &b [*a, *a, *a]\n",
		"site: {id: x, name: X}\nservices: [{id: A, name: A}]\ncounters: [{id: '1', services: [B]}]\n",
		"site: {id: x, name: X}\nservices: [{id: A, name: A}]\nagents: [{id: a, skills: {A: 6}}]\n",
		"site: {id: \"x/y\", name: X}\nservices: [{id: a, name: A}]\nunknown: 1\n",
		"\xff: \xfe\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return // a site file is a few KiB; yaml.v3 takes its time over megabytes
		}
		cfg, site, err := Parse("site.yaml", data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "site.yaml") {
				t.Fatalf("refused with %T %v", err, err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("accepted without a configuration")
		}
		checkSite(t, site)
		e, err := queue.New(site)
		if err != nil {
			t.Fatalf("accepted a site the engine refuses: %v", err)
		}
		by := queue.By{At: now, Actor: "fuzz"}
		for _, s := range site.Services {
			e.Issue(by, queue.IssueRequest{Args: api.IssueArgs{Service: s.ID, Channel: string(s.Channels[0]), Force: true}, ID: "t-" + s.ID})
		}
		for _, a := range site.Agents {
			for _, c := range site.Counters {
				if _, err := e.OpenCounter(by, c.ID, api.OpenArgs{Agent: a.ID}); err == nil {
					break
				}
			}
		}
		views := []any{hub.ServicesView(e, now), hub.QueueView(e, now), hub.BoardView(e)}
		for _, c := range site.Counters {
			views = append(views, hub.CounterView(e, now, c.ID))
			if d, err := e.Explain(now, c.ID); err == nil {
				views = append(views, d)
			}
		}
		for _, tk := range e.Tickets("", "") {
			views = append(views, hub.TicketView(e, now, tk))
		}
		for _, v := range views {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("a view of an accepted site does not encode: %v", err)
			}
			if _, err := api.ParseQueue(b); err != nil && strings.Contains(string(b), `"services":[{"service"`) {
				t.Fatalf("the queue view of an accepted site is refused by devices: %v", err)
			}
		}
		if err := e.Check(); err != nil {
			t.Fatal(err)
		}
	})
}

// checkSite checks what Parse promises of an accepted site.
func checkSite(t *testing.T, site queue.Site) {
	t.Helper()
	if !queue.IDPattern.MatchString(site.ID) || site.Name == "" || site.Location == nil || len(site.Services) == 0 {
		t.Fatalf("site %q %q %v with %d services accepted", site.ID, site.Name, site.Location, len(site.Services))
	}
	letters := map[string]bool{}
	for _, s := range site.Services {
		if len(s.ID) != 1 || s.ID[0] < 'A' || s.ID[0] > 'Z' || letters[s.ID] {
			t.Fatalf("service %q accepted", s.ID)
		}
		letters[s.ID] = true
		if !(s.Weight >= 0 && s.Weight <= MaxWeight) || s.SLA < 0 || s.SLA > MaxDuration || s.ServiceTime < 0 || s.ServiceTime > MaxDuration {
			t.Fatalf("service %s accepted with weight %g, SLA %s, service time %s", s.ID, s.Weight, s.SLA, s.ServiceTime)
		}
		if len(s.Channels) == 0 || !utf8.ValidString(s.Names["fr"]) || s.Names["fr"] == "" {
			t.Fatalf("service %s accepted with channels %v, name %q", s.ID, s.Channels, s.Names["fr"])
		}
	}
	ids := map[string]bool{}
	for _, c := range site.Counters {
		if !queue.IDPattern.MatchString(c.ID) || ids[c.ID] {
			t.Fatalf("counter %q accepted", c.ID)
		}
		ids[c.ID] = true
	}
	for _, a := range site.Agents {
		for svc, lvl := range a.Skills {
			if !letters[svc] || lvl < 1 || lvl > 5 {
				t.Fatalf("agent %s accepted with skill %s=%d", a.ID, svc, lvl)
			}
		}
	}
	if p := site.Policy; p.BoardSize < 1 || p.BoardSize > api.MaxBoardCalls || p.RecallsBeforeNoShow < 0 {
		t.Fatalf("policy accepted: %+v", p)
	}
}
