// Package admin serves the administration pages under /admin: the site's
// settings and the screens' message, services, counters, agents and their
// skills, pause reasons, and devices. Pages are rendered on the server
// (html/template), French first with English, with a little plain
// JavaScript kept beside them, and make no request outside the hub.
//
// Every change is a hub action, so an event in the log with who made it;
// devices are the registry's, which logs its own. The package holds no
// queue logic: the rules are the site's (hub/queue), the same for the site
// file and the API.
//
// Who may enter: until accounts and roles land (hub/auth), the holder of
// the admin token, who signs in with it once (a cookie, HttpOnly,
// SameSite=Strict, Secure over HTTPS); every form carries a CSRF token
// and a cross-site post is refused. Each route is declared in Routes with
// its role (admin), ready for the route table.
package admin

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"guichet/hub"
	"guichet/hub/devices"
	"guichet/hub/lockout"
	"guichet/hub/queue"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Actor is who the log says made a change from these pages, until accounts
// name the person.
const Actor = "admin:web"

// Options configures the pages.
type Options struct {
	Hub     *hub.Hub
	Devices *devices.Registry // nil: no device pages
	Token   string            // the admin token, which signs in
	Log     *slog.Logger
	// MQTTURL is the broker devices connect to (for enrollment codes).
	MQTTURL string
	// State tells whether a device is online.
	State func(device string) (online bool)
}

// Pages are the administration pages of one hub.
type Pages struct {
	o       Options
	log     *slog.Logger
	tmpl    *template.Template
	session string // the cookie's value: a MAC of the token
	csrf    string // the forms' token: another MAC of the token
	lockout *lockout.Limiter
}

// Role is who may use a route once accounts land.
type Role string

// The roles of the route table (hub/auth).
const RoleAdmin Role = "admin"

// Route is one page or form of the administration, with its role.
type Route struct {
	Pattern string // "GET /admin/services"
	Role    Role   // "" for the sign-in page itself
	handler http.HandlerFunc
}

