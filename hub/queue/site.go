package queue

import (
	"fmt"
	"sort"
	"time"
)

// Channel is how a demand reached the town hall.
type Channel string

// Channels a ticket can come from.
const (
	Visit Channel = "visit"
	Phone Channel = "phone"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c == Visit || c == Phone }

// Priority is a ticket's priority class.
type Priority string

// Priority classes.
const (
	PriorityNone        Priority = "none"
	PriorityPublic      Priority = "priority"
	PriorityAppointment Priority = "appointment"
)

// Valid reports whether p is a known priority class.
func (p Priority) Valid() bool {
	return p == PriorityNone || p == PriorityPublic || p == PriorityAppointment
}

// Tier names a rule of the call-next policy. The policy lists tiers in the
// order they win; tickets matching none compete by weighted wait.
type Tier string

// Tiers a policy can list.
const (
	TierAppointmentDue Tier = "appointment_due" // appointment whose slot is due now
	TierPriority       Tier = "priority"        // priority public
	TierOverdue        Tier = "overdue"         // waited past its service's SLA
	TierWeightedWait   Tier = "weighted_wait"   // everyone else, longest weighted wait first
)

// Policy is the declared call-next policy and the queue's few knobs.
type Policy struct {
	// Tiers, highest first; a ticket belongs to the first tier it matches.
	Tiers []Tier
	// AppointmentWindow: an appointment is due from its slot minus this.
	AppointmentWindow time.Duration
	// PriorityBoost is virtual extra wait given to priority public when
	// "priority" is not a tier of its own.
	PriorityBoost time.Duration
	// RecallsBeforeNoShow: the recall after this many recalls marks a no-show.
	RecallsBeforeNoShow int
	// BoardSize is how many calls the board keeps.
	BoardSize int
	// CloseWhenFull refuses new visit tickets whose estimated wait runs past
	// the service's closing time.
	CloseWhenFull bool
	// IgnoreHours keeps every service open around the clock (demo, tests).
	IgnoreHours bool
	// CheckinEarly and CheckinLate bound when an appointment may be
	// checked in, around its slot.
	CheckinEarly, CheckinLate time.Duration
	// TransferHold is how long a ticket transferred to a named agent waits
	// for that agent alone (see policy.go); DefaultTransferHold if zero.
	TransferHold time.Duration
	// OfflineNumbers is each kiosk's reserve of numbers per service and
	// day, printed when the hub does not answer (0: the hub's default).
	OfflineNumbers int
}

// DefaultTransferHold is how long a ticket transferred to a named agent is
// held for them when the policy does not say.
const DefaultTransferHold = 15 * time.Minute

// transferHold is the policy's hold, or its default.
func (p *Policy) transferHold() time.Duration {
	if p.TransferHold <= 0 {
		return DefaultTransferHold
	}
	return p.TransferHold
}

// DefaultPolicy is the policy used when the configuration declares none.
func DefaultPolicy() Policy {
	return Policy{
		Tiers:               []Tier{TierAppointmentDue, TierPriority, TierOverdue},
		AppointmentWindow:   10 * time.Minute,
		RecallsBeforeNoShow: 2,
		BoardSize:           10,
		CloseWhenFull:       true,
		CheckinEarly:        time.Hour,
		CheckinLate:         30 * time.Minute,
	}
}

// Service is a kind of demand with its own letter and numbering. In JSON
// (the log, the API) durations are written as Go writes them: "15m0s".
type Service struct {
	ID          string            `json:"id"`       // letter prefix, "A"
	Names       map[string]string `json:"names"`    // by language: "fr", "en"
	SLA         time.Duration     `json:"-"`        // target wait
	Weight      float64           `json:"weight"`   // weight of its wait in call next (1 if zero)
	Channels    []Channel         `json:"channels"` // channels it takes
	ServiceTime time.Duration     `json:"-"`        // expected service time before any is measured
	Hours       Hours             `json:"hours"`    // opening hours; zero value: always open
	// Closed, when set, closes the service to new tickets whatever its
	// hours (the supervisor's "close a service"), with a message for the
	// kiosks; service.reopened clears it.
	Closed *Closure `json:"closed,omitempty"`
}

// Closure is why a service takes no new ticket: a message by language.
type Closure struct {
	Message map[string]string `json:"message,omitempty"`
}

// Name returns the service's name in lang, falling back to French.
func (s *Service) Name(lang string) string {
	if n := s.Names[lang]; n != "" {
		return n
	}
	if n := s.Names["fr"]; n != "" {
		return n
	}
	return s.ID
}

// Takes reports whether the service accepts tickets from channel c.
func (s *Service) Takes(c Channel) bool {
	for _, x := range s.Channels {
		if x == c {
			return true
		}
	}
	return false
}

func (s *Service) weight() float64 {
	if s.Weight <= 0 {
		return 1
	}
	return s.Weight
}

// Counter is a desk (guichet) or a phone position.
type Counter struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Channels []Channel `json:"channels,omitempty"` // channels it serves (visit if empty)
	Services []string  `json:"services,omitempty"` // services it serves (all the agent's if empty)
}

// Takes reports whether the counter serves channel ch (visits if it names none).
func (c *Counter) Takes(ch Channel) bool {
	if len(c.Channels) == 0 {
		return ch == Visit
	}
	for _, x := range c.Channels {
		if x == ch {
			return true
		}
	}
	return false
}

