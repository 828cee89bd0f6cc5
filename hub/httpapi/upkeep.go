package httpapi

import (
	"net/http"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/crm"
)

// The citizen file's housekeeping at the counter: correcting who a citizen
// is, merging duplicates, and filing the imports no single file matched.

func (s *Server) citizenUpkeepRoutes(add addRoute) {
	const agent = auth.Agent
	add("PUT", "/api/v1/citizens/{id}", agent, "correct who a citizen is (the fields given replace the stored ones)", s.updateCitizen)
	add("GET", "/api/v1/citizens/{id}/duplicates", agent, "the files that may be the same person", s.citizenDuplicates)
	add("POST", "/api/v1/citizens/{id}/merge", agent, "merge another file into this one, both histories kept", s.mergeCitizen)
	add("GET", "/api/v1/imports/pending", agent, "imported requests no single citizen matched", s.pendingImports)
	add("POST", "/api/v1/imports/pending/{id}/resolve", agent, "file a pending import in the chosen file (or a new one)", s.resolvePending)
}

func (s *Server) updateCitizen(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var c crm.Citizen
	if !decode(w, r, &c) {
		return
	}
	c.ID = r.PathValue("id")
	got, err := f.UpdateCitizen(r.Context(), s.viewer(r), c)
	s.answerCRM(w, r, http.StatusOK, got, err)
}

func (s *Server) citizenDuplicates(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	d, err := f.Duplicates(r.Context(), s.viewer(r), r.PathValue("id"))
	s.answerCRM(w, r, http.StatusOK, struct {
		Duplicates []crm.Duplicate `json:"duplicates"`
	}{nonNil(d)}, err)
}

func (s *Server) mergeCitizen(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var body struct {
		Away string `json:"away"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Away == "" {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "away is required: the id of the file merged into this one")
		return
	}
	c, err := f.Merge(r.Context(), s.viewer(r), r.PathValue("id"), body.Away)
	s.answerCRM(w, r, http.StatusOK, c, err)
}

func (s *Server) pendingImports(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	p, err := f.PendingImports(r.Context(), s.viewer(r))
	s.answerCRM(w, r, http.StatusOK, struct {
		Pending []crm.PendingImport `json:"pending"`
	}{nonNil(p)}, err)
}

func (s *Server) resolvePending(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var body struct {
		Citizen string `json:"citizen"` // empty: a new file from the import's identity
	}
	if !decode(w, r, &body) {
		return
	}
	res, err := f.ResolvePending(r.Context(), s.viewer(r), r.PathValue("id"), body.Citizen)
	s.answerCRM(w, r, http.StatusOK, res, err)
}
