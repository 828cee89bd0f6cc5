package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"guichet/hub/queue"
	"guichet/hub/store"
)

// Account is a person's account, as the store keeps it (never a password).
type Account = store.Account

// Errors callers branch on.
var (
	ErrNoAccount     = store.ErrNoAccount
	ErrAccountExists = store.ErrAccountExists
	ErrInvalid       = errors.New("invalid account")
	ErrBadPassword   = errors.New("wrong login or password") // the same for an unknown login
	ErrDisabled      = errors.New("account disabled")
	ErrLockedOut     = errors.New("too many wrong passwords")
	ErrNoToken       = store.ErrNoToken
)

var loginRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// ValidLogin reports whether id can be an account's login: 1 to 64
// letters, digits and . _ @ + -, starting with a letter or digit (an
// agent's id, or a directory's login or e-mail address).
func ValidLogin(id string) bool { return loginRE.MatchString(id) }

// NewAccount is what creating an account takes.
type NewAccount struct {
	ID    string
	Name  string
	Role  Role
	Agent string // the site agent it is, if any
	// Password, if not empty, is set as the account's (it must pass the
	// rule). Empty: with Temporary, a temporary password is drawn and
	// returned; without, the account has no password (SSO, or later).
	Password  string
	Temporary bool
}

// AddAccount creates an account. It returns the temporary password drawn
// for it, if it asked for one: shown once, to be changed at the first
// sign-in.
func (s *Service) AddAccount(ctx context.Context, by By, n NewAccount) (temporary string, err error) {
	if !ValidLogin(n.ID) {
		return "", fmt.Errorf("%w: login %q: 1 to 64 letters, digits, '.', '_', '@', '+' or '-'", ErrInvalid, n.ID)
	}
	if n.Role == RoleIntegration || !n.Role.Valid() {
		return "", fmt.Errorf("%w: role %q: one of agent, supervisor, admin", ErrInvalid, n.Role)
	}
	if len(n.Name) > 200 || len(n.Agent) > queue.MaxIDLen {
		return "", fmt.Errorf("%w: name or agent too long", ErrInvalid)
	}
	a := &store.Account{ID: n.ID, Name: n.Name, Role: string(n.Role), Agent: n.Agent}
	pw := n.Password
	if pw == "" && n.Temporary {
		pw = TemporaryPassword()
	}
	if pw != "" {
		if err := CheckPassword(pw); err != nil {
			return "", err
		}
		if a.PasswordHash, err = s.hasher.hash(ctx, pw); err != nil {
			return "", err
		}
		a.MustChange = n.Password == "" && n.Temporary
	}
	if err := s.st.AddAccount(a, s.clock()); err != nil {
		return "", err
	}
	s.audit(AccountAdded, by, a.ID, string(n.Role))
	s.log.Info("account added", "account", a.ID, "role", a.Role, "agent", a.Agent, "by", by.Actor)
	if a.MustChange {
		return pw, nil
	}
	return "", nil
}

// Account returns an account.
func (s *Service) Account(id string) (*Account, error) { return s.st.Account(id) }

// Accounts returns every account, by login.
func (s *Service) Accounts() ([]*Account, error) { return s.st.Accounts() }

// SetPassword sets an account's password, as an admin does: with
// temporary, the account must change it at its next sign-in (the way an
// admin resets a forgotten password). An empty pw draws a temporary one,
// returned. Every session of the account ends.
func (s *Service) SetPassword(ctx context.Context, by By, id, pw string, temporary bool) (string, error) {
	a, err := s.st.Account(id)
	if err != nil {
		return "", err
	}
	if pw == "" {
		pw, temporary = TemporaryPassword(), true
	}
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	if a.PasswordHash, err = s.hasher.hash(ctx, pw); err != nil {
		return "", err
	}
	a.MustChange = temporary
	if err := s.st.UpdateAccount(a, s.clock()); err != nil {
		return "", err
	}
	s.st.DeleteSessions(id)
	reason := ""
	if temporary {
		reason = "temporary"
	}
	s.audit(PasswordSet, by, id, reason)
	s.log.Info("account password set", "account", id, "temporary", temporary, "by", by.Actor)
	return pw, nil
}

