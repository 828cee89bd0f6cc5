package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/queue"
)

// Site is what the mapping needs to know of the site: its id and time
// zone, and the names of its services (in French), counters and agents as
// they are now.
type Site struct {
	ID       string
	Location *time.Location
	Services map[string]string
	Counters map[string]string
	Agents   map[string]string
}

// SiteOf reads a queue.Site.
func SiteOf(s *queue.Site) Site {
	out := Site{ID: s.ID, Location: s.Location, Services: map[string]string{}, Counters: map[string]string{}, Agents: map[string]string{}}
	for i := range s.Services {
		out.Services[s.Services[i].ID] = s.Services[i].Name("fr")
	}
	for _, c := range s.Counters {
		out.Counters[c.ID] = c.Name
	}
	for _, a := range s.Agents {
		out.Agents[a.ID] = a.Name
	}
	if out.Location == nil {
		out.Location = time.UTC
	}
	return out
}

// Personal reports whether an event never leaves the hub: the identity
// layer's account.* events carry agents' addresses and comings and goings
// (kept in the log for the audit only). The identity layer says which.
func Personal(ev queue.Event) bool { return auth.Personal(ev) }

// TicketLog reads one ticket's history (hub/store's TicketEvents).
type TicketLog interface {
	TicketEvents(ctx context.Context, ticket string) ([]queue.Event, error)
}

// ticket is what the mapping knows of a ticket as of an event: the facts a
// later event (called, served…) does not repeat.
type ticket struct {
	seq                 int64 // as of this event
	prefix, service     string
	number              int
	day                 string
	channel, priority   string
	issuedAt, appointAt time.Time
	citizen             string // only shown to CRM destinations
}

func (t *ticket) apply(ev queue.Event) {
	t.seq = ev.Seq
	switch ev.Type {
	case queue.TicketIssued:
		t.prefix, t.service, t.number, t.day = ev.Service, ev.Service, ev.Number, ev.Day
		t.channel, t.priority = string(ev.Channel), string(ev.Priority)
		t.issuedAt, t.appointAt = ev.At, ev.AppointmentAt
		if !ev.IssuedAt.IsZero() { // printed offline: its place in the queue
			t.issuedAt = ev.IssuedAt
		}
		t.citizen = ev.Citizen
	case citizenAttached:
		t.citizen = ev.Citizen
	case queue.TicketTransferred:
		t.service = ev.Service
	}
}

// citizenAttached is the citizen file's event attaching a ticket to a
// citizen (hub/queue, with the citizen file).
const citizenAttached queue.EventType = "ticket.citizen_attached"

// maxTickets bounds the tickets a Mapper remembers; beyond, it forgets
// them all and reads the ones it meets again from the log.
const maxTickets = 50_000

// Mapper turns logged events into CloudEvents. It remembers the tickets it
// has seen so that a ticket's later events carry its number, service and
// channel; a ticket first met later in its life (after a restart, a
// cursor far behind) is read from the log. A Mapper belongs to one
// goroutine.
type Mapper struct {
	site    Site
	log     TicketLog
	purpose Purpose
	tickets map[string]*ticket
}

// NewMapper returns a mapper for the site's events, for a destination of
// this purpose.
func NewMapper(site Site, log TicketLog, purpose Purpose) *Mapper {
	return &Mapper{site: site, log: log, purpose: purpose, tickets: map[string]*ticket{}}
}

// SetSite changes the names the mapper shows (the site file was changed).
func (m *Mapper) SetSite(s Site) { m.site = s }

// ticketAt returns what is known of ev's ticket as of ev.
func (m *Mapper) ticketAt(ctx context.Context, ev queue.Event) (*ticket, error) {
	if t := m.tickets[ev.Ticket]; t != nil && t.seq < ev.Seq {
		t.apply(ev)
		return t, nil
	} else if t != nil && t.seq == ev.Seq {
		return t, nil
	}
	if ev.Type == queue.TicketIssued { // the usual case: no read
		t := &ticket{}
		t.apply(ev)
		m.remember(ev.Ticket, t)
		return t, nil
	}
	evs, err := m.log.TicketEvents(ctx, ev.Ticket)
	if err != nil {
		return nil, fmt.Errorf("read ticket %s's history: %w", ev.Ticket, err)
	}
	t := &ticket{}
	for _, e := range evs {
		if e.Seq <= ev.Seq {
			t.apply(e)
		}
	}
	t.apply(ev)
	if cur := m.tickets[ev.Ticket]; cur == nil || cur.seq < t.seq {
		m.remember(ev.Ticket, t)
	}
	return t, nil
}

func (m *Mapper) remember(id string, t *ticket) {
	if len(m.tickets) >= maxTickets {
		clear(m.tickets)
	}
	m.tickets[id] = t
}

