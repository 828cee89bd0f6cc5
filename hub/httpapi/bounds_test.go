package httpapi

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/store"
)

// Values that pass a type check and break what comes after are refused at
// the door, with invalid_argument, and nothing is stored.
func TestValuesThatWouldBreakAViewAreRefusedAtTheDoor(t *testing.T) {
	e := start(t, t.TempDir())
	e.must("POST", "/api/v1/counters/1/open", `{"agent":"mlefebvre"}`, 200)
	soon := time.Now().Add(20 * time.Minute).UTC().Format(time.RFC3339)
	big := strings.Repeat("x", 100<<10)
	cases := []struct{ name, path, body string }{
		{"appointment in year 9999", "/api/v1/tickets", `{"service":"E","priority":"appointment","appointment_at":"9999-12-31T23:30:00Z"}`},
		{"appointment in year 1", "/api/v1/tickets", `{"service":"E","priority":"appointment","appointment_at":"0001-01-01T00:00:01Z"}`},
		{"appointment a year ago", "/api/v1/tickets", `{"service":"E","priority":"appointment","appointment_at":"` + time.Now().AddDate(-1, 0, 0).UTC().Format(time.RFC3339) + `"}`},
		{"booked in year 9999", "/api/v1/appointments", `{"code":"ANTS-9999","service":"E","at":"9999-12-31T23:30:00Z"}`},
		{"booked two years ahead", "/api/v1/appointments", `{"code":"ANTS-2028","service":"E","at":"` + time.Now().AddDate(2, 0, 0).UTC().Format(time.RFC3339) + `"}`},
		{"lone surrogate", "/api/v1/tickets", `{"service":"E","citizen":"\ud800"}`},
		{"raw invalid byte", "/api/v1/tickets", "{\"service\":\"E\",\"citizen\":\"caf\xe9\"}"},
		{"NUL in a citizen", "/api/v1/tickets", `{"service":"E","citizen":"crm\u0000-77"}`},
		{"line break in a citizen", "/api/v1/appointments", `{"code":"ANTS-0001","service":"E","at":"` + soon + `","citizen":"a\nb"}`},
		{"100 KB citizen", "/api/v1/tickets", `{"service":"E","citizen":"` + big[:60<<10] + `"}`},
		{"lang not a language", "/api/v1/tickets", `{"service":"E","lang":"1e400"}`},
		{"NUL in a pause reason", "/api/v1/counters/1/pause", `{"reason":"caf\u0000"}`},
		{"lone surrogate in a pause reason", "/api/v1/counters/1/pause", `{"reason":"caf\udc00"}`},
		{"escape sequence in a cancel reason", "/api/v1/tickets/x/cancel", `{"reason":"\u001b[2J"}`},
	}
	before := e.st.LastSeq()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call("POST", c.path, c.body)
			var body api.ErrorBody
			if err := json.Unmarshal(r.body, &body); err != nil || r.status != 400 || body.Error.Code != api.CodeInvalid {
				t.Fatalf("%d %s, want 400 %s", r.status, r.body, api.CodeInvalid)
			}
		})
	}
	if after := e.st.LastSeq(); after != before {
		t.Fatalf("refused requests appended %d events", after-before)
	}
	// Everything still answers.
	for _, p := range []string{"/api/v1/tickets", "/api/v1/counters", "/api/v1/queue", "/api/v1/board", "/api/v1/appointments"} {
		e.must("GET", p, "", 200)
	}
	e.must("POST", "/api/v1/tickets", `{"service":"E","citizen":"crm-77","lang":"pt-BR"}`, 201)
	e.must("POST", "/api/v1/counters/1/next", "", 200)
}

