package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/calls"
	"guichet/hub/citizens"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/telephony"
)

// The citizen file (issue 12) and the telephony's screen pop (issue 13)
// over HTTP, declared in the route table with routes.go's. Every route
// is open to agents in the table: what a caller may read or do in the
// citizen file is the file's own rule (crm/rights.go), applied to the
// crm.Viewer built here from the signed-in account — its role, the
// sectors of its services, the DPO's accounts the site file names — and
// every read is audited with that viewer. A record the viewer may not
// see answers 404, as one that does not exist; so does an action only the
// DPO may do (an export, an erasure, a purge), asked by anyone else — 403
// stays the guard's, for a role too low for the route.

// CitizenFile is what the citizen file's routes need; nil fields leave
// their routes answering 404 not_found (a hub without a citizen file).
type CitizenFile struct {
	Service *citizens.Service
	// Calls returns the telephony bridge, nil without a telephony link. It
	// is read at each request: the bridge starts after the API.
	Calls func() *calls.Bridge
	// Sectors: service → the sector of its records (config.SectorOf). A
	// service it does not name is in the sector accueil.
	Sectors map[string]crm.Sector
	// DPO are the accounts of the data protection officer.
	DPO []string
}

// MaxCitizenResults bounds a search's answer.
const MaxCitizenResults = 50

func (s *Server) citizenRoutes(add addRoute) {
	const agent, supervisor, admin = auth.Agent, auth.Supervisor, auth.Admin
	add("GET", "/api/v1/citizens", agent, "search the citizen file (q: name, phone or e-mail)", s.searchCitizens)
	add("POST", "/api/v1/citizens", agent, "create a citizen's file", s.createCitizen)
	add("GET", "/api/v1/citizens/{id}", agent, "a citizen's file: who, timeline, requests (audited)", s.citizenFile)
	add("GET", "/api/v1/citizens/{id}/timeline", agent, "a citizen's timeline (audited)", s.citizenTimeline)
	add("POST", "/api/v1/citizens/{id}/notes", agent, "write a note in one of the caller's sectors", s.addNote)
	add("GET", "/api/v1/citizens/{id}/requests", agent, "a citizen's requests (audited)", s.citizenRequests)
	add("POST", "/api/v1/citizens/{id}/requests", agent, "register a request with its legal dates", s.openRequest)
	add("GET", "/api/v1/citizens/{id}/export", agent, "everything held about a citizen, with who read it when (the DPO only; ?format=html: the readable page)", s.exportCitizen)
	add("POST", "/api/v1/citizens/{id}/erase", agent, "erase a citizen's file (the DPO only)", s.eraseCitizen)
	add("POST", "/api/v1/tickets/{id}/citizen", agent, "attach a ticket to a citizen's file", s.attachCitizen)
	add("POST", "/api/v1/requests/{id}/steps", agent, "move a request on (status, step)", s.requestStep)
	add("GET", "/api/v1/requests/kinds", agent, "the kinds of request the caller may register, with their regime and delay", s.requestKinds)
	add("POST", "/api/v1/requests/{id}/documents", agent, "ask for missing documents by a day (suspends the request, CRPA L114-5)", s.askDocuments)
	add("POST", "/api/v1/requests/{id}/documents/received", agent, "the missing documents came (ends the suspension)", s.documentsReceived)
	add("GET", "/api/v1/requests/{id}/acknowledgement", agent, "a request's acknowledgement of receipt (HTML; ?format=pdf)", s.acknowledgement)
	add("GET", "/api/v1/requests/due", supervisor, "open requests whose implicit decision comes within ?days=N (with their citizens' names if ?names=true: audited reads)", s.requestsDue)
	add("POST", "/api/v1/citizens/import", admin, "a request another platform pushes (?platform=; our JSON or Lutece GRU)", s.importRequest)
	add("POST", "/api/v1/crm/purge", agent, "apply the retention rules now (the DPO only; ?dry_run=true lists)", s.purgeCRM)
	add("GET", "/api/v1/calls", agent, "the calls present at the telephone system (no numbers)", s.presentCalls)
	add("GET", "/api/v1/tickets/{id}/caller", agent, "a phone ticket's caller and their files: the screen pop (audited)", s.caller)
	add("POST", "/api/v1/tickets/{id}/wrapup", agent, "the wrap-up of a phone ticket's call: outcome and note (the agent who took it; a supervisor any)", s.wrapUpCall)
	add("POST", "/api/v1/counters/{id}/callback", agent, "call back the caller of the counter's callback ticket (click-to-call)", s.callBack)
	add("GET", "/api/v1/callbacks/{id}", agent, "the outcome of a click-to-call", s.callBackResult)
}