// New returns the administration pages.
func New(o Options) *Pages {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	p := &Pages{o: o, log: o.Log, session: mac(o.Token, "guichet admin session"), csrf: mac(o.Token, "guichet admin csrf"),
		lockout: lockout.New(lockout.Options{})}
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

func mac(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// Routes lists every page and form with its role.
func (p *Pages) Routes() []Route {
	rs := []Route{
		{"GET /admin/signin", "", p.signinPage},
		{"POST /admin/signin", "", p.signin},
		{"POST /admin/signout", RoleAdmin, p.signout},
		{"GET /admin/{$}", RoleAdmin, p.home},
		{"POST /admin/settings", RoleAdmin, p.saveSettings},
		{"POST /admin/message", RoleAdmin, p.saveMessage},
		{"GET /admin/pauses", RoleAdmin, p.pauses},
		{"POST /admin/pauses", RoleAdmin, p.savePauses},
		{"GET /admin/services", RoleAdmin, p.services},
		{"GET /admin/services/new", RoleAdmin, p.serviceForm},
		{"GET /admin/services/{id}", RoleAdmin, p.serviceForm},
		{"POST /admin/services", RoleAdmin, p.saveService},
		{"POST /admin/services/{id}/close", RoleAdmin, p.closeService},
		{"POST /admin/services/{id}/reopen", RoleAdmin, p.reopenService},
		{"POST /admin/services/{id}/delete", RoleAdmin, p.deleteService},
		{"GET /admin/counters", RoleAdmin, p.counters},
		{"GET /admin/counters/new", RoleAdmin, p.counterForm},
		{"GET /admin/counters/{id}", RoleAdmin, p.counterForm},
		{"POST /admin/counters", RoleAdmin, p.saveCounter},
		{"POST /admin/counters/{id}/delete", RoleAdmin, p.deleteCounter},
		{"GET /admin/agents", RoleAdmin, p.agents},
		{"GET /admin/agents/new", RoleAdmin, p.agentForm},
		{"GET /admin/agents/{id}", RoleAdmin, p.agentForm},
		{"POST /admin/agents", RoleAdmin, p.saveAgent},
		{"POST /admin/agents/{id}/delete", RoleAdmin, p.deleteAgent},
	}
	if p.o.Devices != nil {
		rs = append(rs,
			Route{"GET /admin/devices", RoleAdmin, p.devices},
			Route{"POST /admin/devices", RoleAdmin, p.addDevice},
			Route{"POST /admin/devices/{id}/disable", RoleAdmin, p.setDisabled(true)},
			Route{"POST /admin/devices/{id}/enable", RoleAdmin, p.setDisabled(false)},
			Route{"POST /admin/devices/{id}/secret", RoleAdmin, p.newSecret},
		)
	}
	return rs
}

// Register adds the pages to mux, each behind the check of its role.
func (p *Pages) Register(mux interface {
	Handle(pattern string, h http.Handler)
}) {
	for _, r := range p.Routes() {
		h := r.handler
		if r.Role != "" {
			h = p.guard(h)
		}
		mux.Handle(r.Pattern, h)
	}
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /admin/static/", http.StripPrefix("/admin/static/", cached(http.FileServerFS(sub))))
	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
}

func cached(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// signedIn reports whether the request carries the session cookie.
func (p *Pages) signedIn(r *http.Request) bool {
	c, err := r.Cookie(cookieName)
	return err == nil && p.o.Token != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(p.session)) == 1
}

const cookieName = "guichet_admin"

// guard lets a signed-in request through; a post must carry the CSRF
// token and come from the hub's own pages.
func (p *Pages) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		if !p.signedIn(r) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/signin?next="+templateSafePath(r.URL.Path), http.StatusSeeOther)
				return
			}
			http.Error(w, T(lang(r), "signin_needed"), http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost && !p.sameOrigin(r) {
			p.log.Warn("admin: form refused (cross-site or without its CSRF token)", "path", r.URL.Path, "client", clientOf(r))
			http.Error(w, T(lang(r), "csrf"), http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

func (p *Pages) sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(p.csrf)) == 1
}

// templateSafePath keeps a path to come back to after signing in: one of
// the administration's, nothing else.
func templateSafePath(path string) string {
	if !strings.HasPrefix(path, "/admin/") || strings.ContainsAny(path, "\\?#") || strings.Contains(path, "//") {
		return "/admin/"
	}
	return path
}

func clientOf(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return lockout.Client(ap.Addr().Unmap())
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

func (p *Pages) signinPage(w http.ResponseWriter, r *http.Request) {
	secure(w)
	p.render(w, r, http.StatusOK, "signin", page{Title: T(lang(r), "signin"), Data: templateSafePath(r.URL.Query().Get("next"))})
}

// signin takes the admin token once and gives a session cookie. Failures
// count per address (package lockout), with a log line that names the
// address, never what was typed.
func (p *Pages) signin(w http.ResponseWriter, r *http.Request) {
	secure(w)
	client := clientOf(r)
	l := lang(r)
	next := templateSafePath(r.PostFormValue("next"))
	if ok, retry := p.lockout.Allow(client); !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds())+1))
		p.render(w, r, http.StatusTooManyRequests, "signin", page{Title: T(l, "signin"), Error: T(l, "too_many"), Data: next})
		return
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	if p.o.Token == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(p.o.Token)) != 1 {
		if p.lockout.Fail(client) {
			p.log.Warn("admin: too many failed sign-ins: address locked out", "client", client)
		}
		p.log.Info("admin: sign-in refused", "client", client)
		p.render(w, r, http.StatusUnauthorized, "signin", page{Title: T(l, "signin"), Error: T(l, "bad_token"), Data: next})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: p.session, Path: "/admin/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: 12 * 3600})
	p.log.Info("admin: signed in", "client", client)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *Pages) signout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/admin/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/admin/signin", http.StatusSeeOther)
}

// page is what every template gets.
type page struct {
	Lang, Title, Nav string
	Site             string
	CSRF             string
	Error, Notice    string
	Path             string // this page's path, for the language switch
	Data             any
}

// render writes a page in the request's language.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, pg page) {
	pg.Lang, pg.CSRF, pg.Path = lang(r), p.csrf, r.URL.Path
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
	rep, err := p.o.Hub.Do(r.Context(), "", Actor, act, func(hub.Outcome, json.RawMessage) []byte { return nil })
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
