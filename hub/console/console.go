// Package console serves the staff's pages: the agent console (/agent),
// the supervision page (/supervision), the statistics page
// (/supervision/stats) and the staffing forecast (/supervision/forecast). They are rendered on the server (html/template),
// French first with English on request, and kept live by one server-sent
// event stream per page (internal/live); a little plain JavaScript kept in
// static/ draws what changes. They make no request outside the hub.
//
// Every action a page offers is a route of the HTTP API (/api/v1/…),
// called by the page's script with the session's CSRF token: the API
// holds the rules (an agent acts only at their own counter; a supervisor
// anywhere), the console none. It reads the queue, never changes it.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"guichet/hub"
	"guichet/hub/alerts"
	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/crm"
	"guichet/hub/devices"
	"guichet/hub/queue"
	"guichet/hub/stats"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Options configures the pages.
type Options struct {
	Hub     *hub.Hub
	Devices *devices.Registry                           // nil: no devices on the supervision page
	State   func(device string) (api.DeviceState, bool) // the devices' retained states (hub/bus)
	// StateChanges watches the devices' states (hub/bus's WatchStates).
	StateChanges func() (<-chan struct{}, func())
	Alerts       *alerts.Monitor   // nil: no alerts
	Stats        *stats.Projection // nil: no statistics page
	// Destinations tells how the hub's events reach the town's CRM and
	// other destinations (cloud.Outbox.Destinations); nil: not shown.
	Destinations func() []api.Destination
	// AdminPath is the administration's home, linked for admins ("" for none).
	AdminPath string
	Log       *slog.Logger
	// Poll is how often a stream's view is made again when nothing changed
	// (waits grow with time): 5 s if zero.
	Poll time.Duration
	// Sectors: service → the citizen file's sector of its records
	// (config.SectorOf); a service it does not name is in crm.SectorAccueil.
	Sectors map[string]crm.Sector
	// DPO are the accounts of the data protection officer: the agent
	// console offers them the readable export of the open file.
	DPO []string
	// NewestUpdate reads the newest update version published (hub/updates);
	// nil: no rollout shown.
	NewestUpdate func() string
}

// Pages are the staff's pages of one hub.
type Pages struct {
	o       Options
	log     *slog.Logger
	tmpl    *template.Template
	version map[string]string // static file → hash of its content, for caching
	sum     summaries
	newest  newestCache // the rollout's newest version
	site    *siteCache  // the site's names and reasons, by revision
}

// New returns the pages.
func New(o Options) *Pages {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	p := &Pages{o: o, log: o.Log, version: map[string]string{}, site: newSiteCache()}
	fs.WalkDir(static, "static", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := static.ReadFile(name)
			h := sha256.Sum256(b)
			p.version[path.Base(name)] = hex.EncodeToString(h[:6])
		}
		return nil
	})
	p.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"t":      T,
		"static": func(name string) string { return "/console/" + name + "?v=" + p.version[name] },
		"name":   pick,
		"mins":   minutes,
		"list":   func(xs ...string) []string { return xs },
		"inc":    func(i int) string { return strconv.Itoa(i + 1) },
		"share":  share,
		"dialogEnd": func(lang, id, submit, class string) dialogEnd {
			return dialogEnd{Lang: lang, ID: id, Submit: submit, Class: class}
		},
	}).ParseFS(templates, "templates/*.html"))
	return p
}

// dialogEnd is what templates/dialog.html's "dialog-end" says.
type dialogEnd struct{ Lang, ID, Submit, Class string }