// viewer is the caller as the citizen file knows it: its account, a role
// (the DPO's for the accounts the site file names; a supervisor's for
// supervisors and admins; an agent's otherwise), the sectors of the
// services the site agent it is works for, and its client address.
func (s *Server) viewer(r *http.Request) crm.Viewer {
	p := auth.From(r.Context())
	v := crm.Viewer{ID: p.Actor(), Role: crm.RoleAgent, Addr: s.auth.ClientAddr(r).String()}
	switch {
	case slices.Contains(s.crm.DPO, p.Account):
		v.Role = crm.RoleDPO
	case p.Role.AtLeast(auth.RoleSupervisor):
		v.Role = crm.RoleSupervisor
	}
	if p.Agent != "" {
		s.hub.Read(func(e *queue.Engine) {
			site := e.Site()
			i := slices.IndexFunc(site.Agents, func(a queue.Agent) bool { return a.ID == p.Agent })
			if i < 0 {
				return
			}
			for svc := range site.Agents[i].Skills {
				sec, ok := s.crm.Sectors[svc]
				if !ok {
					sec = crm.SectorAccueil
				}
				if !slices.Contains(v.Sectors, sec) {
					v.Sectors = append(v.Sectors, sec)
				}
			}
		})
		slices.Sort(v.Sectors)
	}
	return v
}

// file returns the citizen file's service, or answers 404.
func (s *Server) file(w http.ResponseWriter) *citizens.Service {
	if s.crm.Service == nil {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "this hub keeps no citizen file")
		return nil
	}
	return s.crm.Service
}

// bridge returns the telephony bridge, or answers 404.
func (s *Server) bridge(w http.ResponseWriter) *calls.Bridge {
	var b *calls.Bridge
	if s.crm.Calls != nil {
		b = s.crm.Calls()
	}
	if b == nil {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "this hub has no telephony link")
	}
	return b
}

// refuseCRM answers an error of the citizen file or of the telephony. Its
// message is the caller's own input at most: errors name no citizen.
// answerCRM answers v with status, or the citizen file's refusal err.
func (s *Server) answerCRM(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.refuseCRM(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

func (s *Server) refuseCRM(w http.ResponseWriter, r *http.Request, err error) {
	var qe *queue.Error
	switch {
	case errors.As(err, &qe):
		refuseQueue(w, err)
	case errors.Is(err, crm.ErrNotFound), errors.Is(err, crm.ErrCallUnknown):
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no such record")
	case errors.Is(err, crm.ErrForbidden):
		// Only the DPO exports, erases and purges: the route table lets
		// every agent in, so the guard's 403 keeps its one meaning (a role
		// too low) and the citizen file's refusal reads as the records it
		// keeps from the caller, 404.
		writeError(w, http.StatusNotFound, api.CodeNotFound, "only the data protection officer may do this (the site file's crm.dpo)")
	case errors.Is(err, crm.ErrRestricted):
		writeError(w, http.StatusConflict, api.CodeRestricted, err.Error())
	case errors.Is(err, crm.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, "the body is too large")
	case errors.Is(err, crm.ErrInvalid), errors.Is(err, crm.ErrPhone), errors.Is(err, telephony.ErrBadNumber):
		writeError(w, http.StatusBadRequest, api.CodeInvalid, err.Error())
	case errors.Is(err, calls.ErrNotACall):
		writeError(w, http.StatusConflict, api.CodeNotACall, err.Error())
	case errors.Is(err, crm.ErrClosed), errors.Is(err, context.DeadlineExceeded), errors.Is(err, telephony.ErrNotConnected):
		writeError(w, http.StatusServiceUnavailable, api.CodeUnavailable, "not available now; try again")
	default:
		s.log.Error("citizen file", "method", r.Method, "path", auth.LogPath(r.URL.Path), "err", err)
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "internal error")
	}
}

// limitParam reads ?limit= (def if absent), at most max.
func limitParam(w http.ResponseWriter, r *http.Request, def, most int) (int, bool) {
	q := r.URL.Query().Get("limit")
	if q == "" {
		return def, true
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > most {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, fmt.Sprintf("limit must be 1 to %d", most))
		return 0, false
	}
	return n, true
}

func (s *Server) searchCitizens(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	limit, ok := limitParam(w, r, 10, MaxCitizenResults)
	if !ok {
		return
	}
	q := r.URL.Query().Get("q")
	if q == "" {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "q is required: a name, a phone number or an e-mail address")
		return
	}
	m, err := f.Search(r.Context(), s.viewer(r), q, limit)
	s.answerCRM(w, r, http.StatusOK, struct {
		Matches []crm.Match `json:"matches"`
	}{nonNil(m)}, err)
}

