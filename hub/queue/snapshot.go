package queue

import "sort"

// Snapshot is the engine's whole state at one point of the log, so that a
// restart need not replay the log from its beginning.
type Snapshot struct {
	Day      string                   `json:"day"`
	Applied  int64                    `json:"applied"`
	Tickets  []Ticket                 `json:"tickets"`
	Retired  []string                 `json:"retired"`
	Counters []CounterState           `json:"counters"`
	Agents   []AgentStatus            `json:"agents"`
	Numbers  []NumberState            `json:"numbers"`
	Leases   []Lease                  `json:"leases"`
	Board    []Call                   `json:"board"`
	Stats    map[string]*ServiceStats `json:"stats"`
	Appts    []Appointment            `json:"appointments,omitempty"`
	// The site as it was (absent from the snapshots of older builds: the
	// engine's own is kept), and the site file's hash last recorded.
	Site     *Site  `json:"site,omitempty"`
	SiteHash string `json:"site_hash,omitempty"`
}

// NumberState is the next number the hub hands out for a service and day,
// and where the next block leased to kiosks starts.
type NumberState struct {
	Service   string `json:"service"`
	Day       string `json:"day"`
	Next      int    `json:"next,omitempty"`
	NextLease int    `json:"next_lease,omitempty"`
}

// Snapshot returns a deep copy of the engine's state.
func (e *Engine) Snapshot() Snapshot {
	site := e.site.Clone()
	s := Snapshot{Day: e.day, Applied: e.applied, Board: e.Board(), Stats: map[string]*ServiceStats{},
		Retired: append([]string(nil), e.retired...), Site: &site, SiteHash: e.siteHash}
	s.Tickets = make([]Ticket, 0, len(e.tickets))
	for _, t := range e.tickets {
		s.Tickets = append(s.Tickets, *t)
	}
	sort.Slice(s.Tickets, func(i, j int) bool { return s.Tickets[i].before(&s.Tickets[j]) })
	for _, c := range e.counterSt {
		s.Counters = append(s.Counters, *c)
	}
	for _, a := range e.agentSt {
		s.Agents = append(s.Agents, *a)
	}
	keys := map[numKey]bool{}
	for k := range e.next {
		keys[k] = true
	}
	for k := range e.nextLease {
		keys[k] = true
	}
	for k := range keys {
		s.Numbers = append(s.Numbers, NumberState{k.prefix, k.day, e.next[k], e.nextLease[k]})
	}
	for _, ls := range e.leasesOf {
		for _, l := range ls {
			s.Leases = append(s.Leases, l.clone())
		}
	}
	for id, st := range e.stats {
		c := *st
		s.Stats[id] = &c
	}
	for _, a := range e.appts {
		s.Appts = append(s.Appts, *a)
	}
	sort.Slice(s.Appts, func(i, j int) bool { return s.Appts[i].Code < s.Appts[j].Code })
	sort.Slice(s.Counters, func(i, j int) bool { return s.Counters[i].ID < s.Counters[j].ID })
	sort.Slice(s.Agents, func(i, j int) bool { return s.Agents[i].ID < s.Agents[j].ID })
	sort.Slice(s.Numbers, func(i, j int) bool {
		a, b := s.Numbers[i], s.Numbers[j]
		return a.Day < b.Day || a.Day == b.Day && a.Service < b.Service
	})
	sort.Slice(s.Leases, func(i, j int) bool {
		a, b := s.Leases[i], s.Leases[j]
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.From < b.From
	})
	return s
}

// Restore replaces the engine's state with a snapshot, and its site with
// the snapshot's (a snapshot without one keeps the engine's). Counters,
// agents and services no longer in the site are dropped. The engine keeps
// nothing of s: s can be restored again later, whatever the engine did.
func (e *Engine) Restore(s Snapshot) {
	if s.Site != nil {
		e.site, e.siteHash = s.Site.Clone(), s.SiteHash
		if e.site.Policy.BoardSize <= 0 {
			e.site.Policy.BoardSize = 10
		}
		e.index()
	}
	e.reset()
	e.day, e.applied = s.Day, s.Applied
	for i := range s.Tickets {
		t := s.Tickets[i]
		e.tickets[t.ID] = &t
		if t.Token != "" {
			e.byToken[t.Token] = &t
		}
		if t.State == Waiting {
			e.enlane(&t)
		}
		e.indexCall(&t)
		e.remember(&t) // in issue order: the snapshot's tickets are sorted so
	}
	for _, id := range s.Retired {
		if e.tickets[id] != nil {
			e.retired = append(e.retired, id)
		}
	}
	for _, c := range s.Counters {
		if e.counterSt[c.ID] != nil {
			c := c
			e.counterSt[c.ID] = &c
		}
	}
	for _, a := range s.Agents {
		if e.agentSt[a.ID] != nil {
			a := a
			e.agentSt[a.ID] = &a
		}
	}
	for _, n := range s.Numbers {
		if n.Next > 0 {
			e.next[numKey{n.Service, n.Day}] = n.Next
		}
		if n.NextLease > 0 {
			e.nextLease[numKey{n.Service, n.Day}] = n.NextLease
		}
	}
	for i := range s.Leases {
		l := s.Leases[i].clone() // the engine's own used numbers: s may be restored again
		e.addLease(&l)
	}
	for _, a := range s.Appts {
		a := a
		e.appts[a.Code] = &a
	}
	e.board = append([]Call(nil), s.Board...)
	for id, st := range s.Stats {
		if e.stats[id] != nil {
			c := *st
			e.stats[id] = &c
		}
	}
}
