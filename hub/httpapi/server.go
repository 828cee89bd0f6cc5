// Package httpapi serves the hub's HTTP API under /api/v1: JSON in and out,
// stable error codes, an OpenAPI document. Every route, and every page
// served beside the API, is declared in the route table of hub/auth with
// the access it requires (routes.go). It translates requests into hub
// actions; it holds no queue logic.
package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/devices"
	"guichet/hub/lockout"
	"guichet/hub/queue"
	"guichet/hub/stats"
	"guichet/hub/updates"
)

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3 document of the API.
func OpenAPI() []byte { return openAPI }

// Options configures the API server.
type Options struct {
	Hub *hub.Hub
	// Auth is the identity layer: accounts, sessions, tokens, the guard.
	// nil: one over the hub's store, with AdminToken, Lockout and
	// TrustedProxies.
	Auth       *auth.Service
	AdminToken string
	Log        *slog.Logger
	Devices    *devices.Registry                           // nil: no device endpoints
	Stats      *stats.Projection                           // nil: no statistics endpoints
	State      func(device string) (api.DeviceState, bool) // devices' last published state
	Outbox     Outbox                                      // nil: no destination endpoints
	// Lockout counts failed authentications per client address; nil: a
	// limiter with lockout's defaults (10 failures, then one every 6 s).
	Lockout *lockout.Limiter
	// TrustedProxies are the reverse proxies in front of the hub: from a
	// peer in one of them, the client's address is read from
	// X-Forwarded-For. From anyone else that header is ignored.
	TrustedProxies []netip.Prefix
	// CRM is the citizen file and the telephony's screen pop
	// (citizens.go); empty, their routes answer 404.
	CRM CitizenFile
	// Enrollment serves devices' one-time enrollment codes (enroll.go).
	Enrollment Enrollment
	// Updates is the shelf of signed update bundles devices fetch
	// (updates.go); nil: no update routes, and enrollment gives no key.
	Updates *updates.Shelf
}

// Server is the HTTP API, and the route table of every page beside it.
type Server struct {
	hub     *hub.Hub
	auth    *auth.Service
	log     *slog.Logger
	table   *auth.Table
	devices *devices.Registry
	stats   *stats.Projection
	state   func(string) (api.DeviceState, bool)
	outbox  Outbox
	site    string
	crm     CitizenFile

	enrollment  Enrollment
	enrollLimit *lockout.Limiter
	updates     *updates.Shelf
}

// New returns the API server.
func New(o Options) *Server {
	s := &Server{hub: o.Hub, auth: o.Auth, log: o.Log, devices: o.Devices, stats: o.Stats, state: o.State, outbox: o.Outbox, crm: o.CRM,
		enrollment: o.Enrollment, enrollLimit: o.Enrollment.Limiter, updates: o.Updates}
	if s.enrollLimit == nil {
		s.enrollLimit = lockout.New(lockout.Options{})
	}
	o.Hub.Read(func(e *queue.Engine) { s.site = e.Site().ID })
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.auth == nil {
		s.auth = auth.New(auth.Options{Store: o.Hub.Store(), AdminToken: o.AdminToken, Log: s.log, Addresses: o.Lockout,
			TrustedProxies: o.TrustedProxies})
	}
	if s.devices != nil {
		s.auth.SetDevices(func(id, secret string) error { _, err := s.devices.Authenticate(id, secret); return err })
	}
	s.table = s.auth.Table()
	s.routes()
	s.table.Fallback(http.HandlerFunc(s.notFound))
	return s
}

// Auth returns the identity layer the server's routes stand on.
func (s *Server) Auth() *auth.Service { return s.auth }

// Routes lists every route served: the API's and the pages added.
func (s *Server) Routes() []auth.Route { return s.table.Routes() }

// Add registers a route beside the API (a page); see auth.Route.
func (s *Server) Add(r auth.Route) { s.table.Add(r) }

