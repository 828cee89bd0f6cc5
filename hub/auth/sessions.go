package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"guichet/hub/lockout"
	"guichet/hub/store"
)

// SessionCookie is the name of the session's cookie.
const SessionCookie = "guichet_session"

// newSecret returns 256 random bits, URL-safe.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// LockoutError is the error of a sign-in refused before its password is
// looked at: the account or the address failed too often.
type LockoutError struct{ Retry time.Duration }

func (e *LockoutError) Error() string {
	return fmt.Sprintf("too many wrong passwords: try again in %d s", int(e.Retry.Round(time.Second)/time.Second))
}

func (e *LockoutError) Unwrap() error { return ErrLockedOut }

// SignIn checks a login and password from address addr and opens a
// session. It returns the session's cookie value (to set with Cookie) and
// who signed in. Refusals: *LockoutError (too many failures of this account
// or address: wait), ErrBadPassword (the same for an unknown login, a wrong
// password or an account without one, after the same work), ErrDisabled.
func (s *Service) SignIn(ctx context.Context, login, password string, addr netip.Addr) (cookie string, p *Principal, err error) {
	client, acct := lockout.Client(addr), "account:"+login
	by := By{Actor: login}
	if addr.IsValid() {
		by.Address = addr.String()
	}
	// A locked-out account or address is refused before the password is
	// looked at, a right one too: a guesser learns nothing from the answer.
	for _, l := range []struct {
		lim *lockout.Limiter
		key string
	}{{s.signIns, client}, {s.accounts, acct}} {
		if ok, retry := l.lim.Allow(l.key); !ok {
			return "", nil, &LockoutError{Retry: retry}
		}
	}
	a, err := s.st.Account(login)
	if err != nil && !errors.Is(err, store.ErrNoAccount) {
		return "", nil, err
	}
	hash := ""
	if a != nil {
		hash = a.PasswordHash
	}
	ok, err := s.hasher.check(ctx, hash, password)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		s.failed(by, login, client, acct)
		return "", nil, ErrBadPassword
	}
	if a.Disabled {
		return "", nil, ErrDisabled
	}
	cookie, p, err = s.open(a, ViaSession, "", "")
	if err != nil {
		return "", nil, err
	}
	s.audit(SignedIn, by, a.ID, string(ViaSession))
	s.log.Info("signed in", "account", a.ID, "client", by.Address)
	return cookie, p, nil
}

// failed counts a wrong password against the address and the account; a
// lockout is logged once and is an event (not every failure: a burst).
func (s *Service) failed(by By, login, client, acct string) {
	if s.signIns.Fail(client) {
		s.log.Warn("too many wrong passwords: address slowed down", "client", client, "account", login)
		s.audit(LockedOut, by, login, "address")
	}
	if s.accounts.Fail(acct) {
		s.log.Warn("too many wrong passwords: account slowed down", "account", login, "client", client)
		s.audit(LockedOut, by, login, "account")
	}
}

// open records a new session of account a and returns its cookie value.
func (s *Service) open(a *store.Account, via Via, provider, ref string) (string, *Principal, error) {
	now := s.clock()
	if s.purgeDue(now) {
		if _, err := s.st.PurgeSessions(now.Add(-s.maxAge), now.Add(-s.idle)); err != nil {
			s.log.Warn("purge sessions", "err", err)
		}
	}
	id := newSecret()
	se := &store.Session{Hash: hashOf(id), Account: a.ID, CSRF: newSecret(), Via: string(via), Provider: provider, SSORef: ref,
		CreatedAt: now, SeenAt: now}
	if err := s.st.AddSession(se); err != nil {
		return "", nil, err
	}
	return id, s.principal(se, a), nil
}

// purgeDue reports whether expired sessions are to be purged now: at most
// once an hour, at a sign-in.
func (s *Service) purgeDue(now time.Time) bool {
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	if now.Sub(s.purgedAt) < time.Hour {
		return false
	}
	s.purgedAt = now
	return true
}

func (s *Service) principal(se *store.Session, a *store.Account) *Principal {
	return &Principal{Account: a.ID, Name: a.Name, Role: Role(a.Role), Agent: a.Agent, Via: Via(se.Via), Provider: se.Provider,
		CSRF: se.CSRF, MustChangePassword: a.MustChange && Via(se.Via) == ViaSession, session: se.Hash}
}

// Cookie returns the session cookie to set for value: HttpOnly,
// SameSite=Lax, Secure when the browser came over HTTPS, for the whole hub;
// an empty value clears it.
func (s *Service) Cookie(r *http.Request, value string) *http.Cookie {
	c := &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.HTTPS(r)}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(s.maxAge / time.Second)
	}
	return c
}

// errExpired is a session past its idle or absolute limit.
var errExpired = errors.New("session expired")

// session returns who a session cookie's value signs in; it ends an
// expired session, and records use at most once a minute.
func (s *Service) session(value string) (*Principal, error) {
	if value == "" || len(value) > 100 {
		return nil, store.ErrNoSession
	}
	h := hashOf(value)
	se, a, err := s.st.Session(h)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if now.Sub(se.CreatedAt) > s.maxAge || now.Sub(se.SeenAt) > s.idle || a.Disabled {
		s.st.DeleteSession(h)
		return nil, errExpired
	}
	if now.Sub(se.SeenAt) > time.Minute {
		if err := s.st.TouchSession(h, now); err != nil {
			s.log.Warn("record session use", "err", err)
		}
	}
	return s.principal(se, a), nil
}

// SignOut ends p's session (all: every session of p's account).
func (s *Service) SignOut(p *Principal, addr netip.Addr, all bool) error {
	if p == nil || p.session == nil && !all {
		return nil
	}
	reason := ""
	if all {
		reason = "all"
		if _, err := s.st.DeleteSessions(p.Account); err != nil {
			return err
		}
	} else if err := s.st.DeleteSession(p.session); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	s.audit(SignedOut, ByPrincipal(p, addr), p.Account, reason)
	s.log.Info("signed out", "account", p.Account, "all", all)
	return nil
}

// SignOutAccount ends every session of an account, as an admin or a
// supervisor does.
func (s *Service) SignOutAccount(by By, id string) (int64, error) {
	if _, err := s.st.Account(id); err != nil {
		return 0, err
	}
	n, err := s.st.DeleteSessions(id)
	if err != nil {
		return 0, err
	}
	s.audit(SignedOut, by, id, "all")
	s.log.Info("account signed out", "account", id, "sessions", n, "by", by.Actor)
	return n, nil
}

// endOtherSessions ends an account's sessions but keep.
func (s *Service) endOtherSessions(id string, keep []byte) {
	var se *store.Session
	if keep != nil {
		se, _, _ = s.st.Session(keep)
	}
	s.st.DeleteSessions(id)
	if se != nil && bytes.Equal(se.Hash, keep) {
		s.st.AddSession(se)
	}
}

// SessionID is the hash of p's session, for ChangePassword's keep.
func (p *Principal) SessionID() []byte { return p.session }
