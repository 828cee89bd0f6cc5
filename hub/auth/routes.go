package auth

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Kind says how a route refuses a caller it does not let in.
type Kind int

// The kinds of routes.
const (
	// API answers 401 (nobody signed in, or a credential that is not valid)
	// or 403 (a role too low) with the API's error body.
	API Kind = iota + 1
	// Page sends a visitor who is not signed in to the sign-in page, and
	// back here after; a role too low gets a 403 page.
	Page
)

// Route is one entry of the route table: every page and API route of the
// hub is one, registered through Registrar.Add.
type Route struct {
	Method  string // GET, POST, PUT, PATCH, DELETE
	Pattern string // a net/http pattern's path: "/api/v1/tickets/{id}", "/display/"
	Access  Access // required; the zero Access panics at registration
	Kind    Kind   // required
	About   string // one line for docs/accounts.md (optional)
	Handler http.Handler
}

// Registrar is where pages and APIs register their routes: hub/httpapi's
// server, for every package that serves over HTTP.
type Registrar interface {
	Add(Route)
}

// Table is the route table: a mux that serves only the routes declared to
// it, each behind the guard.
type Table struct {
	guard    *Guard
	mux      *http.ServeMux
	routes   []Route
	declared map[string]Route // by method+" "+pattern
	fallback http.Handler
}

// NewTable returns an empty table whose routes g guards.
func NewTable(g *Guard) *Table {
	return &Table{guard: g, mux: http.NewServeMux(), declared: map[string]Route{}}
}

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// Add registers a route. It panics — at start, where a mistake is found
// at once — on a route without an access or a kind, a method it does not
// know, or a route declared twice.
func (t *Table) Add(r Route) {
	switch {
	case r.Access < Public || r.Access > Device:
		panic(fmt.Sprintf("auth: route %s %s declares no access: every route names who may use it", r.Method, r.Pattern))
	case r.Kind != API && r.Kind != Page:
		panic(fmt.Sprintf("auth: route %s %s declares no kind (API or Page)", r.Method, r.Pattern))
	case !slices.Contains(methods, r.Method):
		panic(fmt.Sprintf("auth: route %s %s: method must be one of %v", r.Method, r.Pattern, methods))
	case !strings.HasPrefix(r.Pattern, "/") || r.Handler == nil:
		panic(fmt.Sprintf("auth: route %s %s needs a path and a handler", r.Method, r.Pattern))
	}
	key := r.Method + " " + r.Pattern
	if _, dup := t.declared[key]; dup {
		panic(fmt.Sprintf("auth: route %s declared twice", key))
	}
	t.declared[key] = r
	t.routes = append(t.routes, r)
	t.mux.Handle(key, t.guard.wrap(r))
}

// Fallback sets what answers a request no route matches (404, 405). It
// runs for anyone, so it must give nothing away.
func (t *Table) Fallback(h http.Handler) { t.fallback = h }

// Routes returns the declared routes, in the order they were added.
func (t *Table) Routes() []Route { return slices.Clone(t.routes) }

// Match returns the declared route that would serve r.
func (t *Table) Match(r *http.Request) (Route, bool) {
	_, pattern := t.mux.Handler(r)
	rt, ok := t.declared[pattern]
	return rt, ok
}

// ServeHTTP serves r by the route that matches it, through the guard;
// what matches no declared route goes to the fallback.
func (t *Table) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := t.mux.Handler(r); pattern == "" || t.declared[pattern].Handler == nil {
		h := t.fallback
		if h == nil {
			h = http.NotFoundHandler()
		}
		h.ServeHTTP(w, r)
		return
	}
	t.mux.ServeHTTP(w, r) // sets the path's values
}
