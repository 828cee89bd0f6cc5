package admin

import (
	"strings"
	"testing"
)

// TestEveryAdminRouteDeclaresTheAdminRole: the route table (hub/auth) will
// enforce the declared roles; only the sign-in page itself is open.
func TestEveryAdminRouteDeclaresTheAdminRole(t *testing.T) {
	p := &Pages{o: Options{Devices: nil}}
	for _, r := range p.Routes() {
		if strings.HasPrefix(r.Pattern, "GET /admin/signin") || strings.HasPrefix(r.Pattern, "POST /admin/signin") {
			if r.Role != "" {
				t.Fatalf("%s: the sign-in page needs no role", r.Pattern)
			}
			continue
		}
		if r.Role != RoleAdmin {
			t.Fatalf("%s declares role %q, want admin", r.Pattern, r.Role)
		}
	}
}
