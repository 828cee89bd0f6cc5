package auth

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"guichet/hub/api"
	"guichet/hub/lockout"
	"guichet/hub/store"
)

// Paths of the sign-in pages (package hub/auth/signin serves them).
const (
	LoginPath    = "/login"
	LogoutPath   = "/logout"
	PasswordPath = "/account/password"
)

// CSRFHeader and CSRFField carry a session's anti-forgery token: the
// header from a page's script (fetch), the field from a form.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// maxForm bounds a form body the guard reads for its CSRF field.
const maxForm = 64 << 10

// Guard checks every route's access before its handler runs.
type Guard struct{ s *Service }

// Guard returns the service's guard, for a route table.
func (s *Service) Guard() *Guard { return &Guard{s: s} }

// Table returns a new route table guarded by s.
func (s *Service) Table() *Table { return NewTable(s.Guard()) }

// wrap returns route's handler behind the guard. The guard, in order:
//
//  1. finds who is calling: a bearer token (the admin token, or a personal
//     token), else the session cookie. A wrong bearer token counts as a
//     failure of the client's address (see package lockout) and is refused
//     with 401, on a route that needs someone; a locked-out address is
//     refused with 429 before its token is looked at. A cookie of no live
//     session (forged, expired, signed out) is cleared, and counts as
//     nobody.
//  2. lets through only a caller the route's Access allows: nobody gets
//     401 (API) or the sign-in page (Page); somebody else 403.
//  3. holds an account with a temporary password to the password change
//     page (and sign-out) until it has chosen its own.
//  4. refuses a state-changing request (not GET or HEAD) made with the
//     session cookie unless it comes from the hub's own pages: its
//     Origin, when given, is the hub's; Sec-Fetch-Site, when given, is
//     same-origin; and it carries the session's CSRF token. A request
//     with a bearer token needs neither (a browser never adds one by
//     itself). On a public route such a request goes on as nobody's.
func (g *Guard) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := g.s
		var p *Principal
		stale := false
		if id, secret, ok := r.BasicAuth(); ok && rt.Access == Device {
			var refused bool
			if p, refused = g.device(w, r, id, secret); refused {
				return
			}
		} else if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && rt.Access != Public {
			var refused bool
			bearer := func() (*Principal, bool) { return s.bearer(strings.TrimSpace(tok)) }
			if p, refused = g.limited(w, r, bearer, `Bearer realm="guichet"`, "a valid bearer token is required"); refused {
				return
			}
		} else if c, err := r.Cookie(SessionCookie); err == nil {
			switch p, err = s.session(c.Value); {
			case errors.Is(err, store.ErrNoSession) || errors.Is(err, errExpired):
				p, stale = nil, true
				http.SetCookie(w, s.Cookie(r, ""))
			case err != nil: // the database, not the session: keep the cookie
				s.log.Error("read session", "err", err)
				refuse(w, rt.Kind, http.StatusServiceUnavailable, api.CodeUnavailable, "the hub cannot read its sessions now: try again in a moment")
				return
			}
		}
		switch {
		case !rt.Access.Allows(p) && p == nil:
			if rt.Kind == Page {
				to := LoginPath + "?next=" + url.QueryEscape(r.URL.RequestURI())
				if stale {
					to += "&expired=1"
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			}
			refuseAPI(w, http.StatusUnauthorized, api.CodeUnauthorized, "sign in, or give a valid bearer token")
			return
		case !rt.Access.Allows(p):
			refuse(w, rt.Kind, http.StatusForbidden, api.CodeForbidden, fmt.Sprintf("this needs the %s role", rt.Access))
			return
		case p != nil && p.MustChangePassword && rt.Access != Public && rt.Pattern != PasswordPath && rt.Pattern != LogoutPath:
			if rt.Kind == Page {
				http.Redirect(w, r, PasswordPath, http.StatusSeeOther)
				return
			}
			refuseAPI(w, http.StatusForbidden, api.CodeForbidden, "the account's password is temporary: change it first at "+PasswordPath)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && p.Cookie() {
			if why := g.forged(w, r, p); why != "" && rt.Access == Public {
				p = nil // anyone may do this: not with the session's authority
			} else if why != "" {
				s.log.Warn("request refused: cross-site or without its CSRF token", "why", why, "account", p.Account,
					"method", r.Method, "path", LogPath(r.URL.Path), "client", s.ClientAddr(r))
				refuse(w, rt.Kind, http.StatusForbidden, api.CodeForbidden, "refused: "+why)
				return
			}
		}
		rt.Handler.ServeHTTP(w, r.WithContext(With(r.Context(), p)))
	})
}

