// Package config reads the site's configuration file (YAML): the site, the
// call-next policy, services, counters, agents and skills. Every error names
// the file, the line and the field.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"guichet/hub/queue"
)

// Sample is the sample configuration: a town of about 50,000 inhabitants.
//
//go:embed sample.yaml
var Sample []byte

// Config is the whole configuration file.
type Config struct {
	Site   SiteConf   `yaml:"site"`
	Policy PolicyConf `yaml:"policy"`
	// The telephony link and the citizen file (telephony.go, crm.go).
	Telephony *TelephonyConf `yaml:"telephony,omitempty"`
	CRM       *CRMConf       `yaml:"crm,omitempty"`
	Services  []Service      `yaml:"services"`
	Counters  []Counter      `yaml:"counters"`
	Agents    []AgentConf    `yaml:"agents"`
}

// SiteConf describes the town hall.
type SiteConf struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Timezone    string   `yaml:"timezone"`
	Languages   []string `yaml:"languages"`
	PublicURL   string   `yaml:"public_url"` // base URL citizens' phones reach, for QR codes
	Info        Names    `yaml:"info"`       // message scrolling on the waiting-room screen
	Hours       HoursMap `yaml:"hours"`      // default opening hours of every service
	ClosedDates []string `yaml:"closed_dates"`
}

// PolicyConf is the declared call-next policy.
type PolicyConf struct {
	Tiers               *[]string `yaml:"tiers"`
	AppointmentWindow   *Duration `yaml:"appointment_window"`
	PriorityBoost       *Duration `yaml:"priority_boost"`
	RecallsBeforeNoShow *int      `yaml:"recalls_before_noshow"`
	BoardSize           *int      `yaml:"board_size"`
	CloseWhenFull       *bool     `yaml:"close_when_full"`
	// OfflineNumbers is each kiosk's reserve of numbers per service and day,
	// printed (from 901 up) when the hub does not answer.
	OfflineNumbers *int `yaml:"offline_numbers"`
}

// Service is one service's section.
type Service struct {
	ID          string   `yaml:"id"`
	Name        Names    `yaml:"name"`
	SLA         Duration `yaml:"sla"`
	Weight      float64  `yaml:"weight"`
	Channels    []string `yaml:"channels"`
	ServiceTime Duration `yaml:"service_time"`
	Hours       HoursMap `yaml:"hours"`
}

// Counter is one counter's section.
type Counter struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Channels []string `yaml:"channels"`
	Services []string `yaml:"services"`
}

// AgentConf is one agent's section.
type AgentConf struct {
	ID     string         `yaml:"id"`
	Name   string         `yaml:"name"`
	Skills map[string]int `yaml:"skills"`
}

// Names are texts by language; a plain string is French.
type Names map[string]string

// UnmarshalYAML accepts "État civil" or {fr: "État civil", en: "Civil status"}.
func (n *Names) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		*n = Names{"fr": node.Value}
		return nil
	}
	m := map[string]string{}
	if err := node.Decode(&m); err != nil {
		return err
	}
	*n = m
	return nil
}

// Bounds of the site file's numbers: what a town can mean, and what every
// view can show (a weight of 1e308 or NaN makes the policy's scores
// infinite, which no JSON can hold).
const (
	MaxDuration = 24 * time.Hour // SLAs, service times, the appointment window, the priority boost
	MaxWeight   = 100.0          // a service's weight
)

// Duration is a Go duration written "15m", "1h30m".
type Duration time.Duration

// UnmarshalYAML parses a duration.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	v, err := time.ParseDuration(node.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration such as 15m or 1h30m", node.Line, node.Value)
	}
	*d = Duration(v)
	return nil
}

// HoursMap is opening hours by day: {"mon-fri": "08:30-12:00 13:30-17:30"}.
type HoursMap map[string]string

// Error is a configuration error at a place in the file.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	switch {
	case e.Field != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads and checks the configuration file at path.
func Load(path string) (*Config, queue.Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, queue.Site{}, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data)
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// Parse checks a configuration; name is used in error messages.
func Parse(name string, data []byte) (*Config, queue.Site, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, queue.Site{}, yamlError(name, &root, err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, queue.Site{}, yamlError(name, &root, err)
	}
	l := &locator{name: name, root: &root}
	site, err := c.site(l)
	if err != nil {
		return nil, queue.Site{}, err
	}
	if err := c.checkLinks(l, &site); err != nil {
		return nil, queue.Site{}, err
	}
	return &c, site, nil
}

