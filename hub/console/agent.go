package console

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"guichet/hub/auth"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/internal/live"
)

// MaxNext is how many of the candidates of "who comes next" the console shows.
const MaxNext = 5

// AgentView is what the agent console shows of its agent, made again at
// every change of the queue: the counter open with the agent (or those
// they may open), the current ticket, what each button may do now, who
// comes next and why, and the waits of the agent's services.
type AgentView struct {
	Agent       string     `json:"agent"`
	AgentName   string     `json:"agent_name"`
	NoAgent     bool       `json:"no_agent,omitempty"` // the account is no agent of the site
	State       string     `json:"state"`              // queue.AgentState
	PauseReason string     `json:"pause_reason,omitempty"`
	Since       *time.Time `json:"since,omitempty"` // in this state since
	Counter     *Ref       `json:"counter,omitempty"`
	Ticket      *TicketRef `json:"ticket,omitempty"`
	// Can says which of the console's actions the agent may do now (the
	// hub decides; the page only does not offer the others).
	Can      Can          `json:"can"`
	Next     []NextRef    `json:"next"`
	Services []ServiceRef `json:"services"`
	Choices  []Choice     `json:"choices,omitempty"` // when no counter is open
	// Sectors are the citizen file's sectors the agent writes notes in
	// (those of the services they have skills in), the current ticket's
	// service's first.
	Sectors []crm.Sector `json:"sectors,omitempty"`
	// SiteVersion names the site's names and reasons the view was made
	// with; Site carries them when they are not those the page knows.
	SiteVersion string    `json:"site_version"`
	Site        *SiteData `json:"site,omitempty"`
}

// Can are the console's actions, each possible now or not.
type Can struct {
	CallNext bool `json:"call_next"`
	Recall   bool `json:"recall"`
	Start    bool `json:"start"`
	Finish   bool `json:"finish"`
	NoShow   bool `json:"no_show"`
	Transfer bool `json:"transfer"`
	Pause    bool `json:"pause"`
	Resume   bool `json:"resume"`
	Close    bool `json:"close"`
}

// Ref names a counter, a service or an agent.
type Ref struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone bool   `json:"phone,omitempty"` // a counter taking phone calls only
}

// TicketRef is a ticket as the staff's pages show it. Note is the last
// transfer's note: the pages show it as text, never as markup.
type TicketRef struct {
	ID          string     `json:"id"`
	Number      string     `json:"number"`
	Service     string     `json:"service"`
	ServiceName string     `json:"service_name"`
	Channel     string     `json:"channel"`
	Priority    string     `json:"priority"`
	State       string     `json:"state"`
	IssuedAt    time.Time  `json:"issued_at"`
	CalledAt    *time.Time `json:"called_at,omitempty"`
	Recalls     int        `json:"recalls,omitempty"`
	Transfers   int        `json:"transfers,omitempty"`
	Counter     string     `json:"counter,omitempty"`
	CounterName string     `json:"counter_name,omitempty"`
	Note        string     `json:"note,omitempty"`
	ForAgent    string     `json:"for_agent,omitempty"` // supervision: held for this agent, while the hold lasts
	ForName     string     `json:"for_agent_name,omitempty"`
	// Phone is "call" for a call of the telephone system, "callback" for
	// a callback to make, "" otherwise: never the number (the call panel
	// asks for the caller with GET /api/v1/tickets/{id}/caller).
	Phone string `json:"phone,omitempty"`
	// Citizen is the id of the citizen file the ticket is attached to.
	Citizen string `json:"citizen,omitempty"`
}

// NextRef is a candidate of call next, with why, in the page's language.
type NextRef struct {
	Number      string `json:"number"`
	ServiceName string `json:"service_name"`
	Channel     string `json:"channel"`
	Tier        string `json:"tier"`
	TierText    string `json:"tier_text"`
	Why         string `json:"why"`
}

