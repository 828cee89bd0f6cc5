// Package oidc signs people in to the hub through an OpenID Connect
// provider (Keycloak, LemonLDAP::NG, ProConnect, Azure AD…): an
// auth.Provider speaking the authorization code flow with PKCE (S256),
// state and nonce, whose ID token is verified against the provider's keys
// (github.com/coreos/go-oidc) with its issuer, audience, authorized party,
// expiry and issue time checked, the clock skew bounded.
//
// It never logs or returns in an error a code, a token, the client secret,
// the state, the nonce or the PKCE verifier.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"guichet/hub/auth"
)

// Options configures a provider.
type Options struct {
	Name  string            // in URLs and the log
	Label map[string]string // the button's words, by language ("fr" first)
	// Issuer is the issuer URL: discovery reads
	// {Issuer}/.well-known/openid-configuration, and every ID token must
	// name it as its iss.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the redirect URI registered at the provider; empty:
	// the callback the hub builds from the browser's address.
	RedirectURL string
	Scopes      []string // openid is always asked; default profile, email
	// LoginClaim names the account (default preferred_username), NameClaim
	// its display name (default name), AgentClaim the site agent the person
	// is (optional). A claim inside an object is named with dots:
	// realm_access.roles.
	LoginClaim, NameClaim, AgentClaim string
	Roles                             auth.RoleMap
	// UserInfo also reads the userinfo endpoint's claims (its sub must be
	// the ID token's); the ID token's win where both say something.
	UserInfo bool
	// ClockSkew is how far the provider's clock may be from the hub's
	// (default 2 minutes).
	ClockSkew time.Duration
	Clock     func() time.Time // time.Now if nil
	Client    *http.Client     // for discovery, tokens, keys; nil: one with a 10 s timeout
	Log       *slog.Logger
}

// MaxIDTokenAge is how long before its use an ID token may have been
// issued (beyond the clock skew): the hub exchanges the code at once, so
// an older one was not made for this sign-in.
const MaxIDTokenAge = 5 * time.Minute

// Provider is an OpenID Connect provider, as an auth.Provider.
type Provider struct {
	o Options

	mu      sync.Mutex
	disc    *discovered // nil until discovery succeeds
	tried   time.Time   // the last discovery attempt
	lastErr error
}

// discovered is what the provider's discovery document said.
type discovered struct {
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
}

// New returns a provider; it reaches the provider only at Discover (or
// the first sign-in).
func New(o Options) (*Provider, error) {
	switch {
	case o.Name == "" || o.Issuer == "" || o.ClientID == "":
		return nil, errors.New("oidc: a provider needs a name, an issuer and a client id")
	case o.ClientSecret == "":
		return nil, fmt.Errorf("oidc %s: no client secret", o.Name)
	}
	if o.LoginClaim == "" {
		o.LoginClaim = "preferred_username"
	}
	if o.NameClaim == "" {
		o.NameClaim = "name"
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{"profile", "email"}
	}
	if o.ClockSkew <= 0 {
		o.ClockSkew = 2 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Provider{o: o}, nil
}

// Name implements auth.Provider.
func (p *Provider) Name() string { return p.o.Name }

// Label implements auth.Provider.
func (p *Provider) Label(lang string) string {
	for _, l := range []string{lang, "fr"} {
		if v := p.o.Label[l]; v != "" {
			return v
		}
	}
	return p.o.Name
}

// Discover reads the provider's discovery document. Its error says what
// failed (the provider cannot be reached, or declares another issuer).
func (p *Provider) Discover(ctx context.Context) error {
	_, err := p.discover(ctx, true)
	return err
}

// retryEvery bounds how often a sign-in tries discovery again while the
// provider is down.
const retryEvery = 2 * time.Second

func (p *Provider) discover(ctx context.Context, force bool) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc, nil
	}
	now := p.o.Clock()
	if !force && now.Sub(p.tried) < retryEvery && p.lastErr != nil {
		return nil, p.lastErr
	}
	p.tried = now
	gp, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.o.Client), p.o.Issuer)
	if err != nil {
		var mismatch *gooidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			err = fmt.Errorf("the provider at %s declares the issuer %q, not %q: correct the site file's issuer", p.o.Issuer, mismatch.Discovered, mismatch.Provided)
		}
		p.lastErr = fmt.Errorf("oidc %s: discovery at %s/.well-known/openid-configuration: %w", p.o.Name, p.o.Issuer, err)
		return nil, p.lastErr
	}
	p.disc = &discovered{provider: gp, verifier: gp.Verifier(&gooidc.Config{
		ClientID: p.o.ClientID,
		// exp is checked with the skew allowed; iat below.
		Now: func() time.Time { return p.o.Clock().Add(-p.o.ClockSkew) },
	})}
	p.lastErr = nil
	p.o.Log.Info("OpenID provider discovered", "provider", p.o.Name, "issuer", p.o.Issuer)
	return p.disc, nil
}

