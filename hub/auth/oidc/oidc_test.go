package oidc_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"guichet/hub/auth/oidc/oidctest"
	"guichet/internal/sitetest"
)

const (
	clientID = "guichet"
	secret   = "s3cret-of-the-guichet-client-0123456789"
	provider = "annuaire"
)

// users of the test directory: a reception manager, an agent of the site
// file known to the directory by another login, and a road worker.
func users() []oidctest.User {
	return []oidctest.User{
		{ID: "u-chef", Username: "m.durand", Password: "mot de passe de Marie", Name: "Marie Durand", Email: "m.durand@ville.test",
			Claims: map[string]any{"groups": []string{"accueil-chefs", "tous"}}},
		{ID: "u-ana", Username: "a.martin", Password: "mot de passe d'Ana", Name: "Ana Martin",
			Claims: map[string]any{"groups": []string{"accueil"}, "guichet_agent": "ana"}},
		{ID: "u-voirie", Username: "p.leroy", Password: "mot de passe de Paul", Name: "Paul Leroy",
			Claims: map[string]any{"groups": []string{"voirie"}}},
	}
}

// siteConfig is sitetest's site with the directory as an OpenID provider.
func siteConfig(issuer string, extra string) string {
	return sitetest.Config + fmt.Sprintf(`
auth:
  oidc:
    - name: %s
      label: { fr: "l'annuaire de test", en: "the test directory" }
      issuer: %s
      client_id: %s
      client_secret_env: GUICHET_TEST_OIDC_SECRET
      agent_claim: guichet_agent
      roles: { claim: groups, agent: [accueil], supervisor: [accueil-chefs], admin: [dsi] }
%s`, provider, issuer, clientID, extra)
}

// start starts a directory and a hub that signs in through it.
func start(t *testing.T, o oidctest.Options, extra string) (*sitetest.Site, *oidctest.Server) {
	t.Setenv("GUICHET_TEST_OIDC_SECRET", secret)
	o.ClientID, o.ClientSecret = clientID, secret
	if o.Users == nil {
		o.Users = users()
	}
	op := oidctest.Start(t, o)
	s := sitetest.Start(t, sitetest.Options{Config: siteConfig(op.URL, extra)})
	op.Register(s.HTTPURL + "/login/sso/" + provider + "/callback")
	return s, op
}

// browser is a client that follows redirects with a cookie jar, as a
// browser does, and remembers the requests it made.
type browser struct {
	*http.Client
	visited []*url.URL
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{Client: &http.Client{Jar: jar}}
	b.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		b.visited = append(b.visited, req.URL)
		return nil
	}
	return b
}

// get fetches a URL and returns the status and body.
func (b *browser) get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// last returns the last request it made to a path ending in suffix.
func (b *browser) last(t *testing.T, suffix string) *url.URL {
	t.Helper()
	for i := len(b.visited) - 1; i >= 0; i-- {
		if strings.HasSuffix(b.visited[i].Path, suffix) {
			return b.visited[i]
		}
	}
	t.Fatalf("no request to …%s among %v", suffix, b.visited)
	return nil
}

type session struct {
	Account  string `json:"account"`
	Role     string `json:"role"`
	Agent    string `json:"agent"`
	Via      string `json:"via"`
	Provider string `json:"provider"`
}

