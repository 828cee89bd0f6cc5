package queue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"
)

// The site as the log and the snapshots keep it (site.loaded, and each
// change's part of it): JSON with the time zone by name, opening hours as
// the site file writes them, durations as Go writes them ("15m0s").

type siteJSON struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Timezone     string            `json:"timezone"`
	Languages    []string          `json:"languages"`
	Policy       policyJSON        `json:"policy"`
	Services     []Service         `json:"services"`
	Counters     []Counter         `json:"counters"`
	Agents       []Agent           `json:"agents"`
	PublicURL    string            `json:"public_url,omitempty"`
	Info         map[string]string `json:"info,omitempty"`
	Message      map[string]string `json:"message,omitempty"`
	PauseReasons []string          `json:"pause_reasons,omitempty"`
}

type policyJSON struct {
	Tiers               []Tier   `json:"tiers"`
	AppointmentWindow   Duration `json:"appointment_window"`
	PriorityBoost       Duration `json:"priority_boost"`
	RecallsBeforeNoShow int      `json:"recalls_before_noshow"`
	BoardSize           int      `json:"board_size"`
	CloseWhenFull       bool     `json:"close_when_full"`
	IgnoreHours         bool     `json:"ignore_hours,omitempty"`
	CheckinEarly        Duration `json:"checkin_early"`
	CheckinLate         Duration `json:"checkin_late"`
	TransferHold        Duration `json:"transfer_hold,omitempty"`
	OfflineNumbers      int      `json:"offline_numbers,omitempty"`
}

// Duration is a duration as JSON writes it in the site: "15m0s".
type Duration time.Duration

// MarshalJSON writes "15m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "15m0s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is written \"15m0s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

type serviceJSON struct {
	serviceAlias
	SLA         Duration `json:"sla"`
	ServiceTime Duration `json:"service_time"`
}

type serviceAlias Service

