package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const authSite = `site: { id: t, name: "Mairie" }
services:
  - { id: A, name: Accueil }
auth:
  oidc:
    - name: keycloak
      label: { fr: "l'annuaire de la mairie", en: "the town's directory" }
      issuer: https://sso.ville.test/realms/mairie
      client_id: guichet
      client_secret_env: GUICHET_TEST_SECRET
      roles: { claim: groups, agent: [accueil], supervisor: [accueil-chefs] }
  cas:
    - name: cas
      url: https://cas.ville.test/cas
      logout_from: [192.0.2.10, "2001:db8::/64"]
      roles: { attribute: memberOf, admin: [dsi] }
`

// The auth section's mistakes are named with the file, the line and the
// field, like the rest of the site file.
func TestAuthSectionErrorsNameFileLineAndField(t *testing.T) {
	if _, _, err := Parse("site.yaml", []byte(authSite)); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to, want string }{
		{"bad name", "name: keycloak", "name: Key Cloak", `site.yaml:6: auth.oidc[0].name: a provider's name is 1 to 32 lower-case letters`},
		{"same name twice", "name: cas", "name: keycloak", `site.yaml:13: auth.cas[0].name: provider "keycloak" is defined twice`},
		{"http issuer", "issuer: https://sso.ville.test", "issuer: http://sso.ville.test", `site.yaml:8: auth.oidc[0].issuer: "http://sso.ville.test/realms/mairie": must be https`},
		{"no client id", "client_id: guichet", "client_id: ''", `site.yaml:9: auth.oidc[0].client_id: the client id`},
		{"secret in the file", "client_secret_env: GUICHET_TEST_SECRET", "client_secret: hunter2hunter2", `site.yaml:10: auth.oidc[0].client_secret: unknown field "client_secret"`},
		{"no secret", "client_secret_env: GUICHET_TEST_SECRET", "scopes: [openid]", `auth.oidc[0].client_secret_env: name the client secret's environment variable`},
		{"wrong redirect", "client_id: guichet", "client_id: guichet\n      redirect_url: https://guichet.ville.test/callback", `auth.oidc[0].redirect_url: "https://guichet.ville.test/callback": the hub answers the provider at https://guichet.ville.test/login/sso/keycloak/callback`},
		{"skew too large", "client_id: guichet", "client_id: guichet\n      clock_skew: 1h", `auth.oidc[0].clock_skew: at most 10m0s`},
		{"no role values", "roles: { claim: groups, agent: [accueil], supervisor: [accueil-chefs] }", "roles: { claim: groups }", `site.yaml:11: auth.oidc[0].roles: list the values of "groups"`},
		{"attribute for oidc", "roles: { claim: groups,", "roles: { attribute: groups,", `auth.oidc[0].roles: say which claim names the roles with "claim"`},
		{"bad logout address", "192.0.2.10,", "cas.ville.test,", `site.yaml:15: auth.cas[0].logout_from[0]: "cas.ville.test" is neither an address nor a CIDR`},
		{"no cas url", "url: https://cas.ville.test/cas", "url: cas.ville.test", `auth.cas[0].url: "cas.ville.test" is not a URL`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conf := strings.Replace(authSite, c.from, c.to, 1)
			if conf == authSite {
				t.Fatalf("%q not in the sample", c.from)
			}
			_, _, err := Parse("site.yaml", []byte(conf))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

// The client secret comes from the variable or the file the site file
// names; a missing one is named by the file and line of its provider,
// and the secret itself is never in an error.
func TestClientSecretFromTheEnvironmentOrAFile(t *testing.T) {
	c, _, err := Parse("site.yaml", []byte(authSite))
	if err != nil {
		t.Fatal(err)
	}
	o := &c.Auth.OIDC[0]
	t.Setenv("GUICHET_TEST_SECRET", "")
	_, err = o.Secret()
	var e *Error
	if !errors.As(err, &e) || e.Line != 6 || !strings.Contains(err.Error(), "site.yaml:6: auth.oidc[0].client_secret_env: the environment variable GUICHET_TEST_SECRET") {
		t.Fatalf("unset variable: %v", err)
	}
	t.Setenv("GUICHET_TEST_SECRET", " from-the-environment\n")
	if s, err := o.Secret(); err != nil || s != "from-the-environment" {
		t.Fatalf("%q %v", s, err)
	}
	path := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(path, []byte("from-a-file\n"), 0o600)
	o.ClientSecretEnv, o.ClientSecretFile = "", path
	if s, err := o.Secret(); err != nil || s != "from-a-file" {
		t.Fatalf("%q %v", s, err)
	}
	o.ClientSecretFile = path + ".missing"
	if _, err := o.Secret(); err == nil || !strings.Contains(err.Error(), "site.yaml:6: auth.oidc[0].client_secret_file: read the client secret") {
		t.Fatalf("missing file: %v", err)
	}
}

// A file of its own holds an auth section for guichet demo --auth; its
// errors name its own lines.
func TestAuthFileAlone(t *testing.T) {
	i := strings.Index(authSite, "auth:")
	a, err := ParseAuth("auth.yaml", []byte(authSite[i:]))
	if err != nil || len(a.OIDC) != 1 || len(a.CAS) != 1 || a.OIDC[0].Where() != "auth.yaml:3" {
		t.Fatalf("%+v %v", a, err)
	}
	_, err = ParseAuth("auth.yaml", []byte(strings.Replace(authSite[i:], "client_id: guichet", "client_id: ''", 1)))
	if err == nil || !strings.Contains(err.Error(), "auth.yaml:6: auth.oidc[0].client_id") {
		t.Fatalf("%v", err)
	}
}
