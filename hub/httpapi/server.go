// Package httpapi serves the hub's HTTP API under /api/v1: JSON in and out,
// bearer-token authentication, stable error codes, an OpenAPI document. It
// translates requests into hub actions; it holds no queue logic.
package httpapi

import (
	"bytes"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/devices"
	"guichet/hub/lockout"
	"guichet/hub/queue"
)

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3 document of the API.
func OpenAPI() []byte { return openAPI }

// Options configures the API server.
type Options struct {
	Hub        *hub.Hub
	AdminToken string
	Log        *slog.Logger
	Devices    *devices.Registry                           // nil: no device endpoints
	State      func(device string) (api.DeviceState, bool) // devices' last published state
	// Lockout counts failed authentications per client address; nil: a
	// limiter with lockout's defaults (10 failures, then one every 6 s).
	Lockout *lockout.Limiter
	// TrustedProxies are the reverse proxies in front of the hub: from a
	// peer in one of them, the client's address is read from
	// X-Forwarded-For. From anyone else that header is ignored.
	TrustedProxies []netip.Prefix
}

// Server is the HTTP API.
type Server struct {
	hub     *hub.Hub
	token   []byte
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []Route
	devices *devices.Registry
	state   func(string) (api.DeviceState, bool)
	site    string
	lockout *lockout.Limiter
	proxies []netip.Prefix
}

// Route is one documented endpoint.
type Route struct {
	Method, Path string
	Public       bool // no token needed
	handler      http.HandlerFunc
}

// New returns the API server.
func New(o Options) *Server {
	s := &Server{hub: o.Hub, token: []byte(o.AdminToken), log: o.Log, mux: http.NewServeMux(), devices: o.Devices, state: o.State,
		lockout: o.Lockout, proxies: o.TrustedProxies}
	if s.lockout == nil {
		s.lockout = lockout.New(lockout.Options{})
	}
	o.Hub.Read(func(e *queue.Engine) { s.site = e.Site().ID })
	if s.log == nil {
		s.log = slog.Default()
	}
	metrics := promhttp.HandlerFor(o.Hub.Metrics().Registry, promhttp.HandlerOpts{})
	s.routes = []Route{
		{"GET", "/healthz", true, s.healthz},
		{"GET", "/metrics", true, metrics.ServeHTTP},
		{"GET", "/api/v1/openapi.json", true, s.openapi},
		{"GET", "/api/v1/services", true, s.services},
		{"GET", "/api/v1/queue", true, s.queue},
		{"GET", "/api/v1/board", true, s.board},
		{"POST", "/api/v1/tickets", false, s.issue},
		{"GET", "/api/v1/tickets", false, s.tickets},
		{"GET", "/api/v1/tickets/{id}", false, s.ticket},
		{"GET", "/api/v1/tickets/{id}/events", false, s.ticketEvents},
		{"POST", "/api/v1/tickets/{id}/cancel", false, s.cancel},
		{"GET", "/api/v1/counters", false, s.counters},
		{"GET", "/api/v1/counters/{id}", false, s.counter},
		{"GET", "/api/v1/counters/{id}/explain", false, s.explain},
		{"GET", "/api/v1/agents", false, s.agents},
		{"GET", "/api/v1/events", false, s.events},
		{"POST", "/api/v1/appointments", false, s.bookAppointment},
		{"GET", "/api/v1/appointments", false, s.listAppointments},
		{"GET", "/api/v1/appointments/{code}", false, s.getAppointment},
		{"POST", "/api/v1/appointments/{code}/cancel", false, s.cancelAppointment},
		{"POST", "/api/v1/appointments/{code}/checkin", false, s.checkinAppointment},
	}
	if s.devices != nil {
		s.routes = append(s.routes,
			Route{"POST", "/api/v1/devices", false, s.addDevice},
			Route{"GET", "/api/v1/devices", false, s.listDevices},
			Route{"GET", "/api/v1/devices/{id}", false, s.getDevice},
			Route{"POST", "/api/v1/devices/{id}/disable", false, s.setDisabled(true)},
			Route{"POST", "/api/v1/devices/{id}/enable", false, s.setDisabled(false)},
			Route{"POST", "/api/v1/devices/{id}/secret", false, s.rotateSecret},
		)
	}
	s.routes = append(s.routes, s.adminRoutes()...)
	s.routes = append(s.routes, s.supervisorRoutes()...)
	for _, op := range counterPaths {
		s.routes = append(s.routes, Route{"POST", "/api/v1/counters/{id}/" + op.path, false, s.counterOp(op.op)})
	}
	for _, r := range s.routes {
		h := r.handler
		if !r.Public {
			h = s.authenticated(h)
		}
		s.mux.HandleFunc(r.Method+" "+r.Path, h)
	}
	s.mux.HandleFunc("/", s.notFound)
	return s
}

