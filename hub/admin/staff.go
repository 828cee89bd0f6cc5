package admin

import (
	"net/http"
	"strconv"
	"strings"

	"guichet/hub"
	"guichet/hub/queue"
)

// The counters and the agents.

// serviceRef names a service in a form's choices.
type serviceRef struct {
	ID, Name string
}

func (p *Pages) serviceRefs(l string) []serviceRef {
	var out []serviceRef
	p.o.Hub.Read(func(e *queue.Engine) {
		for _, s := range e.Site().Services {
			out = append(out, serviceRef{s.ID, s.Name(l)})
		}
	})
	return out
}

type counterForm struct {
	New       bool
	Counter   queue.Counter
	Services  []serviceRef
	CanDelete bool
}

type counterRow struct {
	queue.Counter
	Open  bool
	Agent string
}

func (p *Pages) counterRows() []counterRow {
	var list []counterRow
	p.o.Hub.Read(func(e *queue.Engine) {
		for _, c := range e.Site().Counters {
			cs, _ := e.CounterState(c.ID)
			list = append(list, counterRow{c.Clone(), cs.Open, cs.Agent})
		}
	})
	return list
}

func (p *Pages) counters(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "counters", page{Title: T(lang(r), "counters"), Nav: "counters", Data: p.counterRows()})
}

func (p *Pages) counterForm(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	f := counterForm{New: true, Services: p.serviceRefs(l)}
	if id := r.PathValue("id"); id != "" {
		found := false
		p.o.Hub.Read(func(e *queue.Engine) {
			if c := e.Counter(id); c != nil {
				f.Counter, found = c.Clone(), true
			}
		})
		if !found {
			http.NotFound(w, r)
			return
		}
		f.New, f.CanDelete = false, true
	}
	title := T(l, "new_counter")
	if !f.New {
		title = f.Counter.Name
	}
	p.render(w, r, http.StatusOK, "counter", page{Title: title, Nav: "counters", Data: f})
}

func (p *Pages) saveCounter(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	c := queue.Counter{ID: strings.TrimSpace(r.PostFormValue("id")), Name: r.PostFormValue("name"), Services: r.PostForm["services"]}
	for _, ch := range r.PostForm["channels"] {
		c.Channels = append(c.Channels, queue.Channel(ch))
	}
	f := counterForm{New: r.PostFormValue("new") != "", Counter: c, Services: p.serviceRefs(l)}
	f.CanDelete = !f.New
	if f.New {
		exists := false
		p.o.Hub.Read(func(e *queue.Engine) { exists = e.Counter(c.ID) != nil })
		if exists {
			p.refused(w, r, "counter", "counters", T(l, "exists_counter", c.ID), f)
			return
		}
	}
	if msg, ok := p.do(r, hub.SaveCounter(c)); !ok {
		p.refused(w, r, "counter", "counters", msg, f)
		return
	}
	http.Redirect(w, r, "/admin/counters?ok=1", http.StatusSeeOther)
}

func (p *Pages) deleteCounter(w http.ResponseWriter, r *http.Request) {
	if msg, ok := p.do(r, hub.RemoveCounter(r.PathValue("id"))); !ok {
		p.render(w, r, http.StatusUnprocessableEntity, "counters", page{Title: T(lang(r), "counters"), Nav: "counters", Error: msg, Data: p.counterRows()})
		return
	}
	http.Redirect(w, r, "/admin/counters?ok=1", http.StatusSeeOther)
}

// agentForm is an agent as its form shows it: skills a level per service,
// working hours a line per day (none on any day: no stated hours).
type agentForm struct {
	New       bool
	Agent     queue.Agent
	Services  []serviceRef
	Days      []dayHours
	CanDelete bool
}

type agentRow struct {
	queue.Agent
	State, Counter string
	Skills         string
}

func (p *Pages) agents(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "agents", page{Title: T(lang(r), "agents"), Nav: "agents", Data: p.agentRows()})
}

func (p *Pages) agentRows() []agentRow {
	var list []agentRow
	p.o.Hub.Read(func(e *queue.Engine) {
		for _, a := range e.Site().Agents {
			st, _ := e.AgentStatus(a.ID)
			var skills []string
			for _, s := range e.Site().Services {
				if lvl := a.Skills[s.ID]; lvl > 0 {
					skills = append(skills, s.ID+" "+strconv.Itoa(lvl))
				}
			}
			list = append(list, agentRow{a.Clone(), string(st.State), st.Counter, strings.Join(skills, ", ")})
		}
	})
	return list
}

func (p *Pages) agentForm(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	f := agentForm{New: true, Services: p.serviceRefs(l), Agent: queue.Agent{Skills: map[string]int{}}}
	if id := r.PathValue("id"); id != "" {
		found := false
		p.o.Hub.Read(func(e *queue.Engine) {
			if a := e.Agent(id); a != nil {
				f.Agent, found = a.Clone(), true
			}
		})
		if !found {
			http.NotFound(w, r)
			return
		}
		f.New, f.CanDelete = false, true
	}
	f.Days = weekDays(f.Agent.Hours, l)
	title := T(l, "new_agent")
	if !f.New {
		title = T(l, "agents") + " — " + f.Agent.ID
	}
	p.render(w, r, http.StatusOK, "agent", page{Title: title, Nav: "agents", Data: f})
}

func (p *Pages) saveAgent(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	a := queue.Agent{ID: strings.TrimSpace(r.PostFormValue("id")), Name: r.PostFormValue("name"), Skills: map[string]int{}}
	f := agentForm{New: r.PostFormValue("new") != "", Services: p.serviceRefs(l)}
	for _, s := range f.Services {
		if lvl, err := strconv.Atoi(r.PostFormValue("skill_" + s.ID)); err == nil && lvl > 0 {
			a.Skills[s.ID] = lvl
		}
	}
	days, week, problem := parseWeek(r, l, T(l, "agent_hours"))
	a.Hours = queue.NewHours(week, nil) // an agent's hours have no closed dates
	f.Agent, f.Days, f.CanDelete = a, days, !f.New
	if problem != "" {
		p.refused(w, r, "agent", "agents", problem, f)
		return
	}
	exists := false
	p.o.Hub.Read(func(e *queue.Engine) { exists = e.Agent(a.ID) != nil })
	if f.New && exists {
		p.refused(w, r, "agent", "agents", T(l, "exists_agent", a.ID), f)
		return
	}
	if msg, ok := p.do(r, hub.SaveAgent(a)); !ok {
		p.refused(w, r, "agent", "agents", msg, f)
		return
	}
	http.Redirect(w, r, "/admin/agents?ok=1", http.StatusSeeOther)
}

func (p *Pages) deleteAgent(w http.ResponseWriter, r *http.Request) {
	if msg, ok := p.do(r, hub.RemoveAgent(r.PathValue("id"))); !ok {
		p.render(w, r, http.StatusUnprocessableEntity, "agents", page{Title: T(lang(r), "agents"), Nav: "agents", Error: msg, Data: p.agentRows()})
		return
	}
	http.Redirect(w, r, "/admin/agents?ok=1", http.StatusSeeOther)
}
