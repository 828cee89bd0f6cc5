package stats

import (
	"time"

	"guichet/hub/queue"
)

// Site is what the statistics need of the site: its zone, its services'
// names and targets, its agents' and counters' names. The projection
// records it, so that guichet stats runs without the site file.
type Site struct {
	Name     string        `json:"name"`
	Zone     string        `json:"zone"` // IANA, "Europe/Paris"
	Services []ServiceInfo `json:"services"`
	Agents   []NameInfo    `json:"agents"`
	Counters []NameInfo    `json:"counters"`
}

// ServiceInfo names a service and gives its target wait.
type ServiceInfo struct {
	ID     string            `json:"id"`
	Names  map[string]string `json:"names"`  // by language
	Target time.Duration     `json:"target"` // target wait (SLA); 0: none
}

// NameInfo is an agent's or a counter's id and name.
type NameInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func siteOf(s *queue.Site) Site {
	out := Site{Name: s.Name, Zone: s.Location.String()}
	for _, sv := range s.Services {
		out.Services = append(out.Services, ServiceInfo{ID: sv.ID, Names: sv.Names, Target: sv.SLA})
	}
	for _, a := range s.Agents {
		out.Agents = append(out.Agents, NameInfo{ID: a.ID, Name: a.Name})
	}
	for _, c := range s.Counters {
		out.Counters = append(out.Counters, NameInfo{ID: c.ID, Name: c.Name})
	}
	return out
}

// Service returns the service with id, nil if the site has none (any more).
func (s *Site) Service(id string) *ServiceInfo {
	for i := range s.Services {
		if s.Services[i].ID == id {
			return &s.Services[i]
		}
	}
	return nil
}

// ServiceName is the service's name in lang (French, then its id, failing that).
func (s *Site) ServiceName(id, lang string) string {
	if sv := s.Service(id); sv != nil {
		if n := sv.Names[lang]; n != "" {
			return n
		}
		if n := sv.Names["fr"]; n != "" {
			return n
		}
	}
	return id
}

// Target is the service's target wait, 0 if none is known.
func (s *Site) Target(id string) time.Duration {
	if sv := s.Service(id); sv != nil {
		return sv.Target
	}
	return 0
}

// AgentName is the agent's name, or its id.
func (s *Site) AgentName(id string) string { return name(s.Agents, id) }

// CounterName is the counter's name, or its id.
func (s *Site) CounterName(id string) string { return name(s.Counters, id) }

func name(l []NameInfo, id string) string {
	for _, n := range l {
		if n.ID == id && n.Name != "" {
			return n.Name
		}
	}
	return id
}
