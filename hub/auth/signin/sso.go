package signin

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"guichet/hub/auth"
)

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

// callback is the absolute URL of a provider's callback on this hub.
func (p *Pages) callback(r *http.Request, name string) string {
	scheme := "http"
	if p.auth.HTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + p.auth.Host(r) + "/login/sso/" + name + "/callback"
}

// ssoStart begins a sign-in through a provider and sends the browser there.
func (p *Pages) ssoStart(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	pr, ok := p.auth.Provider(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	st, err := pr.Start(r, p.callback(r, name))
	if err != nil {
		p.log.Error("start an external sign-in", "provider", name, "err", err)
		p.ssoFailed(w, r, http.StatusBadGateway)
		return
	}
	key, err := p.auth.BeginSSO(name, st.State, next(r.URL.Query().Get("next")))
	if err != nil {
		p.ssoFailed(w, r, http.StatusServiceUnavailable)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: key, Path: "/login/sso/" + name, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: p.auth.HTTPS(r), MaxAge: 600})
	http.Redirect(w, r, st.Redirect, http.StatusSeeOther)
}

// ssoCallback finishes a sign-in the provider answered.
func (p *Pages) ssoCallback(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	pr, ok := p.auth.Provider(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	c, err := r.Cookie(ssoCookie)
	if err != nil {
		p.log.Warn("external sign-in refused: no sign-in under way in this browser", "provider", name, "client", p.auth.ClientAddr(r))
		p.ssoFailed(w, r, http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Path: "/login/sso/" + name, MaxAge: -1})
	state, to, err := p.auth.TakeSSO(name, c.Value)
	if err != nil {
		p.log.Warn("external sign-in refused", "provider", name, "err", err, "client", p.auth.ClientAddr(r))
		p.ssoFailed(w, r, http.StatusBadRequest)
		return
	}
	id, err := pr.Finish(r, p.callback(r, name), state)
	if err != nil {
		p.log.Warn("external sign-in refused by its check", "provider", name, "err", err, "client", p.auth.ClientAddr(r))
		p.ssoFailed(w, r, http.StatusForbidden)
		return
	}
	role, err := pr.Role(id)
	if err != nil {
		p.log.Warn("external sign-in refused: no role", "provider", name, "login", id.Login, "err", err)
		p.ssoFailed(w, r, http.StatusForbidden)
		return
	}
	cookie, _, err := p.auth.SignInSSO(name, id, role, p.auth.ClientAddr(r))
	if err != nil {
		status := http.StatusForbidden
		if !errors.Is(err, auth.ErrNoRole) && !errors.Is(err, auth.ErrDisabled) && !errors.Is(err, auth.ErrInvalid) {
			status = http.StatusInternalServerError
		}
		p.log.Warn("external sign-in refused", "provider", name, "login", id.Login, "err", err)
		p.ssoFailed(w, r, status)
		return
	}
	http.SetCookie(w, p.auth.Cookie(r, cookie))
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// ssoLogout ends the sessions a provider's server names in a back-channel
// single logout, if the provider trusts the request (see
// auth.SingleLogout). It answers 200 when it ended something or nothing
// (an unknown ticket is no error: the person may have signed out here
// first), 403 when the provider refused the request.
func (p *Pages) ssoLogout(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	pr, ok := p.auth.Provider(name)
	slo, can := pr.(auth.SingleLogout)
	if !ok || !can {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	from := p.auth.ClientAddr(r)
	refs, err := slo.Logout(r, from)
	if err != nil {
		p.log.Warn("single logout refused", "provider", name, "client", from, "err", err)
		http.Error(w, "refused", http.StatusForbidden)
		return
	}
	var n int64
	for _, ref := range refs {
		k, err := p.auth.EndSSO(name, ref)
		if err != nil {
			p.log.Error("single logout", "provider", name, "err", err)
			http.Error(w, "error", http.StatusInternalServerError)
			return
		}
		n += k
	}
	p.log.Info("single logout", "provider", name, "client", from, "sessions", n)
	w.WriteHeader(http.StatusOK)
}

// ssoFailed shows the sign-in page with a message that says no more than
// "it did not work" (the log says why).
func (p *Pages) ssoFailed(w http.ResponseWriter, r *http.Request, status int) {
	l := lang(r)
	v := p.loginView(w, r, l, "/")
	v.Error, v.Status = T(l, "sso_failed"), status
	p.render(w, "login.html", v)
}