// Watch tries discovery again every retry, until it succeeds or ctx
// ends, logging each failure: a hub starts while its provider is down
// (after a first Discover that failed), and its button works once the
// provider is back.
func (p *Provider) Watch(ctx context.Context, retry time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := p.Discover(c)
		cancel()
		if err == nil {
			return
		}
		p.o.Log.Error("OpenID provider unreachable: its sign-in button fails until it answers; trying again", "provider", p.o.Name, "retry", retry, "err", err)
	}
}

// kept is what the hub keeps of a sign-in under way (auth.Start.State):
// never sent anywhere.
type kept struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Redirect string `json:"redirect"`
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *Provider) config(d *discovered, redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.o.ClientID, ClientSecret: p.o.ClientSecret, Endpoint: d.provider.Endpoint(),
		RedirectURL: redirect, Scopes: append([]string{gooidc.ScopeOpenID}, p.o.Scopes...)}
}

// Start implements auth.Provider: the authorization request, with a new
// state, nonce and PKCE verifier (its S256 challenge sent).
func (p *Provider) Start(r *http.Request, callback string) (auth.Start, error) {
	d, err := p.discover(r.Context(), false)
	if err != nil {
		return auth.Start{}, err
	}
	k := kept{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Redirect: callback}
	if p.o.RedirectURL != "" {
		k.Redirect = p.o.RedirectURL
	}
	to := p.config(d, k.Redirect).AuthCodeURL(k.State, gooidc.Nonce(k.Nonce), oauth2.S256ChallengeOption(k.Verifier))
	b, _ := json.Marshal(k)
	return auth.Start{Redirect: to, State: string(b)}, nil
}

// Errors of Finish that callers and tests tell apart.
var (
	ErrState   = errors.New("the state the provider sent back is not the one this sign-in sent")
	ErrNonce   = errors.New("the ID token's nonce is not this sign-in's")
	ErrRefused = errors.New("the provider refused the sign-in")
)

// Finish implements auth.Provider: it checks the state, exchanges the
// code (with the PKCE verifier) for tokens, verifies the ID token and
// returns who it names.
func (p *Provider) Finish(r *http.Request, callback, state string) (auth.Identity, error) {
	var k kept
	if err := json.Unmarshal([]byte(state), &k); err != nil || k.State == "" {
		return auth.Identity{}, errors.New("oidc: no sign-in kept")
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return auth.Identity{}, fmt.Errorf("%w: %.64q", ErrRefused, e)
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(k.State)) != 1 {
		return auth.Identity{}, ErrState
	}
	code := q.Get("code")
	if code == "" {
		return auth.Identity{}, errors.New("oidc: the provider sent no code")
	}
	d, err := p.discover(r.Context(), false)
	if err != nil {
		return auth.Identity{}, err
	}
	ctx := gooidc.ClientContext(r.Context(), p.o.Client)
	tok, err := p.config(d, k.Redirect).Exchange(ctx, code, oauth2.VerifierOption(k.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return auth.Identity{}, fmt.Errorf("oidc: the token endpoint refused the code: %d %.64q", re.Response.StatusCode, re.ErrorCode)
		}
		return auth.Identity{}, fmt.Errorf("oidc: exchange the code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return auth.Identity{}, errors.New("oidc: the token endpoint gave no ID token")
	}
	idt, claims, err := p.verify(ctx, d, raw, k.Nonce)
	if err != nil {
		return auth.Identity{}, err
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return auth.Identity{}, fmt.Errorf("oidc: the ID token's at_hash does not match the access token")
		}
	}
	if p.o.UserInfo {
		if err := p.userinfo(ctx, d, tok, idt.Subject, claims); err != nil {
			return auth.Identity{}, err
		}
	}
	return p.identity(claims)
}

