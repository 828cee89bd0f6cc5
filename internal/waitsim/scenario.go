// Package waitsim plays simulated days at a town hall's reception straight
// on the queue engine, in virtual time, to measure the estimated wait
// against the real one. Citizens arrive (Poisson, shaped over the day),
// agents call next with the engine's own policy, serve for log-normal
// times, recall and mark no-shows, transfer, pause, go to lunch in turns;
// every estimate the hub would show — at issue, and on the mobile page as
// time passes — is recorded, and compared afterwards with when the ticket
// was really called. A day of a few hundred tickets plays in milliseconds;
// nothing here reads a clock or starts a goroutine.
//
// Where the shapes come from. No public data set gives arrivals per hour at
// a French town hall's reception desk: the activity reports of "accueil
// unique" services we found publish yearly or monthly counts, not hours.
// The shapes used are those every such desk states: opening 08:30 to 17:30
// on weekdays (as in the published hours of Istres, Épernon and most town
// halls), a rush at opening, a trough over lunch (when many town halls
// close: citizens who come then are few), a second peak early in the
// afternoon, a quieter end of day; Monday mornings busier (the week's
// backlog, the offices closed on Saturday); the passport and ID-card
// season in spring (reported in the press each year since 2022, with
// delays of up to several months). Service times are log-normal (σ 0.5),
// the shape queueing studies of service desks and call centres find (Brown
// et al., "Statistical analysis of a telephone call center", JASA 2005),
// around means an agent states for each démarche: 6 min for état civil, 15
// for a passport or ID-card file, 10 for the social service; a phone call
// takes two thirds of a visit. The rates are set so that an ordinary day's
// mean wait is around a quarter of an hour, the figure the issue measured.
package waitsim

import (
	"time"

	"guichet/hub/queue"
)

// Scenario is a kind of day.
type Scenario struct {
	Name    string
	About   string
	Weekday time.Weekday
	// Rates are arrivals per hour by service, at an average hour of the
	// day (both channels).
	Rates map[string]float64
	// Phone is the share of phone calls among a service's arrivals, for the
	// services that take calls.
	Phone float64
	// Shape is how busy a moment of the day is, 1 on average.
	Shape          func(minute int) float64
	NoShow         float64 // share of called citizens who do not come
	Transfer       float64 // share of visits transferred to another service
	Lunch          bool    // agents leave for lunch in two turns
	BlendedCounter bool    // counter 4 takes calls as well as visits
	// CloseWhenFull: the day ends with more demand than the desks can take,
	// and what close_when_full would decide is measured.
	CloseWhenFull bool
}

// Opening and closing of the simulated site, minutes after midnight.
const (
	Opening = 8*60 + 30
	Closing = 17*60 + 30
)

// ordinaryShape is a weekday: the rush at opening, the lunch trough, the
// afternoon peak, a quiet end.
func ordinaryShape(m int) float64 {
	switch {
	case m < 10*60:
		return 1.3
	case m < 12*60:
		return 1.15
	case m < 13*60+30:
		return 0.6
	case m < 15*60:
		return 1.0
	case m < 16*60+30:
		return 0.95
	default:
		return 0.7
	}
}

// Scenarios are the days the benchmark plays, as issue 14 lists them.
func Scenarios() []Scenario {
	rates := map[string]float64{"A": 15, "P": 5, "S": 5.5}
	return []Scenario{
		{Name: "ordinary", About: "an ordinary Tuesday", Weekday: time.Tuesday, Rates: rates, Phone: 0.2,
			Shape: ordinaryShape, NoShow: 0.04, Transfer: 0.02},
		{Name: "monday-peak", About: "a Monday with a morning peak", Weekday: time.Monday, Rates: rates, Phone: 0.2,
			Shape: func(m int) float64 {
				if m < 11*60 {
					return 1.7
				}
				return 0.85 * ordinaryShape(m)
			}, NoShow: 0.04, Transfer: 0.02},
		{Name: "lunch", About: "agents leave for lunch in two turns, the desk stays open", Weekday: time.Thursday, Rates: rates, Phone: 0.2,
			Shape: func(m int) float64 {
				if m >= 12*60 && m < 14*60 {
					return 0.8
				}
				return ordinaryShape(m)
			}, NoShow: 0.04, Transfer: 0.02, Lunch: true},
		{Name: "phone-40", About: "40 % of état civil and social demand by phone, one desk blended", Weekday: time.Tuesday,
			Rates: map[string]float64{"A": 17, "P": 5, "S": 6.5}, Phone: 0.4, Shape: ordinaryShape, NoShow: 0.04, Transfer: 0.02,
			BlendedCounter: true},
		{Name: "noshow-transfer", About: "15 % no-shows and 10 % transfers", Weekday: time.Wednesday, Rates: rates, Phone: 0.2,
			Shape: ordinaryShape, NoShow: 0.15, Transfer: 0.10},
		{Name: "close-when-full", About: "an afternoon surge that runs past closing", Weekday: time.Friday, Rates: rates, Phone: 0.2,
			Shape: func(m int) float64 {
				if m >= 14*60 {
					return 1.6
				}
				return ordinaryShape(m)
			}, NoShow: 0.04, Transfer: 0.02, CloseWhenFull: true},
	}
}

