package httpapi

import (
	"net/http"
	"time"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/crm"
)

// The requests' routes the agent console uses beyond registering and
// moving a request on (citizens.go): the kinds the caller may register,
// and the suspension for missing documents (CRPA L114-5) — asked by a
// day, then received. The citizen file checks the caller's sector and
// audits each change (crm.Store.changeRequest).

// RequestKind is a kind of request as the console offers it.
type RequestKind struct {
	ID     string     `json:"id"`
	Label  string     `json:"label"`
	Sector crm.Sector `json:"sector"`
	Regime crm.Regime `json:"regime"`
	Delay  crm.Delay  `json:"delay"`
	Ack    bool       `json:"ack"`
}

func (s *Server) requestKinds(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	ks := f.Kinds(s.viewer(r))
	out := make([]RequestKind, 0, len(ks))
	for _, k := range ks {
		out = append(out, RequestKind{ID: k.ID, Label: k.Label, Sector: k.Sector, Regime: k.Regime, Delay: k.Delay, Ack: k.Ack})
	}
	writeJSON(w, http.StatusOK, struct {
		Kinds []RequestKind `json:"kinds"`
	}{out})
}

func (s *Server) askDocuments(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var body struct {
		Pieces string `json:"pieces"` // what is missing, as told to the citizen
		Due    string `json:"due"`    // YYYY-MM-DD in the site's zone: the last day to bring them
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Due == "" {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "due is required: the last day for the documents (YYYY-MM-DD)")
		return
	}
	due, err := crm.DueDay(body.Due, f.Location(), s.hub.Now())
	if err != nil {
		s.refuseCRM(w, r, err)
		return
	}
	req, err := f.AskDocuments(r.Context(), s.viewer(r), r.PathValue("id"), body.Pieces, due)
	s.answerCRM(w, r, http.StatusOK, req, err)
}

func (s *Server) documentsReceived(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var body struct {
		At time.Time `json:"at"` // now if absent
	}
	if !decode(w, r, &body) {
		return
	}
	req, err := f.DocumentsReceived(r.Context(), s.viewer(r), r.PathValue("id"), body.At)
	s.answerCRM(w, r, http.StatusOK, req, err)
}

// WrapUpAnswer is what the wrap-up's route answers: the call's ticket,
// the outcome kept and the file the call is filed in ("" when it is kept
// with the number alone). Neither the number nor the note comes back.
type WrapUpAnswer struct {
	Ticket  string     `json:"ticket"`
	Outcome crm.WrapUp `json:"outcome"`
	Citizen string     `json:"citizen,omitempty"`
}

// wrapUpCall writes what came of a call, after hanging up. The note is
// the agent's words about a citizen: it is never logged.
func (s *Server) wrapUpCall(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var body struct {
		Outcome crm.WrapUp `json:"outcome"`
		Note    string     `json:"note"`
	}
	if !decode(w, r, &body) {
		return
	}
	rec, err := f.WrapUpCall(r.Context(), s.viewer(r), auth.From(r.Context()).Agent, r.PathValue("id"), body.Outcome, body.Note)
	s.answerCRM(w, r, http.StatusOK, WrapUpAnswer{Ticket: rec.Ticket, Outcome: rec.WrapUp, Citizen: rec.Citizen}, err)
}
