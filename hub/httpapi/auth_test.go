package httpapi

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/config"
	"guichet/hub/store"
	"guichet/internal/logbuf"
)

// startWith starts the API like start, with options changed by set.
func startWith(t *testing.T, set func(*Options), ho hub.Options) *env {
	t.Helper()
	dir := t.TempDir()
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
	ho.Site, ho.Store, ho.Log = site, st, log
	h, err := hub.New(ho)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Hub: h, AdminToken: token, Log: log}
	if set != nil {
		set(&o)
	}
	srv := httptest.NewServer(New(o))
	e := &env{t: t, url: srv.URL, hub: h, st: st, srv: srv, dir: dir, logs: logs}
	t.Cleanup(e.stop)
	return e
}

func TestWrongTokensAreSlowedDownPerAddress(t *testing.T) {
	e := startWith(t, func(o *Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}, hub.Options{})
	from := func(addr, tok string) resp {
		return e.call("GET", "/api/v1/tickets", "", "X-Forwarded-For", addr, "Authorization", "Bearer "+tok)
	}
	const guess = "guess-0000000000000000000000"
	for i := 0; i < 10; i++ {
		if r := from("203.0.113.5", guess); r.status != 401 {
			t.Fatalf("wrong token %d: %d %s", i, r.status, r.body)
		}
	}
	r := from("203.0.113.5", guess)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("11th wrong token in a row: %d, Retry-After %q; want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	var eb api.ErrorBody
	r.decode(t, &eb)
	if eb.Error.Code != api.CodeRateLimited {
		t.Fatalf("code %q, want %q", eb.Error.Code, api.CodeRateLimited)
	}
	if r := from("203.0.113.5", token); r.status != 429 {
		t.Fatalf("the right token from a locked-out address: %d; a guesser would learn which guess was right", r.status)
	}
	if r := from("203.0.113.6", token); r.status != 200 {
		t.Fatalf("another client behind the same proxy: %d, want 200", r.status)
	}
	if r := from("198.51.100.1, 203.0.113.6", guess); r.status != 401 {
		t.Fatalf("a forged left-hand X-Forwarded-For is the nearest untrusted hop's: %d", r.status)
	}
	logs := e.logs.String()
	if n := strings.Count(logs, "address locked out"); n != 1 {
		t.Fatalf("%d lockout log lines, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "client=203.0.113.5") || strings.Contains(logs, guess) || strings.Contains(logs, token) {
		t.Fatalf("the lockout line must name the address and never a token:\n%s", logs)
	}
	if strings.Contains(logs, "status=429") {
		t.Fatalf("each refused request logged (an attacker fills the log):\n%s", logs)
	}
}

func TestXForwardedForIsIgnoredFromAnUntrustedPeer(t *testing.T) {
	e := startWith(t, nil, hub.Options{})
	for i := 0; i < 10; i++ {
		e.call("GET", "/api/v1/tickets", "", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i), "Authorization", "Bearer nope-nope-nope-nope")
	}
	if r := e.call("GET", "/api/v1/tickets", "", "X-Forwarded-For", "203.0.113.99"); r.status != 429 {
		t.Fatalf("a guesser changing X-Forwarded-For without a trusted proxy: %d, want 429 (its own address counts)", r.status)
	}
}

func TestHealthzSaysDegradedWhileTheDatabaseRefusesWrites(t *testing.T) {
	e := startWith(t, nil, hub.Options{ProbeEvery: 20 * time.Millisecond})
	e.must("POST", "/api/v1/tickets", `{"service":"E"}`, 201)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.dir, "guichet.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TRIGGER full_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
		`CREATE TRIGGER full_meta BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
		`CREATE TRIGGER full_meta2 BEFORE INSERT ON meta BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.call("POST", "/api/v1/tickets", `{"service":"E"}`); r.status != 503 {
		t.Fatalf("issue on a full disk: %d %s", r.status, r.body)
	}
	r := e.call("GET", "/healthz", "")
	var h struct {
		Status, Reason, Since string
		Waiting               int
	}
	r.decode(t, &h)
	if r.status != 503 || h.Status != "degraded" || !strings.Contains(h.Reason, "disk is full") || h.Since == "" || h.Waiting != 1 {
		t.Fatalf("/healthz while commits fail: %d %s; want 503 degraded, with why and since when, and the queue", r.status, r.body)
	}
	for _, tr := range []string{"full_events", "full_meta", "full_meta2"} {
		db.Exec(`DROP TRIGGER ` + tr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.call("GET", "/healthz", "").status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("/healthz not ok 10 s after the disk was freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.must("POST", "/api/v1/tickets", `{"service":"E"}`, 201)
}

// A client that half-closes its connection once its request is sent (as
// some HTTP clients and proxies do) still reads the answer: the ticket it
// was issued, not "503 could not store" for a ticket that was stored.
func TestAClientThatHalfClosesGetsTheTicketItWasIssued(t *testing.T) {
	e := startWith(t, nil, hub.Options{})
	addr := strings.TrimPrefix(e.url, "http://")
	for i := 1; i <= 10; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		body := `{"service":"E"}`
		fmt.Fprintf(c, "POST /api/v1/tickets HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nIdempotency-Key: half-%d\r\nContent-Length: %d\r\n\r\n%s",
			addr, token, i, len(body), body)
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(res.Body)
		c.Close()
		var tk api.Ticket
		if res.StatusCode != 201 || json.Unmarshal(b, &tk) != nil || tk.ID == "" {
			t.Fatalf("request %d, half-closed: %d %s; want 201 and the ticket (%d events stored)", i, res.StatusCode, b, e.st.LastSeq())
		}
		// And it is the stored one: the same key replays it.
		r := e.call("POST", "/api/v1/tickets", body, "Idempotency-Key", fmt.Sprintf("half-%d", i))
		var again api.Ticket
		r.decode(t, &again)
		if again.ID != tk.ID {
			t.Fatalf("request %d answered ticket %s, the log holds %s", i, tk.ID, again.ID)
		}
	}
}

// A mobile ticket page's token is the citizen's link to their ticket: it
// stays out of the request log.
func TestTicketTokensStayOutOfTheLog(t *testing.T) {
	for in, want := range map[string]string{
		"/t/AAAAAAAAAAAAAAAAAAAAAA":        "/t/…",
		"/t/AAAAAAAAAAAAAAAAAAAAAA/events": "/t/…/events",
		"/t/":                              "/t/",
		"/api/v1/tickets":                  "/api/v1/tickets",
	} {
		if got := auth.LogPath(in); got != want {
			t.Errorf("LogPath(%q) = %q, want %q", in, got, want)
		}
	}
}
