package sitetest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"guichet/hub/auth"
)

// Password is the password AddAccount gives.
const Password = "correct horse battery staple 42"

// AddAccount creates an account with Password (or gives the agent's
// account of the site file that password and role).
func (s *Site) AddAccount(id string, role auth.Role, agent string) {
	s.T.Helper()
	ctx, by := context.Background(), auth.By{Actor: "test"}
	if _, err := s.Auth.Account(id); err == nil {
		if _, err := s.Auth.SetPassword(ctx, by, id, Password, false); err != nil {
			s.T.Fatal(err)
		}
		if err := s.Auth.SetRole(by, id, role); err != nil {
			s.T.Fatal(err)
		}
		return
	}
	if _, err := s.Auth.AddAccount(ctx, by, auth.NewAccount{ID: id, Role: role, Agent: agent, Password: Password}); err != nil {
		s.T.Fatal(err)
	}
}

// Session is a browser-like client signed in through the sign-in page: a
// cookie jar, and the session's CSRF token.
type Session struct {
	s      *Site
	Client *http.Client
	CSRF   string
}

var loginToken = regexp.MustCompile(`name="login_token" value="([^"]+)"`)

// SignIn signs in at /login as a browser does and returns the session.
func (s *Site) SignIn(login, password string) *Session {
	s.T.Helper()
	se := s.NewSession()
	st, _, _ := se.Form("POST", auth.LoginPath, url.Values{"login": {login}, "password": {password}})
	if st != http.StatusSeeOther {
		s.T.Fatalf("sign in as %s: %d", login, st)
	}
	var who struct {
		CSRF string `json:"csrf_token"`
	}
	st, body, _ := se.Do("GET", "/api/v1/session", "")
	if st != 200 || json.Unmarshal(body, &who) != nil {
		s.T.Fatalf("session of %s: %d %s", login, st, body)
	}
	se.CSRF = who.CSRF
	return se
}

// NewSession returns a client with an empty cookie jar that follows no
// redirect.
func (s *Site) NewSession() *Session {
	jar, _ := cookiejar.New(nil)
	return &Session{s: s, Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Form posts a form as the sign-in page does: it first reads the page for
// its form token (login_token), and adds the session's CSRF token.
func (se *Session) Form(method, path string, v url.Values) (int, []byte, http.Header) {
	se.s.T.Helper()
	if path == auth.LoginPath {
		_, page, _ := se.Do("GET", auth.LoginPath, "")
		m := loginToken.FindSubmatch(page)
		if m == nil {
			se.s.T.Fatalf("no login_token on the sign-in page:\n%s", page)
		}
		v.Set("login_token", string(m[1]))
	}
	if se.CSRF != "" && v.Get(auth.CSRFField) == "" {
		v.Set(auth.CSRFField, se.CSRF)
	}
	return se.Do(method, path, v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

// Do sends a request with the session's cookie; a state-changing one
// carries the CSRF token unless headers set X-CSRF-Token themselves (to
// "" to send none). headers are name, value pairs.
func (se *Session) Do(method, path, body string, headers ...string) (int, []byte, http.Header) {
	se.s.T.Helper()
	req, err := http.NewRequest(method, se.s.HTTPURL+path, strings.NewReader(body))
	if err != nil {
		se.s.T.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != "GET" && se.CSRF != "" {
		req.Header.Set(auth.CSRFHeader, se.CSRF)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := se.Client.Do(req)
	if err != nil {
		se.s.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// Status sends a request with the session's cookie (and CSRF token, if
// it changes state) and returns the status and headers without reading
// the body: a live stream's (server-sent events) never ends.
func (se *Session) Status(method, path string) (int, http.Header) {
	se.s.T.Helper()
	req, err := http.NewRequest(method, se.s.HTTPURL+path, nil)
	if err != nil {
		se.s.T.Fatal(err)
	}
	if method != "GET" && se.CSRF != "" {
		req.Header.Set(auth.CSRFHeader, se.CSRF)
	}
	res, err := se.Client.Do(req)
	if err != nil {
		se.s.T.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header
}

// Bearer sends a request with a bearer token.
func (s *Site) Bearer(token, method, path, body string) (int, []byte) {
	s.T.Helper()
	req, err := http.NewRequest(method, s.HTTPURL+path, strings.NewReader(body))
	if err != nil {
		s.T.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}
