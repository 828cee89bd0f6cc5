package httpapi

import (
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/devices"
	"guichet/hub/lockout"
)

// Enrollment tells the public enrollment route what a device needs besides
// its credentials.
type Enrollment struct {
	// MQTTURLs are the hub's brokers (tcp://…, ssl://…); a host left
	// unspecified (0.0.0.0, ::, empty) or on loopback is replaced by the
	// host the device reached the API at.
	MQTTURLs []string
	// CAPEM is the certificate (PEM) a device trusts the ssl:// broker with;
	// empty without TLS.
	CAPEM []byte
	// Limiter counts wrong codes per client address; nil: lockout's
	// defaults (10, then one every 6 s).
	Limiter *lockout.Limiter
}

type enrollRequest struct {
	Code string `json:"code"`
}

type enrollmentCode struct {
	Device    string    `json:"device"`
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// issueEnrollment gives a device a one-time enrollment code, shown once.
func (s *Server) issueEnrollment(w http.ResponseWriter, r *http.Request) {
	id, ok := deviceID(w, r)
	if !ok {
		return
	}
	actor := "api"
	if p := auth.From(r.Context()); p != nil && p.Account != "" {
		actor = p.Account
	}
	code, expires, err := s.devices.IssueEnrollment(id, actor, 0)
	if err != nil {
		s.deviceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, enrollmentCode{Device: id, Code: code, ExpiresAt: expires})
}

// enroll exchanges a one-time code for the device's settings and a new
// secret. The code is the credential: an unknown, used or expired code get
// the same answer (404 unknown_enrollment_code), and wrong codes count against the client's address.
func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	client := lockout.Client(s.auth.ClientAddr(r))
	if ok, retry := s.enrollLimit.Allow(client); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
		writeError(w, http.StatusTooManyRequests, api.CodeRateLimited, "too many wrong enrollment codes: wait")
		return
	}
	var req enrollRequest
	if !decode(w, r, &req) {
		return
	}
	d, secret, err := s.devices.Enroll(req.Code, "enroll:"+client)
	if err != nil {
		if !devices.IsNoEnrollment(err) {
			s.deviceError(w, err)
			return
		}
		if s.enrollLimit.Fail(client) {
			s.log.Warn("enrollment: client locked out after wrong codes", "client", client)
		}
		s.log.Info("enrollment code refused (unknown, used or expired)", "client", client)
		writeError(w, http.StatusNotFound, api.CodeUnknownEnrollment, "this enrollment code is not valid: ask the hub's administrator for a new one")
		return
	}
	out := api.Enrollment{ID: d.ID, Role: d.Role, Counter: d.Counter, Site: s.site, Secret: secret,
		MQTT: api.MQTTAccess{Username: d.ID, Topics: api.Root + "/" + s.site + "/"}, CAPEM: string(s.enrollment.CAPEM)}
	if s.updates != nil {
		out.UpdateKey = s.updates.KeyText()
	}
	for _, u := range s.enrollment.MQTTURLs {
		out.MQTTURLs = append(out.MQTTURLs, reachable(u, r.Host))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// reachable replaces an unspecified or loopback host of broker URL u (a
// device never reaches the hub's loopback) by host: the API's host as the
// device reached it.
func reachable(u, host string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	h, port := p.Hostname(), p.Port()
	if ip := net.ParseIP(h); h != "" && h != "localhost" && (ip == nil || !ip.IsUnspecified() && !ip.IsLoopback()) {
		return u
	}
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.Trim(host, "[]")
	p.Host = net.JoinHostPort(host, port)
	return p.String()
}
