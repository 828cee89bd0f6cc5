// Package config reads the site's configuration file (YAML): the site, the
// call-next policy, services, counters, agents and skills. Every error names
// the file, the line and the field.
package config

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
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
	Site     SiteConf    `yaml:"site"`
	Policy   PolicyConf  `yaml:"policy"`
	Services []Service   `yaml:"services"`
	Counters []Counter   `yaml:"counters"`
	Agents   []AgentConf `yaml:"agents"`
	Auth     AuthConf    `yaml:"auth"` // external sign-ins (auth.go)
	// The telephony link and the citizen file (telephony.go, crm.go).
	Telephony *TelephonyConf `yaml:"telephony,omitempty"`
	CRM       *CRMConf       `yaml:"crm,omitempty"`

	// Hash is the file's SHA-256, hex: the hub records it with the site it
	// loads, and loads the file again only when it changed.
	Hash string `yaml:"-"`
	// Destinations: where the hub delivers its events (destinations.go).
	Destinations []DestinationConf `yaml:"destinations,omitempty"`
}

// SiteConf describes the town hall.
type SiteConf struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Timezone    string   `yaml:"timezone"`
	Languages   []string `yaml:"languages"`
	PublicURL   string   `yaml:"public_url,omitempty"` // base URL citizens' phones reach, for QR codes
	Info        Names    `yaml:"info,omitempty"`       // message scrolling on the waiting-room screen
	Hours       HoursMap `yaml:"hours,omitempty"`      // default opening hours of every service
	ClosedDates []string `yaml:"closed_dates,omitempty"`
	// The supervisor's message on the waiting-room screens, and the reasons
	// the consoles offer for a pause.
	Message      Names    `yaml:"message,omitempty"`
	PauseReasons []string `yaml:"pause_reasons,omitempty"`
}

// PolicyConf is the declared call-next policy.
type PolicyConf struct {
	Tiers               *[]string `yaml:"tiers,omitempty"`
	AppointmentWindow   *Duration `yaml:"appointment_window,omitempty"`
	PriorityBoost       *Duration `yaml:"priority_boost,omitempty"`
	RecallsBeforeNoShow *int      `yaml:"recalls_before_noshow,omitempty"`
	BoardSize           *int      `yaml:"board_size,omitempty"`
	CloseWhenFull       *bool     `yaml:"close_when_full,omitempty"`
	// OfflineNumbers is each kiosk's reserve of numbers per service and day,
	// printed (from 901 up) when the hub does not answer.
	OfflineNumbers *int `yaml:"offline_numbers,omitempty"`
	// TransferHold is how long a ticket transferred to a named agent waits
	// for them alone (15m if absent).
	TransferHold *Duration `yaml:"transfer_hold,omitempty"`
}

// Service is one service's section.
type Service struct {
	ID          string   `yaml:"id"`
	Name        Names    `yaml:"name"`
	SLA         Duration `yaml:"sla"`
	Weight      float64  `yaml:"weight"`
	Channels    []string `yaml:"channels"`
	ServiceTime Duration `yaml:"service_time"`
	Hours       HoursMap `yaml:"hours,omitempty"`
	// ClosedDates are the service's own, beside the site's.
	ClosedDates []string `yaml:"closed_dates,omitempty"`
	// Closed closes the service to new tickets, with a message for the kiosks.
	Closed *ClosedConf `yaml:"closed,omitempty"`
}

// ClosedConf is a service closed to new tickets.
type ClosedConf struct {
	Message Names `yaml:"message,omitempty"`
}

// Counter is one counter's section.
type Counter struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Channels []string `yaml:"channels,omitempty"`
	Services []string `yaml:"services,omitempty"`
}

