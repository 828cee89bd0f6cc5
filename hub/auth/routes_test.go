package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"guichet/hub/auth"
	"guichet/internal/sitetest"
)

// caller is one of the identities every route is tried with.
type caller struct {
	name string
	role auth.Role // "" for nobody
	do   func(method, path string) (int, http.Header)
}

// samples gives a path parameter a value that reaches the handler without
// touching anyone else's work: counter 1 (the agent's own), accounts and
// tokens that are nobody's.
var samples = map[string]string{"id": "1", "arch": "arm64", "version": "v1.0.0", "code": "nope", "token": "nope", "provider": "nope", "name": "mqtt", "file": "console.css", "chart": "hours.svg"}

var param = regexp.MustCompile(`\{([a-z]+)(\.\.\.)?\}`)

func samplePath(pattern string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	if strings.HasPrefix(p, "/api/v1/accounts/") {
		return strings.Replace(p, "{id}", "victim", 1)
	}
	if strings.HasPrefix(p, "/api/v1/tokens/") || strings.HasPrefix(p, "/api/v1/tickets/") || strings.HasPrefix(p, "/api/v1/devices/") {
		return strings.Replace(p, "{id}", "nope", 1)
	}
	return param.ReplaceAllStringFunc(p, func(m string) string { return samples[param.FindStringSubmatch(m)[1]] })
}

// Role enforcement, generated from the route table: every route the hub
// serves, tried as nobody, an agent, a supervisor, an admin (a session and
// the admin token) and an integration token, is allowed or refused exactly
// as its declared access says — a new route is tried as soon as it is
// declared.
func TestEveryRouteAllowsExactlyTheRolesItDeclares(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("ana", auth.RoleAgent, "") // an agent of the site file
	s.AddAccount("sup", auth.RoleSupervisor, "")
	s.AddAccount("adm", auth.RoleAdmin, "")
	s.AddAccount("victim", auth.RoleAgent, "")
	sessions := map[string]*sitetest.Session{"ana": s.SignIn("ana", sitetest.Password), "sup": s.SignIn("sup", sitetest.Password),
		"adm": s.SignIn("adm", sitetest.Password)}
	if st, b, _ := sessions["ana"].Do("POST", "/api/v1/counters/1/open", ""); st != 200 {
		t.Fatalf("ana opens counter 1: %d %s", st, b)
	}
	st, b, _ := sessions["adm"].Do("POST", "/api/v1/tokens", `{"name":"crm","role":"integration"}`)
	var tok struct{ Token string }
	if st != 201 || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("integration token: %d %s", st, b)
	}
	session := func(login string) func(string, string) (int, http.Header) {
		return func(method, path string) (int, http.Header) {
			return sessions[login].Status(method, path) // a live stream's body never ends
		}
	}
	bearer := func(token string) func(string, string) (int, http.Header) {
		return func(method, path string) (int, http.Header) {
			req, _ := http.NewRequest(method, s.HTTPURL+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode, res.Header
		}
	}
	anon := s.NewSession()
	callers := []caller{
		{"nobody", "", anon.Status},
		{"agent", auth.RoleAgent, session("ana")},
		{"supervisor", auth.RoleSupervisor, session("sup")},
		{"admin", auth.RoleAdmin, session("adm")},
		{"admin token", auth.RoleAdmin, bearer(s.Token)},
		{"integration token", auth.RoleIntegration, bearer(tok.Token)},
	}
	routes := s.API.Routes()
	// Signing out last: it ends the session the other routes are tried with.
	slices.SortStableFunc(routes, func(a, b auth.Route) int {
		return boolInt(a.Pattern == auth.LogoutPath) - boolInt(b.Pattern == auth.LogoutPath)
	})
	if len(routes) < 40 {
		t.Fatalf("only %d routes: the table is not the hub's", len(routes))
	}
	tried := 0
	for _, rt := range routes {
		path := samplePath(rt.Pattern)
		for _, c := range callers {
			var p *auth.Principal
			if c.role != "" {
				p = &auth.Principal{Role: c.role}
			}
			want := rt.Access.Allows(p)
			st, h := c.do(rt.Method, path)
			tried++
			toLogin := st == http.StatusSeeOther && strings.HasPrefix(h.Get("Location"), auth.LoginPath+"?next=")
			refused := st == http.StatusUnauthorized || st == http.StatusForbidden || toLogin
			switch {
			case want && refused:
				t.Errorf("%s %s (%s) as %s: refused with %d, declared allowed", rt.Method, path, rt.Access, c.name, st)
			case !want && !refused:
				t.Errorf("%s %s (%s) as %s: %d, declared refused", rt.Method, path, rt.Access, c.name, st)
			case !want && c.role == "" && rt.Kind == auth.Page && !toLogin:
				t.Errorf("%s %s as nobody: %d, want the sign-in page", rt.Method, path, st)
			case !want && c.role == "" && rt.Kind == auth.API && st != http.StatusUnauthorized:
				t.Errorf("%s %s as nobody: %d, want 401", rt.Method, path, st)
			case !want && c.role != "" && st != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d, want 403", rt.Method, path, c.name, st)
			}
		}
	}
	t.Logf("%d routes tried as %d callers (%d requests)", len(routes), len(callers), tried)
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A route that names no access, or no kind, cannot be registered: the hub
// stops at start.
func TestARouteWithoutADeclaredAccessCannotBeRegistered(t *testing.T) {
	tb := auth.New(auth.Options{}).Table()
	h := http.NotFoundHandler()
	for name, rt := range map[string]auth.Route{
		"no access": {Method: "GET", Pattern: "/x", Kind: auth.API, Handler: h},
		"no kind":   {Method: "GET", Pattern: "/x", Access: auth.Public, Handler: h},
		"no method": {Pattern: "/x", Access: auth.Public, Kind: auth.API, Handler: h},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: registered", name)
				}
			}()
			tb.Add(rt)
		}()
	}
	tb.Add(auth.Route{Method: "GET", Pattern: "/x", Access: auth.Public, Kind: auth.API, Handler: h})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a route declared twice: registered")
			}
		}()
		tb.Add(auth.Route{Method: "GET", Pattern: "/x", Access: auth.Admin, Kind: auth.API, Handler: h})
	}()
}

// The table serves nothing it was not told: what no declared route
// matches goes to its fallback.
func TestTheTableServesOnlyDeclaredRoutes(t *testing.T) {
	tb := auth.New(auth.Options{}).Table()
	tb.Add(auth.Route{Method: "GET", Pattern: "/open/{id}", Access: auth.Public, Kind: auth.API,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("open " + r.PathValue("id"))) })})
	tb.Fallback(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	for path, want := range map[string]int{"/open/7": 200, "/open": 418, "/other": 418, "/": 418} {
		rec := httptest.NewRecorder()
		tb.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
		if path == "/open/7" && rec.Body.String() != "open 7" {
			t.Errorf("the route's path value: %q", rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	tb.ServeHTTP(rec, httptest.NewRequest("POST", "/open/7", nil))
	if rec.Code != 418 {
		t.Errorf("POST on a GET route: %d, want the fallback", rec.Code)
	}
}
