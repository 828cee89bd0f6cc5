package config

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"guichet/hub/queue"
)

// MarshalYAML writes a duration as Parse reads it: "15m", "1h30m".
func (d Duration) MarshalYAML() (any, error) {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s, nil
}

// Export writes a site as a configuration file that Parse reads back into
// the same site: each service with its own opening hours and closed dates
// (the file's site-wide hours are spelt out per service), the policy
// whole. The demo's "always open" (IgnoreHours) is not a setting of the
// file and is not written.
func Export(s queue.Site, header string) ([]byte, error) {
	p := s.Policy
	tiers := make([]string, 0, len(p.Tiers))
	for _, t := range p.Tiers {
		tiers = append(tiers, string(t))
	}
	dur := func(d time.Duration) *Duration { v := Duration(d); return &v }
	c := Config{
		Site: SiteConf{ID: s.ID, Name: s.Name, Timezone: s.Location.String(), Languages: s.Languages, PublicURL: s.PublicURL,
			Info: Names(s.Info), Message: Names(s.Message), PauseReasons: s.PauseReasons},
		Policy: PolicyConf{Tiers: &tiers, AppointmentWindow: dur(p.AppointmentWindow), PriorityBoost: dur(p.PriorityBoost),
			RecallsBeforeNoShow: &p.RecallsBeforeNoShow, BoardSize: &p.BoardSize, CloseWhenFull: &p.CloseWhenFull},
	}
	if p.TransferHold > 0 {
		c.Policy.TransferHold = dur(p.TransferHold)
	}
	if p.OfflineNumbers > 0 {
		c.Policy.OfflineNumbers = &p.OfflineNumbers
	}
	for _, sv := range s.Services {
		sc := Service{ID: sv.ID, Name: Names(sv.Names), SLA: Duration(sv.SLA), Weight: sv.Weight,
			ServiceTime: Duration(sv.ServiceTime), ClosedDates: sv.Hours.ClosedDates()}
		for _, ch := range sv.Channels {
			sc.Channels = append(sc.Channels, string(ch))
		}
		for d := time.Sunday; d <= time.Saturday; d++ {
			if spans := sv.Hours.Week[d]; len(spans) > 0 {
				if sc.Hours == nil {
					sc.Hours = HoursMap{}
				}
				sc.Hours[queue.DayKey(d)] = queue.FormatSpans(spans)
			}
		}
		if sv.Hours.Set() && sc.Hours == nil && len(sc.ClosedDates) == 0 {
			return nil, fmt.Errorf("service %s: opening hours the file cannot write", sv.ID)
		}
		if sv.Closed != nil {
			sc.Closed = &ClosedConf{Message: Names(sv.Closed.Message)}
		}
		c.Services = append(c.Services, sc)
	}
	for _, ct := range s.Counters {
		cc := Counter{ID: ct.ID, Name: ct.Name, Services: ct.Services}
		for _, ch := range ct.Channels {
			cc.Channels = append(cc.Channels, string(ch))
		}
		c.Counters = append(c.Counters, cc)
	}
	for _, a := range s.Agents {
		ac := AgentConf{ID: a.ID, Name: a.Name, Skills: a.Skills}
		for d := time.Sunday; d <= time.Saturday; d++ {
			if spans := a.Hours.Week[d]; len(spans) > 0 {
				if ac.Hours == nil {
					ac.Hours = HoursMap{}
				}
				ac.Hours[queue.DayKey(d)] = queue.FormatSpans(spans)
			}
		}
		if a.Hours.Set() && ac.Hours == nil {
			return nil, fmt.Errorf("agent %s: working hours the file cannot write", a.ID)
		}
		c.Agents = append(c.Agents, ac)
	}
	var buf bytes.Buffer
	for _, l := range strings.Split(strings.TrimSpace(header), "\n") {
		if l != "" {
			fmt.Fprintf(&buf, "# %s\n", l)
		}
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("export the site: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("export the site: %w", err)
	}
	return buf.Bytes(), nil
}
