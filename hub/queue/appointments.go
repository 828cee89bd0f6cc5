package queue

import (
	"regexp"
	"sort"
	"time"
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
func (e *Engine) BookAppointment(by By, code, service string, at time.Time, citizen string) ([]Event, error) {
	switch {
	case !codeRe.MatchString(code):
		return nil, refuse(ErrInvalid, "an appointment code is 4 to 32 letters, digits or '-'")
	case e.appts[code] != nil:
		return nil, refuse(ErrInvalid, "appointment %s already booked", code)
	case at.IsZero():
		return nil, refuse(ErrInvalid, "an appointment needs its time")
	case !text(citizen, MaxTextLen):
		return nil, refuse(ErrInvalid, "citizen too long")
	}
	if e.services[service] == nil {
		return nil, refuse(ErrUnknownService, "unknown service %q", service)
	}
	return e.commit(Event{At: by.At, Type: AppointmentBooked, Actor: by.Actor, Code: code, Service: service,
		AppointmentAt: at, Citizen: citizen}), nil
}

// CancelAppointment removes an appointment not yet checked in.
func (e *Engine) CancelAppointment(by By, code string) ([]Event, error) {
	a := e.appts[code]
	if a == nil {
		return nil, refuse(ErrNoAppointment, "unknown appointment %q", code)
	}
	if a.Ticket != "" {
		return nil, refuse(ErrCheckedIn, "appointment %s is checked in already", code)
	}
	return e.commit(Event{At: by.At, Type: AppointmentDrop, Actor: by.Actor, Code: code}), nil
}

// CheckIn issues the appointment ticket of code: priority appointment, its
// slot time, its service. r gives the ticket's id, token, device, language.
func (e *Engine) CheckIn(by By, code string, r IssueRequest) ([]Event, error) {
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
	r.Service, r.Priority, r.AppointmentAt, r.Citizen, r.Force = a.Service, PriorityAppointment, a.At, a.Citizen, true
	r.OfflineNumber, r.IssuedAt = 0, time.Time{}
	r.code = code
	return e.Issue(by, r)
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