// yamlError turns yaml.v3's messages into file:line: field: message.
func yamlError(name string, root *yaml.Node, err error) error {
	var errs []error
	for _, l := range strings.Split(err.Error(), "\n") {
		m := yamlLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		line, _ := strconv.Atoi(m[1])
		msg := m[2]
		if f := regexp.MustCompile(`^field (\S+) not found in type`).FindStringSubmatch(msg); f != nil {
			msg = fmt.Sprintf("unknown field %q", f[1])
		}
		errs = append(errs, &Error{File: name, Line: line, Field: pathAtLine(root, line), Msg: msg})
	}
	if len(errs) == 0 {
		return &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return errors.Join(errs...)
}

// pathAtLine finds the dotted path of the key on line, "services[2].sla".
func pathAtLine(n *yaml.Node, line int) string {
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if p := walk(c, path); p != "" {
					return p
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if k.Line == line {
					return p
				}
				if q := walk(v, p); q != "" {
					return q
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if c.Line == line && c.Kind == yaml.ScalarNode {
					return p
				}
				if q := walk(c, p); q != "" {
					return q
				}
			}
		}
		return ""
	}
	return walk(n, "")
}

// locator finds the line of a field for semantic errors.
type locator struct {
	name string
	root *yaml.Node
}

// errf reports an error at the field path (keys and sequence indices).
func (l *locator) errf(path []any, format string, args ...any) error {
	n := l.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	var field strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if field.Len() > 0 {
				field.WriteByte('.')
			}
			field.WriteString(k)
			found := false
			if n != nil && n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line, n, found = n.Content[i].Line, n.Content[i+1], true
						break
					}
				}
			}
			if !found {
				n = nil
			}
		case int:
			fmt.Fprintf(&field, "[%d]", k)
			if n != nil && n.Kind == yaml.SequenceNode && k < len(n.Content) {
				n = n.Content[k]
				line = n.Line
			} else {
				n = nil
			}
		}
	}
	return &Error{File: l.name, Line: line, Field: field.String(), Msg: fmt.Sprintf(format, args...)}
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// site checks the configuration and builds the engine's view of it.
func (c *Config) site(l *locator) (queue.Site, error) {
	s := queue.Site{ID: c.Site.ID, Name: c.Site.Name, Languages: c.Site.Languages, Policy: queue.DefaultPolicy()}
	if !idRe.MatchString(s.ID) {
		return s, l.errf([]any{"site", "id"}, "a site id of letters, digits, '-', '_' or '.' is required (it is part of the MQTT topics)")
	}
	if s.Name == "" {
		return s, l.errf([]any{"site", "name"}, "the site needs a name (it is printed on tickets)")
	}
	tz := c.Site.Timezone
	if tz == "" {
		tz = "Europe/Paris"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return s, l.errf([]any{"site", "timezone"}, "unknown time zone %q", tz)
	}
	s.Location = loc
	if len(s.Languages) == 0 {
		s.Languages = []string{"fr", "en"}
	}
	for i, d := range c.Site.ClosedDates {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return s, l.errf([]any{"site", "closed_dates", i}, "%q is not a date such as 2026-12-25", d)
		}
	}
	if c.Site.PublicURL != "" && !strings.HasPrefix(c.Site.PublicURL, "http://") && !strings.HasPrefix(c.Site.PublicURL, "https://") {
		return s, l.errf([]any{"site", "public_url"}, "must start with http:// or https://")
	}
	if err := c.policy(l, &s.Policy); err != nil {
		return s, err
	}
	if len(c.Services) == 0 {
		return s, l.errf([]any{"services"}, "at least one service is required")
	}
	letters := map[string]bool{}
	for i, sc := range c.Services {
		at := func(f ...any) []any { return append([]any{"services", i}, f...) }
		if !regexp.MustCompile(`^[A-Z]$`).MatchString(sc.ID) {
			return s, l.errf(at("id"), "a service id is one capital letter, the prefix of its numbers (got %q)", sc.ID)
		}
		if letters[sc.ID] {
			return s, l.errf(at("id"), "service %s is defined twice", sc.ID)
		}
		letters[sc.ID] = true
		if sc.Name["fr"] == "" {
			return s, l.errf(at("name"), "service %s needs a French name", sc.ID)
		}
		if !(sc.Weight >= 0 && sc.Weight <= MaxWeight) { // NaN fails both
			return s, l.errf(at("weight"), "weight must be 0 (the default, 1) to %g", MaxWeight)
		}
		for _, d := range []struct {
			name string
			v    Duration
		}{{"sla", sc.SLA}, {"service_time", sc.ServiceTime}} {
			if d.v < 0 || time.Duration(d.v) > MaxDuration {
				return s, l.errf(at(d.name), "must be 0 to %s", MaxDuration)
			}
		}
		sv := queue.Service{ID: sc.ID, Names: sc.Name, SLA: time.Duration(sc.SLA), Weight: sc.Weight,
			ServiceTime: time.Duration(sc.ServiceTime)}
		if len(sc.Channels) == 0 {
			sc.Channels = []string{"visit"}
		}
		for j, ch := range sc.Channels {
			if !queue.Channel(ch).Valid() {
				return s, l.errf(at("channels", j), "unknown channel %q (visit or phone)", ch)
			}
			sv.Channels = append(sv.Channels, queue.Channel(ch))
		}
		hours, hpath := c.Site.Hours, []any{"site", "hours"}
		if len(sc.Hours) > 0 {
			hours, hpath = sc.Hours, at("hours")
		}
		if sv.Hours, err = parseHours(l, hpath, hours, c.Site.ClosedDates); err != nil {
			return s, err
		}
		s.Services = append(s.Services, sv)
	}
	ids := map[string]bool{}
	for i, cc := range c.Counters {
		at := func(f ...any) []any { return append([]any{"counters", i}, f...) }
		if !idRe.MatchString(cc.ID) {
			return s, l.errf(at("id"), "a counter id of letters and digits is required")
		}
		if ids[cc.ID] {
			return s, l.errf(at("id"), "counter %s is defined twice", cc.ID)
		}
		ids[cc.ID] = true
		ct := queue.Counter{ID: cc.ID, Name: cc.Name, Services: cc.Services}
		if ct.Name == "" {
			ct.Name = "Guichet " + cc.ID
		}
		for j, ch := range cc.Channels {
			if !queue.Channel(ch).Valid() {
				return s, l.errf(at("channels", j), "unknown channel %q (visit or phone)", ch)
			}
			ct.Channels = append(ct.Channels, queue.Channel(ch))
		}
		for j, sv := range cc.Services {
			if !letters[sv] {
				return s, l.errf(at("services", j), "unknown service %q", sv)
			}
		}
		s.Counters = append(s.Counters, ct)
	}
	ids = map[string]bool{}
	for i, ac := range c.Agents {
		at := func(f ...any) []any { return append([]any{"agents", i}, f...) }
		if !idRe.MatchString(ac.ID) {
			return s, l.errf(at("id"), "an agent id of letters and digits is required")
		}
		if ids[ac.ID] {
			return s, l.errf(at("id"), "agent %s is defined twice", ac.ID)
		}
		ids[ac.ID] = true
		if len(ac.Skills) == 0 {
			return s, l.errf(at("skills"), "agent %s has no skill", ac.ID)
		}
		for sv, lvl := range ac.Skills {
			if !letters[sv] {
				return s, l.errf(at("skills", sv), "unknown service %q", sv)
			}
			if lvl < 1 || lvl > 5 {
				return s, l.errf(at("skills", sv), "skill level must be 1 to 5 (got %d)", lvl)
			}
		}
		s.Agents = append(s.Agents, queue.Agent{ID: ac.ID, Name: ac.Name, Skills: ac.Skills})
	}
	if err := s.Validate(); err != nil {
		return s, &Error{File: l.name, Msg: err.Error()}
	}
	return s, nil
}