// MarshalJSON writes the service with its durations as "15m0s".
func (s Service) MarshalJSON() ([]byte, error) {
	return json.Marshal(serviceJSON{serviceAlias: serviceAlias(s), SLA: Duration(s.SLA), ServiceTime: Duration(s.ServiceTime)})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (s *Service) UnmarshalJSON(b []byte) error {
	var j serviceJSON
	if err := strict(b, &j); err != nil {
		return err
	}
	*s = Service(j.serviceAlias)
	s.SLA, s.ServiceTime = time.Duration(j.SLA), time.Duration(j.ServiceTime)
	return nil
}

// MarshalJSON writes the site with its time zone by name.
func (s Site) MarshalJSON() ([]byte, error) {
	tz := ""
	if s.Location != nil {
		tz = s.Location.String()
	}
	p := s.Policy
	return json.Marshal(siteJSON{ID: s.ID, Name: s.Name, Timezone: tz, Languages: s.Languages,
		Policy: policyJSON{Tiers: p.Tiers, AppointmentWindow: Duration(p.AppointmentWindow), PriorityBoost: Duration(p.PriorityBoost),
			RecallsBeforeNoShow: p.RecallsBeforeNoShow, BoardSize: p.BoardSize, CloseWhenFull: p.CloseWhenFull,
			IgnoreHours: p.IgnoreHours, CheckinEarly: Duration(p.CheckinEarly), CheckinLate: Duration(p.CheckinLate),
			TransferHold: Duration(p.TransferHold), OfflineNumbers: p.OfflineNumbers},
		Services: s.Services, Counters: s.Counters, Agents: s.Agents, PublicURL: s.PublicURL, Info: s.Info,
		Message: s.Message, PauseReasons: s.PauseReasons})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (s *Site) UnmarshalJSON(b []byte) error {
	var j siteJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	loc, err := time.LoadLocation(j.Timezone)
	if err != nil || j.Timezone == "" {
		return fmt.Errorf("site %s: unknown time zone %q", j.ID, j.Timezone)
	}
	p := j.Policy
	*s = Site{ID: j.ID, Name: j.Name, Location: loc, Languages: j.Languages,
		Policy: Policy{Tiers: p.Tiers, AppointmentWindow: time.Duration(p.AppointmentWindow), PriorityBoost: time.Duration(p.PriorityBoost),
			RecallsBeforeNoShow: p.RecallsBeforeNoShow, BoardSize: p.BoardSize, CloseWhenFull: p.CloseWhenFull,
			IgnoreHours: p.IgnoreHours, CheckinEarly: time.Duration(p.CheckinEarly), CheckinLate: time.Duration(p.CheckinLate),
			TransferHold: time.Duration(p.TransferHold), OfflineNumbers: p.OfflineNumbers},
		Services: j.Services, Counters: j.Counters, Agents: j.Agents, PublicURL: j.PublicURL, Info: j.Info,
		Message: j.Message, PauseReasons: j.PauseReasons}
	return nil
}

type hoursJSON struct {
	Week   map[string]string `json:"week,omitempty"`   // "mon": "08:30-12:00 13:30-17:30"
	Closed []string          `json:"closed,omitempty"` // "2026-12-25"
}

// MarshalJSON writes opening hours as the site file does, a day at a time.
func (h Hours) MarshalJSON() ([]byte, error) {
	var j hoursJSON
	for d, spans := range h.Week {
		if len(spans) > 0 {
			if j.Week == nil {
				j.Week = map[string]string{}
			}
			j.Week[dayKeys[d]] = FormatSpans(spans)
		}
	}
	j.Closed = sortedKeys(h.Closed)
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (h *Hours) UnmarshalJSON(b []byte) error {
	var j hoursJSON
	if err := strict(b, &j); err != nil {
		return err
	}
	for key := range j.Week {
		if !slices.Contains(dayKeys[:], key) {
			return fmt.Errorf("hours: %.20q is not a day (mon, tue, wed, thu, fri, sat, sun)", key)
		}
	}
	var week [7][]Span
	for d, key := range dayKeys {
		if spec, ok := j.Week[key]; ok {
			spans, err := ParseSpans(spec)
			if err != nil {
				return fmt.Errorf("hours %s: %w", key, err)
			}
			week[d] = spans
		}
	}
	*h = NewHours(week, j.Closed)
	return nil
}

// IsZero reports whether the hours say nothing (an agent's unset hours are
// left out of the site's JSON).
func (h Hours) IsZero() bool { return !h.set }

// Set reports whether the hours say anything (else the service is always open).
func (h *Hours) Set() bool { return h.set }

// ClosedDates lists the closed dates, in order.
func (h *Hours) ClosedDates() []string { return sortedKeys(h.Closed) }

// Clone returns a deep copy of the hours (unset hours stay the zero value).
func (h Hours) Clone() Hours {
	if !h.set {
		return Hours{}
	}
	return h.clone()
}

func (h Hours) clone() Hours {
	var week [7][]Span
	for d := range h.Week {
		week[d] = slices.Clone(h.Week[d])
	}
	return NewHours(week, h.ClosedDates())
}

// strict decodes JSON refusing unknown fields, as the API does.
func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Clone returns a deep copy of the service.
func (s Service) Clone() Service {
	s.Names = maps.Clone(s.Names)
	s.Channels = slices.Clone(s.Channels)
	s.Hours = s.Hours.clone()
	if s.Closed != nil {
		c := Closure{Message: maps.Clone(s.Closed.Message)}
		s.Closed = &c
	}
	return s
}

// Clone returns a deep copy of the counter.
func (c Counter) Clone() Counter {
	c.Channels = slices.Clone(c.Channels)
	c.Services = slices.Clone(c.Services)
	return c
}

// Clone returns a deep copy of the agent.
func (a Agent) Clone() Agent {
	a.Skills = maps.Clone(a.Skills)
	if a.Hours.Set() {
		a.Hours = a.Hours.clone()
	}
	return a
}

// Clone returns a deep copy of the site: the engine keeps its own, and
// hands out none of it to be changed.
func (s Site) Clone() Site {
	s.Languages = slices.Clone(s.Languages)
	s.Policy.Tiers = slices.Clone(s.Policy.Tiers)
	s.Info, s.Message = maps.Clone(s.Info), maps.Clone(s.Message)
	s.PauseReasons = slices.Clone(s.PauseReasons)
	svcs := make([]Service, len(s.Services))
	for i, sv := range s.Services {
		svcs[i] = sv.Clone()
	}
	s.Services = svcs
	cs := make([]Counter, len(s.Counters))
	for i, c := range s.Counters {
		cs[i] = c.Clone()
	}
	s.Counters = cs
	as := make([]Agent, len(s.Agents))
	for i, a := range s.Agents {
		as[i] = a.Clone()
	}
	s.Agents = as
	return s
}
