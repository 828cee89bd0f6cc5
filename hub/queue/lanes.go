package queue

// A lane, here, is a service and a channel the service takes: "État civil
// by phone". A lane is served when some counter takes its channel and serves
// its service, with an agent skilled for the service sitting there. A lane
// nobody can serve is a queue whose tickets wait forever: the configuration
// check names them before a day starts (Unserved, with a staffing or with
// any agent at any counter), and supervision names them live (UnservedNow,
// with the counters open now).

// Lane is a service on a channel.
type Lane struct {
	Service string  `json:"service"`
	Channel Channel `json:"channel"`
}

// Unserved lists, in site order, the lanes no counter can take with the
// given staffing (counter id → agent id). With a nil staffing any agent may
// sit at any counter: what is left is what no staffing can serve.
func (s *Site) Unserved(staff map[string]string) []Lane {
	agents := map[string]*Agent{}
	for i := range s.Agents {
		agents[s.Agents[i].ID] = &s.Agents[i]
	}
	return s.unserved(func(c *Counter, service string) bool {
		if staff == nil {
			for _, a := range s.Agents {
				if a.Skills[service] > 0 {
					return true
				}
			}
			return false
		}
		a := agents[staff[c.ID]]
		return a != nil && a.Skills[service] > 0
	})
}

// UnservedNow lists the lanes of the services open at the engine's last
// event that no open counter, with the agent signed in there, can take now.
func (e *Engine) UnservedNow() []Lane {
	return e.site.unserved(func(c *Counter, service string) bool {
		cs := e.counterSt[c.ID]
		if cs == nil || !cs.Open {
			return false
		}
		a := e.agents[cs.Agent]
		return a != nil && a.Skills[service] > 0
	})
}

// unserved lists the lanes for which no counter takes the channel, serves
// the service and is staffed (staffed says whether it is, for a service).
func (s *Site) unserved(staffed func(c *Counter, service string) bool) []Lane {
	var out []Lane
	for _, svc := range s.Services {
		for _, ch := range svc.Channels {
			served := false
			for i := range s.Counters {
				c := &s.Counters[i]
				if c.Takes(ch) && c.Serves(svc.ID) && staffed(c, svc.ID) {
					served = true
					break
				}
			}
			if !served {
				out = append(out, Lane{svc.ID, ch})
			}
		}
	}
	return out
}
