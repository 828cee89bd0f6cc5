package httpapi

import (
	"errors"
	"net/http"
	"time"

	"guichet/hub/api"
	"guichet/hub/auth"
)

// accountView is an account as the API shows it: never a password or a
// hash.
type accountView struct {
	ID          string    `json:"id"`
	Name        string    `json:"name,omitempty"`
	Role        auth.Role `json:"role"`
	Agent       string    `json:"agent,omitempty"`
	HasPassword bool      `json:"has_password"`
	MustChange  bool      `json:"must_change_password,omitempty"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func viewAccount(a *auth.Account) accountView {
	return accountView{ID: a.ID, Name: a.Name, Role: auth.Role(a.Role), Agent: a.Agent, HasPassword: a.PasswordHash != "",
		MustChange: a.MustChange, Disabled: a.Disabled, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
}

// by is the caller of r, for the event log.
func (s *Server) by(r *http.Request) auth.By {
	return auth.ByPrincipal(auth.From(r.Context()), s.auth.ClientAddr(r))
}

// accountError answers an error of the identity layer.
func (s *Server) accountError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, auth.ErrInvalid):
		writeError(w, http.StatusBadRequest, api.CodeInvalid, err.Error())
	case errors.Is(err, auth.ErrWeakPassword):
		refuse(w, &api.Error{Code: api.CodeWeakPassword, Message: err.Error()})
	case errors.Is(err, auth.ErrBadPassword):
		refuse(w, &api.Error{Code: api.CodeWrongPassword, Message: "the current password is wrong"})
	case errors.Is(err, auth.ErrAccountExists):
		refuse(w, &api.Error{Code: api.CodeAccountExists, Message: err.Error()})
	case errors.Is(err, auth.ErrNoAccount):
		refuse(w, &api.Error{Code: api.CodeUnknownAccount, Message: err.Error()})
	case errors.Is(err, auth.ErrNoToken):
		refuse(w, &api.Error{Code: api.CodeUnknownToken, Message: err.Error()})
	case errors.Is(err, auth.ErrBusy):
		writeError(w, http.StatusServiceUnavailable, api.CodeUnavailable, err.Error())
	default:
		s.log.Error("accounts", "err", err)
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "internal error")
	}
}

// whoami says who the caller is; a page's script reads the session's CSRF
// token here (or from the page's <meta name="csrf-token">).
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	p := auth.From(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"account": p.Account, "name": p.Name, "role": p.Role, "agent": p.Agent,
		"via": p.Via, "provider": p.Provider, "csrf_token": p.CSRF, "must_change_password": p.MustChangePassword})
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	as, err := s.auth.Accounts()
	if err != nil {
		s.accountError(w, err)
		return
	}
	out := []accountView{}
	for _, a := range as {
		out = append(out, viewAccount(a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.auth.Account(r.PathValue("id"))
	if err != nil {
		s.accountError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, viewAccount(a))
}

// addAccount creates an account; without a password, a temporary one is
// drawn and returned once, to be changed at the first sign-in.
func (s *Server) addAccount(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID       string    `json:"id"`
		Name     string    `json:"name"`
		Role     auth.Role `json:"role"`
		Agent    string    `json:"agent"`
		Password string    `json:"password"`
	}
	if !decode(w, r, &req) {
		return
	}
	tmp, err := s.auth.AddAccount(r.Context(), s.by(r), auth.NewAccount{ID: req.ID, Name: req.Name, Role: req.Role, Agent: req.Agent,
		Password: req.Password, Temporary: req.Password == ""})
	if err != nil {
		s.accountError(w, err)
		return
	}
	a, err := s.auth.Account(req.ID)
	if err != nil {
		s.accountError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"account": viewAccount(a), "temporary_password": tmp})
}

// resetPassword gives an account a temporary password (drawn, or the
// admin's), which it must change at its next sign-in; its sessions end.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Password string `json:"password"`
	}
	if !decode(w, r, &req) {
		return
	}
	pw, err := s.auth.SetPassword(r.Context(), s.by(r), r.PathValue("id"), req.Password, true)
	if err != nil {
		s.accountError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": r.PathValue("id"), "temporary_password": pw})
}

func (s *Server) setRole(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Role auth.Role `json:"role"`
	}
	if !decode(w, r, &req) {
		return
	}
	if err := s.auth.SetRole(s.by(r), r.PathValue("id"), req.Role); err != nil {
		s.accountError(w, err)
		return
	}
	s.getAccount(w, r)
}

func (s *Server) setAccountDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.auth.SetDisabled(s.by(r), r.PathValue("id"), disabled); err != nil {
			s.accountError(w, err)
			return
		}
		s.getAccount(w, r)
	}
}

func (s *Server) signOutAccount(w http.ResponseWriter, r *http.Request) {
	n, err := s.auth.SignOutAccount(s.by(r), r.PathValue("id"))
	if err != nil {
		s.accountError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": r.PathValue("id"), "sessions_ended": n})
}

type tokenView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      auth.Role  `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	Token     string     `json:"token,omitempty"` // only when created
}

func viewToken(t *auth.Token) tokenView {
	v := tokenView{ID: t.ID, Name: t.Name, Role: auth.Role(t.Role), CreatedAt: t.CreatedAt.UTC()}
	if !t.UsedAt.IsZero() {
		u := t.UsedAt.UTC()
		v.LastUsed = &u
	}
	return v
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.auth.Tokens(auth.From(r.Context()).Account)
	if err != nil {
		s.accountError(w, err)
		return
	}
	out := []tokenView{}
	for _, t := range ts {
		out = append(out, viewToken(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// createToken gives the caller a personal token, shown once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string    `json:"name"`
		Role auth.Role `json:"role"`
	}
	if !decode(w, r, &req) {
		return
	}
	p := auth.From(r.Context())
	if req.Role == "" {
		req.Role = p.Role
	}
	if !p.Role.AtLeast(req.Role) {
		refuse(w, &api.Error{Code: api.CodeForbidden, Message: "a token's role is at most the caller's"})
		return
	}
	secret, t, err := s.auth.CreateToken(s.by(r), p.Account, req.Name, req.Role)
	if err != nil {
		s.accountError(w, err)
		return
	}
	v := viewToken(t)
	v.Token = secret
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.RevokeToken(s.by(r), auth.From(r.Context()).Account, r.PathValue("id")); err != nil {
		s.accountError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": r.PathValue("id")})
}
