package httpapi

import (
	"fmt"
	"net/http"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/config"
	"guichet/hub/queue"
)

// The site's administration (role admin) and the supervisor's actions
// (role supervisor), declared in the route table with routes.go's.

type addRoute func(method, pattern string, access auth.Access, about string, h http.HandlerFunc)

func (s *Server) siteRoutes(add addRoute) {
	add("GET", "/api/v1/site", auth.Admin, "the site as the hub runs it", s.getSite)
	add("GET", "/api/v1/site/export", auth.Admin, "the site as a site file (YAML)", s.exportSite)
	add("PUT", "/api/v1/site/settings", auth.Admin, "change the site's settings", s.putSettings)
	add("PUT", "/api/v1/site/pause-reasons", auth.Admin, "change the pause reasons", s.putPauseReasons)
	add("PUT", "/api/v1/site/services/{id}", auth.Admin, "add or change a service", s.putService)
	add("DELETE", "/api/v1/site/services/{id}", auth.Admin, "remove a service", s.deleteService)
	add("PUT", "/api/v1/site/counters/{id}", auth.Admin, "add or change a counter", s.putCounter)
	add("DELETE", "/api/v1/site/counters/{id}", auth.Admin, "remove a counter", s.deleteCounter)
	add("PUT", "/api/v1/site/agents/{id}", auth.Admin, "add or change an agent", s.putAgent)
	add("DELETE", "/api/v1/site/agents/{id}", auth.Admin, "remove an agent", s.deleteAgent)
	add("POST", "/api/v1/services/{id}/close", auth.Supervisor, "close a service to new tickets", s.closeService)
	add("POST", "/api/v1/services/{id}/reopen", auth.Supervisor, "reopen a service", s.reopenService)
	add("PUT", "/api/v1/board/message", auth.Supervisor, "the message on the waiting-room screens", s.putBoardMessage)
	add("POST", "/api/v1/tickets/{id}/transfer", auth.Supervisor, "transfer a ticket", s.transferTicket)
	add("POST", "/api/v1/agents/{id}/pause", auth.Supervisor, "pause an agent", s.agentOp(api.OpPause))
	add("POST", "/api/v1/agents/{id}/resume", auth.Supervisor, "end an agent's pause", s.agentOp(api.OpResume))
	add("POST", "/api/v1/agents/{id}/signout", auth.Supervisor, "sign an agent out of their counter", s.agentOp("sign_out"))
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request) {
	var site queue.Site
	s.hub.Read(func(e *queue.Engine) { site = e.Site().Clone() })
	writeJSON(w, http.StatusOK, site)
}

// exportSite answers the site as a configuration file (guichet config export).
func (s *Server) exportSite(w http.ResponseWriter, r *http.Request) {
	var site queue.Site
	var seq int64
	s.hub.Read(func(e *queue.Engine) { site, seq = e.Site().Clone(), s.hub.Store().LastSeq() })
	out, err := config.Export(site, fmt.Sprintf("The site %s as the hub runs it, at event %d of its log.\nExported by the hub's API: guichet config check reads it.", site.ID, seq))
	if err != nil {
		s.log.Error("export the site", "err", err)
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "could not export the site")
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(out)
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	var st queue.Settings
	if !decode(w, r, &st) {
		return
	}
	s.do(w, r, hub.SaveSettings(st), http.StatusOK)
}

func (s *Server) putPauseReasons(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PauseReasons []string `json:"pause_reasons"`
	}
	if !decode(w, r, &body) {
		return
	}
	s.do(w, r, hub.SavePauseReasons(body.PauseReasons), http.StatusOK)
}

func (s *Server) putService(w http.ResponseWriter, r *http.Request) {
	var sv queue.Service
	if !decode(w, r, &sv) || !samePath(w, "id", &sv.ID, r.PathValue("id")) {
		return
	}
	s.do(w, r, hub.SaveService(sv), http.StatusOK)
}

func (s *Server) deleteService(w http.ResponseWriter, r *http.Request) {
	s.do(w, r, hub.RemoveService(r.PathValue("id")), http.StatusOK)
}

func (s *Server) putCounter(w http.ResponseWriter, r *http.Request) {
	var c queue.Counter
	if !decode(w, r, &c) || !samePath(w, "id", &c.ID, r.PathValue("id")) {
		return
	}
	s.do(w, r, hub.SaveCounter(c), http.StatusOK)
}

func (s *Server) deleteCounter(w http.ResponseWriter, r *http.Request) {
	s.do(w, r, hub.RemoveCounter(r.PathValue("id")), http.StatusOK)
}

func (s *Server) putAgent(w http.ResponseWriter, r *http.Request) {
	var a queue.Agent
	if !decode(w, r, &a) || !samePath(w, "id", &a.ID, r.PathValue("id")) {
		return
	}
	s.do(w, r, hub.SaveAgent(a), http.StatusOK)
}

func (s *Server) deleteAgent(w http.ResponseWriter, r *http.Request) {
	s.do(w, r, hub.RemoveAgent(r.PathValue("id")), http.StatusOK)
}

func (s *Server) closeService(w http.ResponseWriter, r *http.Request) {
	var a api.ServiceCloseArgs
	if !decode(w, r, &a) {
		return
	}
	s.do(w, r, hub.CloseService(r.PathValue("id"), a), http.StatusOK)
}

func (s *Server) reopenService(w http.ResponseWriter, r *http.Request) {
	if !decode(w, r, &struct{}{}) {
		return
	}
	s.do(w, r, hub.ReopenService(r.PathValue("id")), http.StatusOK)
}

func (s *Server) putBoardMessage(w http.ResponseWriter, r *http.Request) {
	var a api.BoardMessageArgs
	if !decode(w, r, &a) {
		return
	}
	s.do(w, r, hub.SetBoardMessage(a), http.StatusOK)
}

// transferTicket transfers the ticket of the path: the body is
// api.TicketTransferArgs, whose ticket is the path's if given.
func (s *Server) transferTicket(w http.ResponseWriter, r *http.Request) {
	var a api.TicketTransferArgs
	if !decode(w, r, &a) || !samePath(w, "ticket", &a.Ticket, r.PathValue("id")) {
		return
	}
	s.do(w, r, hub.TransferTicket(a), http.StatusOK)
}

// agentOp runs a supervisor's action on the agent of the path.
func (s *Server) agentOp(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var args *api.AgentPauseArgs
		var into any = &struct{}{}
		if op == api.OpPause {
			args = &api.AgentPauseArgs{}
			into = args
		}
		if !decode(w, r, into) {
			return
		}
		s.do(w, r, hub.AgentAction(op, r.PathValue("id"), args), http.StatusOK)
	}
}