// Register adds the pages to the route table. The pages are Page routes
// (a visitor not signed in is sent to the sign-in page); their streams
// are API routes (a stream opened without a session gets 401).
func (p *Pages) Register(rt auth.Registrar) {
	add := func(pattern string, access auth.Access, kind auth.Kind, about string, h http.HandlerFunc) {
		rt.Add(auth.Route{Method: "GET", Pattern: pattern, Access: access, Kind: kind, About: about, Handler: h})
	}
	add("/console/{file}", auth.Public, auth.Page, "the staff pages' scripts and style sheet", p.serveStatic)
	add("/agent", auth.Agent, auth.Page, "the agent console", p.agentPage)
	add("/agent/events", auth.Agent, auth.API, "the agent console's view, live (server-sent events)", p.agentEvents)
	add("/supervision", auth.Supervisor, auth.Page, "the supervision page", p.supervisionPage)
	add("/supervision/events", auth.Supervisor, auth.API, "the supervision page's view, live (server-sent events)", p.supervisionEvents)
	add("/supervision/forecast", auth.Supervisor, auth.Page, "the staffing forecast: next week's tickets and agents, last week's forecast against what came", p.forecastPage)
	if p.o.Stats != nil {
		add("/supervision/stats", auth.Supervisor, auth.Page, "the statistics page", p.statsPage)
		add("/supervision/stats/{chart}", auth.Supervisor, auth.Page, "a statistics chart (SVG)", p.o.Stats.Handlers().Chart.ServeHTTP)
	}
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

// pick returns a name in lang, falling back to French, then to def.
func pick(n map[string]string, lang string) string {
	if n[lang] != "" {
		return n[lang]
	}
	return n["fr"]
}

// minutes says a duration of secs seconds in minutes, one decimal, as
// lang writes numbers; a dash when there is none (n = 0).
func minutes(lang string, secs float64, n int) string {
	if n == 0 {
		return T(lang, "dash")
	}
	return stats.FormatFor(lang).Num(secs/60) + " min"
}

// share says a ratio as a percentage, one decimal; a dash for none.
func share(lang string, v *float64) string {
	if v == nil {
		return T(lang, "dash")
	}
	return stats.FormatFor(lang).Num(*v*100) + " %"
}

// frame is what every page's layout shows.
type frame struct {
	Lang, Page, Title, Site, TZ string
	Principal                   *auth.Principal
	CSRF                        string
	Supervisor, Admin           bool
	AdminPath                   string
	Texts                       string // the language's texts, JSON, for the script
	SiteData                    string // SiteData, JSON, for the script
	SiteVersion                 string // its version: a stream names another when the site changed
	Now                         int64  // the hub's clock, Unix ms, when the page was made
	Path                        string // the page's path and query, for the language link
	OtherLang                   string // the same page in the other language
	DPO                         bool   // the signed-in account is the data protection officer's
}

func (p *Pages) frame(r *http.Request, page, title string) frame {
	l := lang(r)
	pr := auth.From(r.Context())
	f := frame{Lang: l, Page: page, Title: T(l, title), Principal: pr, AdminPath: p.o.AdminPath, Now: p.o.Hub.Now().UnixMilli()}
	if pr != nil {
		f.CSRF = pr.CSRF
		f.Supervisor, f.Admin = pr.Role.AtLeast(auth.RoleSupervisor), pr.Role.AtLeast(auth.RoleAdmin)
		f.DPO = slices.Contains(p.o.DPO, pr.Account)
	}
	var sd SiteData
	p.o.Hub.Read(func(e *queue.Engine) {
		f.Site, f.TZ = e.Site().Name, e.Site().Location.String()
		f.SiteVersion, sd = p.site.get(e, l)
	})
	b, _ := json.Marshal(texts[l])
	f.Texts = string(b)
	b, _ = json.Marshal(sd)
	f.SiteData = string(b)
	q := r.URL.Query()
	q.Set("lang", T(l, "other_code"))
	f.OtherLang = r.URL.Path + "?" + q.Encode()
	return f
}

// render writes a page with the headers every staff page gets: no cache,
// no framing, and a policy that lets it load only the hub's own scripts,
// styles and images.
func (p *Pages) render(w http.ResponseWriter, name string, v any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if err := p.tmpl.ExecuteTemplate(w, name, v); err != nil {
		p.log.Error("render console page", "page", name, "err", err)
	}
}

// serveStatic serves a script or the style sheet. A request naming the
// content's version (?v=, as the pages do) may be kept a year.
func (p *Pages) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := static.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	default:
		http.NotFound(w, r)
		return
	}
	if v := r.URL.Query().Get("v"); v != "" && v == p.version[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}
