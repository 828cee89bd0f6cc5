package admin

import (
	"net/http"
	"testing"

	"guichet/hub/auth"
)

type table []auth.Route

func (t *table) Add(r auth.Route) { *t = append(*t, r) }

// TestEveryAdminPageDeclaresTheAdminAccess: the route table enforces the
// access each route declares (hub/auth tests it from the table); every page
// and form here needs admin, only the stylesheet is public.
func TestEveryAdminPageDeclaresTheAdminAccess(t *testing.T) {
	var rt table
	(&Pages{o: Options{Devices: nil}}).Register(&rt)
	if len(rt) < 20 {
		t.Fatalf("%d routes", len(rt))
	}
	for _, r := range rt {
		public := r.Method == http.MethodGet && (r.Pattern == "/admin/static/" || r.Pattern == "/admin")
		if want := auth.Admin; !public && r.Access != want || public && r.Access != auth.Public || r.Kind != auth.Page {
			t.Fatalf("%s %s declares %v (%v)", r.Method, r.Pattern, r.Access, r.Kind)
		}
	}
}
