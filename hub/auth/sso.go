package auth

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"guichet/hub/store"
)

// pending keeps what a Provider's Start returned until its callback: at
// most maxPending sign-ins under way, each for pendingTTL.
type pending struct {
	mu sync.Mutex
	m  map[string]pendingSignIn
}

type pendingSignIn struct {
	provider, state, next string
	at                    time.Time
}

const (
	maxPending = 1000
	pendingTTL = 10 * time.Minute
)

func newPending() *pending { return &pending{m: map[string]pendingSignIn{}} }

// ErrSSOState refuses a callback the hub did not start, or too late.
var ErrSSOState = errors.New("this sign-in was not started here, or took too long: start again")

// BeginSSO keeps a started sign-in with provider and returns the key of
// the HttpOnly cookie that binds it to the browser; next is where to go
// after.
func (s *Service) BeginSSO(provider, state, next string) (string, error) {
	now := s.clock()
	p := s.pending
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.m {
		if now.Sub(v.at) > pendingTTL {
			delete(p.m, k)
		}
	}
	if len(p.m) >= maxPending {
		return "", ErrBusy
	}
	key := newSecret()
	p.m[key] = pendingSignIn{provider: provider, state: state, next: next, at: now}
	return key, nil
}

// TakeSSO returns, once, the state kept under key for provider, and where
// to go after.
func (s *Service) TakeSSO(provider, key string) (state, next string, err error) {
	p := s.pending
	p.mu.Lock()
	v, ok := p.m[key]
	delete(p.m, key)
	p.mu.Unlock()
	if !ok || v.provider != provider || s.clock().Sub(v.at) > pendingTTL {
		return "", "", ErrSSOState
	}
	return v.state, v.next, nil
}

// SignInSSO opens a session for an identity provider vouched for, with
// the role role gave it. The account signed into is the site agent's that
// id.Agent names (the provider's claim that links a person to an agent of
// the site file), or else the account of id.Login, created if it is new
// (an agent of the site file already has the account of its id). The
// account takes that role, this sign-in and each one after: a role changed
// at the provider applies at the next sign-in. An account made here has no
// local password.
func (s *Service) SignInSSO(provider string, id Identity, role Role, addr netip.Addr) (string, *Principal, error) {
	by := By{Actor: id.Login + "@" + provider}
	if addr.IsValid() {
		by.Address = addr.String()
	}
	if !ValidLogin(id.Login) {
		return "", nil, fmt.Errorf("%w: the provider's login %q cannot be an account's", ErrInvalid, id.Login)
	}
	if role == RoleIntegration || !role.Valid() {
		return "", nil, ErrNoRole
	}
	login := id.Login
	if id.Agent != "" {
		var err error
		if login, err = s.agentAccount(id.Agent); err != nil {
			return "", nil, err
		}
	}
	a, err := s.st.Account(login)
	switch {
	case errors.Is(err, store.ErrNoAccount):
		a = &store.Account{ID: id.Login, Name: id.Name, Role: string(role)}
		if err := s.st.AddAccount(a, s.clock()); err != nil {
			return "", nil, err
		}
		s.audit(AccountAdded, by, a.ID, string(role))
	case err != nil:
		return "", nil, err
	case a.Disabled:
		return "", nil, ErrDisabled
	case a.Role != string(role) || id.Name != "" && a.Name != id.Name:
		a.Role = string(role)
		if id.Name != "" {
			a.Name = id.Name
		}
		if err := s.st.UpdateAccount(a, s.clock()); err != nil {
			return "", nil, err
		}
		s.audit(RoleChanged, by, a.ID, string(role))
	}
	a.MustChange = false // the provider checked who it is: no local password involved
	cookie, p, err := s.open(a, ViaSSO, provider, id.SessionRef)
	if err != nil {
		return "", nil, err
	}
	s.audit(SignedIn, by, a.ID, string(ViaSSO)+" "+provider)
	s.log.Info("signed in", "account", a.ID, "provider", provider, "client", by.Address)
	return cookie, p, nil
}

// agentAccount returns the login of the account of site agent agent: the
// account of the same id when it is that agent's (as SyncAgents makes
// them), else the one account linked to it.
func (s *Service) agentAccount(agent string) (string, error) {
	if a, err := s.st.Account(agent); err == nil && a.Agent == agent {
		return a.ID, nil
	} else if err != nil && !errors.Is(err, store.ErrNoAccount) {
		return "", err
	}
	all, err := s.st.Accounts()
	if err != nil {
		return "", err
	}
	var found []string
	for _, a := range all {
		if a.Agent == agent {
			found = append(found, a.ID)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%w: the provider names agent %q, whom %d accounts are (one is needed: is the agent in the site file?)", ErrInvalid, agent, len(found))
	}
	return found[0], nil
}

// EndSSO ends the sessions a provider's single logout names (the
// SessionRef of their Identity), each an account.signed_out event with
// the reason "sso <provider>", and returns how many ended.
func (s *Service) EndSSO(provider, ref string) (int64, error) {
	accounts, err := s.st.DeleteSSOSessions(provider, ref)
	if err != nil {
		return 0, err
	}
	for _, a := range accounts {
		s.audit(SignedOut, By{Actor: provider}, a, string(ViaSSO)+" "+provider)
		s.log.Info("signed out by the provider's single logout", "account", a, "provider", provider)
	}
	return int64(len(accounts)), nil
}
