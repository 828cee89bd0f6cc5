// Package signin serves the sign-in page (/login, with a button per
// external provider), sign-out, and the page where an account changes its
// password (/account/password). French first, English on request; plain
// HTML forms, no script, nothing fetched from elsewhere.
package signin

import (
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"guichet/hub/auth"
)

//go:embed templates/*.html
var templates embed.FS

// loginCookie holds the sign-in form's anti-forgery token (double submit:
// the form repeats it), so that no other site can sign a browser in to an
// account of its choosing.
const loginCookie = "guichet_login"

// ssoCookie binds an external sign-in under way to the browser.
const ssoCookie = "guichet_sso"

// Pages are the sign-in pages of one hub.
type Pages struct {
	auth *auth.Service
	log  *slog.Logger
	site string
	tmpl *template.Template
}

// New returns the sign-in pages of site (its name, for titles).
func New(a *auth.Service, site string, log *slog.Logger) *Pages {
	p := &Pages{auth: a, log: log, site: site}
	p.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"t": T,
	}).ParseFS(templates, "templates/*.html"))
	return p
}

// Register adds the pages to the route table.
func (p *Pages) Register(rt auth.Registrar) {
	add := func(method, pattern string, access auth.Access, about string, h http.HandlerFunc) {
		rt.Add(auth.Route{Method: method, Pattern: pattern, Access: access, Kind: auth.Page, About: about, Handler: h})
	}
	add("GET", auth.LoginPath, auth.Public, "the sign-in page", p.loginPage)
	add("POST", auth.LoginPath, auth.Public, "sign in with a password", p.login)
	add("POST", auth.LogoutPath, auth.Agent, "sign out (this browser, or everywhere)", p.logout)
	add("GET", auth.PasswordPath, auth.Agent, "the password change page", p.passwordPage)
	add("POST", auth.PasswordPath, auth.Agent, "change one's password", p.changePassword)
	add("GET", "/login/sso/{provider}", auth.Public, "sign in through an external provider (OIDC, CAS)", p.ssoStart)
	add("GET", "/login/sso/{provider}/callback", auth.Public, "the external provider's answer", p.ssoCallback)
	add("POST", "/login/sso/{provider}/callback", auth.Public, "the external provider's single logout (CAS logoutRequest), checked to come from it", p.ssoLogout)
}

// lang picks French unless ?lang= or the browser asks for English.
func lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "fr" {
		return l
	}
	if l := r.PostFormValue("lang"); l == "en" || l == "fr" {
		return l
	}
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "en") {
		return "en"
	}
	return "fr"
}

// next is where to go after signing in: a path of this hub ("/" if none,
// or if it would lead elsewhere).
func next(v string) string {
	if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.HasPrefix(v, "/\\") || strings.ContainsAny(v, "\r\n") {
		return "/"
	}
	return v
}

// view is what the templates show.
type view struct {
	Lang, Site, Next, Error, Notice string
	LoginPath                       string
	LoginToken, CSRF, Login         string
	Providers                       []provider
	Principal                       *auth.Principal
	Status                          int
}

type provider struct{ Href, Label string }

func (p *Pages) render(w http.ResponseWriter, name string, v view) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if v.Status == 0 {
		v.Status = http.StatusOK
	}
	w.WriteHeader(v.Status)
	if err := p.tmpl.ExecuteTemplate(w, name, v); err != nil {
		p.log.Error("render sign-in page", "page", name, "err", err)
	}
}

// loginView is the sign-in page's view for r, with a new form token
// (set as loginCookie).
func (p *Pages) loginView(w http.ResponseWriter, r *http.Request, l, to string) view {
	tok := newToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: auth.LoginPath, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: p.auth.HTTPS(r), MaxAge: int((time.Hour).Seconds())})
	v := view{Lang: l, Site: p.site, Next: to, LoginToken: tok, LoginPath: auth.LoginPath}
	for _, pr := range p.auth.Providers() {
		v.Providers = append(v.Providers, provider{Href: "/login/sso/" + url.PathEscape(pr.Name()) + "?next=" + url.QueryEscape(to), Label: pr.Label(l)})
	}
	if pr := auth.From(r.Context()); pr != nil {
		v.Principal, v.CSRF = pr, pr.CSRF
	}
	return v
}

func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) {
	l, q := lang(r), r.URL.Query()
	v := p.loginView(w, r, l, next(q.Get("next")))
	switch {
	case q.Get("expired") != "":
		v.Notice = T(l, "expired")
	case q.Get("signed_out") != "":
		v.Notice = T(l, "signed_out")
	}
	p.render(w, "login.html", v)
}