// signIn signs in through the directory as username, over plain HTTP, and
// returns the browser and the session it got (status, and the hub's answer).
func signIn(t *testing.T, s *sitetest.Site, op *oidctest.Server, username string) (*browser, int, session) {
	t.Helper()
	op.AutoSignIn(username)
	b := newBrowser()
	st, body := b.get(t, s.HTTPURL+"/login/sso/"+provider+"?next=/api/v1/session")
	var se session
	if st == 200 {
		if err := json.Unmarshal([]byte(body), &se); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return b, st, se
}

// A full sign-in against a real OpenID provider, over plain HTTP: the
// authorization request carries a state, a nonce and a PKCE S256
// challenge; the reception manager's account is made at the first
// sign-in with the role her groups give, and without a local password; an
// agent of the site file, known to the directory by another login, signs
// in to the agent's account; a role changed at the provider applies at the
// next sign-in (TestRoleChangedAtTheProviderAppliesAtTheNextSignIn); a person whose groups give no role is refused and gets no
// account; no secret, code or token reaches the log.
func TestSignInThroughARealOpenIDProvider(t *testing.T) {
	s, op := start(t, oidctest.Options{}, "")
	b, st, se := signIn(t, s, op, "m.durand")
	if st != 200 || se != (session{Account: "m.durand", Role: "supervisor", Via: "sso", Provider: provider}) {
		t.Fatalf("after the sign-in: %d %+v", st, se)
	}
	authz := b.last(t, "/authorize").Query()
	if authz.Get("code_challenge_method") != "S256" || len(authz.Get("code_challenge")) != 43 || authz.Get("nonce") == "" ||
		authz.Get("state") == "" || authz.Get("client_id") != clientID || !strings.Contains(authz.Get("scope"), "openid") {
		t.Fatalf("authorization request: %v", authz)
	}
	acct, err := s.Auth.Account("m.durand")
	if err != nil || acct.PasswordHash != "" || acct.Role != "supervisor" || acct.Name != "Marie Durand" {
		t.Fatalf("account made at the first sign-in: %+v %v", acct, err)
	}
	// No local password: the account cannot sign in with one.
	if st, _, _ := s.NewSession().Form("POST", "/login", url.Values{"login": {"m.durand"}, "password": {"mot de passe de Marie"}}); st != http.StatusUnauthorized {
		t.Fatalf("a password sign-in to an SSO account: %d", st)
	}

	// The agent ana, a.martin in the directory: ana's account.
	b2, st, se := signIn(t, s, op, "a.martin")
	if st != 200 || se != (session{Account: "ana", Role: "agent", Agent: "ana", Via: "sso", Provider: provider}) {
		t.Fatalf("ana through the directory: %d %+v", st, se)
	}
	if b2.last(t, "/authorize").Query().Get("state") == authz.Get("state") {
		t.Fatal("two sign-ins with the same state")
	}
	if _, err := s.Auth.Account("a.martin"); err == nil {
		t.Fatal("an account was made for the directory's login of a site agent")
	}

	// A person the directory gives no role.
	if _, st, _ := signIn(t, s, op, "p.leroy"); st != http.StatusForbidden {
		t.Fatalf("a person without a role: %d", st)
	}
	if _, err := s.Auth.Account("p.leroy"); err == nil {
		t.Fatal("an account was made for a person without a role")
	}
	if !strings.Contains(s.Logs.String(), "external sign-in refused: no role") {
		t.Fatal("the refusal is not logged")
	}
	_, events := s.Call("GET", "/api/v1/events?limit=1000", "")
	if !strings.Contains(string(events), `"sso annuaire"`) {
		t.Fatalf("no account.signed_in through the provider in the log:\n%s", events)
	}
	for _, secretish := range []string{secret, b.last(t, "/callback").Query().Get("code"), authz.Get("state"), authz.Get("nonce")} {
		if strings.Contains(s.Logs.String(), secretish) {
			t.Fatalf("the log holds a secret, a code, a state or a nonce (%.6s…)", secretish)
		}
	}
}

// A role changed at the provider applies at the next sign-in.
func TestRoleChangedAtTheProviderAppliesAtTheNextSignIn(t *testing.T) {
	s, op := start(t, oidctest.Options{}, "")
	if _, st, se := signIn(t, s, op, "m.durand"); st != 200 || se.Role != "supervisor" {
		t.Fatalf("%d %+v", st, se)
	}
	op.SetClaim("m.durand", "groups", []string{"dsi"})
	if _, st, se := signIn(t, s, op, "m.durand"); st != 200 || se.Role != "admin" {
		t.Fatalf("promoted: %d %+v", st, se)
	}
	op.SetClaim("m.durand", "groups", []string{"accueil"})
	if _, st, se := signIn(t, s, op, "m.durand"); st != 200 || se.Role != "agent" {
		t.Fatalf("demoted: %d %+v", st, se)
	}
	op.SetClaim("m.durand", "groups", []string{"voirie"})
	if _, st, _ := signIn(t, s, op, "m.durand"); st != http.StatusForbidden {
		t.Fatalf("no role any more: %d", st)
	}
}

// What the callback must refuse, each against the real provider: the
// sign-in page answers "it did not work", no session is opened, and the
// log says why.
func TestOpenIDSignInRefusals(t *testing.T) {
	s, op := start(t, oidctest.Options{}, "")
	// refused checks a refusal, and that the log says why since mark.
	var mark int
	refused := func(t *testing.T, b *browser, st int, why string) {
		t.Helper()
		if st != http.StatusForbidden {
			t.Fatalf("answered %d, want 403", st)
		}
		if st, _ := b.get(t, s.HTTPURL+"/api/v1/session"); st != http.StatusUnauthorized {
			t.Fatalf("a session was opened: %d", st)
		}
		if !strings.Contains(s.Logs.String()[mark:], why) {
			t.Fatalf("the log does not say %q", why)
		}
	}
	run := func(name string, f func(t *testing.T)) {
		mark = len(s.Logs.String())
		t.Run(name, f)
	}
	forged := func(t *testing.T, tamper func(map[string]any), why string) {
		t.Helper()
		op.Tamper(tamper)
		defer op.Tamper(nil)
		b, st, _ := signIn(t, s, op, "m.durand")
		refused(t, b, st, why)
	}
	// The flow up to the provider's answer, not followed: the callback URL
	// it sends the browser to.
	upToCallback := func(t *testing.T) (*browser, *url.URL) {
		t.Helper()
		op.AutoSignIn("m.durand")
		b := newBrowser()
		b.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
			b.visited = append(b.visited, req.URL)
			if strings.HasSuffix(req.URL.Path, "/callback") && strings.HasPrefix(req.URL.String(), s.HTTPURL) {
				return http.ErrUseLastResponse
			}
			return nil
		}
		b.get(t, s.HTTPURL+"/login/sso/"+provider)
		b.CheckRedirect = nil
		return b, b.last(t, "/callback")
	}
	run("wrong state", func(t *testing.T) {
		b, cb := upToCallback(t)
		q := cb.Query()
		q.Set("state", "not-the-state")
		cb.RawQuery = q.Encode()
		st, _ := b.get(t, cb.String())
		refused(t, b, st, "the state the provider sent back is not the one this sign-in sent")
	})
	run("replayed code", func(t *testing.T) {
		b, cb := upToCallback(t)
		if st, _ := b.get(t, cb.String()); st != 200 {
			t.Fatalf("first use of the code: %d", st)
		}
		// A new sign-in in another browser, answered with the spent code.
		b2, cb2 := upToCallback(t)
		q := cb2.Query()
		q.Set("code", cb.Query().Get("code"))
		cb2.RawQuery = q.Encode()
		st, _ := b2.get(t, cb2.String())
		refused(t, b2, st, "the token endpoint refused the code")
	})
	run("callback replayed", func(t *testing.T) {
		b, cb := upToCallback(t)
		if st, _ := b.get(t, cb.String()); st != 200 {
			t.Fatalf("first use: %d", st)
		}
		b2 := newBrowser()
		b2.Jar.SetCookies(cb, b.Jar.Cookies(cb))
		if st, _ := b2.get(t, cb.String()); st != http.StatusBadRequest {
			t.Fatalf("the same callback again: %d", st)
		}
	})
	run("signed by another key", func(t *testing.T) {
		op.SignWithAnotherKey(true)
		defer op.SignWithAnotherKey(false)
		b, st, _ := signIn(t, s, op, "m.durand")
		refused(t, b, st, "failed to verify signature")
	})
	run("expired", func(t *testing.T) {
		forged(t, func(c map[string]any) {
			c["exp"] = time.Now().Add(-3 * time.Minute).Unix() // beyond the 2 min of skew
			c["iat"] = time.Now().Add(-4 * time.Minute).Unix()
		}, "token is expired")
	})
	run("expired within the clock skew", func(t *testing.T) {
		op.Tamper(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })
		defer op.Tamper(nil)
		if _, st, se := signIn(t, s, op, "m.durand"); st != 200 || se.Account != "m.durand" {
			t.Fatalf("a token a minute past its exp, within the skew: %d %+v", st, se)
		}
	})
	run("issued in the future", func(t *testing.T) {
		forged(t, func(c map[string]any) { c["iat"] = time.Now().Add(10 * time.Minute).Unix() }, "in the future")
	})
	run("issued long ago", func(t *testing.T) {
		forged(t, func(c map[string]any) {
			c["iat"] = time.Now().Add(-time.Hour).Unix()
			c["exp"] = time.Now().Add(time.Hour).Unix()
		}, "not for this sign-in")
	})
	run("wrong nonce", func(t *testing.T) {
		forged(t, func(c map[string]any) { c["nonce"] = "another-nonce" }, "the ID token's nonce is not this sign-in's")
	})
	run("issuer mismatch", func(t *testing.T) {
		forged(t, func(c map[string]any) { c["iss"] = "https://elsewhere.test" }, "issued by a different provider")
	})
	run("another audience", func(t *testing.T) {
		forged(t, func(c map[string]any) { c["aud"] = []string{"another-client"} }, "expected audience")
	})
	run("several audiences without azp", func(t *testing.T) {
		forged(t, func(c map[string]any) {
			c["aud"] = []string{clientID, "another-client"}
			delete(c, "azp")
		}, "it was not issued to this client")
	})
	run("another authorized party", func(t *testing.T) {
		forged(t, func(c map[string]any) { c["azp"] = "another-client" }, "it was not issued to this client")
	})
	run("no role", func(t *testing.T) {
		b, st, _ := signIn(t, s, op, "p.leroy")
		refused(t, b, st, "no role")
	})
}

