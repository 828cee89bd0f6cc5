package queue

import (
	"regexp"
	"sort"
	"time"

	"guichet/hub/api"
)

// Appointment is a slot booked on the town's booking platform; the citizen
// checks in at the kiosk with its code and gets an appointment ticket.
type Appointment struct {
	Code    string    `json:"code"`
	Service string    `json:"service"`
	At      time.Time `json:"at"`
	Citizen string    `json:"citizen,omitempty"`
	Ticket  string    `json:"ticket,omitempty"` // set at check-in
}

var codeRe = regexp.MustCompile(`^[A-Za-z0-9-]{4,32}$`)

// BookAppointment records an appointment (from the booking platform).
func (e *Engine) BookAppointment(by By, a api.AppointmentArgs) ([]Event, error) {
	switch {
	case !codeRe.MatchString(a.Code):
		return nil, refuse(ErrInvalid, "an appointment code is 4 to 32 letters, digits or '-'")
	case e.appts[a.Code] != nil:
		return nil, refuse(ErrInvalid, "appointment %s already booked", a.Code)
	case a.At.IsZero():
		return nil, refuse(ErrInvalid, "an appointment needs its time")
	case !within(a.At, by.At, BookBehind, BookAhead):
		return nil, refuse(ErrInvalid, "an appointment is booked from %s ago to %s ahead", human(BookBehind), human(BookAhead))
	case !validText(a.Citizen, MaxTextLen):
		return nil, refuse(ErrInvalid, "citizen must be an id of at most %d characters, without control characters", MaxTextLen)
	case api.IsCitizenID(a.Citizen):
		return nil, refuse(ErrInvalid, citizenReserved)
	case !validID(a.Service):
		return nil, refuse(ErrInvalid, "service must be 1 to %d characters", MaxIDLen)
	}
	if e.services[a.Service] == nil {
		return nil, refuse(ErrUnknownService, "unknown service %q", a.Service)
	}
	return e.commit(Event{At: by.At, Type: AppointmentBooked, Actor: by.Actor, Code: a.Code, Service: a.Service,
		AppointmentAt: a.At, Citizen: a.Citizen}), nil
}

// CancelAppointment removes an appointment not yet checked in.
func (e *Engine) CancelAppointment(by By, code string) ([]Event, error) {
	if !codeRe.MatchString(code) {
		return nil, refuse(ErrInvalid, "an appointment code is 4 to 32 letters, digits or '-'")
	}
	a := e.appts[code]
	if a == nil {
		return nil, refuse(ErrNoAppointment, "unknown appointment %q", code)
	}
	if a.Ticket != "" {
		return nil, refuse(ErrCheckedIn, "appointment %s is checked in already", code)
	}
	return e.commit(Event{At: by.At, Type: AppointmentDrop, Actor: by.Actor, Code: code}), nil
}

// CheckinRequest is checkin as the engine takes it: the client's arguments
// as either transport decoded them, and what the hub assigns to the ticket
// (see IssueRequest).
type CheckinRequest struct {
	Args api.CheckinArgs

	ID     string // the new ticket's global id (UUIDv7)
	Token  string // its mobile-page token
	Device string // the kiosk that asked; "" for the HTTP API
}

// CheckIn issues the appointment ticket of its code: priority appointment,
// its slot time, its service.
func (e *Engine) CheckIn(by By, r CheckinRequest) ([]Event, error) {
	code := r.Args.Code
	if !codeRe.MatchString(code) {
		return nil, refuse(ErrInvalid, "an appointment code is 4 to 32 letters, digits or '-'")
	}
	a := e.appts[code]
	if a == nil {
		return nil, refuse(ErrNoAppointment, "no appointment with code %q", code)
	}
	if a.Ticket != "" {
		return nil, refuse(ErrCheckedIn, "appointment %s is checked in already", code)
	}
	p := &e.site.Policy
	if by.At.Before(a.At.Add(-p.CheckinEarly)) || by.At.After(a.At.Add(p.CheckinLate)) {
		return nil, refuse(ErrCheckinWindow, "appointment %s is at %s: check in from %s to %s",
			code, a.At.In(e.site.Location).Format("15:04"), a.At.Add(-p.CheckinEarly).In(e.site.Location).Format("15:04"),
			a.At.Add(p.CheckinLate).In(e.site.Location).Format("15:04"))
	}
	slot := a.At
	return e.Issue(by, IssueRequest{
		Args: api.IssueArgs{Service: a.Service, Priority: string(PriorityAppointment), AppointmentAt: &slot,
			Citizen: a.Citizen, Lang: r.Args.Lang, Force: true},
		ID: r.ID, Token: r.Token, Device: r.Device, code: code,
	})
}

// Appointments returns the appointments of a local day, by time.
func (e *Engine) Appointments(day string) []Appointment {
	var out []Appointment
	for _, a := range e.appts {
		if e.Day(a.At) == day {
			out = append(out, *a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].At.Before(out[j].At) || out[i].At.Equal(out[j].At) && out[i].Code < out[j].Code
	})
	return out
}

// Appointment returns one appointment.
func (e *Engine) Appointment(code string) (Appointment, bool) {
	a := e.appts[code]
	if a == nil {
		return Appointment{}, false
	}
	return *a, true
}
