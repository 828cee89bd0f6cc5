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
	"strconv"
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
	Info     string    `json:"info,omitempty"`
	Online   bool      `json:"online"`
	Calls    []Call    `json:"calls"`
	Services []Service `json:"services"`
	Labels   Labels    `json:"labels"`
}

// Call is a line of the board.
type Call struct {
	Ticket  string `json:"ticket"`
	Counter string `json:"counter"` // its name, "Guichet 3"
	At      string `json:"at"`      // "10:42"
	Stamp   int64  `json:"stamp"`   // when called, Unix ms: tells a new call from an old one
	Recall  bool   `json:"recall"`
}

// Service is a service's line of waits.
type Service struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Waiting int    `json:"waiting"`
	Wait    string `json:"wait"` // "~12 min", "—"
}

// Labels are the board's words in its language.
type Labels struct {
	Ticket, Counter, Waiting, People, Wait, Offline, Recall string
}

var labels = map[string]Labels{
	"fr": {Ticket: "Ticket", Counter: "Guichet", Waiting: "En attente", People: "pers.", Wait: "Attente", Offline: "Connexion perdue — affichage des derniers appels", Recall: "rappel"},
	"en": {Ticket: "Ticket", Counter: "Desk", Waiting: "Waiting", People: "people", Wait: "Wait", Offline: "Connection lost — showing the last calls", Recall: "recall"},
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
	v := View{Site: cfg.Site.Name, Lang: lang, Info: pick(cfg.Site.Info, lang), Online: online, Labels: labels[lang],
		Calls: []Call{}, Services: []Service{}}
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
	for _, s := range q.Services {
		w := "—"
		if s.EstimatedWait != nil && s.Waiting > 0 {
			w = "~" + minutes(*s.EstimatedWait)
		} else if s.Waiting == 0 {
			w = "0 min"
		}
		v.Services = append(v.Services, Service{ID: s.Service, Name: pick(s.Name, lang), Waiting: s.Waiting, Wait: w})
	}
	return v
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
