package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/config"
	"guichet/hub/devices"
	"guichet/hub/queue"
	"guichet/hub/stats"
	"guichet/hub/store"
	"guichet/internal/logbuf"
)

const token = "test-admin-token-0123456789"

type env struct {
	t    testing.TB
	url  string
	hub  *hub.Hub
	st   *store.Store
	srv  *httptest.Server
	dir  string
	logs *logbuf.Buffer
}

func start(t testing.TB, dir string) *env {
	t.Helper()
	_, site, err := config.Parse("sample.yaml", config.Sample)
	if err != nil {
		t.Fatal(err)
	}
	site.Policy.IgnoreHours = true
	logs := &logbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	st, err := store.Open(filepath.Join(dir, "guichet.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Options{Site: site, Store: st, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	reg := devices.New(st, func(c string) bool { return c != "" && c != "99" }, log)
	srv := httptest.NewServer(New(Options{Hub: h, AdminToken: token, Log: log, Devices: reg}))
	e := &env{t: t, url: srv.URL, hub: h, st: st, srv: srv, dir: dir, logs: logs}
	t.Cleanup(e.stop)
	return e
}

func (e *env) stop() {
	if e.srv == nil {
		return
	}
	e.srv.Close()
	e.hub.Close()
	e.st.Close()
	e.srv = nil
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// call sends a request with the admin token (unless headers say otherwise).
func (e *env) call(method, path, body string, headers ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (e *env) must(method, path, body string, want int) resp {
	e.t.Helper()
	r := e.call(method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

func TestIssueCallFinishOverHTTP(t *testing.T) {
	e := start(t, t.TempDir())
	var tk api.Ticket
	e.must("POST", "/api/v1/tickets", `{"service":"E"}`, 201).decode(t, &tk)
	if tk.Number != "E001" || tk.State != "waiting" || tk.Ahead == nil || *tk.Ahead != 0 || tk.ServiceName["fr"] != "État civil" || tk.Token == "" {
		t.Fatalf("issued %+v", tk)
	}
	e.must("POST", "/api/v1/counters/3/open", `{"agent":"mlefebvre"}`, 200)
	var c api.Counter
	e.must("POST", "/api/v1/counters/3/next", "", 200).decode(t, &c)
	if c.Ticket == nil || c.Ticket.Number != "E001" || c.AgentState != "serving" || c.Ticket.CounterName != "Guichet 3" {
		t.Fatalf("after next: %+v", c)
	}
	var board api.Board
	e.must("GET", "/api/v1/board", "", 200).decode(t, &board)
	if len(board.Calls) != 1 || board.Calls[0].Ticket != "E001" || board.Calls[0].CounterName != "Guichet 3" {
		t.Fatalf("board %+v", board)
	}
	e.must("POST", "/api/v1/counters/3/finish", "", 200)
	var got api.Ticket
	e.must("GET", "/api/v1/tickets/"+tk.ID, "", 200).decode(t, &got)
	if got.State != "done" || got.EndedAt == nil {
		t.Fatalf("after finish: %+v", got)
	}
	var hist struct{ Events []struct{ Type string } }
	e.must("GET", "/api/v1/tickets/"+tk.ID+"/events", "", 200).decode(t, &hist)
	var types []string
	for _, ev := range hist.Events {
		types = append(types, ev.Type)
	}
	if strings.Join(types, ",") != "ticket.issued,ticket.called,ticket.served" {
		t.Fatalf("history %v", types)
	}
}

func TestPhoneTicketsShareTheQueueSummary(t *testing.T) {
	e := start(t, t.TempDir())
	e.must("POST", "/api/v1/tickets", `{"service":"E","channel":"phone"}`, 201)
	e.must("POST", "/api/v1/tickets", `{"service":"E"}`, 201)
	var q api.Queue
	e.must("GET", "/api/v1/queue", "", 200).decode(t, &q)
	for _, s := range q.Services {
		if s.Service == "E" && (s.Waiting != 2 || s.WaitingPhone != 1) {
			t.Fatalf("E summary %+v", s)
		}
	}
	r := e.call("POST", "/api/v1/tickets", `{"service":"P","channel":"phone"}`)
	if r.status != 422 || !strings.Contains(string(r.body), "channel_not_taken") {
		t.Fatalf("phone ticket for passports: %d %s", r.status, r.body)
	}
}

func TestBadInputGetsAJSON4xxAndLeavesTheQueueUnchanged(t *testing.T) {
	e := start(t, t.TempDir())
	e.must("POST", "/api/v1/tickets", `{"service":"E"}`, 201)
	e.must("POST", "/api/v1/counters/1/open", `{"agent":"mlefebvre"}`, 200)
	big := `{"service":"E","citizen":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code                     string
	}{
		{"malformed JSON", "POST", "/api/v1/tickets", `{"service":`, nil, 400, "bad_request"},
		{"not an object", "POST", "/api/v1/tickets", `[1,2]`, nil, 400, "bad_request"},
		{"two values", "POST", "/api/v1/tickets", `{"service":"E"}{"service":"E"}`, nil, 400, "bad_request"},
		{"unknown field", "POST", "/api/v1/tickets", `{"service":"E","vip":true}`, nil, 400, "unknown_field"},
		{"wrong type", "POST", "/api/v1/tickets", `{"service":42}`, nil, 400, "bad_request"},
		{"missing service", "POST", "/api/v1/tickets", `{}`, nil, 400, "invalid_argument"},
		{"unknown service", "POST", "/api/v1/tickets", `{"service":"Z"}`, nil, 422, "unknown_service"},
		{"unknown priority", "POST", "/api/v1/tickets", `{"service":"E","priority":"vip"}`, nil, 400, "invalid_argument"},
		{"bad date", "POST", "/api/v1/tickets", `{"service":"E","priority":"appointment","appointment_at":"demain"}`, nil, 400, "bad_request"},
		{"1 MB body", "POST", "/api/v1/tickets", big, nil, 413, "too_large"},
		{"not JSON", "POST", "/api/v1/tickets", `service=E`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"missing token", "POST", "/api/v1/tickets", `{"service":"E"}`, []string{"Authorization", ""}, 401, "unauthorized"},
		{"wrong token", "POST", "/api/v1/tickets", `{"service":"E"}`, []string{"Authorization", "Bearer nope"}, 401, "unauthorized"},
		{"basic auth", "GET", "/api/v1/counters", ``, []string{"Authorization", "Basic YWRtaW46YWRtaW4="}, 401, "unauthorized"},
		{"bad idempotency key", "POST", "/api/v1/tickets", `{"service":"E"}`, []string{"Idempotency-Key", "a b"}, 400, "bad_request"},
		{"illegal transition", "POST", "/api/v1/counters/1/start", ``, nil, 409, "no_current_ticket"},
		{"closed counter", "POST", "/api/v1/counters/2/next", ``, nil, 409, "counter_closed"},
		{"unknown counter", "POST", "/api/v1/counters/99/next", ``, nil, 404, "unknown_counter"},
		{"transfer to unknown service", "POST", "/api/v1/counters/1/transfer", `{"service":"Z"}`, nil, 409, "no_current_ticket"},
		{"pause without reason", "POST", "/api/v1/counters/1/pause", `{}`, nil, 400, "invalid_argument"},
		{"unknown agent", "POST", "/api/v1/counters/2/open", `{"agent":"nobody"}`, nil, 422, "unknown_agent"},
		{"unknown ticket", "POST", "/api/v1/tickets/nope/cancel", ``, nil, 404, "unknown_ticket"},
		{"unknown route", "GET", "/api/v1/nothing", ``, nil, 404, "not_found"},
		{"wrong method", "DELETE", "/api/v1/tickets", ``, nil, 405, "method_not_allowed"},
		{"bad paging", "GET", "/api/v1/events?limit=100000", ``, nil, 400, "invalid_argument"},
	}
	before := e.st.LastSeq()
	var q0 api.Queue
	e.must("GET", "/api/v1/queue", "", 200).decode(t, &q0)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(c.method, c.path, c.body, c.headers...)
			var body api.ErrorBody
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("status %d, body not JSON: %q", r.status, r.body)
			}
			if r.status != c.status || body.Error.Code != c.code || body.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", r.status, body.Error, c.status, c.code)
			}
		})
	}
	if after := e.st.LastSeq(); after != before {
		t.Fatalf("bad input appended %d events", after-before)
	}
	for _, st := range []string{"status=400", "status=401", "status=404", "status=405", "status=409", "status=413", "status=415", "status=422"} {
		if !strings.Contains(e.logs.String(), st) {
			t.Errorf("no log line with %s", st)
		}
	}
	var q1 api.Queue
	e.must("GET", "/api/v1/queue", "", 200).decode(t, &q1)
	for i := range q0.Services {
		if q0.Services[i].Waiting != q1.Services[i].Waiting {
			t.Fatalf("queue changed: %+v → %+v", q0.Services[i], q1.Services[i])
		}
	}
}

func TestPublicEndpointsNeedNoToken(t *testing.T) {
	e := start(t, t.TempDir())
	for _, p := range []string{"/healthz", "/metrics", "/api/v1/board", "/api/v1/queue", "/api/v1/services", "/api/v1/openapi.json"} {
		if r := e.call("GET", p, "", "Authorization", ""); r.status != 200 {
			t.Errorf("GET %s without token: %d", p, r.status)
		}
	}
	for _, p := range []string{"/api/v1/tickets", "/api/v1/counters", "/api/v1/events", "/api/v1/agents"} {
		if r := e.call("GET", p, "", "Authorization", ""); r.status != 401 {
			t.Errorf("GET %s without token: %d", p, r.status)
		}
	}
}

func TestThirtyTwoClientsGetDistinctNumbersEveryTime(t *testing.T) {
	e := start(t, t.TempDir())
	for round := 0; round < 5; round++ {
		const clients, each = 32, 8
		numbers := make(chan string, clients*each)
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					r := e.call("POST", "/api/v1/tickets", `{"service":"A"}`)
					var tk api.Ticket
					if r.status != 201 || json.Unmarshal(r.body, &tk) != nil {
						t.Errorf("issue: %d %s", r.status, r.body)
						return
					}
					numbers <- tk.Number
				}
			}()
		}
		wg.Wait()
		close(numbers)
		seen := map[string]bool{}
		for n := range numbers {
			if seen[n] {
				t.Fatalf("round %d: number %s handed out twice", round, n)
			}
			seen[n] = true
		}
		if len(seen) != clients*each {
			t.Fatalf("round %d: %d numbers for %d tickets", round, len(seen), clients*each)
		}
	}
}

func TestIdempotencyKeyReturnsTheFirstReplyEvenAfterRestart(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	first := e.call("POST", "/api/v1/tickets", `{"service":"E"}`, "Idempotency-Key", "press-0001")
	again := e.call("POST", "/api/v1/tickets", `{"service":"E"}`, "Idempotency-Key", "press-0001")
	if first.status != 201 || again.status != 201 || !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("first %d %s\nagain %d %s", first.status, first.body, again.status, again.body)
	}
	// A refusal is a reply too: the same key keeps it.
	r1 := e.call("POST", "/api/v1/counters/1/next", ``, "Idempotency-Key", "next-1")
	e.must("POST", "/api/v1/counters/1/open", `{"agent":"mlefebvre"}`, 200)
	r2 := e.call("POST", "/api/v1/counters/1/next", ``, "Idempotency-Key", "next-1")
	if r1.status != 409 || r2.status != 409 || !bytes.Equal(r1.body, r2.body) {
		t.Fatalf("refusal not kept: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	e.stop()
	e = start(t, dir)
	after := e.call("POST", "/api/v1/tickets", `{"service":"E"}`, "Idempotency-Key", "press-0001")
	if !bytes.Equal(first.body, after.body) {
		t.Fatalf("after restart: %s, want %s", after.body, first.body)
	}
	var ts struct{ Tickets []api.Ticket }
	e.must("GET", "/api/v1/tickets", "", 200).decode(t, &ts)
	if len(ts.Tickets) != 1 {
		t.Fatalf("%d tickets after three presses with one key", len(ts.Tickets))
	}
}

func TestConcurrentSameKeyDoesTheWorkOnce(t *testing.T) {
	e := start(t, t.TempDir())
	var wg sync.WaitGroup
	bodies := make([][]byte, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = e.call("POST", "/api/v1/tickets", `{"service":"E"}`, "Idempotency-Key", "same").body
		}()
	}
	wg.Wait()
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Fatalf("different replies for one key: %s / %s", b, bodies[0])
		}
	}
	var ts struct{ Tickets []api.Ticket }
	e.must("GET", "/api/v1/tickets", "", 200).decode(t, &ts)
	if len(ts.Tickets) != 1 {
		t.Fatalf("%d tickets for one key", len(ts.Tickets))
	}
}

func TestExplainShowsWhoIsNextAndWhy(t *testing.T) {
	e := start(t, t.TempDir())
	e.must("POST", "/api/v1/counters/1/open", `{"agent":"mlefebvre"}`, 200)
	e.must("POST", "/api/v1/tickets", `{"service":"A"}`, 201)
	var prio api.Ticket
	e.must("POST", "/api/v1/tickets", `{"service":"E","priority":"priority"}`, 201).decode(t, &prio)
	var d struct {
		Next struct{ TicketID, Tier, Why string } `json:"next"`
	}
	e.must("GET", "/api/v1/counters/1/explain", "", 200).decode(t, &d)
	if d.Next.Tier != "priority" || d.Next.Why != "priority public" {
		t.Fatalf("explain %+v", d)
	}
	var c api.Counter
	e.must("POST", "/api/v1/counters/1/next", "", 200).decode(t, &c)
	if c.Ticket.ID != prio.ID {
		t.Fatalf("called %s, explain said %s", c.Ticket.Number, prio.Number)
	}
}

func TestEventsArePagedBySequence(t *testing.T) {
	e := start(t, t.TempDir())
	for i := 0; i < 5; i++ {
		e.must("POST", "/api/v1/tickets", `{"service":"A"}`, 201)
	}
	var page struct {
		Events []struct{ Seq int64 }
		Next   int64
	}
	e.must("GET", "/api/v1/events?after=2&limit=2", "", 200).decode(t, &page)
	if len(page.Events) != 2 || page.Events[0].Seq != 3 || page.Next != 4 {
		t.Fatalf("page %+v", page)
	}
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := start(t, t.TempDir())
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	e.must("GET", "/api/v1/openapi.json", "", 200).decode(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var site queue.Site
	e.hub.Read(func(q *queue.Engine) { site = *q.Site() })
	sp, err := stats.Open(context.Background(), stats.Options{Store: e.st, Site: &site})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	srv := New(Options{Hub: e.hub, AdminToken: token, Devices: devices.New(e.st, nil, nil), Stats: sp, Outbox: noOutbox{}})
	routed := map[string]bool{}
	for _, r := range srv.Routes() {
		m := strings.ToLower(r.Method)
		path := strings.TrimSuffix(r.Pattern, "{$}") // "/api/v1/{$}": exactly /api/v1/
		routed[m+" "+path] = true
		op, ok := doc.Paths[path][m]
		if !ok {
			t.Errorf("route %s %s is missing from openapi.json", r.Method, r.Pattern)
			continue
		}
		sec, hasSec := op["security"]
		if public := hasSec && fmt.Sprint(sec) == "[]"; public != (r.Access == auth.Public) {
			t.Errorf("%s %s: access %s in the route table, public %v in openapi.json", r.Method, r.Pattern, r.Access, public)
		}
		if access := fmt.Sprint(op["x-access"]); access != r.Access.String() {
			t.Errorf("%s %s: access %s in the route table, %s in openapi.json (x-access)", r.Method, r.Pattern, r.Access, access)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !routed[m+" "+p] {
				t.Errorf("openapi.json documents %s %s, which the server does not serve", m, p)
			}
		}
	}
}

func TestDevicesAreRegisteredWithASecretShownOnce(t *testing.T) {
	e := start(t, t.TempDir())
	var nd api.NewDevice
	e.must("POST", "/api/v1/devices", `{"id":"kiosk-hall","role":"kiosk"}`, 201).decode(t, &nd)
	if nd.ID != "kiosk-hall" || len(nd.Secret) < 40 || nd.MQTT.Username != "kiosk-hall" || nd.MQTT.Topics != "guichet/v1/villeneuve/" {
		t.Fatalf("registered %+v", nd)
	}
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"id":"kiosk-hall","role":"kiosk"}`, 409, "device_exists"},
		{`{"id":"Kiosk Hall","role":"kiosk"}`, 400, "invalid_argument"},
		{`{"id":"k2","role":"toaster"}`, 400, "invalid_argument"},
		{`{"id":"desk","role":"counter"}`, 400, "invalid_argument"},
		{`{"id":"desk","role":"counter","counter":"99"}`, 400, "invalid_argument"},
		{`{"id":"k3","role":"kiosk","secret":"mine"}`, 400, "unknown_field"},
	} {
		r := e.call("POST", "/api/v1/devices", c.body)
		var eb api.ErrorBody
		json.Unmarshal(r.body, &eb)
		if r.status != c.status || eb.Error.Code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.body, r.status, eb.Error.Code, c.status, c.code)
		}
	}
	list := e.must("GET", "/api/v1/devices", "", 200)
	if strings.Contains(string(list.body), nd.Secret) || strings.Contains(string(list.body), "secret") {
		t.Fatalf("the device list shows a secret: %s", list.body)
	}
	var d api.Device
	e.must("POST", "/api/v1/devices/kiosk-hall/disable", "", 200).decode(t, &d)
	if !d.Disabled {
		t.Fatalf("disabled %+v", d)
	}
	var rotated api.NewDevice
	e.must("POST", "/api/v1/devices/kiosk-hall/secret", "", 200).decode(t, &rotated)
	if rotated.Secret == "" || rotated.Secret == nd.Secret {
		t.Fatal("rotation kept the secret")
	}
	if r := e.call("GET", "/api/v1/devices/nope", ""); r.status != 404 {
		t.Fatalf("unknown device: %d", r.status)
	}
	if r := e.call("POST", "/api/v1/devices", `{"id":"x","role":"kiosk"}`, "Authorization", ""); r.status != 401 {
		t.Fatalf("registration without a token: %d", r.status)
	}
}

func TestAppointmentsAreBookedAndCheckedIn(t *testing.T) {
	e := start(t, t.TempDir())
	at := time.Now().Add(20 * time.Minute).Truncate(time.Minute).UTC()
	body := fmt.Sprintf(`{"code":"ANTS-4821","service":"P","at":%q,"citizen":"crm-77"}`, at.Format(time.RFC3339))
	e.must("POST", "/api/v1/appointments", body, 201)
	if r := e.call("POST", "/api/v1/appointments", body); r.status != 400 {
		t.Fatalf("booked twice: %d", r.status)
	}
	var list struct{ Appointments []map[string]any }
	paris, _ := time.LoadLocation("Europe/Paris")
	e.must("GET", "/api/v1/appointments?day="+at.In(paris).Format(time.DateOnly), "", 200).decode(t, &list)
	if len(list.Appointments) != 1 {
		t.Fatalf("today's appointments: %+v", list)
	}
	var tk api.Ticket
	e.must("POST", "/api/v1/appointments/ANTS-4821/checkin", `{"lang":"fr"}`, 201).decode(t, &tk)
	if tk.Priority != "appointment" || tk.Service != "P" || tk.AppointmentAt == nil || !tk.AppointmentAt.Equal(at) || tk.Citizen != "crm-77" {
		t.Fatalf("checked in %+v", tk)
	}
	if r := e.call("POST", "/api/v1/appointments/ANTS-4821/checkin", ``); r.status != 409 || !strings.Contains(string(r.body), "already_checked_in") {
		t.Fatalf("second check-in: %d %s", r.status, r.body)
	}
	if r := e.call("POST", "/api/v1/appointments/NOPE-0000/checkin", ``); r.status != 404 {
		t.Fatalf("unknown code: %d", r.status)
	}
	if r := e.call("GET", "/api/v1/appointments?day=demain", ""); r.status != 400 {
		t.Fatalf("bad day: %d", r.status)
	}
}

// The demo's banner points at /api/v1/: it answers the API's index, with
// the contract's address and every route's access, without a token.
func TestTheAPIsIndexAnswers(t *testing.T) {
	e := start(t, t.TempDir())
	var idx struct {
		OpenAPI string `json:"openapi"`
		Routes  []struct{ Method, Path, Access string }
	}
	e.must("GET", "/api/v1/", "", 200).decode(t, &idx)
	if idx.OpenAPI != "/api/v1/openapi.json" || len(idx.Routes) < 20 {
		t.Fatalf("index %+v", idx)
	}
	found := false
	for _, r := range idx.Routes {
		found = found || r.Method == "POST" && r.Path == "/api/v1/tickets" && r.Access == "agent"
	}
	if !found {
		t.Fatalf("POST /api/v1/tickets (agent) not in the index: %+v", idx.Routes)
	}
	e.must("GET", "/api/v1/nope", "", 404)
}

// noOutbox is an outbox without destinations, for the routes it adds.
type noOutbox struct{}

func (noOutbox) Destinations() []api.Destination { return nil }
func (noOutbox) DeadLetters(context.Context, string, int) ([]api.DeadLetter, error) {
	return nil, nil
}
func (noOutbox) Replay(context.Context, string, []int64) (api.Replayed, error) {
	return api.Replayed{}, nil
}
func (noOutbox) Resume(string) error { return nil }
func (noOutbox) CloudEvents(context.Context, int64, int) (api.CloudEventsPage, error) {
	return api.CloudEventsPage{}, nil
}
func (noOutbox) Export(context.Context, io.Writer, string, time.Time, time.Time) (int, error) {
	return 0, nil
}