func (s *Server) createCitizen(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var c crm.Citizen
	if !decode(w, r, &c) {
		return
	}
	c.ID = ""
	got, dups, err := f.CreateCitizen(r.Context(), s.viewer(r), c)
	s.answerCRM(w, r, http.StatusCreated, struct {
		Citizen    crm.Citizen     `json:"citizen"`
		Duplicates []crm.Duplicate `json:"duplicates"`
	}{got, nonNil(dups)}, err)
}

func (s *Server) citizenFile(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	limit, ok := limitParam(w, r, 50, 1000)
	if !ok {
		return
	}
	file, err := f.File(r.Context(), s.viewer(r), r.PathValue("id"), limit)
	if err != nil {
		s.refuseCRM(w, r, err)
		return
	}
	file.Timeline, file.Requests = nonNil(file.Timeline), nonNil(file.Requests)
	writeJSON(w, http.StatusOK, file)
}

func (s *Server) citizenTimeline(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	limit, ok := limitParam(w, r, 50, 1000)
	if !ok {
		return
	}
	t, err := f.Timeline(r.Context(), s.viewer(r), r.PathValue("id"), limit)
	s.answerCRM(w, r, http.StatusOK, struct {
		Timeline []crm.Entry `json:"timeline"`
	}{nonNil(t)}, err)
}

func (s *Server) addNote(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var body struct {
		Sector crm.Sector `json:"sector"`
		Text   string     `json:"text"`
	}
	if !decode(w, r, &body) {
		return
	}
	e, err := f.AddNote(r.Context(), s.viewer(r), r.PathValue("id"), body.Sector, body.Text)
	s.answerCRM(w, r, http.StatusCreated, e, err)
}

func (s *Server) citizenRequests(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	reqs, err := f.Requests(r.Context(), s.viewer(r), r.PathValue("id"))
	s.answerCRM(w, r, http.StatusOK, struct {
		Requests []crm.Request `json:"requests"`
	}{nonNil(reqs)}, err)
}

func (s *Server) openRequest(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var body struct {
		Kind       string    `json:"kind"`
		Title      string    `json:"title"`
		Channel    string    `json:"channel"`
		ReceivedAt time.Time `json:"received_at"`
		ReceivedOn string    `json:"received_on"` // YYYY-MM-DD in the site's zone, instead of received_at
	}
	if !decode(w, r, &body) {
		return
	}
	if body.ReceivedOn != "" {
		if !body.ReceivedAt.IsZero() {
			writeError(w, http.StatusBadRequest, api.CodeInvalid, "give received_at or received_on, not both")
			return
		}
		at, err := crm.OnDay(body.ReceivedOn, f.Location(), s.hub.Now())
		if err != nil {
			s.refuseCRM(w, r, err)
			return
		}
		body.ReceivedAt = at
	}
	req, err := f.OpenRequest(r.Context(), s.viewer(r), r.PathValue("id"),
		crm.NewRequest{Kind: body.Kind, Title: body.Title, Channel: body.Channel, ReceivedAt: body.ReceivedAt})
	s.answerCRM(w, r, http.StatusCreated, req, err)
}

