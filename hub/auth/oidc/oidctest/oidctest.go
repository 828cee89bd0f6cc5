// Package oidctest runs a real OpenID provider for tests: the op package
// of github.com/zitadel/oidc (a certified OpenID Connect implementation)
// on loopback, with its storage in memory, test users with their claims,
// a sign-in form, and ways to tamper with the ID token it answers (its
// claims re-signed with its own key, or signed with another), so that a
// test proves the hub refuses what it must. It is not mocked: discovery,
// the authorization endpoint, PKCE, the token endpoint, the keys and the
// userinfo endpoint are the library's.
package oidctest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person the provider knows.
type User struct {
	ID       string // the subject (sub)
	Username string // preferred_username
	Password string
	Name     string
	Email    string
	// Claims are more claims of the ID token and userinfo: {"groups":
	// ["accueil"], "guichet_agent": "ana"}.
	Claims map[string]any
}

// Options configures a provider.
type Options struct {
	ClientID, ClientSecret string
	RedirectURIs           []string // the hub's callbacks, as registered
	Users                  []User
	// IDTokenLifetime is how long its ID tokens are valid (5 minutes).
	IDTokenLifetime time.Duration
	// UserinfoOnly keeps the profile and custom claims out of the ID token:
	// only the userinfo endpoint gives them (as ProConnect does).
	UserinfoOnly bool
	// Issuer, if set, is the issuer the provider declares instead of its
	// own URL (to test an issuer mismatch).
	Issuer string
	// Listener, if set, is where it listens (to start it again on the same
	// address).
	Listener net.Listener
}

// Server is a running provider.
type Server struct {
	URL string // its issuer URL, http://127.0.0.1:port

	srv *httptest.Server
	st  *storage
	op  *op.Provider

	mu     sync.Mutex
	tamper func(claims map[string]any)
	other  *ecdsa.PrivateKey // signs instead of the provider's key, with its key id
	auto   string            // signs in as this username without the form
}

const loginPath = "/ui/login"

// Start starts a provider on loopback; it stops with the test.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if o.IDTokenLifetime == 0 {
		o.IDTokenLifetime = 5 * time.Minute
	}
	st := &storage{users: map[string]*User{}, requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]string{},
		key: key, kid: "key-1", userinfoOnly: o.UserinfoOnly,
		client: &client{id: o.ClientID, secret: o.ClientSecret, redirectURIs: o.RedirectURIs, idLifetime: o.IDTokenLifetime, userinfoOnly: o.UserinfoOnly}}
	for i := range o.Users {
		st.users[o.Users[i].Username] = &o.Users[i]
	}
	s := &Server{st: st}
	s.srv = httptest.NewUnstartedServer(nil)
	if o.Listener != nil {
		s.srv.Listener.Close()
		s.srv.Listener = o.Listener
	}
	s.URL = "http://" + s.srv.Listener.Addr().String()
	issuer := s.URL
	if o.Issuer != "" {
		issuer = o.Issuer
	}
	cfg := &op.Config{CryptoKey: sha256.Sum256([]byte("oidctest " + s.URL)), CodeMethodS256: true, AuthMethodPost: true}
	s.op, err = op.NewProvider(cfg, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(loginPath, op.NewIssuerInterceptor(s.op.IssuerFromRequest).HandlerFunc(s.login))
	mux.Handle("/oauth/token", s.tokens(s.op))
	mux.Handle("/", s.op)
	s.srv.Config.Handler = mux
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// Register adds a redirect URI to the hub's registration at the provider
// (a hub started after the provider, on a port of its own).
func (s *Server) Register(redirectURI string) {
	c := s.st.client
	c.mu.Lock()
	defer c.mu.Unlock()
	c.redirectURIs = append(c.redirectURIs, redirectURI)
}

// SetClaim changes a claim of a user (as an admin of the directory
// changes their groups).
func (s *Server) SetClaim(username, claim string, value any) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	u := s.st.users[username]
	c := map[string]any{}
	for k, v := range u.Claims {
		c[k] = v
	}
	c[claim] = value
	u.Claims = c
}

// Close stops the provider (to test a provider that is down).
func (s *Server) Close() { s.srv.Close() }

// Addr is the provider's listening address.
func (s *Server) Addr() string { return s.srv.Listener.Addr().String() }

// AutoSignIn makes the sign-in form sign in as username at once, as a
// provider with a single sign-on session does ("" to show the form).
func (s *Server) AutoSignIn(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auto = username
}

// Tamper rewrites the claims of the ID tokens it answers from now on
// (nil: no more), re-signed with its own key: a token whose signature is
// good and whose claims are not.
func (s *Server) Tamper(f func(claims map[string]any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamper = f
}

// SignWithAnotherKey makes it sign the ID tokens it answers with a key
// that is not in its key set (under the same key id), or stop doing so.
func (s *Server) SignWithAnotherKey(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.other = nil
	if on {
		s.other, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
}

var loginForm = template.Must(template.New("").Parse(`<!doctype html><html lang="fr"><meta charset="utf-8"><title>Annuaire de test</title>
<main><h1>Annuaire de test</h1>{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}"><input type="hidden" name="id" value="{{.ID}}">
<label for="username">Identifiant</label><input id="username" name="username" autofocus>
<label for="password">Mot de passe</label><input id="password" name="password" type="password">
<button type="submit">Connexion</button></form></main></html>`))

// login is the provider's own sign-in page, where the authorization
// endpoint sends the browser (Client.LoginURL).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	s.mu.Lock()
	auto := s.auto
	s.mu.Unlock()
	var user, pass string
	switch {
	case r.Method == http.MethodPost:
		user, pass = r.PostFormValue("username"), r.PostFormValue("password")
	case auto != "":
		s.st.mu.Lock()
		if u, ok := s.st.users[auto]; ok {
			user, pass = u.Username, u.Password
		}
		s.st.mu.Unlock()
	default:
		loginForm.Execute(w, map[string]string{"Action": loginPath, "ID": id})
		return
	}
	if err := s.st.signIn(id, user, pass); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		loginForm.Execute(w, map[string]string{"Action": loginPath, "ID": id, "Error": err.Error()})
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(s.op)(r.Context(), id), http.StatusFound)
}

// tokens serves the token endpoint, then tampers with the ID token of its
// answer if asked to.
func (s *Server) tokens(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		tamper, other := s.tamper, s.other
		s.mu.Unlock()
		if tamper == nil && other == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var res map[string]any
		if rec.Code == http.StatusOK && json.Unmarshal(body, &res) == nil {
			if raw, ok := res["id_token"].(string); ok {
				forged, err := s.resign(raw, tamper, other)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				res["id_token"] = forged
				body, _ = json.Marshal(res)
			}
		}
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// resign decodes an ID token, applies tamper to its claims and signs it
// again with the provider's key, or other.
func (s *Server) resign(raw string, tamper func(map[string]any), other *ecdsa.PrivateKey) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("not a JWS")
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", err
	}
	payload, err := jws.Verify(&s.st.key.PublicKey)
	if err != nil {
		return "", err
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return "", err
	}
	if tamper != nil {
		tamper(claims)
	}
	key := s.st.key
	if other != nil {
		key = other
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.st.kid))
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(claims)
	signed, err := signer.Sign(b)
	if err != nil {
		return "", err
	}
	return signed.CompactSerialize()
}
