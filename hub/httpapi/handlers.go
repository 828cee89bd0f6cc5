package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/queue"
)

// healthz says whether the hub works: "ok", or 503 "degraded" while its
// database refuses writes (reads are served, operations refused), with
// since when and why, so that monitoring notices a full disk.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	var waiting int
	s.hub.Read(func(e *queue.Engine) { waiting = e.WaitingCount() })
	body := map[string]any{"status": "ok", "waiting": waiting, "last_event": s.hub.Store().LastSeq()}
	status := http.StatusOK
	if h := s.hub.Health(); !h.Writable {
		status = http.StatusServiceUnavailable
		body["status"], body["since"] = "degraded", h.Since.UTC().Format(time.RFC3339)
		body["reason"] = "the database refuses writes (" + h.Err + "): operations are refused until it takes them again"
	}
	writeJSON(w, status, body)
}

// index answers /api/v1/ (where the demo's banner points): what the API
// is, where its contract and its documentation are, and its routes with the
// access each requires.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	type route struct {
		Method string `json:"method"`
		Path   string `json:"path"`
		Access string `json:"access"`
		About  string `json:"about"`
	}
	out := []route{}
	for _, rt := range s.table.Routes() {
		if rt.Kind == auth.API {
			out = append(out, route{rt.Method, rt.Pattern, rt.Access.String(), rt.About})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":    "Guichet HTTP API",
		"site":    s.site,
		"openapi": "/api/v1/openapi.json",
		"docs":    "docs/api.md and docs/accounts.md in Guichet's sources",
		"auth":    "Authorization: Bearer <token> (the admin token, or a personal or integration token), or a signed-in session with its CSRF token",
		"routes":  out,
	})
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	writeRaw(w, http.StatusOK, openAPI)
}

func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	var v []api.Service
	s.hub.Read(func(e *queue.Engine) { v = hub.ServicesView(e, s.hub.Now()) })
	writeJSON(w, http.StatusOK, map[string]any{"services": v})
}

func (s *Server) queue(w http.ResponseWriter, r *http.Request) {
	var v api.Queue
	s.hub.Read(func(e *queue.Engine) { v = hub.QueueView(e, s.hub.Now()) })
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) board(w http.ResponseWriter, r *http.Request) {
	var v api.Board
	s.hub.Read(func(e *queue.Engine) { v = hub.BoardView(e) })
	writeJSON(w, http.StatusOK, v)
}

// issue issues a ticket: the body is issue_ticket's arguments
// (api.IssueArgs), without the fields of a ticket printed offline.
func (s *Server) issue(w http.ResponseWriter, r *http.Request) {
	var req api.IssueArgs
	if !decode(w, r, &req) {
		return
	}
	if err := req.CheckHTTP(); err != nil {
		refuse(w, err)
		return
	}
	s.do(w, r, hub.IssueTicket(req, ""), http.StatusCreated)
}

// states are the ticket states ?state= may name.
var states = []queue.State{queue.Waiting, queue.Called, queue.Serving, queue.Done, queue.NoShow, queue.Cancelled}