func (s *Server) requestStep(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var body struct {
		Status   crm.Status `json:"status"`
		Step     string     `json:"step"`
		StepNo   int        `json:"step_no"`
		MaxSteps int        `json:"max_steps"`
		At       time.Time  `json:"at"`
	}
	if !decode(w, r, &body) {
		return
	}
	req, err := f.UpdateRequest(r.Context(), s.viewer(r), r.PathValue("id"),
		crm.Change{Status: body.Status, Step: body.Step, StepNo: body.StepNo, MaxSteps: body.MaxSteps, At: body.At})
	s.answerCRM(w, r, http.StatusOK, req, err)
}

// acknowledgement answers the printable page (text/html), or the PDF with
// ?format=pdf.
func (s *Server) acknowledgement(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	format, ok := queryFormat(w, r, "html", "pdf")
	if !ok {
		return
	}
	a, err := f.Acknowledge(r.Context(), s.viewer(r), r.PathValue("id"))
	if err != nil {
		s.refuseCRM(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if format == "pdf" {
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `inline; filename="accuse-reception.pdf"`)
		err = crm.WriteAckPDF(w, a)
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err = crm.WriteAckHTML(w, a)
	}
	if err != nil {
		s.log.Error("write an acknowledgement of receipt", "format", format, "err", err)
	}
}

// requestsDue lists the open requests whose implicit decision comes
// within ?days= (15 if not given), soonest first, in words; with
// ?names=true, with their citizens' names (each read audited).
func (s *Server) requestsDue(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	days := 15
	if q := r.URL.Query().Get("days"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 || n > 366 {
			writeError(w, http.StatusBadRequest, api.CodeInvalid, "days must be 0 to 366")
			return
		}
		days = n
	}
	names := r.URL.Query().Get("names") == "true"
	reqs, err := f.DueList(r.Context(), s.viewer(r), time.Duration(days)*crm.Day, names)
	s.answerCRM(w, r, http.StatusOK, struct {
		Days     int                   `json:"days"`
		Requests []citizens.DueRequest `json:"requests"`
	}{days, nonNil(reqs)}, err)
}

// importRequest takes a request another platform pushes. The platform
// authenticates as an account (an admin's personal token, or the admin
// token); the citizen file records it as the system, under that account.
func (s *Server) importRequest(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	platform := r.URL.Query().Get("platform")
	if !queue.IDPattern.MatchString(platform) {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "platform is required: the pushing platform's id (letters, digits, '.', '_' or '-')")
		return
	}
	body, ok := readBody(w, r, crm.MaxImportBody)
	if !ok {
		return
	}
	v := s.viewer(r)
	v.Role = crm.RoleSystem
	res, err := f.Import(r.Context(), v, platform, body)
	s.answerCRM(w, r, http.StatusOK, res, err)
}