func (c *Config) policy(l *locator, p *queue.Policy) error {
	pc := c.Policy
	if pc.Tiers != nil {
		p.Tiers = nil
		seen := map[string]bool{}
		for i, t := range *pc.Tiers {
			switch queue.Tier(t) {
			case queue.TierAppointmentDue, queue.TierPriority, queue.TierOverdue:
			default:
				return l.errf([]any{"policy", "tiers", i}, "unknown tier %q (appointment_due, priority or overdue)", t)
			}
			if seen[t] {
				return l.errf([]any{"policy", "tiers", i}, "tier %q listed twice", t)
			}
			seen[t] = true
			p.Tiers = append(p.Tiers, queue.Tier(t))
		}
	}
	for _, d := range []struct {
		name string
		v    *Duration
		to   *time.Duration
	}{{"appointment_window", pc.AppointmentWindow, &p.AppointmentWindow}, {"priority_boost", pc.PriorityBoost, &p.PriorityBoost}} {
		if d.v == nil {
			continue
		}
		if *d.v < 0 || time.Duration(*d.v) > MaxDuration {
			return l.errf([]any{"policy", d.name}, "must be 0 to %s", MaxDuration)
		}
		*d.to = time.Duration(*d.v)
	}
	if pc.RecallsBeforeNoShow != nil {
		if *pc.RecallsBeforeNoShow < 0 {
			return l.errf([]any{"policy", "recalls_before_noshow"}, "must be 0 (never) or more")
		}
		p.RecallsBeforeNoShow = *pc.RecallsBeforeNoShow
	}
	if pc.BoardSize != nil {
		if *pc.BoardSize < 1 || *pc.BoardSize > 50 {
			return l.errf([]any{"policy", "board_size"}, "must be 1 to 50")
		}
		p.BoardSize = *pc.BoardSize
	}
	if pc.CloseWhenFull != nil {
		p.CloseWhenFull = *pc.CloseWhenFull
	}
	if n := pc.OfflineNumbers; n != nil && (*n < 2 || *n > queue.MaxLeaseSize) {
		return l.errf([]any{"policy", "offline_numbers"}, "must be 2 to %d", queue.MaxLeaseSize)
	}
	return nil
}

