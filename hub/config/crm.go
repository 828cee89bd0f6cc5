package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"guichet/hub/crm"
	"guichet/hub/queue"
)

// CRMConf is the site file's crm section: the citizen file's settings
// (docs/crm.md). Every service belongs to a sector (état civil, social,
// urbanisme…): an agent reads the records of their services' sectors only.
type CRMConf struct {
	// Sectors: service id → sector. With a crm section every service is
	// listed; without one every service is in the sector accueil.
	Sectors map[string]string `yaml:"sectors"`
	// SupervisorSeesAll gives supervisors every sector's records (the
	// "wider view"); every change of it is audited.
	SupervisorSeesAll bool `yaml:"supervisor_sees_all,omitempty"`
	// Retention overrides the defaults, kind by kind.
	Retention RetentionConf `yaml:"retention,omitempty"`
	// PurgeAt is the local time of the daily purge, "03:00" if absent.
	PurgeAt string `yaml:"purge_at,omitempty"`
	// Offices are the services handling each sector's requests, as the
	// acknowledgement of receipt names them.
	Offices map[string]OfficeConf `yaml:"offices,omitempty"`
	// DPO lists the accounts of the data protection officer: in the
	// citizen file they export, erase, purge and read every sector.
	DPO []string `yaml:"dpo,omitempty"`
}

// RetentionConf overrides how long each kind of data is kept.
type RetentionConf struct {
	TicketLink     *Period           `yaml:"ticket_link,omitempty"`
	Visits         *Period           `yaml:"visits,omitempty"`
	Calls          *Period           `yaml:"calls,omitempty"`
	Audit          *Period           `yaml:"audit,omitempty"`
	SectorDefault  *Period           `yaml:"sector_default,omitempty"`
	PendingImports *Period           `yaml:"pending_imports,omitempty"`
	Sectors        map[string]Period `yaml:"sectors,omitempty"` // sector → its records' retention
}

// OfficeConf is the office handling a sector's requests.
type OfficeConf struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address,omitempty"`
	Email   string `yaml:"email,omitempty"`
	Phone   string `yaml:"phone,omitempty"`
}

// Period is a retention: "30d" (days), "1y" (365 days) or a Go duration.
type Period time.Duration

var periodRe = regexp.MustCompile(`^(\d{1,5})([dy])$`)

// UnmarshalYAML reads "30d", "5y" or "720h".
func (p *Period) UnmarshalYAML(node *yaml.Node) error {
	if m := periodRe.FindStringSubmatch(node.Value); m != nil {
		n, _ := strconv.Atoi(m[1])
		days := n
		if m[2] == "y" {
			days = n * 365
		}
		*p = Period(time.Duration(days) * crm.Day)
		return nil
	}
	v, err := time.ParseDuration(node.Value)
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: %q is not a period such as 30d, 1y or 720h", node.Line, node.Value)
	}
	*p = Period(v)
	return nil
}

// MarshalYAML writes a period in days.
func (p Period) MarshalYAML() (any, error) {
	d := time.Duration(p)
	if d%crm.Day == 0 {
		return fmt.Sprintf("%dd", d/crm.Day), nil
	}
	return d.String(), nil
}

// DefaultPurgeAt is when the daily purge runs when the site file does not
// say.
const DefaultPurgeAt = "03:00"

// loginRe is an account's login, as hub/auth takes it.
var loginRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

var clockRe = regexp.MustCompile(`^([01]?\d|2[0-3]):([0-5]\d)$`)

// PurgeTime returns the local time of day of the daily purge.
func (c *Config) PurgeTime() (hour, minute int) {
	at := DefaultPurgeAt
	if c != nil && c.CRM != nil && c.CRM.PurgeAt != "" {
		at = c.CRM.PurgeAt
	}
	m := clockRe.FindStringSubmatch(at)
	hour, _ = strconv.Atoi(m[1])
	minute, _ = strconv.Atoi(m[2])
	return hour, minute
}

// knownSectors are the sectors the citizen file knows, and those the
// site file gives an office.
func (c *Config) knownSectors() map[crm.Sector]bool {
	out := map[crm.Sector]bool{}
	site := crm.DefaultSite("")
	for s := range site.Offices {
		out[s] = true
	}
	for _, k := range site.Kinds {
		out[k.Sector] = true
	}
	if c.CRM != nil {
		for s := range c.CRM.Offices {
			out[crm.Sector(s)] = true
		}
	}
	return out
}

