package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"guichet/hub/auth"
	"guichet/internal/sitetest"
)

// TestOnlyAnAdminEntersAndEveryFormNeedsItsCSRFToken: the route table's
// guard keeps the administration: nobody is sent to sign in, an agent and
// a supervisor are refused, an admin's form without the session's CSRF
// token, or from another site, is refused and changes nothing.
func TestOnlyAnAdminEntersAndEveryFormNeedsItsCSRFToken(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("ana", auth.RoleAgent, "ana")
	s.AddAccount("chef", auth.RoleSupervisor, "")
	s.AddAccount("dsi", auth.RoleAdmin, "")

	if st, _, h := s.NewSession().Do("GET", "/admin/services", ""); st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), auth.LoginPath) {
		t.Fatalf("nobody: %d %s", st, h.Get("Location"))
	}
	for _, who := range []string{"ana", "chef"} {
		if st, _, _ := s.SignIn(who, sitetest.Password).Do("GET", "/admin/", ""); st != http.StatusForbidden {
			t.Fatalf("%s on /admin/: %d", who, st)
		}
	}
	admin := s.SignIn("dsi", sitetest.Password)
	if st, body, _ := admin.Do("GET", "/admin/pauses", ""); st != 200 || !strings.Contains(string(body), `name="csrf_token" value="`+admin.CSRF+`"`) {
		t.Fatalf("admin's page: %d, its forms carry the session's token: %v", st, strings.Contains(string(body), admin.CSRF))
	}
	form := url.Values{"reasons": {"Déjeuner"}}
	if st, _, _ := admin.Do("POST", "/admin/pauses", form.Encode(), "Content-Type", "application/x-www-form-urlencoded", auth.CSRFHeader, ""); st != http.StatusForbidden {
		t.Fatalf("form without its CSRF token: %d", st)
	}
	if st, _, _ := admin.Do("POST", "/admin/pauses", form.Encode()+"&csrf_token=forged", "Content-Type", "application/x-www-form-urlencoded", auth.CSRFHeader, ""); st != http.StatusForbidden {
		t.Fatalf("form with a forged CSRF token: %d", st)
	}
	if st, _, _ := admin.Do("POST", "/admin/pauses", form.Encode()+"&csrf_token="+admin.CSRF, "Content-Type", "application/x-www-form-urlencoded",
		"Sec-Fetch-Site", "cross-site"); st != http.StatusForbidden {
		t.Fatalf("cross-site form: %d", st)
	}
	var site struct {
		PauseReasons []string `json:"pause_reasons"`
	}
	s.Must("GET", "/api/v1/site", "", 200, &site)
	if len(site.PauseReasons) != 0 {
		t.Fatalf("a refused form changed the pause reasons: %v", site.PauseReasons)
	}
	if st, _, _ := admin.Form("POST", "/admin/pauses", url.Values{"reasons": {"Déjeuner\nRéunion"}}); st != http.StatusSeeOther {
		t.Fatalf("form: %d", st)
	}
	s.Must("GET", "/api/v1/site", "", 200, &site)
	if strings.Join(site.PauseReasons, "|") != "Déjeuner|Réunion" {
		t.Fatalf("pause reasons %v", site.PauseReasons)
	}
}

func TestWhatIsInUseCannotBeRemovedAndThePageSaysWhy(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("dsi", auth.RoleAdmin, "")
	admin := s.SignIn("dsi", sitetest.Password)
	s.Must("POST", "/api/v1/counters/1/open", `{"agent":"ana"}`, 200, nil)
	s.Must("POST", "/api/v1/tickets", `{"service":"E"}`, 201, nil)
	for _, x := range []struct{ path, want, list string }{
		{"/admin/counters/1/delete", "sign them out first", "Guichet 2"},
		{"/admin/agents/ana/delete", "sign them out first", "bob"},
		{"/admin/services/E/delete", "still has 1 tickets", `value="État civil"`},
	} {
		st, body, _ := admin.Form("POST", x.path, url.Values{})
		if st != http.StatusUnprocessableEntity || !strings.Contains(string(body), x.want) || !strings.Contains(string(body), x.list) {
			t.Fatalf("%s: %d, want the refusal %q and the page around it:\n%s", x.path, st, x.want, body)
		}
	}
}
