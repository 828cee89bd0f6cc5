// Package boardpage is the waiting-room board: the last calls with their
// counters, the newest highlighted, the waits per service, the time and a
// scrolling message; landscape or portrait, readable from across the room,
// French or English. The hub serves it at /display (smart TVs, Xibo) and a
// display device serves it locally; both feed it the same View through a
// Source, and the page follows it by server-sent events.
package boardpage

import (
	_ "embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"guichet/hub/api"
	"guichet/internal/live"
)

//go:embed page.html
var pageHTML string

var tmpl = template.Must(template.New("board").Parse(pageHTML))

// View is what the board shows.
type View struct {
	Site     string    `json:"site"`
	Lang     string    `json:"lang"`
	TZ       string    `json:"tz"`              // the site's time zone: the clock shows its time, not the browser's
	Clock    *Clock    `json:"clock,omitempty"` // a simulated day's clock, when the hub runs one
	Info     string    `json:"info,omitempty"`
	Message  string    `json:"message,omitempty"` // the supervisor's, shown as text
	Online   bool      `json:"online"`
	Problem  string    `json:"problem,omitempty"` // why the screen cannot reach its hub, shown in the notice
	Calls    []Call    `json:"calls"`
	Services []Service `json:"services"`
	Labels   Labels    `json:"labels"`
}

// Clock is a simulated day's clock: at the real instant Real (Unix ms) it
// was Sim (Unix ms) in the simulated day, which runs Speed times faster.
type Clock struct {
	Real  int64   `json:"real"`
	Sim   int64   `json:"sim"`
	Speed float64 `json:"speed"`
}

// Call is a line of the board.
type Call struct {
	Ticket  string `json:"ticket"`
	Counter string `json:"counter"` // its name, "Guichet 3"
	At      string `json:"at"`      // "10:42"
	Stamp   int64  `json:"stamp"`   // when called, Unix ms: tells a new call from an old one
	Recall  bool   `json:"recall"`
}

// Service is a service's line of waits: the people a new visitor would
// wait behind and that visitor's wait, or why there is none.
type Service struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Waiting int    `json:"waiting"`
	People  string `json:"people"` // "3 pers.", "" when closed
	Wait    string `json:"wait"`   // "~12 min", "< 1 min", "Fermé · ouvre à 13 h 30", "Aucun guichet ouvert"
	Closed  bool   `json:"closed"` // closed or nobody serves it: shown dimmed
}

// Labels are the board's words in its language.
type Labels struct {
	Ticket, Counter, Waiting, People, Wait, Offline, Recall string
	NoWait, Closed, NotServed                               string
	OpensAt, OpensOn                                        string // formats: the time; the day and the time
}

var labels = map[string]Labels{
	"fr": {Ticket: "Ticket", Counter: "Guichet", Waiting: "En attente", People: "pers.", Wait: "Attente", Offline: "Connexion perdue — affichage des derniers appels", Recall: "rappel",
		NoWait: "< 1 min", Closed: "Fermé", NotServed: "Aucun guichet ouvert", OpensAt: "ouvre à %s", OpensOn: "ouvre %s à %s"},
	"en": {Ticket: "Ticket", Counter: "Desk", Waiting: "Waiting", People: "people", Wait: "Wait", Offline: "Connection lost — showing the last calls", Recall: "recall",
		NoWait: "< 1 min", Closed: "Closed", NotServed: "No desk open", OpensAt: "opens at %s", OpensOn: "opens %s at %s"},
}

