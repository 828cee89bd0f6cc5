// Package web serves the hub's pages for the public: the citizen's mobile
// ticket page (/t/{token}) and the waiting-room board (/display). Pages are
// rendered on the server, in French unless asked otherwise, and kept live
// by server-sent events.
package web

import (
	"embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/queue"
	"guichet/internal/live"
)

//go:embed templates/*.html
var templates embed.FS

// Pages serves the public pages of one hub.
type Pages struct {
	hub   *hub.Hub
	log   *slog.Logger
	site  string
	tmpl  *template.Template
	links []Link
}

// Link is an entry of the home page.
type Link struct {
	Name, Href, About string
}

// AddLink adds an entry to the home page.
func (p *Pages) AddLink(l Link) { p.links = append(p.links, l) }

// New returns the pages of hub h.
func New(h *hub.Hub, log *slog.Logger) *Pages {
	p := &Pages{hub: h, log: log}
	h.Read(func(e *queue.Engine) { p.site = e.Site().Name })
	p.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"t": func(lang, key string, args ...any) string { return T(lang, key, args...) },
		"name": func(n api.Names, lang string) string {
			if n[lang] != "" {
				return n[lang]
			}
			return n["fr"]
		},
	}).ParseFS(templates, "templates/*.html"))
	return p
}

// Register adds the pages to the route table: all public (the citizen's
// ticket is reached by its unguessable token, the board shows what the
// waiting room sees).
func (p *Pages) Register(rt auth.Registrar) {
	page := func(pattern, about string, h http.Handler) {
		rt.Add(auth.Route{Method: "GET", Pattern: pattern, Access: auth.Public, Kind: auth.Page, About: about, Handler: h})
	}
	page("/{$}", "the hub's home page", http.HandlerFunc(p.home))
	p.registerDisplay(page)
	page("/t/{token}", "a citizen's ticket on their phone", http.HandlerFunc(p.ticketPage))
	page("/t/{token}/state", "its state (JSON)", http.HandlerFunc(p.ticketState))
	page("/t/{token}/events", "its state, live (server-sent events)", http.HandlerFunc(p.ticketEvents))
}

// lang picks French unless ?lang= or the browser asks for English.
func lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "fr" {
		return l
	}
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "en") {
		return "en"
	}
	return "fr"
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	links := append([]Link{{"Tableau d'affichage", "/display/", "L'écran de la salle d'attente : derniers appels, attentes par service."}}, p.links...)
	links = append(links, Link{"Connexion", auth.LoginPath, "Pour les agents, les responsables de l'accueil et le service informatique."})
	links = append(links,
		Link{"File d'attente (JSON)", "/api/v1/queue", "Attente par service, en direct."},
		Link{"API", "/api/v1/openapi.json", "Le contrat de l'API HTTP (OpenAPI 3)."})
	if err := p.tmpl.ExecuteTemplate(w, "home.html", map[string]any{"Site": p.site, "Links": links}); err != nil {
		p.log.Error("render home page", "err", err)
	}
}

// TicketState is what the mobile page shows: no personal data. The texts
// are written on the server, in the page's language.
type TicketState struct {
	Site        string    `json:"site"`
	Number      string    `json:"number"`
	Service     api.Names `json:"service"`
	State       string    `json:"state"`
	Ahead       *int      `json:"ahead,omitempty"`
	Wait        *int      `json:"estimated_wait_s,omitempty"`
	WaitMin     *int      `json:"estimated_wait_min_s,omitempty"`
	WaitMax     *int      `json:"estimated_wait_max_s,omitempty"`
	Counter     string    `json:"counter,omitempty"`
	CounterName string    `json:"counter_name,omitempty"`
	Recalls     int       `json:"recalls,omitempty"`
	At          time.Time `json:"at"`
	// For the page.
	StatusText string `json:"status_text"`
	WaitText   string `json:"wait_text"`
	Look       string `json:"look"` // waiting, called, gone, bad
}