// A provider that declares another issuer than the site file's is refused
// at discovery, with a log line that says so.
func TestIssuerMismatchAtDiscoveryIsRefused(t *testing.T) {
	s, op := start(t, oidctest.Options{Issuer: "http://localhost:1"}, "")
	b, st, _ := signIn(t, s, op, "m.durand")
	if st != http.StatusBadGateway {
		t.Fatalf("answered %d", st)
	}
	if st, _ := b.get(t, s.HTTPURL+"/api/v1/session"); st != http.StatusUnauthorized {
		t.Fatalf("a session: %d", st)
	}
	if !strings.Contains(s.Logs.String(), `declares the issuer \"http://localhost:1\"`) {
		t.Fatalf("log:\n%s", s.Logs.String())
	}
}

// The hub starts while its provider is down (a log line says so), and its
// button works once the provider is back.
func TestProviderDownAtStartIsTriedAgain(t *testing.T) {
	op := oidctest.Start(t, oidctest.Options{ClientID: clientID, ClientSecret: secret, Users: users()})
	addr := op.Addr()
	op.Close()
	t.Setenv("GUICHET_TEST_OIDC_SECRET", secret)
	s := sitetest.Start(t, sitetest.Options{Config: siteConfig("http://"+addr, "")})
	if !strings.Contains(s.Logs.String(), "OpenID provider unreachable at start") {
		t.Fatalf("log:\n%s", s.Logs.String())
	}
	if _, st, _ := signIn(t, s, op, "m.durand"); st != http.StatusBadGateway {
		t.Fatalf("while the provider is down: %d", st)
	}
	var back *oidctest.Server
	for deadline := time.Now().Add(10 * time.Second); ; {
		ln, err := listen(addr)
		if err == nil {
			back = oidctest.Start(t, oidctest.Options{ClientID: clientID, ClientSecret: secret, Users: users(), Listener: ln})
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
	}
	back.Register(s.HTTPURL + "/login/sso/" + provider + "/callback")
	for deadline := time.Now().Add(15 * time.Second); ; {
		_, st, se := signIn(t, s, back, "m.durand")
		if st == 200 && se.Account == "m.durand" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the provider is back, the sign-in still fails: %d", st)
		}
	}
}

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