// Serves reports whether the counter serves the service (all if it names none).
func (c *Counter) Serves(service string) bool {
	if len(c.Services) == 0 {
		return true
	}
	for _, x := range c.Services {
		if x == service {
			return true
		}
	}
	return false
}

// Agent is a member of staff with a skill level per service (1 lowest).
type Agent struct {
	ID     string         `json:"id"`
	Name   string         `json:"name,omitempty"`
	Skills map[string]int `json:"skills"`
	// Hours are the agent's working hours (lunch is the gap between two
	// periods), which the estimate counts on (schedule.go); unset: the
	// agent counts as they are now.
	Hours Hours `json:"hours,omitzero"`
}

// Site is everything the engine needs to know about one town hall. The
// site file seeds it; changes made in the browser are events (admin.go).
type Site struct {
	ID        string
	Name      string
	Location  *time.Location
	Languages []string
	Policy    Policy
	Services  []Service
	Counters  []Counter
	Agents    []Agent

	PublicURL    string            // base URL citizens' phones reach, for QR codes
	Info         map[string]string // message scrolling on the waiting-room screens, by language
	Message      map[string]string // the supervisor's message on the waiting-room screens
	PauseReasons []string          // the reasons the consoles offer for a pause
}

// Settings are the site's settings an administrator changes in the browser.
type Settings struct {
	Name      string            `json:"name"`
	Info      map[string]string `json:"info,omitempty"`
	PublicURL string            `json:"public_url,omitempty"`
	Languages []string          `json:"languages"`
}

// Service returns the service id, nil if there is none.
func (s *Site) Service(id string) *Service {
	for i := range s.Services {
		if s.Services[i].ID == id {
			return &s.Services[i]
		}
	}
	return nil
}

// Validate checks the site for inconsistencies the engine cannot live with.
func (s *Site) Validate() error {
	if s.Location == nil {
		return fmt.Errorf("site %q: no time zone", s.ID)
	}
	seen := map[string]bool{}
	for _, sv := range s.Services {
		if sv.ID == "" || seen[sv.ID] {
			return fmt.Errorf("service %q: empty or duplicate id", sv.ID)
		}
		seen[sv.ID] = true
		for _, c := range sv.Channels {
			if !c.Valid() {
				return fmt.Errorf("service %s: unknown channel %q", sv.ID, c)
			}
		}
	}
	for _, t := range s.Policy.Tiers {
		switch t {
		case TierAppointmentDue, TierPriority, TierOverdue:
		default:
			return fmt.Errorf("policy: unknown tier %q", t)
		}
	}
	cs := map[string]bool{}
	for _, c := range s.Counters {
		if c.ID == "" || cs[c.ID] {
			return fmt.Errorf("counter %q: empty or duplicate id", c.ID)
		}
		cs[c.ID] = true
		for _, sv := range c.Services {
			if !seen[sv] {
				return fmt.Errorf("counter %s: unknown service %q", c.ID, sv)
			}
		}
	}
	as := map[string]bool{}
	for _, a := range s.Agents {
		if a.ID == "" || as[a.ID] {
			return fmt.Errorf("agent %q: empty or duplicate id", a.ID)
		}
		as[a.ID] = true
		for sv, lvl := range a.Skills {
			if !seen[sv] {
				return fmt.Errorf("agent %s: unknown service %q", a.ID, sv)
			}
			if lvl < 1 {
				return fmt.Errorf("agent %s: skill level for %s must be at least 1", a.ID, sv)
			}
		}
	}
	return nil
}

// Span is an opening period in minutes after local midnight, [From, To).
type Span struct{ From, To int }

// Hours are weekly opening hours, indexed by time.Weekday, and closed dates.
type Hours struct {
	Week   [7][]Span
	Closed map[string]bool // "2026-12-25"
	set    bool
}

// NewHours builds opening hours; an empty week means always open.
func NewHours(week [7][]Span, closed []string) Hours {
	h := Hours{Week: week, Closed: map[string]bool{}}
	for _, d := range closed {
		h.Closed[d] = true
	}
	for _, spans := range week {
		if len(spans) > 0 {
			h.set = true
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i].From < spans[j].From })
	}
	if len(closed) > 0 {
		h.set = true
	}
	return h
}

// NextOpen returns when the hours next open after t (already in the site's
// zone), looking a fortnight ahead; zero if they do not within it (or are
// always open).
func (h *Hours) NextOpen(t time.Time) time.Time {
	if !h.set {
		return time.Time{}
	}
	y, m, d := t.Date()
	for i := 0; i <= 14; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, t.Location())
		if h.Closed[day.Format(time.DateOnly)] {
			continue
		}
		for _, sp := range h.Week[day.Weekday()] {
			at := time.Date(day.Year(), day.Month(), day.Day(), sp.From/60, sp.From%60, 0, 0, t.Location())
			if at.After(t) {
				return at
			}
		}
	}
	return time.Time{}
}

// OpenAt reports whether t (already in the site's zone) is within the hours,
// and if so how long until the current period ends.
func (h *Hours) OpenAt(t time.Time) (open bool, left time.Duration) {
	if !h.set {
		return true, 24 * time.Hour
	}
	if h.Closed[t.Format(time.DateOnly)] {
		return false, 0
	}
	m := t.Hour()*60 + t.Minute()
	for _, sp := range h.Week[t.Weekday()] {
		if m >= sp.From && m < sp.To {
			end := time.Date(t.Year(), t.Month(), t.Day(), sp.To/60, sp.To%60, 0, 0, t.Location())
			return true, end.Sub(t)
		}
	}
	return false, 0
}