// Site is the simulated town hall: état civil (A, visits and calls),
// passports and ID cards (P, visits), social (S, visits and calls); four
// desks and a phone position; five agents with mixed skills.
func Site(sc Scenario, loc *time.Location) queue.Site {
	var week [7][]queue.Span
	for d := time.Monday; d <= time.Friday; d++ {
		week[d] = []queue.Span{{From: Opening, To: Closing}}
	}
	hours := queue.NewHours(week, nil)
	both := []queue.Channel{queue.Visit, queue.Phone}
	s := queue.Site{ID: "sim", Name: "Mairie simulée", Location: loc, Policy: queue.DefaultPolicy(), Languages: []string{"fr"},
		Services: []queue.Service{
			{ID: "A", Names: map[string]string{"fr": "État civil"}, SLA: 15 * time.Minute, Channels: both, ServiceTime: 6 * time.Minute, Hours: hours},
			{ID: "P", Names: map[string]string{"fr": "Passeports et CNI"}, SLA: 30 * time.Minute, Channels: []queue.Channel{queue.Visit}, ServiceTime: 15 * time.Minute, Hours: hours},
			{ID: "S", Names: map[string]string{"fr": "Social"}, SLA: 20 * time.Minute, Channels: both, ServiceTime: 10 * time.Minute, Hours: hours},
		},
		Counters: []queue.Counter{
			{ID: "1", Name: "Guichet 1"}, {ID: "2", Name: "Guichet 2"}, {ID: "3", Name: "Guichet 3"}, {ID: "4", Name: "Guichet 4"},
			{ID: "9", Name: "Téléphone", Channels: []queue.Channel{queue.Phone}},
		},
		Agents: []queue.Agent{
			{ID: "a1", Skills: map[string]int{"A": 3, "P": 1}},
			{ID: "a2", Skills: map[string]int{"A": 2, "S": 2}},
			{ID: "a3", Skills: map[string]int{"P": 3}},
			{ID: "a4", Skills: map[string]int{"A": 1, "P": 2, "S": 1}},
			{ID: "a5", Skills: map[string]int{"A": 1, "S": 1}},
		},
	}
	// The agents' hours, as the site file states them: the day, and on a
	// lunch day the turn each takes.
	for i := range s.Agents {
		var days [7][]queue.Span
		for d := time.Monday; d <= time.Friday; d++ {
			days[d] = []queue.Span{{From: Opening, To: Closing}}
			if l := lunchTurn[s.Agents[i].ID]; sc.Lunch {
				days[d] = []queue.Span{{From: Opening, To: l}, {From: l + 60, To: Closing}}
			}
		}
		s.Agents[i].Hours = queue.NewHours(days, nil)
	}
	s.Policy.CloseWhenFull = false // measured in the shadow: see Record.WouldRefuse
	if sc.BlendedCounter {
		s.Counters[3].Channels = both
	}
	return s
}

// seat is where each agent works: a1 to a4 at desks 1 to 4, a5 on the phone.
var seat = map[string]string{"a1": "1", "a2": "2", "a3": "3", "a4": "4", "a5": "9"}

// lunchTurn is when an agent leaves for lunch, in minutes after midnight
// (an hour each; the phone position is covered by nobody meanwhile).
var lunchTurn = map[string]int{"a1": 12 * 60, "a2": 12 * 60, "a5": 12 * 60, "a3": 13 * 60, "a4": 13 * 60}