// A number the body's type cannot hold is a malformed request, not a crash
// nor a silent zero.
func TestNumbersOutOfRangeAreRefused(t *testing.T) {
	e := start(t, t.TempDir())
	for _, p := range []string{`/api/v1/events?limit=1e400`, `/api/v1/events?after=-1`, `/api/v1/events?after=99999999999999999999`} {
		if r := e.call("GET", p, ""); r.status != 400 {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
	if r := e.call("POST", "/api/v1/tickets", `{"service":"E","priority":1e400}`); r.status != 400 {
		t.Errorf("1e400 as a priority: %d %s", r.status, r.body)
	}
}

// Query parameters and path ids are held to what they can name.
func TestParametersAreChecked(t *testing.T) {
	e := start(t, t.TempDir())
	long := strings.Repeat("x", 10<<10)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/tickets?state=bogus", 400},
		{"/api/v1/tickets?service=" + long, 400},
		{"/api/v1/tickets/" + long, 404},
		{"/api/v1/counters/" + long, 404},
		{"/api/v1/devices/" + long, 400},
		{"/api/v1/devices/Not%20an%20id", 400},
		{"/api/v1/appointments?day=2026-13-45", 400},
	} {
		r := e.call("GET", c.path, "")
		if r.status != c.status || len(r.body) > 1000 {
			t.Errorf("GET %.60s: %d (%d bytes), want %d and a short answer", c.path, r.status, len(r.body), c.status)
		}
	}
	r := e.call("POST", "/api/v1/devices", `{"id":"`+long+`","role":"kiosk"}`)
	if r.status != 400 || len(r.body) > 1000 {
		t.Errorf("a 10 KB device id: %d (%d bytes), want 400 and a short answer", r.status, len(r.body))
	}
	var ts struct{ Tickets []api.Ticket }
	e.must("GET", "/api/v1/tickets?state=waiting", "", 200).decode(t, &ts)
}

// A ticket with its slot in year 9999 (year 10000 in Paris), written by a
// build that accepted it, must not break the tickets, call next nor the
// counter, before or after a restart.
func TestAnOlderLogsYear9999AppointmentBreaksNoView(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "guichet.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "guichet.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	day := now.In(mustParis(t)).Format(time.DateOnly)
	for i, ev := range []map[string]any{
		{"at": now, "type": "ticket.issued", "ticket": "old-1", "service": "E", "number": 1, "day": day, "channel": "visit",
			"priority": "appointment", "appointment_at": "9999-12-31T23:30:00Z", "token": "tok-old-1"},
		{"at": now, "type": "appointment.booked", "code": "ANTS-0000", "service": "E", "appointment_at": "9999-12-31T23:30:00Z"},
		{"at": now, "type": "ticket.issued", "ticket": "old-2", "service": "E", "number": 901, "day": day, "channel": "visit",
			"priority": "none", "device": "kiosk-old", "issued_at": "0001-01-01T00:00:01Z", "token": "tok-old-2"},
	} {
		payload, _ := json.Marshal(ev)
		if _, err := db.Exec(`INSERT INTO events(at, type, ticket, actor, payload) VALUES (?, ?, ?, 'old', ?)`,
			now.UnixMilli(), ev["type"], fmt.Sprint(ev["ticket"]), payload); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	db.Close()

	for round := 0; round < 2; round++ {
		e := start(t, dir)
		if round == 0 && !strings.Contains(e.logs.String(), "held within bounds") {
			t.Error("no warning that the log holds times out of bounds")
		}
		var ts struct{ Tickets []api.Ticket }
		e.must("GET", "/api/v1/tickets", "", 200).decode(t, &ts)
		if len(ts.Tickets) < 2 {
			t.Fatalf("round %d: %d tickets", round, len(ts.Tickets))
		}
		e.must("GET", "/api/v1/appointments?day="+day, "", 200)
		e.must("GET", "/api/v1/queue", "", 200)
		if round == 0 {
			e.must("POST", "/api/v1/counters/3/open", `{"agent":"mlefebvre"}`, 200)
			e.must("POST", "/api/v1/counters/3/next", "", 200)
		}
		e.must("GET", "/api/v1/counters/3", "", 200)
		e.must("GET", "/api/v1/counters", "", 200)
		e.must("GET", "/api/v1/tickets/old-1", "", 200)
		e.stop()
	}
}

func mustParis(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Every code of the wire contract has its HTTP status, set in one table: a
// code added to hub/api/codes.go without one fails here.
func TestEveryCodeHasItsStatus(t *testing.T) {
	fset := gotoken.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join("..", "api", "codes.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || !strings.HasPrefix(vs.Names[0].Name, "Code") {
			return true
		}
		code, _ := strconv.Unquote(vs.Values[0].(*ast.BasicLit).Value)
		if _, ok := statuses[code]; !ok {
			t.Errorf("%s (%q) has no HTTP status in statuses", vs.Names[0].Name, code)
		}
		n++
		return true
	})
	if n < 30 || len(statuses) != n {
		t.Fatalf("%d codes in codes.go, %d statuses", n, len(statuses))
	}
}

// A database written by an older build holds HTTP statuses in its replies
// table; its keys replay as they answered then.
func TestIdempotentRepliesOfAnOlderDatabaseReplay(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir)
	first := e.call("POST", "/api/v1/tickets", `{"service":"E"}`, "Idempotency-Key", "press-1")
	refused := e.call("POST", "/api/v1/counters/1/next", ``, "Idempotency-Key", "next-1")
	if first.status != 201 || refused.status != 409 {
		t.Fatalf("first answers: %d, %d", first.status, refused.status)
	}
	e.stop()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "guichet.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	for key, status := range map[string]int{"http:press-1": 201, "http:next-1": 409} {
		if _, err := db.Exec(`UPDATE replies SET status = ? WHERE key = ?`, status, key); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	e = start(t, dir)
	e.must("POST", "/api/v1/counters/1/open", `{"agent":"mlefebvre"}`, 200)
	for _, c := range []struct {
		path, body, key string
		was             resp
	}{{"/api/v1/tickets", `{"service":"E"}`, "press-1", first}, {"/api/v1/counters/1/next", "", "next-1", refused}} {
		r := e.call("POST", c.path, c.body, "Idempotency-Key", c.key)
		if r.status != c.was.status || string(r.body) != string(c.was.body) || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s replays %d %s, want %d %s", c.key, r.status, r.body, c.was.status, c.was.body)
		}
	}
}