// ServeHTTP serves a request, with logging and panic recovery.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w, status: 200}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic serving request", "method", r.Method, "path", auth.LogPath(r.URL.Path), "panic", v)
			if !rec.wrote {
				writeError(rec, http.StatusInternalServerError, api.CodeInternal, "internal error")
			}
		}
		level := slog.LevelDebug
		if rec.status >= 400 && rec.status != http.StatusTooManyRequests { // a lockout is logged once, not per request
			level = slog.LevelInfo
		}
		s.log.Log(r.Context(), level, "http", "method", r.Method, "path", auth.LogPath(r.URL.Path), "status", rec.status,
			"took", time.Since(start).Round(time.Microsecond))
	}()
	s.table.ServeHTTP(rec, r)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Flush lets server-sent events through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// notFound answers what no route matched: 405 when the path exists with
// another method, 404 otherwise.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, ok := s.table.Match(probe); ok {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, fmt.Sprintf("%s is not allowed here", r.Method))
		return
	}
	writeError(w, http.StatusNotFound, api.CodeNotFound, "no such endpoint")
}

// statuses gives the HTTP status of every code of the wire contract: the
// one place where the HTTP API maps the hub's outcomes to statuses.
var statuses = map[string]int{
	api.CodeBadRequest:       http.StatusBadRequest,
	api.CodeUnknownOp:        http.StatusBadRequest,
	api.CodeUnknownField:     http.StatusBadRequest,
	api.CodeInvalid:          http.StatusBadRequest,
	api.CodeTooLarge:         http.StatusRequestEntityTooLarge,
	api.CodeForbidden:        http.StatusForbidden,
	api.CodeUnavailable:      http.StatusServiceUnavailable,
	api.CodeInternal:         http.StatusInternalServerError,
	api.CodeSuperseded:       http.StatusConflict,
	api.CodeUnauthorized:     http.StatusUnauthorized,
	api.CodeNotFound:         http.StatusNotFound,
	api.CodeRateLimited:      http.StatusTooManyRequests,
	api.CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	api.CodeUnsupportedMedia: http.StatusUnsupportedMediaType,

	api.CodeUnknownService:  http.StatusUnprocessableEntity,
	api.CodeUnknownAgent:    http.StatusUnprocessableEntity,
	api.CodeChannelNotTaken: http.StatusUnprocessableEntity,
	api.CodeUnknownCounter:  http.StatusNotFound,
	api.CodeUnknownTicket:   http.StatusNotFound,
	api.CodeNoAppointment:   http.StatusNotFound,
	api.CodeServiceClosed:   http.StatusConflict,
	api.CodeServiceFull:     http.StatusConflict,
	api.CodeCounterClosed:   http.StatusConflict,
	api.CodeCounterBusy:     http.StatusConflict,
	api.CodeAgentBusy:       http.StatusConflict,
	api.CodeAgentPaused:     http.StatusConflict,
	api.CodeAgentNotPaused:  http.StatusConflict,
	api.CodeAgentOffline:    http.StatusConflict,
	api.CodeLacksSkill:      http.StatusConflict,
	api.CodeNoTicket:        http.StatusConflict,
	api.CodeNotWaiting:      http.StatusConflict,
	api.CodeTransition:      http.StatusConflict,
	api.CodeQueueEmpty:      http.StatusConflict,
	api.CodeLease:           http.StatusConflict,
	api.CodeCheckedIn:       http.StatusConflict,
	api.CodeCheckinWindow:   http.StatusConflict,

	api.CodeDeviceExists:       http.StatusConflict,
	api.CodeUnknownDevice:      http.StatusNotFound,
	api.CodeNoUpdate:           http.StatusNotFound,
	api.CodeUnknownEnrollment:  http.StatusNotFound,
	api.CodeUnknownDestination: http.StatusNotFound,

	api.CodeAccountExists:  http.StatusConflict,
	api.CodeUnknownAccount: http.StatusNotFound,
	api.CodeUnknownToken:   http.StatusNotFound,
	api.CodeWeakPassword:   http.StatusUnprocessableEntity,
	api.CodeWrongPassword:  http.StatusUnprocessableEntity,

	// The telephony webhook's (hub/telephony/webhook answers them itself).
	api.CodeReplayed: http.StatusConflict,
	api.CodeStale:    http.StatusBadRequest,

	// The citizen file's and the telephony's (citizens.go).
	api.CodeRestricted: http.StatusConflict,
	api.CodeNotACall:   http.StatusConflict,
}

