package queue

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The site's rules, in one place: the site file (hub/config) and the changes
// made in the browser (admin.go) are held to them alike. Validate is only
// what the engine cannot live with; Check is every rule a person is held to.
//
// An error names the field it is about as a path from the site's root
// ("services", 2, "sla"): the site file turns it into a line of the file, a
// form into the field to correct.
const (
	MaxNameLen     = 100 // names of sites, services, counters, agents; pause reasons
	MaxMessageLen  = 500 // messages (info, the screens' message, a closed service's), per language
	MaxNoteLen     = 500 // a transfer's note
	MaxPauseReason = 30  // reasons in the site's list
	MaxSkillLevel  = 5
	MaxSiteWeight  = 100.0          // a service's weight
	MaxSiteSpan    = 24 * time.Hour // SLAs, service times, the policy's durations
	MaxBoardSize   = 50
)

// SiteError is a broken rule of the site, at a field.
type SiteError struct {
	Path []any // keys (string) and indices (int) from the site's root
	Msg  string
}

func (e *SiteError) Error() string {
	if f := e.Field(); f != "" {
		return f + ": " + e.Msg
	}
	return e.Msg
}

// Field writes the path as the site file names it: "services[2].sla".
func (e *SiteError) Field() string {
	var b strings.Builder
	for _, p := range e.Path {
		switch k := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, k)
		}
	}
	return b.String()
}

