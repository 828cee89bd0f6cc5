package console

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"guichet/hub/alerts"
	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/internal/live"
)

// MaxTickets is how many waiting and called tickets the supervision page
// lists (the oldest first); it says how many more there are.
const MaxTickets = 200

// SupervisionView is what the supervision page shows, made again at every
// change of the queue, of a device's state or of the alerts. It is
// streamed by parts (parts): each event has only the parts that changed.
type SupervisionView struct {
	Services []ServiceRef `json:"services"`
	Counters []CounterRow `json:"counters"`
	Offline  []Ref        `json:"agents_offline"` // agents not signed in
	Devices  []DeviceRow  `json:"devices"`
	Rollout  *Rollout     `json:"rollout,omitempty"` // the newest update among the devices (rollout.go)
	Unserved []LaneRef    `json:"unserved"`
	Alerts   []AlertRef   `json:"alerts"`
	Log      []AlertRef   `json:"log"`
	Tickets  []TicketRef  `json:"tickets"`         // waiting and called, oldest first
	More     int          `json:"more"`            // tickets beyond those listed
	Phone    *PhoneView   `json:"phone,omitempty"` // when the site takes calls through its telephony link
	// Screens is the message on the waiting-room screens, by language
	// (none: empty).
	Screens map[string]string `json:"screens"`
	// Site is the site's names and pause reasons (as in the page's
	// data-site): sent again when an admin changed them.
	Site SiteData `json:"site"`
	// Destinations are where the hub's events go (the CRM, webhooks…),
	// with what failed: a destination retrying or stopped, dead letters.
	Destinations []api.Destination `json:"destinations"`
}

// PhoneView is the day's calls of the telephony link, beside the visitors:
// how many wait, are in conversation, gave up, and the callbacks.
type PhoneView struct {
	Waiting          int        `json:"waiting"`
	OldestWaiting    *time.Time `json:"oldest_waiting,omitempty"`
	Talking          int        `json:"talking"`
	Abandoned        int        `json:"abandoned"`         // today
	CallbacksWaiting int        `json:"callbacks_waiting"` // "rappeler" tickets not yet done
	CallbacksDone    int        `json:"callbacks_done"`    // today
	LinesOpen        int        `json:"lines_open"`        // agents whose phone line may be offered a call
}

// CounterRow is a counter, its agent and its ticket.
type CounterRow struct {
	Ref
	Open        bool       `json:"open"`
	Agent       string     `json:"agent,omitempty"`
	AgentName   string     `json:"agent_name,omitempty"`
	State       string     `json:"state"`          // the agent's; offline when closed
	Line        bool       `json:"line,omitempty"` // the agent's phone line is open: the PBX may offer them a call
	PauseReason string     `json:"pause_reason,omitempty"`
	Since       *time.Time `json:"since,omitempty"` // in this state since
	Ticket      *TicketRef `json:"ticket,omitempty"`
}

// DeviceRow is a device with what it last published of itself.
type DeviceRow struct {
	ID       string   `json:"id"`
	Role     string   `json:"role"`
	Counter  string   `json:"counter,omitempty"`
	Disabled bool     `json:"disabled,omitempty"`
	Seen     bool     `json:"seen"` // published a state since the hub started
	Online   bool     `json:"online"`
	Version  string   `json:"version,omitempty"`
	Printer  []string `json:"printer,omitempty"` // pr_ok, pr_paper_low, pr_paper_out, pr_cover_open, pr_offline
	Outbox   int      `json:"outbox,omitempty"`
	Board    string   `json:"board,omitempty"`  // its board's health, in words (boardText)
	Hot      bool     `json:"hot,omitempty"`    // its board overheats (alerts.HotC)
	Update   string   `json:"update,omitempty"` // its update under way or last failed, in words (updateText)
}

// LaneRef is a service on a channel that nobody can serve now.
type LaneRef struct {
	Service     string `json:"service"`
	ServiceName string `json:"service_name"`
	Channel     string `json:"channel"`
}

