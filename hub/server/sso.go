package server

import (
	"context"
	"net/netip"
	"time"

	"guichet/hub/auth"
	"guichet/hub/auth/cas"
	"guichet/hub/auth/oidc"
	"guichet/hub/config"
)

// discoveryRetry is how often the hub tries again to reach an OpenID
// provider that was down at start.
const discoveryRetry = 30 * time.Second

// addProviders offers the site file's external sign-ins (its auth
// section) on the sign-in page. A secret that cannot be read stops the
// start; a provider that cannot be reached does not: its discovery is
// tried now, and again every 30 s in the background until it answers
// (each failure a log line that says why), so that the hub serves its
// counters while the town's directory is down.
func (s *Server) addProviders(ctx context.Context, o Options) error {
	a := o.Config.Auth
	for i := range a.OIDC {
		c := &a.OIDC[i]
		secret, err := c.Secret()
		if err != nil {
			return err
		}
		p, err := oidc.New(oidc.Options{Name: c.Name, Label: c.Label, Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: secret,
			RedirectURL: c.RedirectURL, Scopes: c.Scopes, LoginClaim: c.LoginClaim, NameClaim: c.NameClaim, AgentClaim: c.AgentClaim,
			Roles:    auth.RoleMap{Claim: c.Roles.Claim, Agent: c.Roles.Agent, Supervisor: c.Roles.Supervisor, Admin: c.Roles.Admin},
			UserInfo: c.UserInfo, ClockSkew: time.Duration(c.ClockSkew), Log: o.Log})
		if err != nil {
			return err
		}
		s.Auth.AddProvider(p)
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = p.Discover(dctx)
		cancel()
		if err != nil {
			o.Log.Error("OpenID provider unreachable at start: its sign-in button fails until it answers; trying again in the background",
				"provider", c.Name, "where", c.Where(), "retry", discoveryRetry, "err", err)
			go p.Watch(ctx, discoveryRetry)
		}
	}
	for i := range a.CAS {
		c := &a.CAS[i]
		var from []netip.Prefix
		for _, f := range c.LogoutFrom {
			p, err := config.ParsePrefix(f)
			if err != nil {
				return err
			}
			from = append(from, p)
		}
		p, err := cas.New(cas.Options{Name: c.Name, Label: c.Label, URL: c.URL, ServiceURL: c.ServiceURL,
			LoginAttribute: c.LoginAttribute, NameAttribute: c.NameAttribute, AgentAttribute: c.AgentAttribute,
			Roles:      auth.RoleMap{Claim: c.Roles.Attribute, Agent: c.Roles.Agent, Supervisor: c.Roles.Supervisor, Admin: c.Roles.Admin},
			LogoutFrom: from, Log: o.Log})
		if err != nil {
			return err
		}
		s.Auth.AddProvider(p)
	}
	return nil
}