// verify checks the ID token: the signature against the provider's keys,
// iss, aud and exp (go-oidc, exp with the skew allowed); then the nonce,
// azp, and iat (neither in the future nor older than MaxIDTokenAge, both
// within the skew).
func (p *Provider) verify(ctx context.Context, d *discovered, raw, nonce string) (*gooidc.IDToken, map[string]any, error) {
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, nil, fmt.Errorf("oidc: ID token refused: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, nil, ErrNonce
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, nil, fmt.Errorf("oidc: ID token claims: %w", err)
	}
	// OpenID Connect Core 1.0, 3.1.3.7: with several audiences, azp must
	// be present; when present, it must be our client id.
	azp, hasAZP := claims["azp"].(string)
	if len(idt.Audience) > 1 && !hasAZP || hasAZP && azp != p.o.ClientID {
		return nil, nil, fmt.Errorf("oidc: ID token refused: it was not issued to this client (azp %q)", azp)
	}
	now, skew := p.o.Clock(), p.o.ClockSkew
	switch {
	case idt.IssuedAt.IsZero():
		return nil, nil, errors.New("oidc: ID token refused: no iat")
	case idt.IssuedAt.After(now.Add(skew)):
		return nil, nil, fmt.Errorf("oidc: ID token refused: issued %s in the future (skew allowed: %s)", idt.IssuedAt.Sub(now).Round(time.Second), skew)
	case now.Sub(idt.IssuedAt) > MaxIDTokenAge+skew:
		return nil, nil, fmt.Errorf("oidc: ID token refused: issued %s ago, not for this sign-in", now.Sub(idt.IssuedAt).Round(time.Second))
	}
	return idt, claims, nil
}

// userinfo adds the userinfo endpoint's claims to claims, those of the ID
// token first.
func (p *Provider) userinfo(ctx context.Context, d *discovered, tok *oauth2.Token, sub string, claims map[string]any) error {
	ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("oidc: userinfo: %w", err)
	}
	if ui.Subject != sub {
		return errors.New("oidc: userinfo is about another subject than the ID token")
	}
	var more map[string]any
	if err := ui.Claims(&more); err != nil {
		return fmt.Errorf("oidc: userinfo claims: %w", err)
	}
	for k, v := range more {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

// identity is who the claims name.
func (p *Provider) identity(claims map[string]any) (auth.Identity, error) {
	flat := Flatten(claims)
	id := auth.Identity{Login: first(flat[p.o.LoginClaim]), Name: first(flat[p.o.NameClaim]), Claims: flat, SessionRef: first(flat["sid"])}
	if p.o.AgentClaim != "" {
		id.Agent = first(flat[p.o.AgentClaim])
	}
	if id.Login == "" {
		return auth.Identity{}, fmt.Errorf("oidc: the ID token has no %q claim to name the account", p.o.LoginClaim)
	}
	return id, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// Role implements auth.Provider.
func (p *Provider) Role(id auth.Identity) (auth.Role, error) { return p.o.Roles.Role(id.Claims) }

// Flatten turns claims into lists of strings by name: a string is a list
// of one, a list of strings is itself, a number or a boolean is written
// out, and an object's claims are named with dots (Keycloak's
// realm_access.roles).
func Flatten(claims map[string]any) map[string][]string {
	out := map[string][]string{}
	var walk func(prefix string, v any, depth int)
	walk = func(name string, v any, depth int) {
		switch x := v.(type) {
		case string:
			out[name] = append(out[name], x)
		case float64, bool, json.Number:
			out[name] = append(out[name], fmt.Sprint(x))
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					out[name] = append(out[name], s)
				}
			}
		case map[string]any:
			if depth < 4 {
				for k, e := range x {
					walk(name+"."+k, e, depth+1)
				}
			}
		}
	}
	for k, v := range claims {
		walk(k, v, 0)
	}
	return out
}