// device authenticates a device by its id and secret (HTTP Basic), on a
// Device route: a wrong one counts against the client's address, as a
// wrong bearer token does. It answers the refusal itself (refused true).
func (g *Guard) device(w http.ResponseWriter, r *http.Request, id, secret string) (p *Principal, refused bool) {
	s := g.s
	check := func() (*Principal, bool) {
		if s.devices == nil || s.devices(id, secret) != nil {
			s.log.Info("device authentication refused", "client", lockout.Client(s.ClientAddr(r)), "path", LogPath(r.URL.Path))
			return nil, false
		}
		return &Principal{Account: id, Name: "device " + id, Via: ViaDevice}, true
	}
	return g.limited(w, r, check, `Basic realm="guichet devices"`, "a registered device's id and secret are required")
}

// limited checks a credential the client presents (check) under its
// address's limit of failed authentications: a refusal counts against the
// address, and an address past its limit is told when to try again. It
// answers a refusal itself (refused true), with challenge and why.
func (g *Guard) limited(w http.ResponseWriter, r *http.Request, check func() (*Principal, bool), challenge, why string) (p *Principal, refused bool) {
	s := g.s
	client := lockout.Client(s.ClientAddr(r))
	if ok, retry := s.addresses.Allow(client); !ok {
		secs := int(math.Ceil(retry.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		refuseAPI(w, http.StatusTooManyRequests, api.CodeRateLimited,
			fmt.Sprintf("too many failed authentications from this address: retry in %d s", secs))
		return nil, true
	}
	p, ok := check()
	if !ok {
		if s.addresses.Fail(client) {
			s.log.Warn("too many failed authentications: address locked out", "client", client, "method", r.Method, "path", LogPath(r.URL.Path))
		}
		w.Header().Set("WWW-Authenticate", challenge)
		refuseAPI(w, http.StatusUnauthorized, api.CodeUnauthorized, why)
		return nil, true
	}
	return p, false
}

// forged says why a state-changing request made with p's session cookie
// may not come from the hub's own pages ("" when it does).
func (g *Guard) forged(w http.ResponseWriter, r *http.Request, p *Principal) string {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return "sent from another site (Sec-Fetch-Site: " + site + ")"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, g.s.Host(r)) {
			return "sent from another origin"
		}
	}
	tok := r.Header.Get(CSRFHeader)
	if tok == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err == nil {
			tok = r.PostForm.Get(CSRFField)
		}
	}
	if tok == "" {
		return "the CSRF token is missing"
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(p.CSRF)) != 1 {
		return "the CSRF token is wrong"
	}
	return ""
}

// refuse answers a refusal as the route's kind does.
func refuse(w http.ResponseWriter, kind Kind, status int, code, msg string) {
	if kind == Page {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<!doctype html><html lang="fr"><meta charset="utf-8"><title>Accès refusé</title>`+
			`<main><h1>Accès refusé</h1><p>Votre compte ne permet pas d'ouvrir cette page.</p><p lang="en">Access denied: %s.</p>`+
			`<p><a href="/">Accueil</a></p></main></html>`, htmlEscape(msg))
		return
	}
	refuseAPI(w, status, code, msg)
}

// refuseAPI answers the API's error body.
func refuseAPI(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(api.ErrorBody{Error: api.Error{Code: code, Message: msg}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// LogPath is a request's path as the logs keep it: a mobile ticket page's
// token is the citizen's link to their ticket, and is left out.
func LogPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/t/"); ok && rest != "" {
		_, tail, _ := strings.Cut(rest, "/")
		if tail != "" {
			return "/t/…/" + tail
		}
		return "/t/…"
	}
	return p
}