func (s *Server) tickets(w http.ResponseWriter, r *http.Request) {
	state, service := queue.State(r.URL.Query().Get("state")), r.URL.Query().Get("service")
	if state != "" && !slices.Contains(states, state) {
		refuse(w, &api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("state must be one of %v", states)})
		return
	}
	if !shortText(service) {
		refuse(w, &api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("service must be a service id of at most %d characters", queue.MaxIDLen)})
		return
	}
	out := []api.Ticket{}
	now := s.hub.Now()
	s.hub.Read(func(e *queue.Engine) {
		for _, t := range e.Tickets(state, service) {
			out = append(out, hub.TicketView(e, now, t))
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{"tickets": out})
}

// shortText reports whether a parameter can be an id: at most
// queue.MaxIDLen bytes of UTF-8. Anything longer names nothing, and is not
// worth echoing back.
func shortText(s string) bool { return len(s) <= queue.MaxIDLen && utf8.ValidString(s) }

func (s *Server) ticket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !shortText(id) {
		refuse(w, &api.Error{Code: api.CodeUnknownTicket, Message: "unknown ticket"})
		return
	}
	var v api.Ticket
	found := false
	now := s.hub.Now()
	s.hub.Read(func(e *queue.Engine) {
		if t, ok := e.Ticket(id); ok {
			v, found = hub.TicketView(e, now, t), true
		}
	})
	if !found {
		// Finished tickets of past days live only in the log.
		evs, err := s.hub.Store().TicketEvents(r.Context(), id)
		if err != nil {
			writeError(w, http.StatusInternalServerError, api.CodeInternal, "could not read the log")
			return
		}
		if len(evs) > 0 {
			s.hub.Read(func(e *queue.Engine) {
				past, _ := queue.New(*e.Site())
				for _, ev := range evs {
					past.Apply(ev)
				}
				if t, ok := past.Ticket(id); ok {
					v, found = hub.TicketView(past, now, t), true
				}
			})
		}
	}
	if !found {
		writeError(w, http.StatusNotFound, api.CodeUnknownTicket, "unknown ticket "+strconv.Quote(id))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) ticketEvents(w http.ResponseWriter, r *http.Request) {
	if !shortText(r.PathValue("id")) {
		refuse(w, &api.Error{Code: api.CodeUnknownTicket, Message: "unknown ticket"})
		return
	}
	evs, err := s.hub.Store().TicketEvents(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "could not read the log")
		return
	}
	if len(evs) == 0 {
		writeError(w, http.StatusNotFound, api.CodeUnknownTicket, "unknown ticket")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

// cancel cancels the ticket of the path: the body is cancel's arguments
// (api.CancelArgs), whose ticket is the path's if given.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	var req api.CancelArgs
	if !decode(w, r, &req) || !samePath(w, "ticket", &req.Ticket, r.PathValue("id")) {
		return
	}
	s.do(w, r, hub.CancelTicket(req), http.StatusOK)
}

// samePath sets an argument the path also names, which the body may repeat
// but not contradict.
func samePath(w http.ResponseWriter, name string, arg *string, path string) bool {
	if *arg != "" && *arg != path {
		refuse(w, &api.Error{Code: api.CodeInvalid, Message: fmt.Sprintf("%s is the path's; the body names another", name)})
		return false
	}
	*arg = path
	return true
}

func (s *Server) counters(w http.ResponseWriter, r *http.Request) {
	out := []api.Counter{}
	now := s.hub.Now()
	s.hub.Read(func(e *queue.Engine) {
		for _, c := range e.Counters() {
			out = append(out, hub.CounterView(e, now, c.ID))
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{"counters": out})
}

func (s *Server) counter(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var v api.Counter
	found := false
	s.hub.Read(func(e *queue.Engine) {
		if e.Counter(id) != nil {
			v, found = hub.CounterView(e, s.hub.Now(), id), true
		}
	})
	if !found {
		msg := "unknown counter"
		if shortText(id) {
			msg += " " + strconv.Quote(id)
		}
		refuse(w, &api.Error{Code: api.CodeUnknownCounter, Message: msg})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	var d queue.Decision
	var err error
	s.hub.Read(func(e *queue.Engine) { d, err = e.Explain(s.hub.Now(), r.PathValue("id")) })
	if err != nil {
		refuseQueue(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) agents(w http.ResponseWriter, r *http.Request) {
	type agent struct {
		queue.AgentStatus
		Name   string         `json:"name"`
		Skills map[string]int `json:"skills"`
	}
	out := []agent{}
	s.hub.Read(func(e *queue.Engine) {
		for _, st := range e.Agents() {
			a := e.Agent(st.ID)
			out = append(out, agent{AgentStatus: st, Name: a.Name, Skills: a.Skills})
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err1 := strconv.ParseInt(q.Get("after"), 10, 64)
	if q.Get("after") == "" {
		after, err1 = 0, nil
	}
	limit, err2 := strconv.Atoi(q.Get("limit"))
	if q.Get("limit") == "" {
		limit, err2 = 100, nil
	}
	if err1 != nil || err2 != nil || after < 0 || limit < 1 || limit > 1000 {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "after must be a sequence number, limit 1 to 1000")
		return
	}
	evs, err := s.hub.Store().Events(r.Context(), after, limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "could not read the log")
		return
	}
	next := after
	if len(evs) > 0 {
		next = evs[len(evs)-1].Seq
	}
	// Account events carry agents' addresses and comings and goings: for
	// admins only (an integration, a supervisor reads the queue's). An
	// integration token gets no personal data: not the free-text citizen,
	// a ticket's QR token or an appointment's code.
	out := []queue.Event{}
	role := auth.From(r.Context()).Role
	for _, ev := range evs {
		if auth.Personal(ev) && !role.AtLeast(auth.RoleAdmin) {
			continue
		}
		if role == auth.RoleIntegration {
			ev.Citizen, ev.Token, ev.Code, ev.Address = "", "", "", ""
		}
		out = append(out, ev)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out, "next": next})
}

// counterPaths maps URL verbs to counter operations.
var counterPaths = []struct{ path, op string }{
	{"open", "open"}, {"close", "close"}, {"next", "call_next"}, {"recall", "recall"}, {"start", "start"},
	{"finish", "finish"}, {"noshow", "no_show"}, {"transfer", "transfer"}, {"pause", "pause"}, {"resume", "resume"},
}

// counterOp runs op at the counter of the path: the body is op's
// arguments, the type the MQTT op takes (api.NewArgs), or none. An agent
// acts only at the counter they opened (see atOwnCounter).
func (s *Server) counterOp(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		args, _ := api.NewArgs(op)
		var into any = args
		if args == nil {
			into = &struct{}{} // takes no argument: any field is unknown
		}
		if !decode(w, r, into) {
			return
		}
		p := auth.From(r.Context())
		if open, ok := args.(*api.OpenArgs); ok && open.Agent == "" {
			open.Agent = p.Agent // an agent opens a counter for themselves
		}
		act, err := hub.CounterAction(op, r.PathValue("id"), args)
		if err != nil {
			s.log.Error("counter operation", "op", op, "err", err)
			refuse(w, &api.Error{Code: api.CodeInternal, Message: "internal error"})
			return
		}
		act.Run = atOwnCounter(p, r.PathValue("id"), args, act.Run)
		s.do(w, r, act, http.StatusOK)
	}
}

// atOwnCounter holds run to the rule "an agent acts only at the counter or
// phone position they opened; a supervisor may act at any": a caller below
// supervisor must be a site agent, may open a counter only for themselves,
// and may act only at a counter that is closed (the engine refuses what a
// closed counter cannot do) or open with themselves. The check runs in the
// hub's writer, with the operation: nobody can open the counter between
// the check and the act.
func atOwnCounter(p *auth.Principal, counter string, args any, run func(*queue.Engine, queue.By) ([]queue.Event, error)) func(*queue.Engine, queue.By) ([]queue.Event, error) {
	if p.Role.AtLeast(auth.RoleSupervisor) {
		return run
	}
	return func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		if p.Agent == "" {
			return nil, &queue.Error{Code: api.CodeForbidden, Message: "account " + p.Account + " is no agent of the site: it acts at no counter"}
		}
		if open, ok := args.(*api.OpenArgs); ok && open.Agent != p.Agent {
			return nil, &queue.Error{Code: api.CodeForbidden, Message: "an agent opens a counter for themselves only"}
		}
		if cs, ok := e.CounterState(counter); ok && cs.Open && cs.Agent != p.Agent {
			return nil, &queue.Error{Code: api.CodeForbidden, Message: fmt.Sprintf("counter %s is opened by another agent: only they, or a supervisor, act there", counter)}
		}
		return run(e, by)
	}
}
