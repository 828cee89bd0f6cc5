package config

import (
	"bytes"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// AuthConf is the site file's auth section: the external sign-ins the
// sign-in page offers, each a button. A secret is never written here: the
// file names the environment variable or the file that holds it.
//
//	auth:
//	  oidc:
//	    - name: keycloak
//	      label: { fr: "l'annuaire de la mairie", en: "the town's directory" }
//	      issuer: https://sso.ville.fr/realms/mairie
//	      client_id: guichet
//	      client_secret_env: GUICHET_OIDC_SECRET
//	      roles: { claim: groups, agent: [accueil], supervisor: [accueil-chefs], admin: [dsi] }
//	  cas:
//	    - name: cas
//	      url: https://cas.ville.fr/cas
//	      roles: { attribute: memberOf, agent: [accueil] }
type AuthConf struct {
	OIDC []OIDCConf `yaml:"oidc"`
	CAS  []CASConf  `yaml:"cas"`
}

// OIDCConf is an OpenID Connect provider (Keycloak, LemonLDAP::NG,
// ProConnect, Azure AD…), signed in to by the authorization code flow.
type OIDCConf struct {
	Name  string `yaml:"name"`  // short name, in URLs (/login/sso/{name}) and the log
	Label Names  `yaml:"label"` // the button's words: "Se connecter avec {label}"
	// Issuer is the provider's issuer URL, where discovery starts
	// ({issuer}/.well-known/openid-configuration).
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// The client secret: from an environment variable, or a file (its
	// content, without the final newline). Exactly one of the two.
	ClientSecretEnv  string `yaml:"client_secret_env"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURL is the redirect URI registered at the provider:
	// https://{hub}/login/sso/{name}/callback. Empty: the hub builds it
	// from the address the browser used.
	RedirectURL string   `yaml:"redirect_url"`
	Scopes      []string `yaml:"scopes"` // default openid, profile, email (openid is always asked)
	// The claims that give the account's login (preferred_username), its
	// display name (name) and, optionally, the site agent it is.
	LoginClaim string    `yaml:"login_claim"`
	NameClaim  string    `yaml:"name_claim"`
	AgentClaim string    `yaml:"agent_claim"`
	Roles      RolesConf `yaml:"roles"`
	// UserInfo also reads the userinfo endpoint's claims (ProConnect gives
	// e-mail and the like only there).
	UserInfo bool `yaml:"userinfo"`
	// ClockSkew is how far the provider's clock may be from the hub's
	// (2m; at most 10m).
	ClockSkew Duration `yaml:"clock_skew"`

	pos position
}

// CASConf is a CAS server (protocol 3.0), signed in to with a service
// ticket validated at /p3/serviceValidate.
type CASConf struct {
	Name  string `yaml:"name"`
	Label Names  `yaml:"label"`
	// URL is the server's base: https://cas.ville.fr/cas (its /login,
	// /p3/serviceValidate).
	URL string `yaml:"url"`
	// ServiceURL is the service the hub names to the server:
	// https://{hub}/login/sso/{name}/callback. Empty: built from the
	// address the browser used.
	ServiceURL string `yaml:"service_url"`
	// The attributes that give the login (empty: the CAS user), the display
	// name (displayName) and, optionally, the site agent.
	LoginAttribute string    `yaml:"login_attribute"`
	NameAttribute  string    `yaml:"name_attribute"`
	AgentAttribute string    `yaml:"agent_attribute"`
	Roles          RolesConf `yaml:"roles"`
	// LogoutFrom are the addresses (or CIDRs) the server's single logout
	// requests come from. Empty: the addresses URL's host resolves to.
	LogoutFrom []string `yaml:"logout_from"`

	pos position
}

// RolesConf maps the values of one claim (OIDC) or attribute (CAS) to the
// hub's roles; the highest role held wins, and a person holding none of
// the values is refused.
type RolesConf struct {
	Claim      string   `yaml:"claim"`     // OIDC
	Attribute  string   `yaml:"attribute"` // CAS
	Agent      []string `yaml:"agent"`
	Supervisor []string `yaml:"supervisor"`
	Admin      []string `yaml:"admin"`
}

// position is where an entry is in the file, for errors found at start.
type position struct {
	file  string
	line  int
	field string
}

func (p position) errf(field, format string, args ...any) error {
	f := p.field
	if field != "" {
		f += "." + field
	}
	return &Error{File: p.file, Line: p.line, Field: f, Msg: fmt.Sprintf(format, args...)}
}

// DefaultClockSkew is the clock skew allowed when the file says none;
// MaxClockSkew the most it may say.
const (
	DefaultClockSkew = 2 * time.Minute
	MaxClockSkew     = 10 * time.Minute
)

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// check validates the auth section.
func (a *AuthConf) check(l *locator) error {
	names := map[string]bool{}
	name := func(path []any, n string) error {
		if !providerName.MatchString(n) {
			return l.errf(append(path, "name"), "a provider's name is 1 to 32 lower-case letters, digits or '-' (it is part of its URLs), got %q", n)
		}
		if names[n] {
			return l.errf(append(path, "name"), "provider %q is defined twice", n)
		}
		names[n] = true
		return nil
	}
	for i := range a.OIDC {
		o, at := &a.OIDC[i], func(f ...any) []any { return append([]any{"auth", "oidc", i}, f...) }
		line, field := l.where(at())
		o.pos = position{file: l.name, line: line, field: field}
		if err := name(at(), o.Name); err != nil {
			return err
		}
		if err := checkURL(o.Issuer); err != nil {
			return l.errf(at("issuer"), "%v", err)
		}
		if o.ClientID == "" {
			return l.errf(at("client_id"), "the client id registered at the provider is required")
		}
		if (o.ClientSecretEnv == "") == (o.ClientSecretFile == "") {
			return l.errf(at("client_secret_env"), "name the client secret's environment variable (client_secret_env) or file (client_secret_file), one of the two; never the secret itself")
		}
		if err := checkCallback(o.RedirectURL, o.Name); err != nil {
			return l.errf(at("redirect_url"), "%v", err)
		}
		if o.ClockSkew > Duration(MaxClockSkew) {
			return l.errf(at("clock_skew"), "at most %s", MaxClockSkew)
		}
		if err := checkRoles(l, at("roles"), o.Roles, "claim"); err != nil {
			return err
		}
	}
	for i := range a.CAS {
		c, at := &a.CAS[i], func(f ...any) []any { return append([]any{"auth", "cas", i}, f...) }
		line, field := l.where(at())
		c.pos = position{file: l.name, line: line, field: field}
		if err := name(at(), c.Name); err != nil {
			return err
		}
		if err := checkURL(c.URL); err != nil {
			return l.errf(at("url"), "%v", err)
		}
		if err := checkCallback(c.ServiceURL, c.Name); err != nil {
			return l.errf(at("service_url"), "%v", err)
		}
		for j, f := range c.LogoutFrom {
			if _, err := ParsePrefix(f); err != nil {
				return l.errf(at("logout_from", j), "%v", err)
			}
		}
		if err := checkRoles(l, at("roles"), c.Roles, "attribute"); err != nil {
			return err
		}
	}
	return nil
}

// checkURL accepts an https URL, or http on this machine (a provider
// tried locally).
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not a URL such as https://sso.ville.fr/realms/mairie", s)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q: must be https (http only on this machine: localhost, 127.0.0.1, ::1)", s)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// checkCallback accepts "" or the absolute URL of provider name's callback.
func checkCallback(s, name string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	if want := "/login/sso/" + name + "/callback"; u.Path != want || u.RawQuery != "" {
		return fmt.Errorf("%q: the hub answers the provider at %s (its path must be %s)", s, u.Scheme+"://"+u.Host+want, want)
	}
	return nil
}

func checkRoles(l *locator, path []any, r RolesConf, key string) error {
	from, other := r.Claim, r.Attribute
	if key == "attribute" {
		from, other = r.Attribute, r.Claim
	}
	if other != "" {
		return l.errf(path, "say which %s names the roles with %q (a %s provider has no %s)", key, key,
			map[string]string{"claim": "OpenID Connect", "attribute": "CAS"}[key], map[string]string{"claim": "attribute", "attribute": "claim"}[key])
	}
	if from == "" {
		return l.errf(append(path, key), "name the %s that carries the roles (groups, memberOf…)", key)
	}
	if len(r.Agent)+len(r.Supervisor)+len(r.Admin) == 0 {
		return l.errf(path, "list the values of %q that make an agent, a supervisor or an admin: nobody could sign in", from)
	}
	return nil
}

// ParsePrefix reads an address (its own /32 or /128) or a CIDR.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// Secret reads the client secret from the variable or the file the site
// file names. Its errors name the file and line of the provider's entry,
// never the secret.
func (o *OIDCConf) Secret() (string, error) {
	if o.ClientSecretEnv != "" {
		v := strings.TrimSpace(os.Getenv(o.ClientSecretEnv))
		if v == "" {
			return "", o.pos.errf("client_secret_env", "the environment variable %s, which holds the client secret, is not set", o.ClientSecretEnv)
		}
		return v, nil
	}
	b, err := os.ReadFile(o.ClientSecretFile)
	if err != nil {
		return "", o.pos.errf("client_secret_file", "read the client secret: %v", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", o.pos.errf("client_secret_file", "%s is empty", o.ClientSecretFile)
	}
	return v, nil
}

// Where is the provider entry's place in the file ("site.yaml:42").
func (o *OIDCConf) Where() string { return fmt.Sprintf("%s:%d", o.pos.file, o.pos.line) }

// Where is the provider entry's place in the file ("site.yaml:42").
func (c *CASConf) Where() string { return fmt.Sprintf("%s:%d", c.pos.file, c.pos.line) }

// ParseAuth reads a file that holds only an auth section ("auth: …"), as
// guichet demo --auth takes it, checked as in a site file; name is used in
// error messages.
func ParseAuth(name string, data []byte) (AuthConf, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return AuthConf{}, yamlError(name, &root, err)
	}
	var c struct {
		Auth AuthConf `yaml:"auth"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return AuthConf{}, yamlError(name, &root, err)
	}
	if err := c.Auth.check(&locator{name: name, root: &root}); err != nil {
		return AuthConf{}, err
	}
	return c.Auth, nil
}