// ServiceRef is a service's waits. Oldest is when its longest-waiting
// ticket was issued: the page counts the wait from it.
type ServiceRef struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	Waiting         int        `json:"waiting"`
	WaitingPhone    int        `json:"waiting_phone"`
	Oldest          *time.Time `json:"oldest,omitempty"`
	EstimatedS      *int       `json:"estimated_s"`
	EstimatedPhoneS *int       `json:"estimated_phone_s"`
	TargetS         int        `json:"target_s"`
	Agents          float64    `json:"agents"`
	Channels        []string   `json:"channels"`
	Closed          bool       `json:"closed,omitempty"`         // outside its hours, or closed to new tickets
	ClosedToNew     bool       `json:"closed_to_new,omitempty"`  // by a supervisor, whatever its hours
	ClosedMessage   string     `json:"closed_message,omitempty"` // the kiosks' message for it, in the page's language
}

// Choice is a counter an agent may open, or may not and why.
type Choice struct {
	Ref
	Open    bool   `json:"open"`               // open now (TakenBy's)
	TakenBy string `json:"taken_by,omitempty"` // the agent's name
	Skilled bool   `json:"skilled"`            // serves one of the agent's services
}

// SiteData is what the pages know of the site beside their views: the
// names of its services, counters and agents (for what the page reads from
// the log, and where a ticket may be transferred) and the pause reasons.
// It is written into the page, not sent with every view (a console's view
// is made again for every console at every change of the queue): a stream
// sends it again only when an admin changed it (siteCache's version).
type SiteData struct {
	Services []ServiceName `json:"services"`
	Counters []Ref         `json:"counters"`
	Agents   []Ref         `json:"agents"`
	Reasons  []string      `json:"reasons"`
}

// ServiceName is a service's name and the channels it takes.
type ServiceName struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Channels []string `json:"channels"`
}

func (p *Pages) agentPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, "agent.html", p.frame(r, "agent", "console"))
}

// agentEvents streams the agent's view.
func (p *Pages) agentEvents(w http.ResponseWriter, r *http.Request) {
	pr, l := auth.From(r.Context()), lang(r)
	changes, cancel := p.o.Hub.Watch()
	defer cancel()
	known := r.URL.Query().Get("site") // the site's version the page was made with
	live.Stream(w, r, changes, p.o.Poll, func() any {
		v := p.agentView(pr.Agent, l, known)
		known = v.SiteVersion
		return v
	})
}

// agentView is agent's view, in lang, for a page that knows the site's
// version known (the site's names and reasons go with it when it changed).
func (p *Pages) agentView(agent, lang, known string) AgentView {
	now := p.o.Hub.Now()
	v := AgentView{Agent: agent, Next: []NextRef{}, Services: []ServiceRef{}}
	p.o.Hub.Read(func(e *queue.Engine) {
		ver, sd := p.site.get(e, lang)
		if v.SiteVersion = ver; ver != known {
			v.Site = &sd
		}
		a := e.Agent(agent)
		if a == nil {
			v.NoAgent, v.State = true, string(queue.AgentOffline)
			return
		}
		v.AgentName = agentName(a)
		st, _ := e.AgentStatus(agent)
		v.State, v.PauseReason = string(st.State), st.PauseReason
		if !st.Since.IsZero() {
			v.Since = at(e, st.Since)
		}
		v.Services = p.agentServices(e, a, now, lang)
		cs, open := e.CounterState(st.Counter)
		if st.State == queue.AgentOffline || !open || !cs.Open || cs.Agent != agent {
			v.Choices = choices(e, a)
			return
		}
		c := e.Counter(cs.ID)
		v.Counter = &Ref{ID: c.ID, Name: c.Name, Phone: c.Takes(queue.Phone) && !c.Takes(queue.Visit)}
		var held *queue.Ticket
		if t, ok := e.Ticket(cs.Ticket); ok {
			held = &t
			v.Ticket = ticketRef(e, t, lang)
		}
		v.Sectors = p.sectors(e, a, held)
		paused := st.State == queue.AgentPaused
		called := held != nil && held.State == queue.Called
		serving := held != nil && (held.State == queue.Called || held.State == queue.Serving)
		v.Can = Can{CallNext: !paused, Recall: called, Start: called, Finish: serving, NoShow: called, Transfer: serving,
			Pause: held == nil && !paused, Resume: paused, Close: held == nil}
		if d, err := e.Explain(now, c.ID); err == nil {
			for i, cd := range d.Candidates {
				if i == MaxNext {
					break
				}
				v.Next = append(v.Next, nextRef(e, cd, lang))
			}
		}
	})
	return v
}