// login signs in with a login and a password.
func (p *Pages) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	l, to := lang(r), next(r.PostForm.Get("next"))
	login := strings.TrimSpace(r.PostForm.Get("login"))
	fail := func(status int, msg string) {
		v := p.loginView(w, r, l, to)
		v.Error, v.Status, v.Login = msg, status, login
		p.render(w, "login.html", v)
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostForm.Get("login_token"))) != 1 {
		p.log.Warn("sign-in refused: the form's token is missing or wrong (a form from elsewhere, or a stale page)", "client", p.auth.ClientAddr(r))
		fail(http.StatusBadRequest, T(l, "stale_form"))
		return
	}
	cookie, pr, err := p.auth.SignIn(r.Context(), login, r.PostForm.Get("password"), p.auth.ClientAddr(r))
	var lock *auth.LockoutError
	switch {
	case errors.As(err, &lock):
		w.Header().Set("Retry-After", lockSeconds(lock))
		fail(http.StatusTooManyRequests, T(l, "locked", lockSeconds(lock)))
		return
	case errors.Is(err, auth.ErrBadPassword), errors.Is(err, auth.ErrDisabled):
		fail(http.StatusUnauthorized, T(l, "wrong"))
		return
	case errors.Is(err, auth.ErrBusy):
		fail(http.StatusServiceUnavailable, T(l, "busy"))
		return
	case err != nil:
		p.log.Error("sign in", "err", err)
		fail(http.StatusInternalServerError, T(l, "error"))
		return
	}
	if old := auth.From(r.Context()); old != nil {
		p.auth.SignOut(old, p.auth.ClientAddr(r), false) // one browser, one session
	}
	http.SetCookie(w, p.auth.Cookie(r, cookie))
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: auth.LoginPath, MaxAge: -1})
	if pr.MustChangePassword {
		to = auth.PasswordPath + "?next=" + url.QueryEscape(to)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func lockSeconds(e *auth.LockoutError) string {
	return itoa(int((e.Retry + time.Second - 1) / time.Second))
}

// logout ends this browser's session, or every session of the account.
func (p *Pages) logout(w http.ResponseWriter, r *http.Request) {
	pr := auth.From(r.Context())
	all := r.PostFormValue("all") != ""
	if err := p.auth.SignOut(pr, p.auth.ClientAddr(r), all); err != nil {
		p.log.Error("sign out", "account", pr.Account, "err", err)
	}
	http.SetCookie(w, p.auth.Cookie(r, ""))
	http.Redirect(w, r, auth.LoginPath+"?signed_out=1&lang="+lang(r), http.StatusSeeOther)
}

func (p *Pages) passwordView(r *http.Request) view {
	pr := auth.From(r.Context())
	return view{Lang: lang(r), Site: p.site, Next: next(r.FormValue("next")), CSRF: pr.CSRF, Principal: pr}
}

func (p *Pages) passwordPage(w http.ResponseWriter, r *http.Request) {
	v := p.passwordView(r)
	if v.Principal.MustChangePassword {
		v.Notice = T(v.Lang, "must_change")
	}
	if v.Principal.Via != auth.ViaSession {
		v.Notice = T(v.Lang, "no_local_password")
	}
	p.render(w, "password.html", v)
}

// changePassword changes the signed-in account's password.
func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	v := p.passwordView(r)
	pr := v.Principal
	cur, nw, again := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("again")
	fail := func(status int, msg string) {
		v.Error, v.Status = msg, status
		p.render(w, "password.html", v)
	}
	if nw != again {
		fail(http.StatusBadRequest, T(v.Lang, "mismatch"))
		return
	}
	err := p.auth.ChangePassword(r.Context(), auth.ByPrincipal(pr, p.auth.ClientAddr(r)), pr.Account, cur, nw, pr.SessionID())
	switch {
	case errors.Is(err, auth.ErrBadPassword):
		fail(http.StatusUnprocessableEntity, T(v.Lang, "wrong_current"))
	case errors.Is(err, auth.ErrWeakPassword):
		fail(http.StatusUnprocessableEntity, T(v.Lang, "weak"))
	case err != nil:
		p.log.Error("change password", "account", pr.Account, "err", err)
		fail(http.StatusInternalServerError, T(v.Lang, "error"))
	default:
		http.Redirect(w, r, v.Next, http.StatusSeeOther)
	}
}
