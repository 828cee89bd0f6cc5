package auth

import "context"

// Via says how a caller proved who they are.
type Via string

// The ways in.
const (
	ViaSession    Via = "session"     // a password, at the sign-in page
	ViaSSO        Via = "sso"         // an external Provider, at the sign-in page
	ViaToken      Via = "token"       // a personal API token
	ViaAdminToken Via = "admin-token" // the hub's admin token (automation)
	ViaDevice     Via = "device"      // a registered device's id and secret (HTTP Basic), on Device routes only
)

// AdminTokenID is the account id under which the admin token acts.
const AdminTokenID = "admin-token"

// Principal is who is calling: an account through a session or one of its
// personal tokens, or the admin token; on a Device route, a device (Account
// is then its id, Role empty: it passes no other access).
type Principal struct {
	Account string // the account's login; AdminTokenID for the admin token
	Name    string // to show, never to decide on
	Role    Role   // what this request may do (a token's: at most its account's)
	// Agent is the site agent this account is (the agents of the site file
	// have accounts of the same id); "" for an account that is no agent.
	Agent string
	Via   Via
	// Provider is the external provider of a session opened through SSO.
	Provider string
	// TokenID is the public id of the personal token, with ViaToken.
	TokenID string
	// CSRF is the session's anti-forgery token, with ViaSession and ViaSSO:
	// every state-changing request authenticated by the session cookie
	// carries it (header X-CSRF-Token, or form field csrf_token).
	CSRF string
	// MustChangePassword is set while the account holds a temporary
	// password: only the password change page and sign-out are open.
	MustChangePassword bool

	session []byte // the session's id hash, to sign it out
}

// Actor is what the event log records as who did something.
func (p *Principal) Actor() string {
	if p == nil {
		return "anonymous"
	}
	return p.Account
}

// Cookie reports whether p was authenticated by the session cookie (and
// so must prove a state-changing request with its CSRF token).
func (p *Principal) Cookie() bool { return p != nil && (p.Via == ViaSession || p.Via == ViaSSO) }

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns who is calling, as the guard found it; nil when nobody is
// signed in (public routes only).
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
