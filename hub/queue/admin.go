package queue

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// The site's changes. The site file seeds the site (site.loaded); an
// administrator's changes made in the browser are events too, applied in
// order like any other, so that the log says who changed what and when, a
// snapshot carries the site as it was, and a restart rebuilds it. Each
// operation checks the site as it would be after the change against the
// site's rules (rules.go: the same the site file is held to) and refuses
// what breaks one; saving what is already there changes nothing.
//
// A change leaves the queue as it is: a ticket keeps its service, even one
// removed (it stays readable, and nobody calls it), a counter its agent. The
// administrator's operations refuse what would leave the queue inconsistent
// (removing an open counter, a signed-in agent, a service with tickets in
// its queue); a new site file may do it anyway, and then applySite closes
// what no longer exists and puts its tickets back in the queue.

// IsSiteChange reports whether events of type t change the site.
func IsSiteChange(t EventType) bool {
	switch t {
	case SiteLoaded, SettingsSaved, PauseReasonsSaved, ServiceSaved, ServiceRemoved, ServiceClosed, ServiceReopened,
		CounterSaved, CounterRemoved, AgentSaved, AgentRemoved, BoardMessageSet:
		return true
	}
	return false
}

// LoadSite replaces the whole site with the site file's; hash is the file's.
func (e *Engine) LoadSite(by By, site Site, hash string) ([]Event, error) {
	if err := site.Check(); err != nil {
		return nil, refuse(ErrInvalid, "%s", err)
	}
	s := site.Clone()
	return e.commit(Event{At: by.At, Type: SiteLoaded, Actor: by.Actor, Site: &s, Hash: hash}), nil
}

// SaveSettings changes the site's name, info message, public URL and languages.
func (e *Engine) SaveSettings(by By, st Settings) ([]Event, error) {
	st = Settings{Name: strings.TrimSpace(st.Name), Info: dropEmpty(st.Info), PublicURL: strings.TrimSpace(st.PublicURL),
		Languages: slices.Clone(st.Languages)}
	if err := CheckSettings(st); err != nil {
		return nil, refuse(ErrInvalid, "%s", err)
	}
	if st.Name == e.site.Name && maps.Equal(st.Info, e.site.Info) && st.PublicURL == e.site.PublicURL &&
		slices.Equal(st.Languages, e.site.Languages) {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: SettingsSaved, Actor: by.Actor, Settings: &st}), nil
}

// SavePauseReasons replaces the list of pause reasons the consoles offer.
func (e *Engine) SavePauseReasons(by By, reasons []string) ([]Event, error) {
	if err := CheckPauseReasons(reasons); err != nil {
		return nil, refuse(ErrInvalid, "pause reasons: %s", err)
	}
	if slices.Equal(reasons, e.site.PauseReasons) {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: PauseReasonsSaved, Actor: by.Actor, Reasons: slices.Clone(reasons)}), nil
}

// SetBoardMessage puts a message on the waiting-room screens (none: empty).
func (e *Engine) SetBoardMessage(by By, msg map[string]string) ([]Event, error) {
	msg = dropEmpty(msg)
	if err := checkNames(msg, MaxMessageLen, false); err != nil {
		return nil, refuse(ErrInvalid, "message: %s", err)
	}
	if maps.Equal(msg, e.site.Message) {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: BoardMessageSet, Actor: by.Actor, Message: msg}), nil
}

// SaveService adds a service, or changes one (whether it is closed to new
// tickets stays as it is: CloseService and ReopenService change that).
func (e *Engine) SaveService(by By, sv Service) ([]Event, error) {
	sv = sv.Clone()
	sv.Names = dropEmpty(sv.Names)
	sv.Closed = nil
	old := e.services[sv.ID]
	if old != nil && old.Closed != nil {
		sv.Closed = old.Clone().Closed
	}
	if err := CheckService(&sv); err != nil {
		return nil, refuse(ErrInvalid, "service %.20s: %s", sv.ID, err)
	}
	if old != nil && same(old, &sv) {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: ServiceSaved, Actor: by.Actor, Service: sv.ID, ServiceDef: &sv}), nil
}

// RemoveService removes a service with nobody in its queue. Counters and
// agents stop naming it; a counter that served only it, or an agent whose
// only skill it was, must be changed first.
func (e *Engine) RemoveService(by By, id string) ([]Event, error) {
	if e.services[id] == nil {
		return nil, refuse(ErrUnknownService, "unknown service %.20q", id)
	}
	if len(e.site.Services) == 1 {
		return nil, refuse(ErrInvalid, "service %s is the site's only service", id)
	}
	if n := e.inQueue(id); n > 0 {
		return nil, refuse(ErrInvalid, "service %s still has %d tickets in its queue: close it to new tickets, and remove it once they are served or transferred", id, n)
	}
	next := e.site.Clone()
	withoutService(&next, id)
	for _, c := range next.Counters {
		if c.Services != nil && len(c.Services) == 0 {
			return nil, refuse(ErrInvalid, "counter %s serves only service %s: change its services first", c.ID, id)
		}
	}
	for _, a := range next.Agents {
		if len(a.Skills) == 0 {
			return nil, refuse(ErrInvalid, "agent %s has no other skill than service %s: change their skills first", a.ID, id)
		}
	}
	return e.commit(Event{At: by.At, Type: ServiceRemoved, Actor: by.Actor, Service: id}), nil
}