// AgentConf is one agent's section.
type AgentConf struct {
	ID     string         `yaml:"id"`
	Name   string         `yaml:"name,omitempty"`
	Skills map[string]int `yaml:"skills"`
	// Hours are the agent's working hours, as a service's:
	// {"mon-fri": "08:30-12:00 13:00-17:30"}; the estimated wait counts on
	// them (lunch turns, the end of the day).
	Hours HoursMap `yaml:"hours,omitempty"`
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
	if err := c.Auth.check(l); err != nil {
		return nil, queue.Site{}, err
	}
	if err := c.checkLinks(l, &site); err != nil {
		return nil, queue.Site{}, err
	}
	sum := sha256.Sum256(data)
	c.Hash = hex.EncodeToString(sum[:])
	if err := c.checkDestinations(l); err != nil {
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
	line, field := l.where(path)
	return &Error{File: l.name, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// where finds the line of the field at path, and its dotted name.
func (l *locator) where(path []any) (int, string) {
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
	return line, field.String()
}

// site builds the engine's view of the configuration, and holds it to the
// site's rules (queue.Site.Check: the same a change made in the browser is
// held to); here are read only the file's own forms (time zone, hours,
// dates) and its defaults.
func (c *Config) site(l *locator) (queue.Site, error) {
	s := queue.Site{ID: c.Site.ID, Name: c.Site.Name, Languages: c.Site.Languages, Policy: queue.DefaultPolicy(),
		PublicURL: c.Site.PublicURL, Info: c.Site.Info, Message: c.Site.Message, PauseReasons: c.Site.PauseReasons}
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
	if err := checkDates(l, []any{"site", "closed_dates"}, c.Site.ClosedDates); err != nil {
		return s, err
	}
	c.policy(&s.Policy)
	for i, sc := range c.Services {
		at := func(f ...any) []any { return append([]any{"services", i}, f...) }
		sv := queue.Service{ID: sc.ID, Names: sc.Name, SLA: time.Duration(sc.SLA), Weight: sc.Weight,
			ServiceTime: time.Duration(sc.ServiceTime)}
		if len(sc.Channels) == 0 {
			sc.Channels = []string{"visit"}
		}
		for _, ch := range sc.Channels {
			sv.Channels = append(sv.Channels, queue.Channel(ch))
		}
		hours, hpath := c.Site.Hours, []any{"site", "hours"}
		if len(sc.Hours) > 0 {
			hours, hpath = sc.Hours, at("hours")
		}
		if err := checkDates(l, at("closed_dates"), sc.ClosedDates); err != nil {
			return s, err
		}
		closed := append(append([]string(nil), c.Site.ClosedDates...), sc.ClosedDates...)
		if sv.Hours, err = parseHours(l, hpath, hours, closed); err != nil {
			return s, err
		}
		if sc.Closed != nil {
			sv.Closed = &queue.Closure{Message: sc.Closed.Message}
		}
		s.Services = append(s.Services, sv)
	}
	for _, cc := range c.Counters {
		ct := queue.Counter{ID: cc.ID, Name: cc.Name, Services: cc.Services}
		if ct.Name == "" {
			ct.Name = "Guichet " + cc.ID
		}
		for _, ch := range cc.Channels {
			ct.Channels = append(ct.Channels, queue.Channel(ch))
		}
		s.Counters = append(s.Counters, ct)
	}
	for i, ac := range c.Agents {
		a := queue.Agent{ID: ac.ID, Name: ac.Name, Skills: ac.Skills}
		if len(ac.Hours) > 0 {
			var err error
			if a.Hours, err = parseHours(l, []any{"agents", i, "hours"}, ac.Hours, nil); err != nil {
				return s, err
			}
		}
		s.Agents = append(s.Agents, a)
	}
	if err := s.Check(); err != nil {
		var se *queue.SiteError
		if errors.As(err, &se) {
			return s, l.errf(se.Path, "%s", se.Msg)
		}
		return s, &Error{File: l.name, Msg: err.Error()}
	}
	return s, nil
}

func checkDates(l *locator, path []any, dates []string) error {
	for i, d := range dates {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return l.errf(append(append([]any(nil), path...), i), "%q is not a date such as 2026-12-25", d)
		}
	}
	return nil
}

// policy reads the declared policy over the default one; its rules are
// the site's (queue.Site.Check).
func (c *Config) policy(p *queue.Policy) {
	pc := c.Policy
	if pc.Tiers != nil {
		p.Tiers = []queue.Tier{}
		for _, t := range *pc.Tiers {
			p.Tiers = append(p.Tiers, queue.Tier(t))
		}
	}
	for _, d := range []struct {
		v  *Duration
		to *time.Duration
	}{{pc.AppointmentWindow, &p.AppointmentWindow}, {pc.PriorityBoost, &p.PriorityBoost}, {pc.TransferHold, &p.TransferHold}} {
		if d.v != nil {
			*d.to = time.Duration(*d.v)
		}
	}
	if pc.RecallsBeforeNoShow != nil {
		p.RecallsBeforeNoShow = *pc.RecallsBeforeNoShow
	}
	if pc.BoardSize != nil {
		p.BoardSize = *pc.BoardSize
	}
	if pc.CloseWhenFull != nil {
		p.CloseWhenFull = *pc.CloseWhenFull
	}
	if pc.OfflineNumbers != nil {
		p.OfflineNumbers = *pc.OfflineNumbers
	}
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
		spans, err := queue.ParseSpans(spec)
		if err != nil {
			return queue.Hours{}, l.errf(at, "%v", err)
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
