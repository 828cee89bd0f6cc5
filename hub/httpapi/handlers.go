package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"guichet/hub"
	"guichet/hub/api"
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

// issueRequest is the body of POST /api/v1/tickets.
type issueRequest struct {
	Service       string     `json:"service"`
	Channel       string     `json:"channel"`
	Priority      string     `json:"priority"`
	AppointmentAt *time.Time `json:"appointment_at"`
	Citizen       string     `json:"citizen"`
	Lang          string     `json:"lang"`
	Force         bool       `json:"force"`
}

func (s *Server) issue(w http.ResponseWriter, r *http.Request) {
	var req issueRequest
	if !decode(w, r, &req) {
		return
	}
	if req.Service == "" {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "service is required")
		return
	}
	a := hub.IssueArgs{Service: req.Service, Channel: req.Channel, Priority: req.Priority, Citizen: req.Citizen,
		Lang: req.Lang, Force: req.Force}
	if req.AppointmentAt != nil {
		a.AppointmentAt = *req.AppointmentAt
	}
	s.do(w, r, hub.IssueTicket(a), http.StatusCreated)
}

func (s *Server) tickets(w http.ResponseWriter, r *http.Request) {
	state, service := r.URL.Query().Get("state"), r.URL.Query().Get("service")
	out := []api.Ticket{}
	now := s.hub.Now()
	s.hub.Read(func(e *queue.Engine) {
		for _, t := range e.Tickets(queue.State(state), service) {
			out = append(out, hub.TicketView(e, now, t))
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{"tickets": out})
}

func (s *Server) ticket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
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

type cancelRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	var req cancelRequest
	if !decode(w, r, &req) {
		return
	}
	s.do(w, r, hub.CancelTicket(r.PathValue("id"), req.Reason), http.StatusOK)
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
		writeError(w, http.StatusNotFound, api.CodeUnknownCounter, "unknown counter "+strconv.Quote(id))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	var d queue.Decision
	var err error
	s.hub.Read(func(e *queue.Engine) { d, err = e.Explain(s.hub.Now(), r.PathValue("id")) })
	if err != nil {
		st, body := encoder(http.StatusOK)(nil, err)
		writeRaw(w, st, body)
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
	if evs == nil {
		evs = []queue.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs, "next": next})
}

// counterPaths maps URL verbs to counter operations.
var counterPaths = []struct{ path, op string }{
	{"open", "open"}, {"close", "close"}, {"next", "call_next"}, {"recall", "recall"}, {"start", "start"},
	{"finish", "finish"}, {"noshow", "no_show"}, {"transfer", "transfer"}, {"pause", "pause"}, {"resume", "resume"},
}

type counterRequest struct {
	Agent   string `json:"agent"`
	Service string `json:"service"`
	Reason  string `json:"reason"`
}

func (s *Server) counterOp(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req counterRequest
		if !decode(w, r, &req) {
			return
		}
		act, err := hub.CounterAction(op, r.PathValue("id"), hub.CounterArgs(req))
		if err != nil {
			writeError(w, http.StatusBadRequest, api.CodeInvalid, err.Error())
			return
		}
		s.do(w, r, act, http.StatusOK)
	}
}