// inQueue counts the tickets of a service waiting, called or being served.
func (e *Engine) inQueue(service string) int {
	n := 0
	for k, l := range e.lanes {
		if k.service == service {
			n += len(l.tickets)
		}
	}
	for _, cs := range e.counterSt {
		if t := e.tickets[cs.Ticket]; t != nil && t.Service == service {
			n++
		}
	}
	return n
}

// CloseService closes a service to new tickets, whatever its hours, with a
// message for the kiosks (by language); the tickets already issued are
// called as before. Closing it again changes the message.
func (e *Engine) CloseService(by By, id string, msg map[string]string) ([]Event, error) {
	s := e.services[id]
	if s == nil {
		return nil, refuse(ErrUnknownService, "unknown service %.20q", id)
	}
	msg = dropEmpty(msg)
	if err := checkNames(msg, MaxMessageLen, false); err != nil {
		return nil, refuse(ErrInvalid, "message: %s", err)
	}
	if s.Closed != nil && maps.Equal(s.Closed.Message, msg) {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: ServiceClosed, Actor: by.Actor, Service: id, Message: msg}), nil
}

// ReopenService lets a closed service take new tickets again.
func (e *Engine) ReopenService(by By, id string) ([]Event, error) {
	s := e.services[id]
	if s == nil {
		return nil, refuse(ErrUnknownService, "unknown service %.20q", id)
	}
	if s.Closed == nil {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: ServiceReopened, Actor: by.Actor, Service: id}), nil
}

// SaveCounter adds a counter, or changes one.
func (e *Engine) SaveCounter(by By, c Counter) ([]Event, error) {
	c = c.Clone()
	c.Name = strings.TrimSpace(c.Name)
	if len(c.Services) == 0 {
		c.Services = nil
	}
	if len(c.Channels) == 0 {
		c.Channels = nil
	}
	if err := CheckCounter(&c, e.serviceSet()); err != nil {
		return nil, refuse(ErrInvalid, "counter %.20s: %s", c.ID, err)
	}
	if old := e.counters[c.ID]; old != nil && same(old, &c) {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: CounterSaved, Actor: by.Actor, Counter: c.ID, CounterDef: &c}), nil
}

// RemoveCounter removes a closed counter.
func (e *Engine) RemoveCounter(by By, id string) ([]Event, error) {
	c, cs, err := e.counter(id)
	if err != nil {
		return nil, err
	}
	if cs.Open {
		return nil, refuse(ErrCounterBusy, "counter %s is open with agent %s: sign them out first", c.ID, cs.Agent)
	}
	return e.commit(Event{At: by.At, Type: CounterRemoved, Actor: by.Actor, Counter: c.ID}), nil
}

// SaveAgent adds an agent, or changes one's name and skills.
func (e *Engine) SaveAgent(by By, a Agent) ([]Event, error) {
	a = a.Clone()
	a.Name = strings.TrimSpace(a.Name)
	if err := CheckAgent(&a, e.serviceSet()); err != nil {
		return nil, refuse(ErrInvalid, "agent %.20s: %s", a.ID, err)
	}
	if old := e.agents[a.ID]; old != nil && same(old, &a) {
		return nil, nil
	}
	return e.commit(Event{At: by.At, Type: AgentSaved, Actor: by.Actor, Agent: a.ID, AgentDef: &a}), nil
}

// RemoveAgent removes an agent who is signed out.
func (e *Engine) RemoveAgent(by By, id string) ([]Event, error) {
	if e.agents[id] == nil {
		return nil, refuse(ErrUnknownAgent, "unknown agent %.20q", id)
	}
	if st := e.agentSt[id]; st.State != AgentOffline {
		return nil, refuse(ErrAgentBusy, "agent %s is signed in at counter %s: sign them out first", id, st.Counter)
	}
	return e.commit(Event{At: by.At, Type: AgentRemoved, Actor: by.Actor, Agent: id}), nil
}

func (e *Engine) serviceSet() map[string]bool {
	m := make(map[string]bool, len(e.services))
	for id := range e.services {
		m[id] = true
	}
	return m
}

