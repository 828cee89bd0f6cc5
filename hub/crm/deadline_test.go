package crm

import (
	"testing"
	"time"
)

func parisT(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestImplicitDecisionDate(t *testing.T) {
	loc := parisT(t)
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, loc) }
	two, one := Delay{Months: 2}, Delay{Months: 1}
	for _, tc := range []struct {
		name     string
		regime   Regime
		delay    Delay
		received time.Time
		susp     []Suspension
		day      time.Time // the last day of the delay
		atUTC    time.Time // the decision's birth, in UTC
		pending  bool
		prov     bool
	}{
		{name: "acceptance, same quantième", regime: RegimeAcceptance, delay: two, received: at(2027, 1, 15, 10),
			day: at(2027, 3, 15, 0), atUTC: time.Date(2027, 3, 15, 23, 0, 0, 0, time.UTC)},
		{name: "a month without 31st: the month's last day", regime: RegimeAcceptance, delay: one, received: at(2027, 1, 31, 9),
			day: at(2027, 2, 28, 0), atUTC: time.Date(2027, 2, 28, 23, 0, 0, 0, time.UTC)},
		{name: "31 December + 2 months, leap year", regime: RegimeAcceptance, delay: two, received: at(2027, 12, 31, 9),
			day: at(2028, 2, 29, 0), atUTC: time.Date(2028, 2, 29, 23, 0, 0, 0, time.UTC)},
		{name: "31 January + 2 months", regime: RegimeRejection, delay: two, received: at(2027, 1, 31, 16),
			day: at(2027, 3, 31, 0), atUTC: time.Date(2027, 3, 31, 22, 0, 0, 0, time.UTC)},
		{name: "received late at night Paris time, early in UTC's previous day", regime: RegimeAcceptance, delay: one,
			received: time.Date(2027, 4, 30, 23, 30, 0, 0, time.UTC), // 1 May 01:30 in Paris
			day:      at(2027, 6, 1, 0), atUTC: time.Date(2027, 6, 1, 22, 0, 0, 0, time.UTC)},
		{name: "ends on the day summer time starts", regime: RegimeAcceptance, delay: two, received: at(2027, 1, 28, 11),
			// 28 March 2027 is the last Sunday of March: midnight after it is UTC+2.
			day: at(2027, 3, 28, 0), atUTC: time.Date(2027, 3, 28, 22, 0, 0, 0, time.UTC)},
		{name: "ends on the day winter time comes back", regime: RegimeRejection, delay: Delay{Days: 5}, received: at(2027, 10, 26, 11),
			day: at(2027, 10, 31, 0), atUTC: time.Date(2027, 10, 31, 23, 0, 0, 0, time.UTC)},
		{name: "rejection, documents back before the date set: suspended from asked to received",
			regime: RegimeRejection, delay: two, received: at(2027, 1, 31, 9),
			susp: []Suspension{{Asked: at(2027, 2, 15, 10), Due: at(2027, 3, 15, 0), Received: at(2027, 2, 25, 14)}},
			// 31 March + 10 days, across the change to summer time.
			day: at(2027, 4, 10, 0), atUTC: time.Date(2027, 4, 10, 22, 0, 0, 0, time.UTC)},
		{name: "rejection, documents late: suspended to the date set", regime: RegimeRejection, delay: two, received: at(2027, 1, 31, 9),
			susp: []Suspension{{Asked: at(2027, 2, 15, 10), Due: at(2027, 3, 15, 0), Received: at(2027, 3, 20, 14)}},
			day:  at(2027, 4, 28, 0), atUTC: time.Date(2027, 4, 28, 22, 0, 0, 0, time.UTC)},
		{name: "rejection, documents awaited: provisional date", regime: RegimeRejection, delay: two, received: at(2027, 1, 31, 9),
			susp: []Suspension{{Asked: at(2027, 2, 15, 10), Due: at(2027, 3, 15, 0)}},
			day:  at(2027, 4, 28, 0), atUTC: time.Date(2027, 4, 28, 22, 0, 0, 0, time.UTC), prov: true},
		{name: "acceptance, documents awaited: the delay has not started", regime: RegimeAcceptance, delay: two, received: at(2027, 1, 31, 9),
			susp: []Suspension{{Asked: at(2027, 2, 15, 10), Due: at(2027, 3, 15, 0)}}, pending: true},
		{name: "acceptance, documents received: the whole delay from their receipt", regime: RegimeAcceptance, delay: two,
			received: at(2027, 1, 31, 9),
			susp:     []Suspension{{Asked: at(2027, 2, 15, 10), Due: at(2027, 3, 15, 0), Received: at(2027, 3, 3, 9)}},
			day:      at(2027, 5, 3, 0), atUTC: time.Date(2027, 5, 3, 22, 0, 0, 0, time.UTC)},
		{name: "documents asked after the decision was born change nothing", regime: RegimeAcceptance, delay: one,
			received: at(2027, 1, 10, 9), susp: []Suspension{{Asked: at(2027, 2, 20, 10), Due: at(2027, 3, 1, 0)}},
			day: at(2027, 2, 10, 0), atUTC: time.Date(2027, 2, 10, 23, 0, 0, 0, time.UTC)},
		{name: "two suspensions, taken in the order asked", regime: RegimeRejection, delay: two, received: at(2027, 9, 1, 9),
			susp: []Suspension{
				{Asked: at(2027, 10, 1, 9), Due: at(2027, 10, 20, 0), Received: at(2027, 10, 6, 9)}, // 5 days
				{Asked: at(2027, 9, 10, 9), Due: at(2027, 9, 30, 0), Received: at(2027, 9, 13, 9)},  // 3 days
			},
			day: at(2027, 11, 9, 0), atUTC: time.Date(2027, 11, 9, 23, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ImplicitDecision(tc.regime, tc.delay, tc.received, tc.susp, loc)
			if got.Pending != tc.pending || got.Provisional != tc.prov {
				t.Fatalf("pending %v provisional %v; want %v %v", got.Pending, got.Provisional, tc.pending, tc.prov)
			}
			if tc.pending {
				if !got.At.IsZero() {
					t.Fatalf("a pending decision has a date: %v", got.At)
				}
				return
			}
			if !got.Day.Equal(tc.day) || !got.At.Equal(tc.atUTC) {
				t.Fatalf("day %v at %v; want day %v at %v", got.Day, got.At.UTC(), tc.day, tc.atUTC)
			}
		})
	}
}

func TestNoImplicitDecisionWithoutRegimeOrDelay(t *testing.T) {
	loc := parisT(t)
	now := time.Date(2027, 1, 1, 9, 0, 0, 0, loc)
	for _, im := range []Implicit{
		ImplicitDecision(RegimeNone, Delay{Months: 2}, now, nil, loc),
		ImplicitDecision(RegimeAcceptance, Delay{}, now, nil, loc),
		ImplicitDecision("silence", Delay{Months: 2}, now, nil, loc),
	} {
		if im.Regime != RegimeNone || !im.At.IsZero() {
			t.Errorf("%+v", im)
		}
	}
}
