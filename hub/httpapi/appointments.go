package httpapi

import (
	"net/http"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/queue"
)

func (s *Server) bookAppointment(w http.ResponseWriter, r *http.Request) {
	var req api.AppointmentArgs
	if !decode(w, r, &req) {
		return
	}
	s.do(w, r, hub.BookAppointment(req), http.StatusCreated)
}

func (s *Server) listAppointments(w http.ResponseWriter, r *http.Request) {
	day := r.URL.Query().Get("day")
	if day != "" {
		if _, err := time.Parse(time.DateOnly, day); err != nil {
			writeError(w, http.StatusBadRequest, api.CodeInvalid, "day is a date such as 2026-11-23")
			return
		}
	}
	var out []queue.Appointment
	s.hub.Read(func(e *queue.Engine) {
		if day == "" {
			day = e.Day(s.hub.Now())
		}
		out = e.Appointments(day)
	})
	if out == nil {
		out = []queue.Appointment{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"day": day, "appointments": out})
}

func (s *Server) getAppointment(w http.ResponseWriter, r *http.Request) {
	var a queue.Appointment
	var ok bool
	s.hub.Read(func(e *queue.Engine) { a, ok = e.Appointment(r.PathValue("code")) })
	if !ok {
		writeError(w, http.StatusNotFound, api.CodeNoAppointment, "unknown appointment")
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) cancelAppointment(w http.ResponseWriter, r *http.Request) {
	s.do(w, r, hub.CancelAppointment(r.PathValue("code")), http.StatusOK)
}

// checkinAppointment checks in the appointment of the path: the body is
// checkin's arguments (api.CheckinArgs), whose code is the path's if given.
func (s *Server) checkinAppointment(w http.ResponseWriter, r *http.Request) {
	var req api.CheckinArgs
	if !decode(w, r, &req) || !samePath(w, "code", &req.Code, r.PathValue("code")) {
		return
	}
	s.do(w, r, hub.CheckIn(req, ""), http.StatusCreated)
}