func sectorList(m map[crm.Sector]bool) string {
	out := make([]string, 0, len(m))
	for s := range m {
		out = append(out, string(s))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// checkCRM checks the crm section against the site: every service in a
// known sector, retentions within reason, the purge time a time of day.
func (c *Config) checkCRM(l *locator, site *queue.Site) error {
	x := c.CRM
	if x == nil {
		return nil
	}
	at := func(f ...any) []any { return append([]any{"crm"}, f...) }
	known := c.knownSectors()
	for _, s := range sortedKeys(x.Offices) {
		if !queue.IDPattern.MatchString(s) {
			return l.errf(at("offices", s), "a sector id of letters, digits, '-' or '_' is required")
		}
		if x.Offices[s].Name == "" {
			return l.errf(at("offices", s, "name"), "the office of sector %s needs a name (the acknowledgement of receipt prints it)", s)
		}
	}
	for _, svc := range sortedKeys(x.Sectors) {
		if site.Service(svc) == nil {
			return l.errf(at("sectors", svc), "unknown service %q", svc)
		}
		if sec := crm.Sector(x.Sectors[svc]); !known[sec] {
			return l.errf(at("sectors", svc), "unknown sector %q (%s, or a sector given an office in crm.offices)", sec, sectorList(known))
		}
	}
	for _, s := range site.Services {
		if _, ok := x.Sectors[s.ID]; !ok {
			return l.errf(at("sectors"), "service %s belongs to no sector: every service is in one (%s)", s.ID, sectorList(known))
		}
	}
	for _, sec := range sortedKeys(x.Retention.Sectors) {
		if !known[crm.Sector(sec)] {
			return l.errf(at("retention", "sectors", sec), "unknown sector %q", sec)
		}
	}
	r := x.Retention
	for _, f := range []struct {
		key string
		v   *Period
	}{{"ticket_link", r.TicketLink}, {"visits", r.Visits}, {"calls", r.Calls}, {"audit", r.Audit},
		{"sector_default", r.SectorDefault}, {"pending_imports", r.PendingImports}} {
		if f.v != nil && (time.Duration(*f.v) < crm.Day || time.Duration(*f.v) > 100*365*crm.Day) {
			return l.errf(at("retention", f.key), "a retention is 1d to 100y")
		}
	}
	for i, a := range x.DPO {
		if !loginRe.MatchString(a) {
			return l.errf(at("dpo", i), "%q is not an account's login (letters, digits, '.', '_', '@', '+' or '-')", a)
		}
	}
	if x.PurgeAt != "" && !clockRe.MatchString(x.PurgeAt) {
		return l.errf(at("purge_at"), "%q is not a time of day such as 03:00", x.PurgeAt)
	}
	return nil
}

// SectorOf returns the sector of each service: the crm section's, or
// accueil for every service without one.
func (c *Config) SectorOf(site *queue.Site) map[string]crm.Sector {
	out := map[string]crm.Sector{}
	for _, s := range site.Services {
		out[s.ID] = crm.SectorAccueil
		if c != nil && c.CRM != nil {
			if sec, ok := c.CRM.Sectors[s.ID]; ok {
				out[s.ID] = crm.Sector(sec)
			}
		}
	}
	return out
}

// DPOAccounts returns the accounts of the data protection officer.
func (c *Config) DPOAccounts() []string {
	if c == nil || c.CRM == nil {
		return nil
	}
	return c.CRM.DPO
}

// CRMSite returns the citizen file's site: the town hall's defaults (kinds
// of requests, offices named after their sector, CNIL-based retention)
// with what the crm section overrides.
func (c *Config) CRMSite(site *queue.Site) crm.Site {
	out := crm.DefaultSite(site.Name)
	out.Location = site.Location
	if c == nil || c.CRM == nil {
		return out
	}
	for s, o := range c.CRM.Offices {
		out.Offices[crm.Sector(s)] = crm.Office{Name: o.Name, Address: o.Address, Email: o.Email, Phone: o.Phone}
	}
	r := c.CRM.Retention
	for _, f := range []struct {
		v  *Period
		to *time.Duration
	}{{r.TicketLink, &out.Retention.TicketLink}, {r.Visits, &out.Retention.Visits}, {r.Calls, &out.Retention.Calls},
		{r.Audit, &out.Retention.Audit}, {r.SectorDefault, &out.Retention.Sector}, {r.PendingImports, &out.Retention.PendingImports}} {
		if f.v != nil {
			*f.to = time.Duration(*f.v)
		}
	}
	for sec, p := range r.Sectors {
		out.Retention.Sectors[crm.Sector(sec)] = time.Duration(p)
	}
	return out
}

// checkLinks checks the sections that link the site to the telephone
// system and to the citizen file.
func (c *Config) checkLinks(l *locator, site *queue.Site) error {
	if err := c.checkTelephony(l, site); err != nil {
		return err
	}
	return c.checkCRM(l, site)
}
