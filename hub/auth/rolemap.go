package auth

import "slices"

// RoleMap is how a provider's word about a person becomes a role on the
// hub: the values of one claim (OIDC) or attribute (CAS) — the person's
// groups, say — against the values the site lists for each role. The
// highest role wins: a person holding one of Admin's values is an admin;
// else one of Supervisor's, a supervisor; else one of Agent's, an agent;
// else nobody on the hub (ErrNoRole). Values are compared exactly, case
// and all, as the directory writes them.
type RoleMap struct {
	Claim string
	Admin []string
	// Supervisor and Agent list the values that give those roles.
	Supervisor, Agent []string
}

// Role maps claims (each claim's values) to a role.
func (m RoleMap) Role(claims map[string][]string) (Role, error) {
	have := claims[m.Claim]
	for _, r := range []struct {
		role   Role
		values []string
	}{{RoleAdmin, m.Admin}, {RoleSupervisor, m.Supervisor}, {RoleAgent, m.Agent}} {
		if slices.ContainsFunc(have, func(v string) bool { return slices.Contains(r.values, v) }) {
			return r.role, nil
		}
	}
	return "", ErrNoRole
}