// Map maps one logged event. It fails only when the ticket's history
// cannot be read, or the event cannot be encoded.
func (m *Mapper) Map(ctx context.Context, ev queue.Event) (Event, error) {
	ce, d, err := m.cloudEvent(ctx, ev)
	if err != nil {
		return Event{}, err
	}
	b, err := json.Marshal(ce)
	if err != nil {
		return Event{}, fmt.Errorf("encode event %d: %w", ev.Seq, err)
	}
	return Event{Seq: ev.Seq, ID: ce.ID, Type: ce.Type, Data: d, JSON: b}, nil
}

// CloudEvent maps one logged event to its CloudEvent.
func (m *Mapper) CloudEvent(ctx context.Context, ev queue.Event) (api.CloudEvent, error) {
	ce, _, err := m.cloudEvent(ctx, ev)
	return ce, err
}

func (m *Mapper) cloudEvent(ctx context.Context, ev queue.Event) (api.CloudEvent, api.EventData, error) {
	d, err := m.Data(ctx, ev)
	if err != nil {
		return api.CloudEvent{}, d, err
	}
	data, err := json.Marshal(d)
	if err != nil {
		return api.CloudEvent{}, d, fmt.Errorf("encode event %d: %w", ev.Seq, err)
	}
	return api.CloudEvent{
		SpecVersion: "1.0", ID: EventID(m.site.ID, ev.Seq), Source: "urn:guichet:" + m.site.ID, Type: string(ev.Type),
		Subject: m.subject(ev), Time: ev.At.In(m.site.Location), Sequence: strconv.FormatInt(ev.Seq, 10),
		DataContentType: "application/json", Data: data,
	}, d, nil
}

// EventID is the CloudEvent id of the site's event seq.
func EventID(site string, seq int64) string { return site + "-" + strconv.FormatInt(seq, 10) }

// subject is the ticket, else the device, else the counter.
func (m *Mapper) subject(ev queue.Event) string {
	switch {
	case ev.Ticket != "":
		return ev.Ticket
	case ev.Device != "":
		return ev.Device
	case ev.Counter != "":
		return "counter/" + ev.Counter
	case ev.Request != nil:
		return "request/" + ev.Request.ID
	case ev.Citizen != "" && m.purpose == CRM:
		return "citizen/" + ev.Citizen
	}
	return ""
}

// Data is the event's data: what the log holds, with the ticket's facts,
// the names, the site's offset, and only the personal data the purpose
// allows (never the QR token, the appointment code or an address).
func (m *Mapper) Data(ctx context.Context, ev queue.Event) (api.EventData, error) {
	loc := m.site.Location
	d := api.EventData{
		Seq: ev.Seq, Type: string(ev.Type), At: ev.At.In(loc), Day: ev.Day, Actor: ev.Actor,
		Ticket: ev.Ticket, Service: ev.Service, From: ev.From, Channel: string(ev.Channel), Priority: string(ev.Priority),
		IssuedAt: timePtr(ev.IssuedAt, loc), AppointmentAt: timePtr(ev.AppointmentAt, loc),
		Counter: ev.Counter, Agent: ev.Agent, Device: ev.Device, Lang: ev.Lang, Reason: ev.Reason, Recall: ev.Recall,
	}
	if ev.Ticket != "" {
		t, err := m.ticketAt(ctx, ev)
		if err != nil {
			return api.EventData{}, err
		}
		if t.number > 0 {
			d.Number = api.FormatNumber(t.prefix, t.number)
		}
		if d.Service == "" {
			d.Service = t.service
		}
		d.Day = t.day
		d.Channel, d.Priority = t.channel, t.priority
		d.IssuedAt, d.AppointmentAt = timePtr(t.issuedAt, loc), timePtr(t.appointAt, loc)
	}
	if ev.Type == queue.LeaseGranted && ev.Number > 0 {
		d.Number, d.LeaseTo = api.FormatNumber(ev.Service, ev.Number), ev.To
	}
	d.ServiceName, d.FromName = m.site.Services[d.Service], m.site.Services[d.From]
	d.CounterName, d.AgentName = m.site.Counters[d.Counter], m.site.Agents[d.Agent]
	if r := ev.Request; r != nil {
		d.Request = &api.RequestData{ID: r.ID, Kind: r.Kind, Sector: r.Sector, Channel: r.Channel, Status: r.Status,
			Step: r.Step, StepNo: r.StepNo, MaxSteps: r.MaxSteps, ReceivedAt: timePtr(r.ReceivedAt, loc),
			DecisionAt: timePtr(r.DecisionAt, loc), Regime: r.Regime, ClosedAt: timePtr(r.ClosedAt, loc),
			Source: r.Source, Origin: r.Origin}
	}
	if m.purpose == CRM {
		d.Citizen = ev.Citizen
		if d.Citizen == "" && ev.Ticket != "" {
			t, _ := m.ticketAt(ctx, ev) // known: read above
			d.Citizen = t.citizen
		}
	}
	return d, nil
}

func timePtr(t time.Time, loc *time.Location) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.In(loc)
	return &t
}
