package admin

import (
	"fmt"
	"net/http"
	"time"

	"guichet/hub/queue"
)

// A week of hours as the forms show it: a service's opening hours and an
// agent's working hours are the same fields, hours_mon … hours_sun, each
// a line of periods read by the queue's parser.

// dayHours is one day of a week's hours on a form: its field's key, its
// label in the page's language, and its periods as written.
type dayHours struct {
	Key, Label, Spec string
}

var dayLabels = map[string][7]string{
	"fr": {"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
	"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
}

// weekOrder lists the days Monday first, as French calendars do.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// weekDays returns the days of h as a form shows them, Monday first, in
// language l.
func weekDays(h queue.Hours, l string) []dayHours {
	days := make([]dayHours, 0, len(weekOrder))
	for _, d := range weekOrder {
		days = append(days, dayHours{Key: queue.DayKey(d), Label: dayLabels[l][d], Spec: queue.FormatSpans(h.Week[d])})
	}
	return days
}

// parseWeek reads the fields hours_mon … hours_sun of a posted form: the
// days as typed (to show them again), the week's periods, and what is
// wrong with the first wrong day, named in language l after the fields'
// legend ("Horaires d'ouverture: mardi: …"); empty when every day reads.
func parseWeek(r *http.Request, l, legend string) (days []dayHours, week [7][]queue.Span, problem string) {
	days = make([]dayHours, 0, len(weekOrder))
	for _, d := range weekOrder {
		spec := r.PostFormValue("hours_" + queue.DayKey(d))
		days = append(days, dayHours{Key: queue.DayKey(d), Label: dayLabels[l][d], Spec: spec})
		spans, err := queue.ParseSpans(spec)
		if err != nil && problem == "" {
			problem = fmt.Sprintf("%s: %s: %v", legend, dayLabels[l][d], err)
		}
		week[d] = spans
	}
	return days, week, problem
}
