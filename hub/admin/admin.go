// Package admin serves the administration pages under /admin: the site's
// settings and the screens' message, services, counters, agents and their
// skills, pause reasons, and devices. Pages are rendered on the server
// (html/template), French first with English, with a little plain
// JavaScript kept beside them, and make no request outside the hub.
//
// Every change is a hub action, so an event in the log with who made it
// (the signed-in account); devices are the registry's, which logs its own.
// The package holds no queue logic: the rules are the site's (hub/queue),
// the same for the site file and the API.
//
// Who may enter is the route table's (hub/auth): every page is declared
// there with the access admin, and its guard signs people in, checks the
// role and each form's CSRF token. The pages only put the session's token
// in their forms.
package admin

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"guichet/hub"
	"guichet/hub/auth"
	"guichet/hub/devices"
	"guichet/hub/queue"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Options configures the pages.
type Options struct {
	Hub     *hub.Hub
	Devices *devices.Registry // nil: no device pages
	Log     *slog.Logger
	// MQTTURL is the broker devices connect to (for enrollment codes).
	MQTTURL string
	// State tells whether a device is online.
	State func(device string) (online bool)
}

// Pages are the administration pages of one hub.
type Pages struct {
	o    Options
	log  *slog.Logger
	tmpl *template.Template
}

// route is one page or form of the administration; every one needs the
// access admin.
type route struct {
	method, pattern, about string
	handler                http.HandlerFunc
}

// New returns the administration pages.
func New(o Options) *Pages {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	p := &Pages{o: o, log: o.Log}
	p.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"t": T,
		"minutes": func(d time.Duration) string {
			return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", d.Minutes()), "0"), ".")
		},
		"name":       name,
		"join":       strings.Join,
		"hasChannel": func(list []queue.Channel, c string) bool { return has(list, queue.Channel(c)) },
		"hasString":  has[string],
		"inc":        func(i int) int { return i + 1 },
		"list":       func(xs ...string) []string { return xs },
		"skill":      func(a queue.Agent, s string) int { return a.Skills[s] },
		"levels":     func() []int { return []int{1, 2, 3, 4, 5} },
	}).ParseFS(templates, "templates/*.html"))
	return p
}

// routes lists every page and form.
func (p *Pages) routes() []route {
	rs := []route{
		{"GET", "/admin/{$}", "the site's settings and the screens' message", p.home},
		{"POST", "/admin/settings", "change the site's settings", p.saveSettings},
		{"POST", "/admin/message", "the message on the waiting-room screens", p.saveMessage},
		{"GET", "/admin/pauses", "the pause reasons", p.pauses},
		{"POST", "/admin/pauses", "change the pause reasons", p.savePauses},
		{"GET", "/admin/services", "the services", p.services},
		{"GET", "/admin/services/new", "a new service", p.serviceForm},
		{"GET", "/admin/services/{id}", "a service", p.serviceForm},
		{"POST", "/admin/services", "save a service", p.saveService},
		{"POST", "/admin/services/{id}/close", "close a service to new tickets", p.closeService},
		{"POST", "/admin/services/{id}/reopen", "reopen a service", p.reopenService},
		{"POST", "/admin/services/{id}/delete", "remove a service", p.deleteService},
		{"GET", "/admin/counters", "the counters", p.counters},
		{"GET", "/admin/counters/new", "a new counter", p.counterForm},
		{"GET", "/admin/counters/{id}", "a counter", p.counterForm},
		{"POST", "/admin/counters", "save a counter", p.saveCounter},
		{"POST", "/admin/counters/{id}/delete", "remove a counter", p.deleteCounter},
		{"GET", "/admin/agents", "the agents and their skills", p.agents},
		{"GET", "/admin/agents/new", "a new agent", p.agentForm},
		{"GET", "/admin/agents/{id}", "an agent", p.agentForm},
		{"POST", "/admin/agents", "save an agent", p.saveAgent},
		{"POST", "/admin/agents/{id}/delete", "remove an agent", p.deleteAgent},
	}
	if p.o.Devices != nil {
		rs = append(rs,
			route{"GET", "/admin/devices", "the devices", p.devices},
			route{"POST", "/admin/devices", "add a device (its secret shown once)", p.addDevice},
			route{"POST", "/admin/devices/{id}/disable", "disable a device", p.setDisabled(true)},
			route{"POST", "/admin/devices/{id}/enable", "enable a device", p.setDisabled(false)},
			route{"POST", "/admin/devices/{id}/secret", "a device's new secret", p.newSecret},
			route{"POST", "/admin/devices/{id}/enrollment", "a device's one-time enrollment code (shown once)", p.newEnrollment},
		)
	}
	return rs
}