// AlertRef is an alert, or a line of the alerts' log, in words.
type AlertRef struct {
	Key     string    `json:"key"`
	Kind    string    `json:"kind"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"` // raised (or, in the log, raised or cleared)
	Cleared bool      `json:"cleared,omitempty"`
}

func (p *Pages) supervisionPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, "supervision.html", p.frame(r, "supervision", "supervision"))
}

// supervisionEvents streams the supervision view: at every change of the
// queue, of a device's state, of the alerts.
func (p *Pages) supervisionEvents(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	chs := []func() (<-chan struct{}, func()){p.o.Hub.Watch}
	if p.o.StateChanges != nil {
		chs = append(chs, p.o.StateChanges)
	}
	if p.o.Alerts != nil {
		chs = append(chs, p.o.Alerts.Watch)
	}
	changes, cancel := merge(chs...)
	defer cancel()
	live.StreamParts(w, r, changes, p.o.Poll, ViewGap, func() []live.Part { return p.supervisionView(l).parts() })
}

// ViewGap is the least time between two views of the supervision stream
// (signals in between coalesce into one view). It is none: the changes
// that come while a view is made already coalesce, and measured with 50
// agents at work (BenchmarkConsoleActionToPages, 2 December 2026), a gap
// of a frame (16 ms) made the page later (p50 +3–4 ms) without lowering
// the hub's CPU.
const ViewGap = 0

// parts cuts the view into the parts the page draws apart, by their JSON
// names: the stream sends a part only when it changed (the whole view
// when a page connects).
func (v SupervisionView) parts() []live.Part {
	return []live.Part{
		{Name: "services", Value: v.Services}, {Name: "unserved", Value: v.Unserved},
		{Name: "counters", Value: v.Counters}, {Name: "agents_offline", Value: v.Offline},
		{Name: "tickets", Value: v.Tickets}, {Name: "more", Value: v.More},
		{Name: "devices", Value: v.Devices}, {Name: "rollout", Value: v.Rollout},
		{Name: "alerts", Value: v.Alerts}, {Name: "log", Value: v.Log},
		{Name: "phone", Value: v.Phone}, {Name: "screens", Value: v.Screens}, {Name: "site", Value: v.Site}, {Name: "destinations", Value: v.Destinations},
	}
}

