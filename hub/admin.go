package hub

import (
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// The administrator's and the supervisor's actions: each is an event with
// who made it (the actor Do is given). The site's changes answer the site's
// part as it now is; the supervisor's answer the ticket or the agent.

func siteAction(name string, run func(e *queue.Engine, by queue.By) ([]queue.Event, error), view func(e *queue.Engine) any) Action {
	return Action{Name: name, Run: run, View: func(e *queue.Engine, _ time.Time, _ []queue.Event) any { return view(e) }}
}

// SaveService adds or changes a service.
func SaveService(sv queue.Service) Action {
	return siteAction("save_service", func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.SaveService(by, sv) },
		func(e *queue.Engine) any { return e.Service(sv.ID) })
}

// RemoveService removes a service with nobody in its queue.
func RemoveService(id string) Action {
	return siteAction("remove_service", func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.RemoveService(by, id) },
		func(*queue.Engine) any { return map[string]string{"service": id, "state": "removed"} })
}

// CloseService closes a service to new tickets, with a message for the kiosks.
func CloseService(id string, a api.ServiceCloseArgs) Action {
	return siteAction("close_service", func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		return e.CloseService(by, id, a.Message)
	}, func(e *queue.Engine) any { return e.Service(id) })
}

// ReopenService lets a closed service take new tickets again.
func ReopenService(id string) Action {
	return siteAction("reopen_service", func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.ReopenService(by, id) },
		func(e *queue.Engine) any { return e.Service(id) })
}

// SaveCounter adds or changes a counter.
func SaveCounter(c queue.Counter) Action {
	return siteAction("save_counter", func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.SaveCounter(by, c) },
		func(e *queue.Engine) any { return e.Counter(c.ID) })
}

// RemoveCounter removes a closed counter.
func RemoveCounter(id string) Action {
	return siteAction("remove_counter", func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.RemoveCounter(by, id) },
		func(*queue.Engine) any { return map[string]string{"counter": id, "state": "removed"} })
}

// SaveAgent adds or changes an agent.
func SaveAgent(a queue.Agent) Action {
	return siteAction("save_agent", func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.SaveAgent(by, a) },
		func(e *queue.Engine) any { return e.Agent(a.ID) })
}

// RemoveAgent removes a signed-out agent.
func RemoveAgent(id string) Action {
	return siteAction("remove_agent", func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.RemoveAgent(by, id) },
		func(*queue.Engine) any { return map[string]string{"agent": id, "state": "removed"} })
}

// SavePauseReasons replaces the site's list of pause reasons.
func SavePauseReasons(reasons []string) Action {
	return siteAction("save_pause_reasons", func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		return e.SavePauseReasons(by, reasons)
	}, func(e *queue.Engine) any { return map[string]any{"pause_reasons": nonNil(e.Site().PauseReasons)} })
}

// SaveSettings changes the site's name, info message, public URL and languages.
func SaveSettings(st queue.Settings) Action {
	return siteAction("save_settings", func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.SaveSettings(by, st) },
		func(e *queue.Engine) any { return SiteSettings(e) })
}

// SetBoardMessage puts a message on the waiting-room screens (empty: none).
func SetBoardMessage(a api.BoardMessageArgs) Action {
	return siteAction("board_message", func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		return e.SetBoardMessage(by, a.Message)
	}, func(e *queue.Engine) any { return api.BoardMessageArgs{Message: names(e.Site().Message)} })
}

// SiteSettings are the site's settings as the API shows them.
func SiteSettings(e *queue.Engine) queue.Settings {
	s := e.Site()
	return queue.Settings{Name: s.Name, Info: s.Info, PublicURL: s.PublicURL, Languages: s.Languages}
}

// TransferTicket transfers a waiting or called ticket (the supervisor's).
func TransferTicket(a api.TicketTransferArgs) Action {
	return Action{
		Name: "transfer_ticket",
		Run:  func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.TransferTicket(by, a) },
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any {
			t, _ := e.Ticket(a.Ticket)
			return TicketView(e, now, t)
		},
	}
}

// AgentAction is a supervisor's action on an agent: sign_out, pause (with
// *api.AgentPauseArgs) or resume. Its result is the agent's state.
func AgentAction(op, agent string, args *api.AgentPauseArgs) Action {
	if args == nil {
		args = &api.AgentPauseArgs{}
	}
	run := func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.SignOut(by, agent) }
	switch op {
	case api.OpPause:
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.PauseAgent(by, agent, *args) }
	case api.OpResume:
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.ResumeAgent(by, agent) }
	}
	return Action{
		Name: "agent_" + op,
		Run:  run,
		View: func(e *queue.Engine, _ time.Time, _ []queue.Event) any { st, _ := e.AgentStatus(agent); return st },
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