func (s *Server) exportCitizen(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	format, ok := queryFormat(w, r, "json", "html")
	if !ok {
		return
	}
	x, err := f.Export(r.Context(), s.viewer(r), r.PathValue("id"))
	if err != nil {
		s.refuseCRM(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if format == "html" {
		// The readable page, in French, printable: for the DPO to read and
		// to send the citizen.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := crm.WriteExportHTML(w, x); err != nil {
			s.log.Error("write a citizen's export page", "err", err)
		}
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="citoyen-`+x.Citizen.ID+`.json"`)
	writeJSON(w, http.StatusOK, x)
}

func (s *Server) eraseCitizen(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	t, err := f.Erase(r.Context(), s.viewer(r), r.PathValue("id"))
	s.answerCRM(w, r, http.StatusOK, t, err)
}

func (s *Server) purgeCRM(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	v := s.viewer(r)
	if r.URL.Query().Get("dry_run") == "true" {
		plan, err := f.PurgePlan(r.Context(), v)
		if err != nil {
			s.refuseCRM(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, plan)
		return
	}
	rep, err := f.Purge(r.Context(), v)
	s.answerCRM(w, r, http.StatusOK, rep, err)
}

func (s *Server) attachCitizen(w http.ResponseWriter, r *http.Request) {
	f := s.file(w)
	if f == nil {
		return
	}
	var body struct {
		Citizen string `json:"citizen"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Citizen == "" {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "citizen is required: the file's id")
		return
	}
	if err := f.Attach(r.Context(), s.viewer(r), r.PathValue("id"), body.Citizen); err != nil {
		s.refuseCRM(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Ticket  string `json:"ticket"`
		Citizen string `json:"citizen"`
	}{r.PathValue("id"), body.Citizen})
}

func (s *Server) presentCalls(w http.ResponseWriter, r *http.Request) {
	b := s.bridge(w)
	if b == nil {
		return
	}
	cs, err := b.Calls(r.Context())
	s.answerCRM(w, r, http.StatusOK, struct {
		Calls []calls.Present `json:"calls"`
	}{nonNil(cs)}, err)
}

func (s *Server) caller(w http.ResponseWriter, r *http.Request) {
	b := s.bridge(w)
	if b == nil {
		return
	}
	c, err := b.Caller(r.Context(), s.viewer(r), r.PathValue("id"))
	s.answerCRM(w, r, http.StatusOK, c, err)
}

// callBack rings the agent's phone for the callback ticket their counter
// holds: an agent at their own counter only, a supervisor at any.
func (s *Server) callBack(w http.ResponseWriter, r *http.Request) {
	b := s.bridge(w)
	if b == nil {
		return
	}
	if !decode(w, r, &struct{}{}) {
		return
	}
	counter, p := r.PathValue("id"), auth.From(r.Context())
	if !p.Role.AtLeast(auth.RoleSupervisor) {
		var at string
		s.hub.Read(func(e *queue.Engine) {
			if cs, ok := e.CounterState(counter); ok && cs.Open {
				at = cs.Agent
			}
		})
		if p.Agent == "" || at != p.Agent {
			writeError(w, http.StatusForbidden, api.CodeForbidden, "an agent calls back from their own counter or phone position only")
			return
		}
	}
	ref, err := b.CallBack(r.Context(), s.viewer(r), counter)
	s.answerCRM(w, r, http.StatusAccepted, struct {
		Ref string `json:"ref"`
	}{ref}, err)
}

func (s *Server) callBackResult(w http.ResponseWriter, r *http.Request) {
	b := s.bridge(w)
	if b == nil {
		return
	}
	res, ok := b.CallBackResult(r.PathValue("id"))
	out := CallBackState{Ref: r.PathValue("id"), State: "pending"}
	switch {
	case ok && res.OK:
		out.State = "ringing"
	case ok:
		out.State, out.Reason = "failed", res.Reason
	}
	writeJSON(w, http.StatusOK, out)
}

// CallBackState is a click-to-call's outcome: pending (the telephone
// system has not answered yet, or the reference is unknown), ringing (the
// agent's phone rang, then the number was called), failed (with the
// telephone system's reason).
type CallBackState struct {
	Ref    string `json:"ref"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// nonNil answers [] rather than null for an empty list.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// queryFormat reads ?format= among formats, the first when it is absent;
// another is refused (false: answered).
func queryFormat(w http.ResponseWriter, r *http.Request, formats ...string) (string, bool) {
	f := r.URL.Query().Get("format")
	if f == "" {
		return formats[0], true
	}
	if !slices.Contains(formats, f) {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "format is "+strings.Join(formats, " or "))
		return "", false
	}
	return f, true
}
