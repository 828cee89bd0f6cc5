package hub

import (
	"errors"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// The views: the engine's state as the API and the MQTT topics show it.

func names(m map[string]string) api.Names {
	out := api.Names{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// at shows t in the site's time zone; times in views are site-local.
func at(e *queue.Engine, t time.Time) time.Time { return t.In(e.Site().Location) }

func timePtr(e *queue.Engine, t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = at(e, t)
	return &t
}

// seconds shows a wait or an estimate in whole seconds, at most
// api.MaxWait: a longer one is no estimate, and devices refuse it.
func seconds(d time.Duration) int { return int(min(d, api.MaxWait*time.Second).Seconds()) }

func channels[C ~string](cs []C) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}

// TicketView shows a ticket; a waiting ticket gets its position and estimate.
func TicketView(e *queue.Engine, now time.Time, t queue.Ticket) api.Ticket {
	v := api.Ticket{
		ID: t.ID, Number: t.Display(), Service: t.Service, Channel: string(t.Channel), Priority: string(t.Priority),
		State: string(t.State), IssuedAt: at(e, t.IssuedAt), AppointmentAt: timePtr(e, t.AppointmentAt), Counter: t.Counter,
		CalledAt: timePtr(e, t.CalledAt), EndedAt: timePtr(e, t.EndedAt), Recalls: t.Recalls, Transfers: t.Transfers,
		Device: t.Device, Citizen: t.Citizen, Token: t.Token, Note: t.Note, ForAgent: t.ForAgent,
	}
	if s := e.Service(t.Service); s != nil {
		v.ServiceName = names(s.Names)
	}
	if c := e.Counter(t.Counter); c != nil {
		v.CounterName = c.Name
	}
	if t.State == queue.Waiting {
		ahead, est, _ := e.Estimate(now, t.ID)
		v.Ahead = &ahead
		if est.Known {
			v.EstimatedWait, v.EstimatedWaitMin, v.EstimatedWaitMax = secondsPtr(est.Wait), secondsPtr(est.Low), secondsPtr(est.High)
		}
	}
	return v
}

// CounterView shows a counter, its agent and its current ticket.
func CounterView(e *queue.Engine, now time.Time, id string) api.Counter {
	c := e.Counter(id)
	cs, _ := e.CounterState(id)
	v := api.Counter{ID: id, Name: c.Name, Channels: channels(c.Channels), Open: cs.Open, Agent: cs.Agent}
	if len(v.Channels) == 0 {
		v.Channels = []string{string(queue.Visit)}
	}
	if a := e.Agent(cs.Agent); a != nil {
		v.AgentName = a.Name
		st, _ := e.AgentStatus(a.ID)
		v.AgentState, v.PauseReason = string(st.State), st.PauseReason
	}
	if t, ok := e.Ticket(cs.Ticket); ok {
		tv := TicketView(e, now, t)
		v.Ticket = &tv
	}
	return v
}

// BoardView shows the last calls, newest first.
func BoardView(e *queue.Engine) api.Board {
	b := api.Board{Calls: []api.Call{}}
	for _, c := range e.Board() {
		call := api.Call{Ticket: c.Ticket, Service: c.Service, Counter: c.Counter, At: at(e, c.At), Recall: c.Recall}
		if ct := e.Counter(c.Counter); ct != nil {
			call.CounterName = ct.Name
		}
		b.Calls = append(b.Calls, call)
	}
	return b
}

// QueueView shows the queue summary per service.
func QueueView(e *queue.Engine, now time.Time) api.Queue {
	q := api.Queue{At: at(e, now), Services: []api.ServiceQueue{}}
	for _, s := range e.Summary(now) {
		svc := e.Service(s.Service)
		sq := api.ServiceQueue{Service: s.Service, Name: names(svc.Names), Waiting: s.Waiting,
			WaitingPhone: s.WaitingPhone, LongestWait: seconds(s.LongestWait), Ahead: s.Ahead, AheadPhone: s.AheadPhone,
			Agents: s.Agents, Open: s.Open, NextOpen: timePtr(e, s.NextOpen), Channels: channels(svc.Channels)}
		if s.Estimated {
			sq.EstimatedWait, sq.EstimatedWaitMin, sq.EstimatedWaitMax = secondsPtr(s.EstimatedWait), secondsPtr(s.WaitLow), secondsPtr(s.WaitHigh)
		}
		if s.EstimatedPhone {
			sq.EstimatedWaitPhone, sq.EstimatedWaitPhoneMin, sq.EstimatedWaitPhoneMax =
				secondsPtr(s.EstimatedWaitPhone), secondsPtr(s.WaitLowPhone), secondsPtr(s.WaitHighPhone)
		}
		q.Services = append(q.Services, sq)
	}
	return q
}

// ServicesView lists the services and whether they take visit tickets now.
func ServicesView(e *queue.Engine, now time.Time) []api.Service {
	out := []api.Service{}
	for _, s := range e.Site().Services {
		err := e.Accepting(now, s.ID, queue.Visit)
		out = append(out, api.Service{ID: s.ID, Name: names(s.Names), SLASeconds: int(s.SLA.Seconds()),
			Channels: channels(s.Channels), Open: err == nil, Full: errors.Is(err, queue.ErrServiceFull),
			ServiceTime: int(s.ServiceTime.Seconds())})
		if s.Closed != nil {
			out[len(out)-1].ClosedMessage = names(s.Closed.Message)
		}
	}
	return out
}

// secondsPtr is seconds(d), for an optional field of the wire.
func secondsPtr(d time.Duration) *int {
	s := seconds(d)
	return &s
}