// describe writes the state's texts in lang.
func (st *TicketState) describe(lang string) {
	where := st.CounterName
	if where == "" {
		where = st.Counter
	}
	st.Look = "waiting"
	switch st.State {
	case "waiting":
		switch {
		case st.Ahead == nil || *st.Ahead == 0:
			st.StatusText = T(lang, "ahead_0")
		case *st.Ahead == 1:
			st.StatusText = T(lang, "ahead_1")
		default:
			st.StatusText = T(lang, "ahead_n", *st.Ahead)
		}
		st.WaitText = T(lang, "wait_unknown")
		switch {
		case st.WaitMin != nil && st.WaitMax != nil:
			st.WaitText = T(lang, "wait", api.FormatWait(lang, *st.WaitMin, *st.WaitMax))
		case st.Wait != nil:
			st.WaitText = T(lang, "wait", waitText(lang, time.Duration(*st.Wait)*time.Second))
		}
	case "called":
		st.Look, st.StatusText, st.WaitText = "called", T(lang, "called"), T(lang, "go_to", where)
		if st.Recalls > 0 {
			st.StatusText = T(lang, "recalled")
		}
	case "serving":
		st.StatusText = T(lang, "serving", where)
	case "done":
		st.Look, st.StatusText = "gone", T(lang, "done")
	case "noshow":
		st.Look, st.StatusText = "bad", T(lang, "noshow")
	case "cancelled":
		st.Look, st.StatusText = "gone", T(lang, "cancelled")
	}
}

func waitText(lang string, d time.Duration) string {
	switch m := int(d.Round(time.Minute) / time.Minute); {
	case d < time.Minute:
		return T(lang, "less_minute")
	case m < 60:
		return T(lang, "minutes", m)
	default:
		return T(lang, "hours", m/60, m%60)
	}
}

// ticketLang is the language of a ticket's page: the one asked for
// (?lang=), else the one the citizen chose at the kiosk, else the phone's.
func ticketLang(r *http.Request, chosen string) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "fr" {
		return l
	}
	if chosen == "en" || chosen == "fr" {
		return chosen
	}
	return lang(r)
}

// state is the ticket of token as its page shows it, in the language
// ticketLang gives for r.
func (p *Pages) state(token string, r *http.Request) (TicketState, string, bool) {
	var st TicketState
	var ok bool
	l := lang(r)
	now := p.hub.Now()
	p.hub.Read(func(e *queue.Engine) {
		var t queue.Ticket
		if t, ok = e.TicketByToken(token); !ok {
			return
		}
		l = ticketLang(r, t.Lang)
		v := hub.TicketView(e, now, t)
		st = TicketState{Site: p.site, Number: v.Number, Service: v.ServiceName, State: v.State, Ahead: v.Ahead,
			Wait: v.EstimatedWait, WaitMin: v.EstimatedWaitMin, WaitMax: v.EstimatedWaitMax, Counter: v.Counter, CounterName: v.CounterName, Recalls: v.Recalls, At: now.In(e.Site().Location)}
	})
	if ok {
		st.describe(l)
	}
	return st, l, ok
}

func (p *Pages) ticketPage(w http.ResponseWriter, r *http.Request) {
	st, l, ok := p.state(r.PathValue("token"), r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
	}
	data := map[string]any{"Lang": l, "Found": ok, "S": st, "Site": p.site}
	if err := p.tmpl.ExecuteTemplate(w, "ticket.html", data); err != nil {
		p.log.Error("render ticket page", "err", err)
	}
}

func (p *Pages) ticketState(w http.ResponseWriter, r *http.Request) {
	st, _, ok := p.state(r.PathValue("token"), r)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":{"code":"unknown_ticket","message":"unknown or finished ticket"}}`))
		return
	}
	json.NewEncoder(w).Encode(st)
}

// ticketEvents streams the ticket's state (server-sent events) whenever it
// changes, until the ticket is finished or the phone goes away.
func (p *Pages) ticketEvents(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if _, _, ok := p.state(token, r); !ok {
		http.Error(w, "unknown ticket", http.StatusNotFound)
		return
	}
	changes, cancel := p.hub.Watch()
	defer cancel()
	// Waits grow with time: the view is made again at least every 15 s.
	live.Stream(w, r, changes, 15*time.Second, func() any {
		st, _, ok := p.state(token, r)
		st.At = time.Time{} // the time alone is no change
		if !ok || st.State == "done" || st.State == "noshow" || st.State == "cancelled" {
			return live.Final{View: st}
		}
		return st
	})
}