// merge returns a channel signalled when any of the watched channels is
// (signals coalesce), and the func that stops watching them all.
func merge(watch ...func() (<-chan struct{}, func())) (<-chan struct{}, func()) {
	out, done := make(chan struct{}, 1), make(chan struct{})
	var stops []func()
	for _, w := range watch {
		ch, stop := w()
		stops = append(stops, stop)
		go func() {
			for {
				select {
				case <-done:
					return
				case <-ch:
					select {
					case out <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	return out, func() {
		close(done)
		for _, s := range stops {
			s()
		}
	}
}

// supervisionView is the supervision view, in lang.
func (p *Pages) supervisionView(lang string) SupervisionView {
	now := p.o.Hub.Now()
	v := SupervisionView{Services: []ServiceRef{}, Counters: []CounterRow{}, Offline: []Ref{}, Devices: []DeviceRow{},
		Unserved: []LaneRef{}, Alerts: []AlertRef{}, Log: []AlertRef{}, Tickets: []TicketRef{}}
	serviceNames := map[string]string{}
	p.o.Hub.Read(func(e *queue.Engine) {
		sums, made := p.sum.get(e, now)
		for _, s := range sums {
			r := serviceRef(e, s, made, lang)
			serviceNames[r.ID] = r.Name
			v.Services = append(v.Services, r)
		}
		for _, cs := range e.Counters() {
			c := e.Counter(cs.ID)
			row := CounterRow{Ref: Ref{ID: c.ID, Name: counterName(c), Phone: c.Takes(queue.Phone) && !c.Takes(queue.Visit)},
				Open: cs.Open, State: string(queue.AgentOffline)}
			if a := e.Agent(cs.Agent); cs.Open && a != nil {
				st, _ := e.AgentStatus(a.ID)
				row.Agent, row.AgentName, row.State, row.PauseReason, row.Since = a.ID, agentName(a), string(st.State), st.PauseReason, at(e, st.Since)
				row.Line = st.Line
			}
			if t, ok := e.Ticket(cs.Ticket); ok {
				row.Ticket = ticketRef(e, t, lang)
			}
			v.Counters = append(v.Counters, row)
		}
		for _, st := range e.Agents() {
			if st.State == queue.AgentOffline {
				v.Offline = append(v.Offline, Ref{ID: st.ID, Name: agentName(e.Agent(st.ID))})
			}
		}
		for _, l := range e.UnservedNow() {
			v.Unserved = append(v.Unserved, LaneRef{Service: l.Service, ServiceName: e.Service(l.Service).Name(lang), Channel: string(l.Channel)})
		}
		v.Phone = phoneView(e)
		_, v.Site = p.site.get(e, lang)
		v.Screens = map[string]string{}
		for l, m := range e.Site().Message {
			v.Screens[l] = m
		}
		tickets := append(e.Tickets(queue.Waiting, ""), e.Tickets(queue.Called, "")...)
		sort.SliceStable(tickets, func(i, j int) bool { return tickets[i].IssuedAt.Before(tickets[j].IssuedAt) })
		for i, t := range tickets {
			if i == MaxTickets {
				v.More = len(tickets) - MaxTickets
				break
			}
			r := ticketRef(e, t, lang)
			if r.ForAgent = e.HeldFor(t, now); r.ForAgent != "" { // "Réservé à …" only while the hold lasts
				if a := e.Agent(r.ForAgent); a != nil {
					r.ForName = agentName(a)
				}
			}
			v.Tickets = append(v.Tickets, *r)
		}
	})
	var updates map[string]*api.DeviceUpdate
	v.Devices, updates = p.devices(lang)
	v.Rollout = p.rollout(now, v.Devices, updates, lang)
	v.Destinations = []api.Destination{}
	if p.o.Destinations != nil {
		v.Destinations = append(v.Destinations, p.o.Destinations()...)
	}
	if p.o.Alerts != nil {
		for _, a := range p.o.Alerts.Active() {
			v.Alerts = append(v.Alerts, alertRef(a, a.Since, false, v.Services, lang))
		}
		for _, en := range p.o.Alerts.Recent() {
			v.Log = append(v.Log, alertRef(en.Alert, en.At, en.Cleared, v.Services, lang))
		}
	}
	return v
}

// phoneView counts the day's calls of the telephony link; nil when the
// site has none today and no agent's line is open (no telephony link).
func phoneView(e *queue.Engine) *PhoneView {
	var v PhoneView
	any := false
	for _, t := range e.Tickets("", "") {
		if t.Call == "" && t.Callback == "" {
			continue
		}
		any = true
		switch {
		case t.Callback != "" && t.State.Terminal():
			v.CallbacksDone++
		case t.Callback != "":
			v.CallbacksWaiting++
		case t.State == queue.Waiting:
			v.Waiting++
			if v.OldestWaiting == nil || t.IssuedAt.Before(*v.OldestWaiting) {
				v.OldestWaiting = at(e, t.IssuedAt)
			}
		case t.State == queue.Called || t.State == queue.Serving:
			v.Talking++
		case t.State == queue.Cancelled:
			v.Abandoned++
		}
	}
	for _, st := range e.Agents() {
		if st.Line {
			v.LinesOpen++
			any = true
		}
	}
	if !any {
		return nil
	}
	return &v
}

// devices lists the registered devices with their last published state, in
// lang, and their update states by id.
func (p *Pages) devices(lang string) ([]DeviceRow, map[string]*api.DeviceUpdate) {
	out := []DeviceRow{}
	updates := map[string]*api.DeviceUpdate{}
	if p.o.Devices == nil {
		return out, updates
	}
	devs, err := p.o.Devices.List()
	if err != nil {
		p.log.Warn("supervision: devices", "err", err)
		return out, updates
	}
	for _, d := range devs {
		row := DeviceRow{ID: d.ID, Role: d.Role, Counter: d.Counter, Disabled: d.Disabled}
		if p.o.State != nil {
			if st, ok := p.o.State(d.ID); ok {
				row.Seen, row.Online, row.Version, row.Outbox = true, st.Online, st.Version, st.Outbox
				row.Printer = printer(st.Printer)
				row.Board, row.Hot = boardText(st.Health, p.o.Hub.Now(), lang)
				if st.Health != nil && st.Health.Update != nil {
					updates[d.ID] = st.Health.Update
					row.Update = updateText(st.Health.Update, lang)
				}
			}
		}
		out = append(out, row)
	}
	return out, updates
}

// boardText says a board's health in lang — "61,2 °C · allumé depuis 3 j
// · 8,8 Gio libres · usure ≤ 30 %" — and whether it overheats. Its uptime
// is counted from its boot by the hub's clock; a boot the device dates in
// the future (its clock is its own) is not shown.
func boardText(h *api.DeviceHealth, now time.Time, lang string) (string, bool) {
	if h == nil {
		return "", false
	}
	fr := lang != "en"
	num := func(f float64, prec int) string {
		s := strconv.FormatFloat(f, 'f', prec, 64)
		if fr {
			s = strings.Replace(s, ".", ",", 1)
		}
		return s
	}
	var parts []string
	hot := false
	if h.TempC != nil {
		parts = append(parts, num(*h.TempC, 1)+" °C")
		hot = *h.TempC >= alerts.HotC
	}
	if h.BootedAt != nil && !h.BootedAt.After(now) {
		up := now.Sub(*h.BootedAt)
		var d string
		switch {
		case up >= 24*time.Hour:
			d = fmt.Sprintf("%d %s", int(up.Hours()/24), map[bool]string{true: "j", false: "d"}[fr])
		case up >= time.Hour:
			d = fmt.Sprintf("%d h", int(up.Hours()))
		default:
			d = fmt.Sprintf("%d min", int(up.Minutes()))
		}
		parts = append(parts, map[bool]string{true: "allumé depuis ", false: "up "}[fr]+d)
	}
	if h.DiskFreeMB != nil {
		parts = append(parts, num(float64(*h.DiskFreeMB)/1024, 1)+map[bool]string{true: " Gio libres", false: " GiB free"}[fr])
	}
	if h.WearPct != nil {
		parts = append(parts, map[bool]string{true: "usure ≤ ", false: "wear ≤ "}[fr]+strconv.Itoa(*h.WearPct)+map[bool]string{true: " %", false: "%"}[fr])
	}
	return strings.Join(parts, " · "), hot
}

// printer names a printer's health as texts' keys.
func printer(h *api.PrinterHealth) []string {
	if h == nil {
		return nil
	}
	var out []string
	for _, f := range []struct {
		on  bool
		key string
	}{{h.PaperOut, "pr_paper_out"}, {h.PaperLow && !h.PaperOut, "pr_paper_low"}, {h.CoverOpen, "pr_cover_open"}, {h.Offline, "pr_offline"}} {
		if f.on {
			out = append(out, f.key)
		}
	}
	if len(out) == 0 && h.OK {
		out = append(out, "pr_ok")
	}
	return out
}

// alertRef says an alert in words.
func alertRef(a alerts.Alert, when time.Time, cleared bool, services []ServiceRef, lang string) AlertRef {
	r := AlertRef{Key: a.Key(), Kind: string(a.Kind), At: when, Cleared: cleared}
	switch a.Kind {
	case alerts.WaitPastTarget:
		name, target := a.Service, ""
		for _, s := range services {
			if s.ID == a.Service {
				name, target = s.Name, duration(lang, time.Duration(s.TargetS)*time.Second)
			}
		}
		r.Text = T(lang, "k_"+string(a.Kind), name, target)
	default:
		r.Text = T(lang, "k_"+string(a.Kind), a.Device)
	}
	return r
}
