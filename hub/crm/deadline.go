package crm

import (
	"slices"
	"time"
)

// The implicit decision ("décision implicite"), as the Code des relations
// entre le public et l'administration (CRPA) makes it and as this code
// computes it:
//
//  1. The regime. Silence kept by the town on a request for two months is
//     acceptance (CRPA L231-1, "le silence gardé pendant deux mois par
//     l'administration sur une demande vaut décision d'acceptation", the rule
//     since the law of 12 November 2013). Silence is rejection in the cases
//     L231-4 lists (a request that is not for an individual decision, not in a
//     procedure a text provides, a complaint or an administrative appeal, a
//     request of a financial nature, the cases a decree names) and where a
//     text says so (CRPA L231-5, L231-6 for other delays). Each Kind of request
//     carries its Regime and its Delay; a kind without regime (RegimeNone) gets
//     no date.
//  2. The count. Days are civil days in the site's time zone (Europe/Paris).
//     The day of receipt does not count; a delay of N months ends on the day
//     of the Nth month after that bears the same number, or on that month's
//     last day when it has none (31 December + 2 months → 28 or 29 February;
//     31 January + 1 month → 28 or 29 February), as the courts count months
//     (Code de procédure civile, art. 641, applied by the administrative
//     judge); a delay of N days ends N days after receipt. The decision is
//     born at the end of that day, at midnight Paris time, whatever the
//     offset that day (the change to summer time on the last Sunday of March
//     does not move it). A delay ending on a Saturday, Sunday or public
//     holiday is not extended: that extension (CPC art. 642) concerns the
//     time left to act, not the birth of a decision.
//  3. Missing documents (CRPA L114-5). When the request is incomplete the
//     town lists the missing pieces and sets a date for them (Suspension:
//     Asked, Due, Received).
//     - Acceptance regime: "le délai au terme duquel, à défaut de décision
//     expresse, la demande est réputée acceptée ne court qu'à compter de la
//     réception des pièces et informations requises": the delay starts again,
//     in full, on the day the last missing pieces are received. Until then
//     there is no date (Pending).
//     - Rejection regime: "le délai au terme duquel, à défaut de décision
//     expresse, la demande est réputée rejetée est suspendu pendant le délai
//     imparti pour produire les pièces et informations requises. Toutefois,
//     la production de ces pièces et informations avant l'expiration du délai
//     fixé met fin à cette suspension": the end moves later by the days from
//     Asked to Received, or to Due when the pieces come late or never. Until
//     they come, the date assumes they will not come before Due (Provisional).
//     - A request for pieces made after the decision was born changes nothing.
//     Suspensions are taken in the order they were asked.

// Regime is what the town's silence means.
type Regime string

// Regimes.
const (
	RegimeAcceptance Regime = "acceptation" // silence vaut acceptation (CRPA L231-1)
	RegimeRejection  Regime = "rejet"       // silence vaut rejet (CRPA L231-4 and texts)
	RegimeNone       Regime = "aucun"       // no implicit decision (a document delivered on the spot…)
)

// Delay is the time after which silence is a decision: months, or days.
type Delay struct {
	Months int `json:"months,omitempty" yaml:"months,omitempty"`
	Days   int `json:"days,omitempty" yaml:"days,omitempty"`
}

// Suspension is one request for missing documents (CRPA L114-5).
type Suspension struct {
	Asked    time.Time `json:"asked"`             // the day the town asked for them
	Due      time.Time `json:"due"`               // the date it set for them
	Received time.Time `json:"received,omitzero"` // when they came; zero until then
	Pieces   string    `json:"pieces"`            // what is missing, as told to the citizen
}

// Implicit is when silence becomes a decision.
type Implicit struct {
	Regime      Regime    `json:"regime"`
	Day         time.Time `json:"day,omitzero"`   // the last day of the delay, at 00:00 local
	At          time.Time `json:"at,omitzero"`    // the decision's birth: the end of Day (midnight local)
	Pending     bool      `json:"pending"`        // acceptance regime, documents awaited: the delay has not started
	Provisional bool      `json:"provisional"`    // rejection regime, documents awaited: Day assumes they come at Due
	Suspended   int       `json:"suspended_days"` // days added by suspensions (rejection regime)
}

// ImplicitDecision applies the rule above to a request received at
// received, in loc.
func ImplicitDecision(regime Regime, d Delay, received time.Time, susp []Suspension, loc *time.Location) Implicit {
	out := Implicit{Regime: regime}
	if regime != RegimeAcceptance && regime != RegimeRejection || d.Months <= 0 && d.Days <= 0 {
		out.Regime = RegimeNone
		return out
	}
	end := addDelay(civil(received, loc), d)
	ss := slices.Clone(susp)
	slices.SortStableFunc(ss, func(a, b Suspension) int { return a.Asked.Compare(b.Asked) })
	for _, s := range ss {
		asked := civil(s.Asked, loc)
		if asked.after(end) {
			continue // the decision was born before the pieces were asked for
		}
		switch regime {
		case RegimeAcceptance:
			if s.Received.IsZero() {
				out.Pending = true
				return out
			}
			end = addDelay(civil(s.Received, loc), d)
		case RegimeRejection:
			var stop date
			switch {
			case !s.Received.IsZero() && (s.Due.IsZero() || !civil(s.Received, loc).after(civil(s.Due, loc))):
				stop = civil(s.Received, loc)
			case !s.Due.IsZero():
				stop = civil(s.Due, loc)
				out.Provisional = out.Provisional || s.Received.IsZero()
			default:
				// Pieces asked for without a date for them: the law requires
				// one; until it is set the end cannot be known.
				out.Pending = true
				return out
			}
			n := stop.days(asked)
			if n > 0 {
				end = end.addDays(n)
				out.Suspended += n
			}
		}
	}
	out.Day = end.in(loc)
	out.At = end.addDays(1).in(loc)
	return out
}

// date is a civil day.
type date struct {
	y int
	m time.Month
	d int
}

func civil(t time.Time, loc *time.Location) date {
	y, m, d := t.In(loc).Date()
	return date{y, m, d}
}

func (a date) in(loc *time.Location) time.Time { return time.Date(a.y, a.m, a.d, 0, 0, 0, 0, loc) }

func (a date) after(b date) bool { return a.in(time.UTC).After(b.in(time.UTC)) }

func (a date) addDays(n int) date {
	return civil(time.Date(a.y, a.m, a.d+n, 12, 0, 0, 0, time.UTC), time.UTC)
}

// days returns a − b in days.
func (a date) days(b date) int {
	return int(a.in(time.UTC).Sub(b.in(time.UTC)).Hours() / 24)
}

// addMonths counts months from quantième to quantième, on the month's last
// day when it has no such number (time.AddDate would roll over into the
// next month: 31 January + 1 month would be 3 March).
func (a date) addMonths(n int) date {
	first := time.Date(a.y, a.m+time.Month(n), 1, 12, 0, 0, 0, time.UTC)
	last := time.Date(first.Year(), first.Month()+1, 0, 12, 0, 0, 0, time.UTC).Day()
	return date{first.Year(), first.Month(), min(a.d, last)}
}

func addDelay(a date, d Delay) date {
	if d.Months > 0 {
		a = a.addMonths(d.Months)
	}
	return a.addDays(d.Days)
}
