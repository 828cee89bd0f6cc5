package crm

import "time"

// Day is 24 hours, for retention durations.
const Day = 24 * time.Hour

// Retention is how long each kind of data is kept; site data. See
// docs/crm.md for where the defaults come from.
type Retention struct {
	// TicketLink: after it, a visit's ticket is detached from the citizen
	// (its id and number removed; the visit stays in the contact history).
	TicketLink time.Duration `json:"ticket_link" yaml:"ticket_link"`
	Visits     time.Duration `json:"visits" yaml:"visits"` // contact history: visits
	Calls      time.Duration `json:"calls" yaml:"calls"`   // contact history: call records
	// Audit is how long hub/audit keeps its entries; the hub purges it.
	Audit time.Duration `json:"audit" yaml:"audit"`
	// Sectors: notes, letters and e-mails, and closed requests of a sector,
	// counted from their date (from the closing date for a request). A
	// citizen's file goes when their last interaction is older than the
	// longest retention of the sectors it holds records of.
	Sectors map[Sector]time.Duration `json:"sectors" yaml:"sectors"`
	Sector  time.Duration            `json:"sector_default" yaml:"sector_default"` // sectors not listed
	// PendingImports: requests from other platforms no agent matched.
	PendingImports time.Duration `json:"pending_imports" yaml:"pending_imports"`
}

// DefaultRetention: tickets detached after 30 days; contact history and
// call records one year; audit one year (CNIL, recommendation on logging,
// délibération 2021-122: six months to one year); a sector's records three
// years after the last activity, the social sector's (CCAS) five; imports
// no agent matched, three months.
func DefaultRetention() Retention {
	return Retention{
		TicketLink:     30 * Day,
		Visits:         365 * Day,
		Calls:          365 * Day,
		Audit:          365 * Day,
		Sectors:        map[Sector]time.Duration{SectorSocial: 5 * 365 * Day},
		Sector:         3 * 365 * Day,
		PendingImports: 90 * Day,
	}
}

func (r Retention) withDefaults() Retention {
	d := DefaultRetention()
	for _, f := range []struct{ v, def *time.Duration }{{&r.TicketLink, &d.TicketLink}, {&r.Visits, &d.Visits},
		{&r.Calls, &d.Calls}, {&r.Audit, &d.Audit}, {&r.Sector, &d.Sector}, {&r.PendingImports, &d.PendingImports}} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	if r.Sectors == nil {
		r.Sectors = d.Sectors
	}
	return r
}

// of returns the retention of a sector's records.
func (r Retention) of(s Sector) time.Duration {
	if d, ok := r.Sectors[s]; ok && d > 0 {
		return d
	}
	return r.Sector
}

// contact is the retention of a file that holds contact history only.
func (r Retention) contact() time.Duration { return max(r.Visits, r.Calls) }
