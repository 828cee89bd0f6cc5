package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// fuzzRoutes are the API's routes a fuzz input calls, {} standing for the
// path parameter. Accounts' passwords are left out: an argon2id hash per
// input would make the fuzzer crawl, and their bodies are the same Decode.
var fuzzRoutes = []string{
	"POST /api/v1/tickets",
	"GET /api/v1/tickets?state={}",
	"GET /api/v1/tickets?service={}",
	"GET /api/v1/tickets/{}",
	"GET /api/v1/tickets/{}/events",
	"POST /api/v1/tickets/{}/cancel",
	"GET /api/v1/counters/{}",
	"GET /api/v1/counters/{}/explain",
	"POST /api/v1/counters/{}/open",
	"POST /api/v1/counters/{}/next",
	"POST /api/v1/counters/{}/recall",
	"POST /api/v1/counters/{}/start",
	"POST /api/v1/counters/{}/finish",
	"POST /api/v1/counters/{}/noshow",
	"POST /api/v1/counters/{}/transfer",
	"POST /api/v1/counters/{}/pause",
	"POST /api/v1/counters/{}/resume",
	"POST /api/v1/counters/{}/close",
	"GET /api/v1/events?after={}",
	"POST /api/v1/appointments",
	"GET /api/v1/appointments/{}",
	"POST /api/v1/appointments/{}/cancel",
	"POST /api/v1/appointments/{}/checkin",
	"POST /api/v1/devices",
	"GET /api/v1/devices/{}",
	"POST /api/v1/tokens",
}

// FuzzAPI: a request to any route of the API, with any path parameter and
// any body, through the real handlers, hub and SQLite store: the answer is
// JSON — the result, or {"error": {code, message}} with the status of its
// code, never a 500 — the citizen id it carried is not logged, and after
// it every view still encodes and the queue's invariants hold.
func FuzzAPI(f *testing.F) {
	for _, seed := range []struct {
		route uint8
		param string
		body  string
	}{
		{0, "", `{"service":"E","priority":"priority","citizen":"c-fuzz-000001"}`},
		{0, "", `{"service":"E","priority":"appointment","appointment_at":"9999-12-31T23:30:00Z"}`},
		{0, "", "{\"service\":\"E\",\"lang\":\"caf\xe9\"}"},
		{0, "", `{"service":"E","offline_number":901}`},
		{0, "", `{"service":"` + strings.Repeat("E", 70<<10) + `"}`},
		{8, "1", `{"agent":"ana"}`},
		{9, "1", ``},
		{15, "1", `{"reason":"` + strings.Repeat("é", 300) + `"}`},
		{14, "1", `{"service":"Z"}`},
		{3, "\xff", ``},
		{7, "1", ``},
		{18, "-1", ``},
		{19, "", `{"code":"RDV-1234","service":"E","at":"0000-01-01T00:00:00+14:00"}`},
		{22, "RDV-1234", `{"lang":"fr"}`},
		{23, "", `{"id":"Kiosk/../x","role":"kiosk"}`},
		{25, "", `{"name":"` + strings.Repeat("x", 1000) + `"}`},
	} {
		f.Add(seed.route, seed.param, []byte(seed.body))
	}
	e := start(f, f.TempDir())
	h := e.srv.Config.Handler
	do := func(method, target string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if len(body) > 0 {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, route uint8, param string, body []byte) {
		method, target, _ := strings.Cut(fuzzRoutes[int(route)%len(fuzzRoutes)], " ")
		if strings.Contains(target, "?") {
			target = strings.Replace(target, "{}", url.QueryEscape(param), 1)
		} else {
			if param == "" {
				param = "1"
			}
			target = strings.Replace(target, "{}", url.PathEscape(param), 1)
		}
		logged := len(e.logs.String())
		rec := do(method, target, body)
		checkAnswer(t, method+" "+target, rec)
		var probe struct{ Citizen string }
		json.Unmarshal(body, &probe)
		if len(probe.Citizen) >= 6 && strings.Contains(e.logs.String()[logged:], probe.Citizen) {
			t.Fatalf("citizen id %q logged", probe.Citizen)
		}
		for _, view := range []string{"/api/v1/tickets", "/api/v1/queue", "/api/v1/board", "/api/v1/counters", "/api/v1/services", "/api/v1/agents"} {
			if rec := do("GET", view, nil); rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("after %s %s: GET %s answers %d: %s", method, target, view, rec.Code, rec.Body.Bytes())
			}
		}
		var err error
		e.hub.Read(func(q *queue.Engine) { err = q.Check() })
		if err != nil {
			t.Fatalf("after %s %s: %v", method, target, err)
		}
	})
}

// checkAnswer checks an API answer: JSON, and a refusal's status is its
// code's.
func checkAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	b := rec.Body.Bytes()
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable || !json.Valid(b) {
		t.Fatalf("%s: %d %s", what, rec.Code, b)
	}
	if rec.Code < 400 {
		return
	}
	var body api.ErrorBody
	if err := json.Unmarshal(b, &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("%s: refusal %d %s", what, rec.Code, b)
	}
	if _, known := statuses[body.Error.Code]; !known || statusOf(body.Error.Code) != rec.Code {
		t.Fatalf("%s: code %s with status %d", what, body.Error.Code, rec.Code)
	}
}
