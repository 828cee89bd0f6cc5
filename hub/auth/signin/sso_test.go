package signin_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"guichet/hub/auth"
	"guichet/internal/sitetest"
)

// directory is a provider for the hub's side of the SSO flow: its
// "authorization endpoint" sends the browser straight back with a code
// bound to the state the hub kept, as an OpenID provider does once the
// person has signed in there. (The real protocols are tested by their
// implementations, against real servers.)
type directory struct {
	srv   *httptest.Server
	mu    sync.Mutex
	codes map[string]string // code → login, each usable once
	who   string            // the login the next sign-in is for
}

func newDirectory(t *testing.T) *directory {
	d := &directory{codes: map[string]string{}}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		d.mu.Lock()
		code := fmt.Sprintf("code-%d", len(d.codes))
		d.codes[code] = d.who
		d.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+q.Get("state"), http.StatusFound)
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *directory) Name() string { return "annuaire" }
func (d *directory) Label(lang string) string {
	if lang == "en" {
		return "the town's directory"
	}
	return "l'annuaire de la mairie"
}
func (d *directory) Start(r *http.Request, callback string) (auth.Start, error) {
	state := fmt.Sprintf("state-%p-%s", r, r.RemoteAddr)
	return auth.Start{Redirect: d.srv.URL + "/authorize?redirect_uri=" + url.QueryEscape(callback) + "&state=" + url.QueryEscape(state), State: state}, nil
}
func (d *directory) Finish(r *http.Request, callback, state string) (auth.Identity, error) {
	if r.URL.Query().Get("state") != state {
		return auth.Identity{}, errors.New("state mismatch")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	login, ok := d.codes[r.URL.Query().Get("code")]
	delete(d.codes, r.URL.Query().Get("code"))
	if !ok {
		return auth.Identity{}, errors.New("unknown or used code")
	}
	groups := map[string][]string{"chef": {"accueil-chefs"}, "ana": {"accueil"}, "stranger": {"voirie"}}[login]
	return auth.Identity{Login: login, Name: strings.ToUpper(login), Claims: map[string][]string{"groups": groups}, SessionRef: "sid-" + login}, nil
}
func (d *directory) Role(id auth.Identity) (auth.Role, error) {
	switch g := id.Claims["groups"]; {
	case slices.Contains(g, "accueil-chefs"):
		return auth.RoleSupervisor, nil
	case slices.Contains(g, "accueil"):
		return auth.RoleAgent, nil
	}
	return "", auth.ErrNoRole
}

func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// The hub's side of single sign-on: the sign-in page offers the provider;
// its flow signs in, creating the account (linked to the site agent of the
// same login) with the role the provider's claims map to; a callback the
// hub did not start, a replay, or a person the directory gives no role is
// refused; the provider's single logout ends the session.
func TestSignInThroughAProvider(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	d := newDirectory(t)
	s.Auth.AddProvider(d)
	c := client()
	res, err := c.Get(s.HTTPURL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(page), "Se connecter avec l&#39;annuaire de la mairie") || !strings.Contains(string(page), `href="/login/sso/annuaire?next=%2F"`) {
		t.Fatalf("no button for the provider:\n%s", page)
	}
	d.who = "chef"
	var callback *url.URL
	var kept []*http.Cookie
	hub, _ := url.Parse(s.HTTPURL + "/login/sso/annuaire/callback")
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/callback") {
			callback, kept = req.URL, c.Jar.Cookies(hub)
		}
		return nil
	}
	res, err = c.Get(s.HTTPURL + "/login/sso/annuaire?next=/api/v1/session")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"account":"chef"`) || !strings.Contains(string(body), `"role":"supervisor"`) ||
		!strings.Contains(string(body), `"via":"sso"`) || !strings.Contains(string(body), `"provider":"annuaire"`) {
		t.Fatalf("after the provider's sign-in: %d %s", res.StatusCode, body)
	}

	// The same callback again, with the same browser's cookie: taken once.
	if callback == nil || len(kept) == 0 {
		t.Fatal("the flow went through no callback with a cookie")
	}
	again := client()
	again.Jar.SetCookies(hub, kept)
	if res, _ := again.Get(callback.String()); res.StatusCode != http.StatusBadRequest {
		t.Errorf("the callback replayed: %v", res.StatusCode)
	}
	// A callback the hub did not start (no sign-in under way in this browser).
	other := client()
	if res, _ := other.Get(s.HTTPURL + "/login/sso/annuaire/callback?code=code-0&state=x"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a callback not started here: %d", res.StatusCode)
	}
	// A person the directory gives no role.
	d.who = "stranger"
	if res, _ := client().Get(s.HTTPURL + "/login/sso/annuaire"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a person without a role: %d", res.StatusCode)
	}
	// A site agent signs in to the agent's account.
	d.who = "ana"
	ag := client()
	if res, _ := ag.Get(s.HTTPURL + "/login/sso/annuaire?next=/api/v1/session"); res.StatusCode != 200 {
		t.Fatalf("ana through the directory: %d", res.StatusCode)
	}
	if n, err := s.Auth.EndSSO("annuaire", "sid-ana"); err != nil || n != 1 {
		t.Fatalf("single logout: %d, %v", n, err)
	}
	if res, _ := ag.Get(s.HTTPURL + "/api/v1/session"); res.StatusCode != 401 {
		t.Fatalf("after the provider's single logout: %d", res.StatusCode)
	}
	acc, err := s.Auth.Account("ana")
	if err != nil || acc.Agent != "ana" {
		t.Fatalf("ana's account: %+v %v", acc, err)
	}
	if _, err := s.Auth.Account("stranger"); err == nil {
		t.Fatal("an account was made for a person without a role")
	}
}
