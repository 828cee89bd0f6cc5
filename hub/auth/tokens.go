package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"guichet/hub/store"
)

// Token is a personal API token as listed: never its secret.
type Token = store.Token

// TokenPrefix begins every personal token, so that a leaked one is
// recognised (by secret scanners, in a log line) for what it is.
const TokenPrefix = "guichet_"

// CreateToken gives account a personal API token named name with role
// (at most the account's; integration for software that only reads the
// event log). It returns the token, shown once: only its hash is kept.
func (s *Service) CreateToken(by By, account, name string, role Role) (secret string, t *Token, err error) {
	a, err := s.st.Account(account)
	if err != nil {
		return "", nil, err
	}
	if !role.Valid() || !Role(a.Role).AtLeast(role) {
		return "", nil, fmt.Errorf("%w: a token's role is at most its account's (%s): agent, supervisor, admin or integration", ErrInvalid, a.Role)
	}
	if name = strings.TrimSpace(name); name == "" || len(name) > 100 || !utf8.ValidString(name) {
		return "", nil, fmt.Errorf("%w: a token needs a name of 1 to 100 bytes (what it is for)", ErrInvalid)
	}
	idb := make([]byte, 6)
	rand.Read(idb)
	id := hex.EncodeToString(idb)
	secret = TokenPrefix + id + "_" + newSecret()
	t = &store.Token{ID: id, Account: account, Name: name, Role: string(role), Hash: hashOf(secret), CreatedAt: s.clock()}
	if err := s.st.AddToken(t); err != nil {
		return "", nil, err
	}
	s.audit(TokenCreated, by, account, fmt.Sprintf("%s %s %q", id, role, name))
	s.log.Info("token created", "account", account, "token", id, "role", role, "by", by.Actor)
	return secret, t, nil
}

// Tokens lists an account's tokens ("" for every account's).
func (s *Service) Tokens(account string) ([]*Token, error) { return s.st.Tokens(account) }

// RevokeToken revokes a token of account: it stops working at once.
func (s *Service) RevokeToken(by By, account, id string) error {
	if err := s.st.DeleteToken(account, id); err != nil {
		return err
	}
	s.audit(TokenRevoked, by, account, id)
	s.log.Info("token revoked", "account", account, "token", id, "by", by.Actor)
	return nil
}

// bearer returns who a bearer token signs in: the admin token, or a
// personal token of an enabled account (its role at most the account's
// current one). Use of a personal token is recorded at most once a minute.
func (s *Service) bearer(tok string) (*Principal, bool) {
	h := hashOf(tok)
	if s.admin != nil && subtle.ConstantTimeCompare(h, s.admin) == 1 {
		return &Principal{Account: AdminTokenID, Name: "admin token", Role: RoleAdmin, Via: ViaAdminToken}, true
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) > 100 {
		return nil, false
	}
	t, a, err := s.st.TokenByHash(h)
	if err != nil || a.Disabled {
		return nil, false
	}
	role := Role(t.Role)
	if !Role(a.Role).AtLeast(role) { // the account was demoted since
		if role == RoleIntegration {
			return nil, false // its account may no longer read the log
		}
		role = Role(a.Role)
	}
	if now := s.clock(); now.Sub(t.UsedAt) > time.Minute {
		if err := s.st.TouchToken(t.ID, now); err != nil {
			s.log.Warn("record token use", "err", err)
		}
	}
	return &Principal{Account: a.ID, Name: a.Name, Role: role, Agent: a.Agent, Via: ViaToken, TokenID: t.ID}, true
}