var weekdays = map[string][7]string{
	"fr": {"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
	"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
}

// Build makes the board's view from the hub's retained messages.
func Build(lang string, cfg api.SiteConfig, board api.Board, q api.Queue, online bool) View {
	if _, ok := labels[lang]; !ok {
		lang = "fr"
	}
	loc, err := time.LoadLocation(cfg.Site.Timezone)
	if err != nil {
		loc = time.Local
	}
	v := View{Site: cfg.Site.Name, Lang: lang, TZ: loc.String(), Info: pick(cfg.Site.Info, lang), Message: pick(cfg.Site.Message, lang), Online: online, Labels: labels[lang],
		Calls: []Call{}, Services: []Service{}}
	if c := cfg.Site.Clock; c != nil && c.Speed > 0 {
		v.Clock = &Clock{Real: c.Real.UnixMilli(), Sim: c.Sim.UnixMilli(), Speed: c.Speed}
	}
	seen := map[string]bool{}
	for _, c := range board.Calls { // newest first; a recalled ticket shows once
		if seen[c.Ticket] {
			continue
		}
		seen[c.Ticket] = true
		name := api.ShortCounterName(c.CounterName)
		if name == "" {
			name = c.Counter
		}
		v.Calls = append(v.Calls, Call{Ticket: c.Ticket, Counter: name, At: c.At.In(loc).Format("15:04"), Stamp: c.At.UnixMilli(), Recall: c.Recall})
	}
	now := q.At.In(loc)
	for _, s := range q.Services {
		if len(s.Channels) > 0 && !slices.Contains(s.Channels, "visit") {
			continue // nobody in the room waits for a phone-only service
		}
		v.Services = append(v.Services, serviceLine(lang, loc, now, s))
	}
	return v
}

// serviceLine says what a new visitor of s would wait, or why they cannot.
func serviceLine(lang string, loc *time.Location, now time.Time, s api.ServiceQueue) Service {
	l := labels[lang]
	line := Service{ID: s.Service, Name: pick(s.Name, lang), Waiting: s.Ahead, People: fmt.Sprintf("%d %s", s.Ahead, l.People)}
	switch {
	case !s.Open:
		line.People, line.Closed, line.Wait = "", true, l.Closed
		if s.NextOpen != nil {
			line.Wait += " · " + opens(lang, loc, now, *s.NextOpen)
		}
	case s.EstimatedWait == nil:
		line.Closed, line.Wait = true, l.NotServed
	case s.EstimatedWaitMin != nil && s.EstimatedWaitMax != nil:
		line.Wait = api.FormatWait(lang, *s.EstimatedWaitMin, *s.EstimatedWaitMax)
	case *s.EstimatedWait < 60:
		line.Wait = l.NoWait
	default:
		line.Wait = "~" + minutes(*s.EstimatedWait)
	}
	return line
}

// opens says when a closed service opens: "ouvre à 13 h 30" the same day,
// "ouvre lundi à 8 h 30" within a week, "ouvre le 02/01 à 9 h 00" later.
func opens(lang string, loc *time.Location, now, at time.Time) string {
	l := labels[lang]
	at, now = at.In(loc), now.In(loc)
	clock := at.Format("15:04")
	if lang == "fr" {
		clock = strings.Replace(at.Format("15 h 04"), " h 00", " h", 1)
	}
	y, m, d := now.Date()
	days := int(time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, loc).Sub(time.Date(y, m, d, 0, 0, 0, 0, loc)).Hours()+12) / 24
	switch {
	case days <= 0:
		return fmt.Sprintf(l.OpensAt, clock)
	case days < 7:
		return fmt.Sprintf(l.OpensOn, weekdays[lang][at.Weekday()], clock)
	case lang == "fr":
		return fmt.Sprintf(l.OpensOn, "le "+at.Format("02/01"), clock)
	}
	return fmt.Sprintf(l.OpensOn, at.Format("Jan 2"), clock)
}

func minutes(seconds int) string {
	m := (seconds + 30) / 60
	if m < 60 {
		return strconv.Itoa(m) + " min"
	}
	return fmt.Sprintf("%d h %02d", m/60, m%60)
}

func pick(n api.Names, lang string) string {
	if n[lang] != "" {
		return n[lang]
	}
	return n["fr"]
}

// Source gives a board its view and tells it of changes.
type Source interface {
	View(lang string) View
	Watch() (<-chan struct{}, func())
}

// Handler serves the board of src: the page at "/", its view as
// server-sent events at "/events".
func Handler(src Source, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := r.URL.Query().Get("lang")
		if lang != "en" {
			lang = "fr"
		}
		switch r.URL.Path {
		case "/", "":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			if err := tmpl.Execute(w, map[string]any{"V": src.View(lang)}); err != nil {
				log.Error("render board", "err", err)
			}
		case "/events":
			events(w, r, src, lang)
		default:
			http.NotFound(w, r)
		}
	})
}

func events(w http.ResponseWriter, r *http.Request, src Source, lang string) {
	changes, cancel := src.Watch()
	defer cancel()
	live.Stream(w, r, changes, 5*time.Second, func() any { return src.View(lang) })
}
