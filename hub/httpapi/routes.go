package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"guichet/hub/auth"
)

// routes declares the API's routes, each with the access it requires: the
// one place that says who may call what (docs/accounts.md shows it as a
// table, checked by a test). Why each access:
//
//   - public: what the waiting room and the kiosks show anyway (services,
//     queue, board), and what monitoring reads (health, metrics);
//   - integration: the event log, which software following the hub reads
//     (with an integration token), as do supervisors and admins;
//   - agent: the queue's tickets, counters and appointments, which every
//     agent works with; the counter operations, at the agent's own counter
//     only (counterOp: a supervisor may act at any);
//   - supervisor: cancelling any ticket, signing an agent out; the
//     statistics (the agents' work, by agent); the state of the connectors
//     outward and their dead letters;
//   - admin: devices and accounts, replaying dead letters;
//   - public too: enrolling a device, whose one-time code is the
//     credential (rate-limited per address);
//   - device: the signed update bundles, which devices fetch with their id
//     and secret (and admins may read).
func (s *Server) routes() {
	type r = auth.Route
	const (
		public, integration, agent = auth.Public, auth.Integration, auth.Agent
		supervisor, admin, device  = auth.Supervisor, auth.Admin, auth.Device
	)
	add := func(method, pattern string, access auth.Access, about string, h http.HandlerFunc) {
		s.table.Add(r{Method: method, Pattern: pattern, Access: access, Kind: auth.API, About: about, Handler: h})
	}
	metrics := promhttp.HandlerFor(s.hub.Metrics().Registry, promhttp.HandlerOpts{})
	add("GET", "/healthz", public, "health", s.healthz)
	add("GET", "/metrics", public, "Prometheus metrics", metrics.ServeHTTP)
	add("GET", "/api/v1/{$}", public, "this index: the API's routes and where its contract is", s.index)
	add("GET", "/api/v1/openapi.json", public, "the API's contract", s.openapi)
	add("GET", "/api/v1/services", public, "services", s.services)
	add("GET", "/api/v1/queue", public, "queue summary", s.queue)
	add("GET", "/api/v1/board", public, "the board's last calls", s.board)
	add("POST", "/api/v1/tickets", agent, "issue a ticket", s.issue)
	add("GET", "/api/v1/tickets", agent, "tickets", s.tickets)
	add("GET", "/api/v1/tickets/{id}", agent, "a ticket", s.ticket)
	add("GET", "/api/v1/tickets/{id}/events", agent, "a ticket's history", s.ticketEvents)
	add("POST", "/api/v1/tickets/{id}/cancel", supervisor, "cancel a ticket", s.cancel)
	add("GET", "/api/v1/counters", agent, "counters", s.counters)
	add("GET", "/api/v1/counters/{id}", agent, "a counter", s.counter)
	add("GET", "/api/v1/counters/{id}/explain", agent, "who comes next and why", s.explain)
	add("GET", "/api/v1/agents", agent, "agents and their states", s.agents)
	add("GET", "/api/v1/events", integration, "the event log", s.events)
	s.outboxRoutes(add)
	add("POST", "/api/v1/appointments", agent, "book an appointment", s.bookAppointment)
	add("GET", "/api/v1/appointments", agent, "appointments", s.listAppointments)
	add("GET", "/api/v1/appointments/{code}", agent, "an appointment", s.getAppointment)
	add("POST", "/api/v1/appointments/{code}/cancel", agent, "cancel an appointment", s.cancelAppointment)
	add("POST", "/api/v1/appointments/{code}/checkin", agent, "check an appointment in", s.checkinAppointment)
	for _, op := range counterPaths {
		add("POST", "/api/v1/counters/{id}/"+op.path, agent, op.op+" at the agent's own counter (a supervisor: any)", s.counterOp(op.op))
	}
	if s.devices != nil {
		add("POST", "/api/v1/devices", admin, "add a device", s.addDevice)
		add("GET", "/api/v1/devices", admin, "devices", s.listDevices)
		add("GET", "/api/v1/devices/{id}", admin, "a device", s.getDevice)
		add("POST", "/api/v1/devices/{id}/disable", admin, "disable a device", s.setDisabled(true))
		add("POST", "/api/v1/devices/{id}/enable", admin, "enable a device", s.setDisabled(false))
		add("POST", "/api/v1/devices/{id}/secret", admin, "give a device a new secret", s.rotateSecret)
		add("POST", "/api/v1/devices/{id}/enrollment", admin, "give a device a one-time enrollment code (shown once)", s.issueEnrollment)
		add("GET", "/api/v1/updates/{arch}", device, "the newest signed update bundle for an architecture (amd64, arm64, armv7): its manifest and signature", s.newestUpdate)
		add("GET", "/api/v1/updates/{arch}/{version}", device, "an update bundle's binary (verified by the device against its signature)", s.updateBinary)
		add("POST", "/api/v1/enroll", public, "a device's one-time code exchanged for its settings and a new secret (the code is the credential; wrong codes rate-limited)", s.enroll)
	}
	if s.stats != nil {
		h := s.stats.Handlers()
		add("GET", "/api/v1/stats", supervisor, "statistics of a day or a range (JSON, with the charts' tables)", h.JSON.ServeHTTP)
		add("GET", "/api/v1/stats.csv", supervisor, "statistics as CSV for a spreadsheet (summary or detail)", h.CSV.ServeHTTP)
	}
	s.siteRoutes(add)
	s.citizenRoutes(add)
	s.citizenUpkeepRoutes(add)
	add("GET", "/api/v1/session", agent, "who is signed in (and the session's CSRF token)", s.whoami)
	add("GET", "/api/v1/accounts", admin, "accounts", s.listAccounts)
	add("POST", "/api/v1/accounts", admin, "add an account", s.addAccount)
	add("GET", "/api/v1/accounts/{id}", admin, "an account", s.getAccount)
	add("POST", "/api/v1/accounts/{id}/password", admin, "reset a password (temporary)", s.resetPassword)
	add("POST", "/api/v1/accounts/{id}/role", admin, "change a role", s.setRole)
	add("POST", "/api/v1/accounts/{id}/disable", admin, "disable an account", s.setAccountDisabled(true))
	add("POST", "/api/v1/accounts/{id}/enable", admin, "enable an account", s.setAccountDisabled(false))
	add("POST", "/api/v1/accounts/{id}/signout", supervisor, "sign an account out everywhere", s.signOutAccount)
	add("GET", "/api/v1/tokens", agent, "the caller's personal tokens", s.listTokens)
	add("POST", "/api/v1/tokens", agent, "create a personal token", s.createToken)
	add("DELETE", "/api/v1/tokens/{id}", agent, "revoke a personal token", s.revokeToken)
}