// pauseReasons are the reasons the consoles offer for a pause: the site's
// list (set in /admin/pauses), or DefaultPauseReasons when it has none.
func pauseReasons(e *queue.Engine) []string {
	if r := e.Site().PauseReasons; len(r) > 0 {
		return slices.Clone(r)
	}
	return slices.Clone(DefaultPauseReasons)
}

// DefaultPauseReasons are offered when the site has no list of its own.
var DefaultPauseReasons = []string{"Pause", "Réunion", "Tâche administrative", "Formation", "Renfort à l'accueil"}

func at(e *queue.Engine, t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.In(e.Site().Location)
	return &t
}

func agentName(a *queue.Agent) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

func counterName(c *queue.Counter) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// siteData is the site's names in lang, and its pause reasons.
func siteData(e *queue.Engine, lang string) SiteData {
	d := SiteData{Services: []ServiceName{}, Counters: []Ref{}, Agents: []Ref{}, Reasons: pauseReasons(e)}
	s := e.Site()
	for i := range s.Services {
		sv := &s.Services[i]
		n := ServiceName{ID: sv.ID, Name: sv.Name(lang), Channels: []string{}}
		for _, c := range sv.Channels {
			n.Channels = append(n.Channels, string(c))
		}
		d.Services = append(d.Services, n)
	}
	for i := range s.Counters {
		d.Counters = append(d.Counters, Ref{ID: s.Counters[i].ID, Name: counterName(&s.Counters[i])})
	}
	for i := range s.Agents {
		d.Agents = append(d.Agents, Ref{ID: s.Agents[i].ID, Name: agentName(&s.Agents[i])})
	}
	return d
}

func ticketRef(e *queue.Engine, t queue.Ticket, lang string) *TicketRef {
	r := &TicketRef{ID: t.ID, Number: t.Display(), Service: t.Service, ServiceName: t.Service, Channel: string(t.Channel),
		Priority: string(t.Priority), State: string(t.State), IssuedAt: t.IssuedAt.In(e.Site().Location), CalledAt: at(e, t.CalledAt),
		Recalls: t.Recalls, Transfers: t.Transfers, Counter: t.Counter}
	if s := e.Service(t.Service); s != nil {
		r.ServiceName = s.Name(lang)
	}
	if c := e.Counter(t.Counter); c != nil {
		r.CounterName = counterName(c)
	}
	ticketExtras(r, t)
	return r
}

// ticketExtras adds what the ticket carries beyond its state: its last
// transfer's note (text, shown as text). Whom a waiting ticket is held for
// depends on the time: see queue.Engine.HeldFor.
func ticketExtras(r *TicketRef, t queue.Ticket) {
	r.Note, r.Citizen = t.Note, t.Citizen
	switch {
	case t.Callback != "":
		r.Phone = "callback"
	case t.Call != "":
		r.Phone = "call"
	}
}

// skilled reports whether agent a may serve some service at counter c.
func skilled(e *queue.Engine, c *queue.Counter, a *queue.Agent) bool {
	for _, s := range e.Site().Services {
		if a.Skills[s.ID] > 0 && c.Serves(s.ID) && (c.Takes(queue.Visit) && s.Takes(queue.Visit) || c.Takes(queue.Phone) && s.Takes(queue.Phone)) {
			return true
		}
	}
	return false
}

// choices lists the site's counters for agent a to choose from.
func choices(e *queue.Engine, a *queue.Agent) []Choice {
	var out []Choice
	for _, c := range e.Site().Counters {
		cs, _ := e.CounterState(c.ID)
		ch := Choice{Ref: Ref{ID: c.ID, Name: counterName(&c), Phone: c.Takes(queue.Phone) && !c.Takes(queue.Visit)},
			Open: cs.Open, Skilled: skilled(e, &c, a)}
		if cs.Open {
			ch.TakenBy = cs.Agent
			if o := e.Agent(cs.Agent); o != nil {
				ch.TakenBy = agentName(o)
			}
		}
		out = append(out, ch)
	}
	return out
}

// agentServices lists the waits of the services agent a is skilled for.
func (p *Pages) agentServices(e *queue.Engine, a *queue.Agent, now time.Time, lang string) []ServiceRef {
	out := []ServiceRef{}
	sums, at := p.sum.get(e, now)
	for _, s := range sums {
		if a.Skills[s.Service] > 0 {
			out = append(out, serviceRef(e, s, at, lang))
		}
	}
	return out
}