// applySite applies a change of the site: the site as it now is replaces
// the engine's, whole (a view may still hold the former one).
func (e *Engine) applySite(ev Event) {
	next := e.site.Clone()
	switch ev.Type {
	case SiteLoaded:
		if ev.Site == nil {
			return
		}
		next = ev.Site.Clone()
		e.siteHash = ev.Hash
	case SettingsSaved:
		if st := ev.Settings; st != nil {
			next.Name, next.Info, next.PublicURL = st.Name, maps.Clone(st.Info), st.PublicURL
			next.Languages = slices.Clone(st.Languages)
		}
	case PauseReasonsSaved:
		next.PauseReasons = slices.Clone(ev.Reasons)
	case BoardMessageSet:
		next.Message = maps.Clone(ev.Message)
	case ServiceSaved:
		if ev.ServiceDef == nil {
			return
		}
		sv := ev.ServiceDef.Clone()
		if i := slices.IndexFunc(next.Services, func(s Service) bool { return s.ID == sv.ID }); i >= 0 {
			next.Services[i] = sv
		} else {
			next.Services = append(next.Services, sv)
		}
	case ServiceRemoved:
		withoutService(&next, ev.Service)
	case ServiceClosed, ServiceReopened:
		for i := range next.Services {
			if s := &next.Services[i]; s.ID == ev.Service {
				s.Closed = nil
				if ev.Type == ServiceClosed {
					s.Closed = &Closure{Message: maps.Clone(ev.Message)}
				}
			}
		}
	case CounterSaved:
		if ev.CounterDef == nil {
			return
		}
		c := ev.CounterDef.Clone()
		if i := slices.IndexFunc(next.Counters, func(x Counter) bool { return x.ID == c.ID }); i >= 0 {
			next.Counters[i] = c
		} else {
			next.Counters = append(next.Counters, c)
		}
	case CounterRemoved:
		next.Counters = slices.DeleteFunc(next.Counters, func(c Counter) bool { return c.ID == ev.Counter })
	case AgentSaved:
		if ev.AgentDef == nil {
			return
		}
		a := ev.AgentDef.Clone()
		if i := slices.IndexFunc(next.Agents, func(x Agent) bool { return x.ID == a.ID }); i >= 0 {
			next.Agents[i] = a
		} else {
			next.Agents = append(next.Agents, a)
		}
	case AgentRemoved:
		next.Agents = slices.DeleteFunc(next.Agents, func(a Agent) bool { return a.ID == ev.Agent })
	}
	e.install(next, ev)
}

// install makes next the engine's site, and the live state follow: new
// counters closed, new agents signed out, new services measured from their
// expected service time; a counter that no longer exists, or whose agent
// no longer does, is closed, and the ticket it held goes back to waiting
// at its place. (Only a new site file does that: the administrator's
// operations refuse it.)
func (e *Engine) install(next Site, ev Event) {
	if next.Policy.BoardSize <= 0 {
		next.Policy.BoardSize = 10
	}
	e.site = next
	e.index()
	for id, cs := range e.counterSt {
		if e.counters[id] != nil && (cs.Agent == "" || e.agents[cs.Agent] != nil) {
			continue
		}
		if t := e.tickets[cs.Ticket]; t != nil {
			e.unhold(t, ev.At)
			e.enlane(t)
		}
		if cs.Open {
			e.setAgent(cs.Agent, AgentOffline, "", "", ev.At)
			e.releaseHolds(cs.Agent)
		}
		if e.counters[id] == nil {
			delete(e.counterSt, id)
		} else {
			cs.Open, cs.Agent, cs.Ticket = false, "", ""
		}
	}
	for id, st := range e.agentSt {
		if e.agents[id] == nil {
			if st.State != AgentOffline {
				if cs := e.counterSt[st.Counter]; cs != nil && cs.Agent == id {
					cs.Open, cs.Agent, cs.Ticket = false, "", ""
				}
			}
			e.releaseHolds(id)
			delete(e.agentSt, id)
		}
	}
	for _, c := range e.site.Counters {
		if e.counterSt[c.ID] == nil {
			e.counterSt[c.ID] = &CounterState{ID: c.ID}
		}
	}
	for _, a := range e.site.Agents {
		if e.agentSt[a.ID] == nil {
			e.agentSt[a.ID] = &AgentStatus{ID: a.ID, State: AgentOffline}
		}
	}
	for id := range e.stats {
		if e.services[id] == nil {
			delete(e.stats, id)
		}
	}
	for _, s := range e.site.Services {
		if e.stats[s.ID] == nil {
			e.stats[s.ID] = &ServiceStats{Mean: s.ServiceTime}
		}
	}
}

// withoutService removes a service and every mention of it.
func withoutService(s *Site, id string) {
	s.Services = slices.DeleteFunc(s.Services, func(sv Service) bool { return sv.ID == id })
	for i := range s.Counters {
		c := &s.Counters[i]
		if len(c.Services) > 0 {
			c.Services = slices.DeleteFunc(c.Services, func(x string) bool { return x == id })
			if len(c.Services) == 0 {
				c.Services = []string{} // served only it: RemoveService refuses; a site file would not say so
			}
		}
	}
	for i := range s.Agents {
		delete(s.Agents[i].Skills, id)
	}
}

// dropEmpty drops the languages whose text is empty.
func dropEmpty(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if v = strings.TrimSpace(v); v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// same reports whether two definitions say the same (as the log writes them).
func same[T any](a, b *T) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