// Routes lists the endpoints served.
func (s *Server) Routes() []Route { return s.routes }

// Handle adds a handler to the server's mux (pages served beside the API).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP serves a request, with logging and panic recovery.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w, status: 200}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic serving request", "method", r.Method, "path", logPath(r.URL.Path), "panic", v)
			if !rec.wrote {
				writeError(rec, http.StatusInternalServerError, api.CodeInternal, "internal error")
			}
		}
		level := slog.LevelDebug
		if rec.status >= 400 && rec.status != http.StatusTooManyRequests { // a lockout is logged once, not per request
			level = slog.LevelInfo
		}
		s.log.Log(r.Context(), level, "http", "method", r.Method, "path", logPath(r.URL.Path), "status", rec.status,
			"took", time.Since(start).Round(time.Microsecond))
	}()
	s.mux.ServeHTTP(rec, r)
}

// logPath is a request's path as the logs keep it: a mobile ticket page's
// token is the citizen's link to their ticket, and is left out.
func logPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/t/"); ok && rest != "" {
		_, tail, _ := strings.Cut(rest, "/")
		if tail != "" {
			return "/t/…/" + tail
		}
		return "/t/…"
	}
	return p
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

// authenticated lets a request with the admin token through. A client
// address that failed too often is refused with 429 and Retry-After before
// its token is looked at (see package lockout); each failure counts, and
// the lockout is logged once, with the address, never the token.
func (s *Server) authenticated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := lockout.Client(s.clientAddr(r))
		if ok, retry := s.lockout.Allow(client); !ok {
			secs := int(math.Ceil(retry.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, api.CodeRateLimited,
				fmt.Sprintf("too many failed authentications from this address: retry in %d s", secs))
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || len(s.token) == 0 || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), s.token) != 1 {
			if s.lockout.Fail(client) {
				s.log.Warn("too many failed authentications: address locked out", "client", client, "method", r.Method, "path", logPath(r.URL.Path))
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="guichet"`)
			writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "a valid bearer token is required")
			return
		}
		h(w, r)
	}
}

// clientAddr returns the address a request comes from: the connection's
// peer; or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not itself a trusted proxy (read from the right:
// what a client writes on the left is not to be believed).
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := peer.Addr().Unmap()
	if !s.trusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a hop we cannot read: stop at the last one we trust
		}
		if addr = a.Unmap(); !s.trusted(addr) {
			return addr
		}
	}
	return addr
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// notFound answers what no route matched: 405 when the path exists with
// another method, 404 otherwise.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
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

	api.CodeDeviceExists:  http.StatusConflict,
	api.CodeUnknownDevice: http.StatusNotFound,
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
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, api.CodeUnsupportedMedia, "send application/json")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, fmt.Sprintf("the body is over %d bytes", MaxBody))
		} else {
			writeError(w, http.StatusBadRequest, api.CodeBadRequest, "could not read the body")
		}
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

// idempotencyKey reads the optional Idempotency-Key header.
func idempotencyKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", true
	}
	if len(k) > 100 || strings.ContainsFunc(k, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "Idempotency-Key must be 1 to 100 printable ASCII characters")
		return "", false
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
	rep, err := s.hub.Do(r.Context(), key, "api", act, encode)
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