// serviceRef is a service's line of the summary made at now.
func serviceRef(e *queue.Engine, s queue.ServiceSummary, now time.Time, lang string) ServiceRef {
	svc := e.Service(s.Service)
	r := ServiceRef{ID: s.Service, Name: svc.Name(lang), Waiting: s.Waiting, WaitingPhone: s.WaitingPhone,
		TargetS: int(svc.SLA.Seconds()), Agents: s.Agents, Closed: !s.Open}
	for _, c := range svc.Channels {
		r.Channels = append(r.Channels, string(c))
	}
	if s.Waiting > 0 {
		r.Oldest = at(e, now.Add(-s.LongestWait))
	}
	if s.Estimated {
		w := int(s.EstimatedWait.Seconds())
		r.EstimatedS = &w
	}
	if s.EstimatedPhone {
		w := int(s.EstimatedWaitPhone.Seconds())
		r.EstimatedPhoneS = &w
	}
	serviceExtras(e, &r, lang)
	return r
}

// serviceExtras adds what a service carries beyond the summary: closed to
// new tickets by a supervisor, and the message the kiosks show for it.
func serviceExtras(e *queue.Engine, r *ServiceRef, lang string) {
	if sv := e.Service(r.ID); sv != nil && sv.Closed != nil {
		r.ClosedToNew = true
		r.ClosedMessage = sv.Closed.Message[lang]
		if r.ClosedMessage == "" {
			r.ClosedMessage = sv.Closed.Message["fr"]
		}
	}
}

// nextRef says a candidate of call next and why, in lang: the policy's
// tier, and the numbers that placed it (hub/queue's policy.go).
func nextRef(e *queue.Engine, cd queue.Candidate, lang string) NextRef {
	n := NextRef{Number: cd.Ticket, ServiceName: cd.Service, Channel: string(cd.Channel), Tier: string(cd.Tier),
		TierText: T(lang, "tier_"+string(cd.Tier))}
	s := e.Service(cd.Service)
	if s != nil {
		n.ServiceName = s.Name(lang)
	}
	wait := duration(lang, cd.Wait)
	switch cd.Tier {
	case queue.TierAppointmentDue:
		t, _ := e.Ticket(cd.TicketID)
		n.Why = T(lang, "why_appointment", t.AppointmentAt.In(e.Site().Location).Format("15:04"))
	case queue.TierPriority:
		n.Why = T(lang, "why_priority", wait)
	case queue.TierOverdue:
		sla := time.Duration(0)
		if s != nil {
			sla = s.SLA
		}
		n.Why = T(lang, "why_overdue", wait, duration(lang, sla))
	case queue.TierWeightedWait:
		weight := 1.0
		if s != nil && s.Weight > 0 {
			weight = s.Weight
		}
		n.Why = T(lang, "why_wait", wait, strconv.FormatFloat(weight, 'g', 3, 64), cd.Level)
	default:
		n.Why, n.TierText = cd.Why, string(cd.Tier)
	}
	return n
}

// duration says d in minutes (hours and minutes past an hour), rounded down.
func duration(lang string, d time.Duration) string {
	switch m := int(d / time.Minute); {
	case d < time.Minute:
		return "< " + T(lang, "min", 1)
	case m < 60:
		return T(lang, "min", m)
	default:
		return T(lang, "h_min", m/60, m%60)
	}
}

// sectors are the sectors agent a writes notes in: those of the services
// they have skills in (crm.SectorAccueil for a service Options.Sectors
// does not name), the sector of held's service first.
func (p *Pages) sectors(e *queue.Engine, a *queue.Agent, held *queue.Ticket) []crm.Sector {
	of := func(svc string) crm.Sector {
		if s, ok := p.o.Sectors[svc]; ok {
			return s
		}
		return crm.SectorAccueil
	}
	var out []crm.Sector
	for _, s := range e.Site().Services {
		if a.Skills[s.ID] > 0 && !slices.Contains(out, of(s.ID)) {
			out = append(out, of(s.ID))
		}
	}
	slices.Sort(out)
	if held != nil {
		if i := slices.Index(out, of(held.Service)); i > 0 {
			out = append([]crm.Sector{out[i]}, slices.Delete(out, i, i+1)...)
		}
	}
	return out
}