// Register declares the pages in the route table, each with the access
// admin; the stylesheet and the script are public.
func (p *Pages) Register(rt auth.Registrar) {
	for _, r := range p.routes() {
		h := r.handler
		rt.Add(auth.Route{Method: r.method, Pattern: r.pattern, Access: auth.Admin, Kind: auth.Page, About: "administration: " + r.about,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { secure(w); h(w, r) })})
	}
	sub, _ := fs.Sub(static, "static")
	rt.Add(auth.Route{Method: "GET", Pattern: "/admin/static/", Access: auth.Public, Kind: auth.Page, About: "the administration's stylesheet and script",
		Handler: http.StripPrefix("/admin/static/", cached(http.FileServerFS(sub)))})
	rt.Add(auth.Route{Method: "GET", Pattern: "/admin", Access: auth.Public, Kind: auth.Page, About: "to /admin/",
		Handler: http.RedirectHandler("/admin/", http.StatusMovedPermanently)})
}

func cached(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// secure sets the headers every page of the administration carries: no
// caching (a device's secret), no framing, nothing loaded from elsewhere.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
}

// page is what every template gets.
type page struct {
	Lang, Title, Nav string
	Site             string
	CSRF             string // the session's anti-forgery token, for the forms
	Who              string // the account signed in
	Error, Notice    string
	Path             string // this page's path, for the language switch
	Data             any
}

// render writes a page in the request's language.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) {
	pg.Lang, pg.Path = lang(r), r.URL.Path
	if who := auth.From(r.Context()); who != nil {
		pg.CSRF, pg.Who = who.CSRF, who.Account
	}
	if l := r.URL.Query().Get("lang"); l == "en" || l == "fr" {
		http.SetCookie(w, &http.Cookie{Name: "guichet_lang", Value: l, Path: "/admin/", SameSite: http.SameSiteStrictMode, MaxAge: 365 * 86400})
	}
	if pg.Notice == "" && r.URL.Query().Get("ok") != "" {
		pg.Notice = T(pg.Lang, "saved")
	}
	p.o.Hub.Read(func(e *queue.Engine) { pg.Site = e.Site().Name })
	var b strings.Builder
	if err := p.tmpl.ExecuteTemplate(&b, name, pg); err != nil {
		p.log.Error("admin: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// do runs a hub action as the administrator; a refusal is its message,
// to show on the form.
func (p *Pages) do(r *http.Request, act hub.Action) (refusal string, ok bool) {
	rep, err := p.o.Hub.Do(r.Context(), "", auth.From(r.Context()).Actor(), act, func(hub.Outcome, json.RawMessage) []byte { return nil })
	switch {
	case err != nil:
		p.log.Warn("admin: change not stored", "op", act.Name, "err", err)
		return T(lang(r), "unavailable"), false
	case !rep.Done():
		p.log.Info("admin: change refused", "op", act.Name, "code", rep.Code)
		return rep.Message, false
	}
	return "", true
}

// lang picks French unless ?lang=en, the language cookie or the browser
// asks for English.
func lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "fr" {
		return l
	}
	if c, err := r.Cookie("guichet_lang"); err == nil && (c.Value == "en" || c.Value == "fr") {
		return c.Value
	}
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "en") {
		return "en"
	}
	return "fr"
}

func name(n map[string]string, lang string) string {
	if n[lang] != "" {
		return n[lang]
	}
	return n["fr"]
}

func has[T comparable](list []T, x T) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}
