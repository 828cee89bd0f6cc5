// Package auth is who may do what on the hub: accounts and their roles,
// sessions of people signed in through a browser, personal API tokens, the
// admin token kept for automation, sign-in through an external Provider
// (OpenID Connect, CAS), and the route table through which every page and
// API route is registered with the access it requires.
//
// Every route names its access in one table (routes.go), and one guard
// (guard.go) checks it before the route's handler runs: no handler checks
// a role by itself, and a route without a declared access cannot be
// registered. Handlers read who is calling with From.
//
// What it stores: accounts (argon2id hashes of passwords, never the
// passwords), and SHA-256 hashes of session ids and personal tokens, never
// the ids or tokens themselves. What it logs: account ids and client
// addresses, never a password, a session id or a token.
package auth

import "fmt"

// Role is what an account, or a personal token, may do. People hold
// agent, supervisor or admin, each allowed everything the one before it
// is; integration is the read-only access of software that follows the
// event log (issue 15's tokens), and nothing else.
type Role string

// The roles.
const (
	RoleIntegration Role = "integration" // reads the event log, nothing else
	RoleAgent       Role = "agent"       // works at a counter or a phone position
	RoleSupervisor  Role = "supervisor"  // the reception manager: watches, steps in anywhere
	RoleAdmin       Role = "admin"       // town IT: accounts, devices, the site
)

// Roles lists the roles an account may hold, lowest first.
var Roles = []Role{RoleAgent, RoleSupervisor, RoleAdmin}

// rank orders the roles of people; integration is below them all and
// beside the ladder (an integration may do only what Integration routes
// allow).
func (r Role) rank() int {
	switch r {
	case RoleAgent:
		return 1
	case RoleSupervisor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a role.
func (r Role) Valid() bool { return r.rank() > 0 || r == RoleIntegration }

// AtLeast reports whether r holds every right of other.
func (r Role) AtLeast(other Role) bool {
	if other == RoleIntegration {
		return r == RoleIntegration || r.rank() >= RoleSupervisor.rank()
	}
	return other.rank() > 0 && r.rank() >= other.rank()
}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: one of agent, supervisor, admin, integration", s)
}

// Access is what a route requires of its caller.
type Access int

// The accesses a route may declare. The zero Access is "not declared": a
// route without one cannot be registered.
const (
	Public      Access = iota + 1 // anyone, signed in or not
	Integration                   // an integration token, a supervisor or an admin: reading the event log
	Agent                         // any person signed in
	Supervisor                    // a supervisor or an admin
	Admin                         // an admin, or the admin token
	Device                        // a registered device (HTTP Basic: its id and secret), or an admin
)

// Accesses lists the accesses, in the order of the documentation's table.
var Accesses = []Access{Public, Integration, Agent, Supervisor, Admin, Device}

// String names the access as docs/accounts.md does.
func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	case Integration:
		return "integration"
	case Agent:
		return "agent"
	case Supervisor:
		return "supervisor"
	case Admin:
		return "admin"
	case Device:
		return "device"
	}
	return "undeclared"
}

// role is the least role that passes a, for the people and tokens that
// hold one.
func (a Access) role() Role {
	switch a {
	case Integration:
		return RoleIntegration
	case Agent:
		return RoleAgent
	case Supervisor:
		return RoleSupervisor
	case Admin:
		return RoleAdmin
	}
	return ""
}

// Allows reports whether p (nil: nobody signed in) may use a route that
// requires a.
func (a Access) Allows(p *Principal) bool {
	switch {
	case a == Public:
		return true
	case a == Device && p != nil:
		return p.Via == ViaDevice || p.Role.AtLeast(RoleAdmin)
	case a.role() == "" || p == nil:
		return false
	}
	return p.Role.AtLeast(a.role())
}