// statusOf is the HTTP status of a refusal code (409 for a code of a newer
// hub this table does not know yet: a refusal of the request as it stands).
func statusOf(code string) int {
	if st, ok := statuses[code]; ok {
		return st
	}
	return http.StatusConflict
}

// encode writes an action's outcome as the HTTP API answers it: the result
// when done, {"error": {"code", "message"}} when refused.
func encode(o hub.Outcome, result json.RawMessage) []byte {
	if !o.Done() {
		return errorBody(o.Code, o.Message)
	}
	return result
}

func errorBody(code, msg string) []byte {
	b, _ := json.Marshal(api.ErrorBody{Error: api.Error{Code: code, Message: msg}})
	return b
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeRaw(w, status, errorBody(code, msg))
}

// refuseQueue answers the engine's refusal err.
func refuseQueue(w http.ResponseWriter, err error) {
	var qe *queue.Error
	if !errors.As(err, &qe) {
		qe = &queue.Error{Code: api.CodeInternal, Message: "internal error"}
	}
	refuse(w, &api.Error{Code: qe.Code, Message: qe.Message})
}

// refuse answers a refusal, with the status of its code.
func refuse(w http.ResponseWriter, e *api.Error) {
	writeError(w, statusOf(e.Code), e.Code, e.Message)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte("\n"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "internal error")
		return
	}
	writeRaw(w, status, b)
}

// decode reads a JSON body into v, as api.Decode reads what a client sends
// (no unknown field, one value, valid Unicode text), at most MaxBody bytes.
// An empty body leaves v as it is. It writes the error response itself and
// returns false on failure.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readBody(w, r, MaxBody)
	if !ok {
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := api.Decode(body, v); err != nil {
		refuse(w, err)
		return false
	}
	return true
}

// readBody reads a JSON body of at most limit bytes. It writes the error
// response itself and returns false on failure.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, api.CodeUnsupportedMedia, "send application/json")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, fmt.Sprintf("the body is over %d bytes", limit))
		} else {
			writeError(w, http.StatusBadRequest, api.CodeBadRequest, "could not read the body")
		}
		return nil, false
	}
	return body, true
}

// idempotencyKey reads the optional Idempotency-Key header. A key is its
// caller's: an account's keys are kept apart ("http@<account>:"), so that
// nobody reads another's reply by sending the same key; the admin token's
// keep the form they had before accounts ("http:").
func idempotencyKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", true
	}
	if len(k) > 100 || strings.ContainsFunc(k, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "Idempotency-Key must be 1 to 100 printable ASCII characters")
		return "", false
	}
	if p := auth.From(r.Context()); p != nil && p.Via != auth.ViaAdminToken {
		return "http@" + p.Account + ":" + k, true
	}
	return "http:" + k, true
}

// do runs an action and writes its reply: success when it was done, the
// status of the refusal's code when not.
func (s *Server) do(w http.ResponseWriter, r *http.Request, act hub.Action, success int) {
	key, ok := idempotencyKey(w, r)
	if !ok {
		return
	}
	rep, err := s.hub.Do(r.Context(), key, auth.From(r.Context()).Actor(), act, encode)
	switch {
	case errors.Is(err, hub.ErrNoOutcome):
		s.log.Warn("operation not answered in time", "op", act.Name, "err", err)
		writeError(w, http.StatusServiceUnavailable, api.CodeUnavailable, "the hub did not say in time whether it stored the operation: it may have; retry with the same Idempotency-Key to know")
		return
	case err != nil:
		s.log.Warn("operation not done", "op", act.Name, "err", err)
		writeError(w, http.StatusServiceUnavailable, api.CodeUnavailable, "the hub could not store the operation; retry with the same Idempotency-Key")
		return
	}
	if rep.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	status := success
	if !rep.Done() {
		status = statusOf(rep.Code)
	}
	writeRaw(w, status, rep.Body)
}
