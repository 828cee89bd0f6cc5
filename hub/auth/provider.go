package auth

import (
	"errors"
	"net/http"
	"net/netip"
)

// Provider is an external sign-in service: an OpenID Connect provider
// (authorization code flow) or a CAS server (ticket flow). The hub drives
// the flow; a Provider only speaks its protocol:
//
//  1. GET /login/sso/{name}: the hub calls Start, keeps the returned
//     State on its side (a short-lived entry bound to an HttpOnly cookie),
//     and redirects the browser to Redirect.
//  2. GET /login/sso/{name}/callback: the provider sends the browser back
//     (OIDC: ?code=&state=; CAS: ?ticket=). The hub finds the State it
//     kept and calls Finish, which checks everything the protocol asks
//     (OIDC: state, nonce, the ID token's signature and expiry, PKCE;
//     CAS: the ticket, validated once, for this service) and returns the
//     Identity the provider vouches for.
//  3. The hub calls Role with that Identity: the provider's claims or
//     attributes mapped to a role (ErrNoRole refuses the sign-in); then it
//     opens a session for the account of Identity.Login (creating it if
//     needed) and records account.signed_in with the provider's name.
//
// callback is the absolute URL of step 2 (the redirect_uri of OIDC, the
// service of CAS), the same at Start and Finish.
type Provider interface {
	// Name is the provider's short name, in URLs and the log ("keycloak").
	Name() string
	// Label is the text of its button on the sign-in page ("fr", "en").
	Label(lang string) string
	// Start begins a sign-in.
	Start(r *http.Request, callback string) (Start, error)
	// Finish completes it on the callback request, with what Start kept.
	Finish(r *http.Request, callback string, state string) (Identity, error)
	// Role maps what the provider said of the person to a role.
	Role(id Identity) (Role, error)
}

// Start is where a sign-in sends the browser, and what the hub keeps until
// the callback (the OIDC state, nonce and PKCE verifier; for CAS, nothing).
// State never leaves the hub.
type Start struct {
	Redirect string
	State    string
}

// Identity is a person as a provider vouches for them.
type Identity struct {
	Login string // the account it signs into (a claim such as preferred_username; CAS's user)
	Name  string // display name, if the provider gives one
	// Agent, when the provider names one (a claim or attribute the site
	// chose), is the site agent this person is: the sign-in opens that
	// agent's account, whatever Login says.
	Agent string
	// Claims are the ID token's claims (OIDC) or the attributes (CAS), as
	// lists of strings, for Role. They are not stored or logged.
	Claims map[string][]string
	// SessionRef is the provider's handle on this sign-in (OIDC sid, the
	// CAS ticket), kept with the session so that a single logout from the
	// provider can end it (Sessions.EndSSO).
	SessionRef string
}

// SingleLogout is a Provider whose server tells the hub, over a back
// channel, that a person signed out there (CAS's single logout: a POST of
// a SAML logoutRequest to the service URL, the provider's callback). The
// hub calls Logout on a POST to /login/sso/{name}/callback, with the
// address the request came from, and ends the sessions of the SessionRefs
// it returns. Logout refuses (an error, nothing ended) a request it cannot
// trust to come from its server.
type SingleLogout interface {
	Logout(r *http.Request, from netip.Addr) (refs []string, err error)
}

// ErrNoRole refuses a sign-in whose identity maps to no role.
var ErrNoRole = errors.New("the provider gives this person no role on the hub")