// OfflineNumbers is each kiosk's reserve of offline numbers (0: the default).
func (c *Config) OfflineNumbers() int {
	if c == nil || c.Policy.OfflineNumbers == nil {
		return 0
	}
	return *c.Policy.OfflineNumbers
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

var spanRe = regexp.MustCompile(`^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$`)

// parseHours reads {"mon-fri": "08:30-12:00 13:30-17:30", "sat": "09:00-12:00"}.
func parseHours(l *locator, path []any, m HoursMap, closed []string) (queue.Hours, error) {
	var week [7][]queue.Span
	if len(m) == 0 {
		return queue.NewHours(week, closed), nil
	}
	for key, spec := range m {
		at := append(append([]any(nil), path...), key)
		days, err := parseDays(key)
		if err != nil {
			return queue.Hours{}, l.errf(at, "%v", err)
		}
		var spans []queue.Span
		for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r == ' ' || r == ',' }) {
			p := spanRe.FindStringSubmatch(part)
			if p == nil {
				return queue.Hours{}, l.errf(at, "%q is not a period such as 08:30-12:00", part)
			}
			h1, _ := strconv.Atoi(p[1])
			m1, _ := strconv.Atoi(p[2])
			h2, _ := strconv.Atoi(p[3])
			m2, _ := strconv.Atoi(p[4])
			from, to := h1*60+m1, h2*60+m2
			if h1 > 23 || m1 > 59 || h2 > 24 || m2 > 59 || to <= from || to > 24*60 {
				return queue.Hours{}, l.errf(at, "%q is not a period within one day", part)
			}
			spans = append(spans, queue.Span{From: from, To: to})
		}
		for _, d := range days {
			week[d] = append(week[d], spans...)
		}
	}
	return queue.NewHours(week, closed), nil
}

// parseDays reads "mon-fri", "sat" or "mon,wed,fri".
func parseDays(key string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, part := range strings.Split(key, ",") {
		part = strings.TrimSpace(strings.ToLower(part))
		if a, b, ok := strings.Cut(part, "-"); ok {
			da, oka := dayNames[a]
			db, okb := dayNames[b]
			if !oka || !okb {
				return nil, fmt.Errorf("%q is not a range of days such as mon-fri", part)
			}
			for d := da; ; d = (d + 1) % 7 {
				out = append(out, d)
				if d == db {
					break
				}
			}
			continue
		}
		d, ok := dayNames[part]
		if !ok {
			return nil, fmt.Errorf("%q is not a day (mon, tue, wed, thu, fri, sat, sun)", part)
		}
		out = append(out, d)
	}
	return out, nil
}
