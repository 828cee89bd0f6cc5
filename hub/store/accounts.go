package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Account is a person's account (see hub/auth): its role, the site agent
// it is, and the argon2id hash of its password ("" for none).
type Account struct {
	ID           string
	Name         string
	Role         string
	Agent        string
	PasswordHash string
	MustChange   bool // the password is temporary: change it at the next sign-in
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Session is a signed-in browser: the SHA-256 hash of its cookie's id.
type Session struct {
	Hash      []byte
	Account   string
	CSRF      string
	Via       string
	Provider  string
	SSORef    string
	CreatedAt time.Time
	SeenAt    time.Time
}

// Token is a personal API token: the SHA-256 hash of the secret.
type Token struct {
	ID        string
	Account   string
	Name      string
	Role      string
	Hash      []byte
	CreatedAt time.Time
	UsedAt    time.Time // zero: never used
}

// Errors of the account tables.
var (
	ErrNoAccount     = errors.New("unknown account")
	ErrAccountExists = errors.New("account already exists")
	ErrNoSession     = errors.New("no such session")
	ErrNoToken       = errors.New("unknown token")
)

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// AddAccount creates an account.
func (s *Store) AddAccount(a *Account, at time.Time) error {
	res, err := s.w.Exec(`INSERT INTO accounts(id, name, role, agent, password_hash, must_change, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
		a.ID, a.Name, a.Role, a.Agent, a.PasswordHash, a.MustChange, a.Disabled, ms(at), ms(at))
	if err != nil {
		return fmt.Errorf("add account %s: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrAccountExists
	}
	a.CreatedAt, a.UpdatedAt = at, at
	return nil
}

// UpdateAccount writes an account's name, role, agent, password and flags.
func (s *Store) UpdateAccount(a *Account, at time.Time) error {
	res, err := s.w.Exec(`UPDATE accounts SET name = ?, role = ?, agent = ?, password_hash = ?, must_change = ?, disabled = ?, updated_at = ? WHERE id = ?`,
		a.Name, a.Role, a.Agent, a.PasswordHash, a.MustChange, a.Disabled, ms(at), a.ID)
	if err != nil {
		return fmt.Errorf("update account %s: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNoAccount
	}
	a.UpdatedAt = at
	return nil
}

const accountCols = `a.id, a.name, a.role, a.agent, a.password_hash, a.must_change, a.disabled, a.created_at, a.updated_at`

func scanAccount(a *Account) []any {
	return []any{&a.ID, &a.Name, &a.Role, &a.Agent, &a.PasswordHash, &a.MustChange, &a.Disabled, msScan{&a.CreatedAt}, msScan{&a.UpdatedAt}}
}

// msScan reads a time kept as Unix milliseconds.
type msScan struct{ t *time.Time }

func (m msScan) Scan(v any) error {
	n, ok := v.(int64)
	if !ok {
		return fmt.Errorf("time: %T is not milliseconds", v)
	}
	*m.t = fromMS(n)
	return nil
}

// Account returns one account.
func (s *Store) Account(id string) (*Account, error) {
	var a Account
	err := s.r.QueryRow(`SELECT `+accountCols+` FROM accounts a WHERE a.id = ?`, id).Scan(scanAccount(&a)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoAccount
	}
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", id, err)
	}
	return &a, nil
}

// Accounts returns every account, by id.
func (s *Store) Accounts() ([]*Account, error) {
	rows, err := s.r.Query(`SELECT ` + accountCols + ` FROM accounts a ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer rows.Close()
	var out []*Account
	for rows.Next() {
		var a Account
		if err := rows.Scan(scanAccount(&a)...); err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// AddSession records a new session.
func (s *Store) AddSession(se *Session) error {
	_, err := s.w.Exec(`INSERT INTO sessions(hash, account, csrf, via, provider, sso_ref, created_at, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		se.Hash, se.Account, se.CSRF, se.Via, se.Provider, se.SSORef, ms(se.CreatedAt), ms(se.SeenAt))
	if err != nil {
		return fmt.Errorf("add session of %s: %w", se.Account, err)
	}
	return nil
}

// Session returns the session of a cookie's hash, with its account.
func (s *Store) Session(hash []byte) (*Session, *Account, error) {
	var se Session
	var a Account
	dst := append([]any{&se.Hash, &se.Account, &se.CSRF, &se.Via, &se.Provider, &se.SSORef, msScan{&se.CreatedAt}, msScan{&se.SeenAt}}, scanAccount(&a)...)
	err := s.r.QueryRow(`SELECT s.hash, s.account, s.csrf, s.via, s.provider, s.sso_ref, s.created_at, s.seen_at, `+accountCols+`
		FROM sessions s JOIN accounts a ON a.id = s.account WHERE s.hash = ?`, hash).Scan(dst...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	return &se, &a, nil
}

// TouchSession records that a session was used at at.
func (s *Store) TouchSession(hash []byte, at time.Time) error {
	_, err := s.w.Exec(`UPDATE sessions SET seen_at = ? WHERE hash = ?`, ms(at), hash)
	return err
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(hash []byte) error {
	_, err := s.w.Exec(`DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}

// DeleteSessions ends every session of an account and returns how many.
func (s *Store) DeleteSessions(account string) (int64, error) {
	res, err := s.w.Exec(`DELETE FROM sessions WHERE account = ?`, account)
	if err != nil {
		return 0, fmt.Errorf("end sessions of %s: %w", account, err)
	}
	return res.RowsAffected()
}

// DeleteSSOSessions ends the sessions a provider's single logout names,
// and returns the accounts whose sessions ended (one entry a session).
func (s *Store) DeleteSSOSessions(provider, ref string) ([]string, error) {
	rows, err := s.w.Query(`DELETE FROM sessions WHERE provider = ? AND sso_ref = ? AND sso_ref != '' RETURNING account`, provider, ref)
	if err != nil {
		return nil, fmt.Errorf("end sessions of %s: %w", provider, err)
	}
	defer rows.Close()
	var accounts []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("end sessions of %s: %w", provider, err)
		}
		accounts = append(accounts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("end sessions of %s: %w", provider, err)
	}
	return accounts, nil
}

// PurgeSessions deletes the sessions created before born or last seen
// before seen: expired ones.
func (s *Store) PurgeSessions(born, seen time.Time) (int64, error) {
	res, err := s.w.Exec(`DELETE FROM sessions WHERE created_at < ? OR seen_at < ?`, ms(born), ms(seen))
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return res.RowsAffected()
}

// AddToken records a personal token.
func (s *Store) AddToken(t *Token) error {
	_, err := s.w.Exec(`INSERT INTO tokens(id, account, name, role, hash, created_at, used_at) VALUES (?, ?, ?, ?, ?, ?, 0)`,
		t.ID, t.Account, t.Name, t.Role, t.Hash, ms(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("add token of %s: %w", t.Account, err)
	}
	return nil
}

const tokenCols = `t.id, t.account, t.name, t.role, t.hash, t.created_at, t.used_at`

func scanToken(t *Token) []any {
	return []any{&t.ID, &t.Account, &t.Name, &t.Role, &t.Hash, msScan{&t.CreatedAt}, msScan{&t.UsedAt}}
}

// TokenByHash returns the token of a secret's hash, with its account.
func (s *Store) TokenByHash(hash []byte) (*Token, *Account, error) {
	var t Token
	var a Account
	err := s.r.QueryRow(`SELECT `+tokenCols+`, `+accountCols+` FROM tokens t JOIN accounts a ON a.id = t.account WHERE t.hash = ?`, hash).
		Scan(append(scanToken(&t), scanAccount(&a)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNoToken
	}
	if err != nil {
		return nil, nil, fmt.Errorf("token: %w", err)
	}
	return &t, &a, nil
}

// Tokens returns an account's tokens ("" for every account's), newest first.
func (s *Store) Tokens(account string) ([]*Token, error) {
	rows, err := s.r.Query(`SELECT `+tokenCols+` FROM tokens t WHERE ? = '' OR t.account = ? ORDER BY t.created_at DESC, t.id`, account, account)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		var t Token
		if err := rows.Scan(scanToken(&t)...); err != nil {
			return nil, fmt.Errorf("tokens: %w", err)
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// TouchToken records that a token was used at at.
func (s *Store) TouchToken(id string, at time.Time) error {
	_, err := s.w.Exec(`UPDATE tokens SET used_at = ? WHERE id = ?`, ms(at), id)
	return err
}

// DeleteToken revokes a token of account.
func (s *Store) DeleteToken(account, id string) error {
	res, err := s.w.Exec(`DELETE FROM tokens WHERE id = ? AND account = ?`, id, account)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNoToken
	}
	return nil
}