// ChangePassword changes an account's own password, which it proves by
// the current one. The account's other sessions end; keep is the session
// (its cookie's id hash) that stays signed in.
func (s *Service) ChangePassword(ctx context.Context, by By, id, current, next string, keep []byte) error {
	a, err := s.st.Account(id)
	if err != nil {
		return err
	}
	ok, err := s.hasher.check(ctx, a.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		return ErrBadPassword
	}
	if next == current {
		return fmt.Errorf("%w: the new password must differ from the current one", ErrWeakPassword)
	}
	if err := CheckPassword(next); err != nil {
		return err
	}
	if a.PasswordHash, err = s.hasher.hash(ctx, next); err != nil {
		return err
	}
	a.MustChange = false
	if err := s.st.UpdateAccount(a, s.clock()); err != nil {
		return err
	}
	s.endOtherSessions(id, keep)
	s.audit(PasswordChanged, by, id, "")
	s.log.Info("account password changed", "account", id)
	return nil
}

// SetRole changes an account's role; it applies to the account's next
// request (sessions and tokens read it each time).
func (s *Service) SetRole(by By, id string, role Role) error {
	if role == RoleIntegration || !role.Valid() {
		return fmt.Errorf("%w: role %q: one of agent, supervisor, admin", ErrInvalid, role)
	}
	a, err := s.st.Account(id)
	if err != nil {
		return err
	}
	a.Role = string(role)
	if err := s.st.UpdateAccount(a, s.clock()); err != nil {
		return err
	}
	s.audit(RoleChanged, by, id, string(role))
	s.log.Info("account role changed", "account", id, "role", role, "by", by.Actor)
	return nil
}

// SetDisabled disables an account (its sessions end, its tokens stop
// working) or enables it again.
func (s *Service) SetDisabled(by By, id string, disabled bool) error {
	a, err := s.st.Account(id)
	if err != nil {
		return err
	}
	a.Disabled = disabled
	if err := s.st.UpdateAccount(a, s.clock()); err != nil {
		return err
	}
	typ := AccountEnabled
	if disabled {
		typ = AccountDisabled
		s.st.DeleteSessions(id)
	}
	s.audit(typ, by, id, "")
	s.log.Info(string(typ), "account", id, "by", by.Actor)
	return nil
}

// SyncAgents gives every agent of the site file an account of the same
// login (role agent, no password until an admin sets one or SSO signs them
// in), and links an existing account of that login to its agent. Accounts
// of agents since removed from the file are left as they are.
func (s *Service) SyncAgents(agents []queue.Agent) error {
	by := By{Actor: "site"}
	for _, ag := range agents {
		a, err := s.st.Account(ag.ID)
		switch {
		case errors.Is(err, store.ErrNoAccount):
			if !ValidLogin(ag.ID) {
				s.log.Warn("agent id cannot be a login: no account made for it", "agent", ag.ID)
				continue
			}
			a = &store.Account{ID: ag.ID, Name: ag.Name, Role: string(RoleAgent), Agent: ag.ID}
			if err := s.st.AddAccount(a, s.clock()); err != nil && !errors.Is(err, store.ErrAccountExists) {
				return fmt.Errorf("account of agent %s: %w", ag.ID, err)
			}
			s.audit(AccountAdded, by, ag.ID, string(RoleAgent))
		case err != nil:
			return fmt.Errorf("account of agent %s: %w", ag.ID, err)
		case a.Agent != ag.ID:
			a.Agent = ag.ID
			if a.Name == "" {
				a.Name = ag.Name
			}
			if err := s.st.UpdateAccount(a, s.clock()); err != nil {
				return fmt.Errorf("link account %s to its agent: %w", ag.ID, err)
			}
			s.audit(AccountLinked, by, ag.ID, ag.ID)
		}
	}
	return nil
}

// TemporaryPassword draws a password an admin hands over: four groups of
// four letters and digits (about 80 bits), easy to read aloud, no 0/O or
// 1/l to confuse.
func TemporaryPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789" // 32 signs
	for {
		b := make([]byte, 16)
		rand.Read(b)
		var sb strings.Builder
		for i, c := range b {
			if i > 0 && i%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(alphabet[int(c)%len(alphabet)])
		}
		if pw := sb.String(); CheckPassword(pw) == nil {
			return pw
		}
	}
}