func siteErr(path []any, format string, args ...any) *SiteError {
	return &SiteError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// prefix puts an error's path under at.
func (e *SiteError) under(at ...any) *SiteError {
	if e == nil {
		return nil
	}
	return &SiteError{Path: append(append([]any(nil), at...), e.Path...), Msg: e.Msg}
}

// IDPattern is what a site, counter or agent id may be: it is part of MQTT
// topics and URLs.
var IDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

var serviceIDRe = regexp.MustCompile(`^[A-Z]$`)

// Check holds the whole site to its rules; the error is a *SiteError.
func (s *Site) Check() error {
	if e := s.check(); e != nil {
		return e
	}
	return nil
}

func (s *Site) check() *SiteError {
	if !IDPattern.MatchString(s.ID) {
		return siteErr([]any{"site", "id"}, "a site id of letters, digits, '-', '_' or '.' is required (it is part of the MQTT topics)")
	}
	if s.Location == nil {
		return siteErr([]any{"site", "timezone"}, "the site needs a time zone")
	}
	if e := CheckSettings(s.settings()); e != nil {
		return e.under("site")
	}
	if e := checkNames(s.Message, MaxMessageLen, false); e != nil {
		return e.under("site", "message")
	}
	if e := CheckPauseReasons(s.PauseReasons); e != nil {
		return e.under("site", "pause_reasons")
	}
	if e := checkPolicy(&s.Policy); e != nil {
		return e.under("policy")
	}
	if len(s.Services) == 0 {
		return siteErr([]any{"services"}, "at least one service is required")
	}
	known := map[string]bool{}
	for i := range s.Services {
		sv := &s.Services[i]
		if e := CheckService(sv); e != nil {
			return e.under("services", i)
		}
		if known[sv.ID] {
			return siteErr([]any{"services", i, "id"}, "service %s is defined twice", sv.ID)
		}
		known[sv.ID] = true
	}
	ids := map[string]bool{}
	for i := range s.Counters {
		c := &s.Counters[i]
		if e := CheckCounter(c, known); e != nil {
			return e.under("counters", i)
		}
		if ids[c.ID] {
			return siteErr([]any{"counters", i, "id"}, "counter %s is defined twice", c.ID)
		}
		ids[c.ID] = true
	}
	ids = map[string]bool{}
	for i := range s.Agents {
		a := &s.Agents[i]
		if e := CheckAgent(a, known); e != nil {
			return e.under("agents", i)
		}
		if ids[a.ID] {
			return siteErr([]any{"agents", i, "id"}, "agent %s is defined twice", a.ID)
		}
		ids[a.ID] = true
	}
	return nil
}

func (s *Site) settings() Settings {
	return Settings{Name: s.Name, Info: s.Info, PublicURL: s.PublicURL, Languages: s.Languages}
}

// CheckSettings holds the site's settings to their rules.
func CheckSettings(st Settings) *SiteError {
	if strings.TrimSpace(st.Name) == "" || !validText(st.Name, MaxNameLen) {
		return siteErr([]any{"name"}, "the site needs a name of at most %d characters (it is printed on tickets)", MaxNameLen)
	}
	if len(st.Languages) == 0 {
		return siteErr([]any{"languages"}, "at least one language is required (fr first)")
	}
	seen := map[string]bool{}
	for i, l := range st.Languages {
		if l == "" || !validLang(l) || seen[l] {
			return siteErr([]any{"languages", i}, "%.20q is not a language tag such as fr or en, or is listed twice", l)
		}
		seen[l] = true
	}
	if u := st.PublicURL; u != "" {
		if !validText(u, MaxMessageLen) || !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || strings.ContainsAny(u, " <>\"") {
			return siteErr([]any{"public_url"}, "must start with http:// or https://, without spaces")
		}
	}
	if e := checkNames(st.Info, MaxMessageLen, false); e != nil {
		return e.under("info")
	}
	return nil
}

// CheckPauseReasons holds the site's list of pause reasons to its rules.
func CheckPauseReasons(rs []string) *SiteError {
	if len(rs) > MaxPauseReason {
		return siteErr(nil, "at most %d pause reasons", MaxPauseReason)
	}
	seen := map[string]bool{}
	for i, r := range rs {
		if strings.TrimSpace(r) != r || r == "" || !validText(r, MaxNameLen) {
			return siteErr([]any{i}, "a pause reason is 1 to %d characters, without spaces around", MaxNameLen)
		}
		if seen[r] {
			return siteErr([]any{i}, "%q is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

// checkNames checks texts by language: language tags for keys, at most max
// bytes of text each; with needFrench, a French text is required.
func checkNames(n map[string]string, max int, needFrench bool) *SiteError {
	if needFrench && strings.TrimSpace(n["fr"]) == "" {
		return siteErr(nil, "a French text is required")
	}
	for _, lang := range sortedKeys(n) {
		if !validLang(lang) {
			return siteErr([]any{lang}, "%.20q is not a language tag such as fr or en", lang)
		}
		if !validText(n[lang], max) {
			return siteErr([]any{lang}, "at most %d characters, without control characters", max)
		}
	}
	return nil
}

func checkPolicy(p *Policy) *SiteError {
	seen := map[Tier]bool{}
	for i, t := range p.Tiers {
		switch t {
		case TierAppointmentDue, TierPriority, TierOverdue:
		default:
			return siteErr([]any{"tiers", i}, "unknown tier %q (appointment_due, priority or overdue)", t)
		}
		if seen[t] {
			return siteErr([]any{"tiers", i}, "tier %q listed twice", t)
		}
		seen[t] = true
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"appointment_window", p.AppointmentWindow}, {"priority_boost", p.PriorityBoost}, {"transfer_hold", p.TransferHold}} {
		if d.v < 0 || d.v > MaxSiteSpan {
			return siteErr([]any{d.name}, "must be 0 to %s", MaxSiteSpan)
		}
	}
	if p.RecallsBeforeNoShow < 0 || p.RecallsBeforeNoShow > 10 {
		return siteErr([]any{"recalls_before_noshow"}, "must be 0 (never) to 10")
	}
	if p.BoardSize < 1 || p.BoardSize > MaxBoardSize {
		return siteErr([]any{"board_size"}, "must be 1 to %d", MaxBoardSize)
	}
	if n := p.OfflineNumbers; n != 0 && (n < 2 || n > MaxLeaseSize) {
		return siteErr([]any{"offline_numbers"}, "must be 2 to %d", MaxLeaseSize)
	}
	return nil
}

// CheckService holds a service to its rules (its id's uniqueness is the
// site's to check).
func CheckService(sv *Service) *SiteError {
	if !serviceIDRe.MatchString(sv.ID) {
		return siteErr([]any{"id"}, "a service id is one capital letter, the prefix of its numbers (got %.20q)", sv.ID)
	}
	if strings.TrimSpace(sv.Names["fr"]) == "" {
		return siteErr([]any{"name"}, "service %s needs a French name", sv.ID)
	}
	if e := checkNames(sv.Names, MaxNameLen, true); e != nil {
		return e.under("name")
	}
	if !(sv.Weight >= 0 && sv.Weight <= MaxSiteWeight) || math.IsNaN(sv.Weight) { // NaN fails both anyway
		return siteErr([]any{"weight"}, "weight must be 0 (the default, 1) to %g", MaxSiteWeight)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"sla", sv.SLA}, {"service_time", sv.ServiceTime}} {
		if d.v < 0 || d.v > MaxSiteSpan {
			return siteErr([]any{d.name}, "must be 0 to %s", MaxSiteSpan)
		}
	}
	if len(sv.Channels) == 0 {
		return siteErr([]any{"channels"}, "service %s takes no channel (visit, phone or both)", sv.ID)
	}
	if e := checkChannels(sv.Channels); e != nil {
		return e
	}
	if e := checkWeek(&sv.Hours); e != nil {
		return e
	}
	for _, d := range sortedKeys(sv.Hours.Closed) {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return siteErr([]any{"closed_dates"}, "%.20q is not a date such as 2026-12-25", d)
		}
	}
	if sv.Closed != nil {
		if e := checkNames(sv.Closed.Message, MaxMessageLen, false); e != nil {
			return e.under("closed", "message")
		}
	}
	return nil
}

// CheckCounter holds a counter to its rules; services are the site's.
func CheckCounter(c *Counter, services map[string]bool) *SiteError {
	if !IDPattern.MatchString(c.ID) {
		return siteErr([]any{"id"}, "a counter id of letters and digits is required")
	}
	if strings.TrimSpace(c.Name) == "" || !validText(c.Name, MaxNameLen) {
		return siteErr([]any{"name"}, "a counter needs a name of at most %d characters", MaxNameLen)
	}
	if e := checkChannels(c.Channels); e != nil {
		return e
	}
	for j, sv := range c.Services {
		if !services[sv] {
			return siteErr([]any{"services", j}, "unknown service %.20q", sv)
		}
	}
	return nil
}

func checkChannels(chs []Channel) *SiteError {
	seen := map[Channel]bool{}
	for j, ch := range chs {
		if !ch.Valid() {
			return siteErr([]any{"channels", j}, "unknown channel %.20q (visit or phone)", ch)
		}
		if seen[ch] {
			return siteErr([]any{"channels", j}, "channel %s listed twice", ch)
		}
		seen[ch] = true
	}
	return nil
}

// CheckAgent holds an agent to its rules; services are the site's.
func CheckAgent(a *Agent, services map[string]bool) *SiteError {
	if !IDPattern.MatchString(a.ID) {
		return siteErr([]any{"id"}, "an agent id of letters and digits is required")
	}
	if !validText(a.Name, MaxNameLen) {
		return siteErr([]any{"name"}, "at most %d characters, without control characters", MaxNameLen)
	}
	if len(a.Skills) == 0 {
		return siteErr([]any{"skills"}, "agent %s has no skill", a.ID)
	}
	for _, sv := range sortedKeys(a.Skills) {
		if !services[sv] {
			return siteErr([]any{"skills", sv}, "unknown service %.20q", sv)
		}
		if lvl := a.Skills[sv]; lvl < 1 || lvl > MaxSkillLevel {
			return siteErr([]any{"skills", sv}, "skill level must be 1 to %d (got %d)", MaxSkillLevel, lvl)
		}
	}
	if e := checkWeek(&a.Hours); e != nil {
		return e
	}
	if len(a.Hours.Closed) > 0 {
		// The site file cannot write them, and an agent with closed dates
		// alone would never count as working.
		return siteErr([]any{"hours", "closed"}, "an agent's working hours are a week of periods, without closed dates")
	}
	return nil
}

// checkWeek holds the periods of the week's hours within their day.
func checkWeek(h *Hours) *SiteError {
	for d, spans := range h.Week {
		for _, sp := range spans {
			if sp.From < 0 || sp.To > 24*60 || sp.To <= sp.From {
				return siteErr([]any{"hours", dayKeys[d]}, "%s is not a period within one day", sp)
			}
		}
	}
	return nil
}

// dayKeys are the days as the site file writes them, by time.Weekday.
var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// DayKey is the day as the site file writes it: "mon".
func DayKey(d time.Weekday) string { return dayKeys[d] }

var spanRe = regexp.MustCompile(`^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$`)

// MaxSpans is how many periods a day may have.
const MaxSpans = 12

// ParseSpans reads opening periods: "08:30-12:00 13:30-17:30" (spaces or
// commas between periods), in the order of the day, at most MaxSpans, none
// overlapping the one before.
func ParseSpans(spec string) ([]Span, error) {
	var spans []Span
	for _, part := range strings.FieldsFunc(spec, func(r rune) bool { return r == ' ' || r == ',' }) {
		if len(spans) == MaxSpans {
			return nil, fmt.Errorf("more than %d periods in a day", MaxSpans)
		}
		p := spanRe.FindStringSubmatch(part)
		if p == nil {
			return nil, fmt.Errorf("%.30q is not a period such as 08:30-12:00", part)
		}
		h1, _ := strconv.Atoi(p[1])
		m1, _ := strconv.Atoi(p[2])
		h2, _ := strconv.Atoi(p[3])
		m2, _ := strconv.Atoi(p[4])
		from, to := h1*60+m1, h2*60+m2
		if h1 > 23 || m1 > 59 || h2 > 24 || m2 > 59 || to <= from || to > 24*60 {
			return nil, fmt.Errorf("%q is not a period within one day", part)
		}
		if n := len(spans); n > 0 && from < spans[n-1].To {
			return nil, fmt.Errorf("%q begins before the period before it ends", part)
		}
		spans = append(spans, Span{From: from, To: to})
	}
	return spans, nil
}

// String writes a span as the site file does: "08:30-12:00".
func (sp Span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", sp.From/60, sp.From%60, sp.To/60, sp.To%60)
}

// FormatSpans writes periods as ParseSpans reads them.
func FormatSpans(spans []Span) string {
	parts := make([]string, len(spans))
	for i, sp := range spans {
		parts[i] = sp.String()
	}
	return strings.Join(parts, " ")
}

// validNote reports whether s can be a note: at most MaxNoteLen bytes of
// UTF-8 without control characters.
func validNote(s string) bool {
	return len(s) <= MaxNoteLen && utf8.ValidString(s) && !containsControl(s)
}
