package cas_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"guichet/hub/auth/cas/castest"
	"guichet/internal/sitetest"
)

const provider = "cas"

func users() []castest.User {
	return []castest.User{
		{Username: "m.durand", Password: "mot de passe de Marie",
			Attributes: map[string][]string{"memberOf": {"tous", "accueil-chefs"}, "displayName": {"Marie Durand"}}},
		{Username: "a.martin", Password: "mot de passe d'Ana",
			Attributes: map[string][]string{"memberOf": {"accueil"}, "displayName": {"Ana Martin"}, "guichetAgent": {"ana"}}},
		{Username: "p.leroy", Password: "mot de passe de Paul",
			Attributes: map[string][]string{"memberOf": {"voirie"}, "displayName": {"Paul Leroy"}}},
	}
}

// start starts a CAS server (on 127.0.0.2) and a hub that signs in
// through it.
func start(t *testing.T, form castest.Form) (*sitetest.Site, *castest.Server) {
	c := castest.Start(t, castest.Options{Users: users(), Form: form})
	s := sitetest.Start(t, sitetest.Options{Config: sitetest.Config + fmt.Sprintf(`
auth:
  cas:
    - name: %s
      label: { fr: "le CAS de la mairie", en: "the town's CAS" }
      url: %s
      agent_attribute: guichetAgent
      roles: { attribute: memberOf, agent: [accueil], supervisor: [accueil-chefs], admin: [dsi] }
`, provider, c.URL)})
	return s, c
}

// browser follows redirects with a cookie jar and remembers where it went;
// stop, if set, ends the redirects at the first URL it accepts.
type browser struct {
	*http.Client
	visited []*url.URL
	stop    func(*url.URL) bool
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{Client: &http.Client{Jar: jar}}
	b.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		b.visited = append(b.visited, req.URL)
		if b.stop != nil && b.stop(req.URL) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return b
}

func (b *browser) get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func (b *browser) last() *url.URL { return b.visited[len(b.visited)-1] }

type session struct {
	Account, Role, Agent, Via, Provider string
}

func (b *browser) session(t *testing.T, s *sitetest.Site) (int, session) {
	t.Helper()
	st, body := b.get(t, s.HTTPURL+"/api/v1/session")
	var se session
	json.Unmarshal([]byte(body), &se)
	return st, se
}

func isCallback(s *sitetest.Site) func(*url.URL) bool {
	return func(u *url.URL) bool {
		return strings.HasPrefix(u.String(), s.HTTPURL+"/login/sso/"+provider+"/callback")
	}
}

func isCAS(c *castest.Server) func(*url.URL) bool {
	return func(u *url.URL) bool { return strings.HasPrefix(u.String(), c.URL) }
}

// A valid ticket signs in, once; the same ticket again, or a ticket the
// server issued for another service, signs nobody in — each from a
// sign-in the hub started, so only the ticket is wrong.
func TestCASTicketSignsInOnlyOnceAndOnlyForTheHub(t *testing.T) {
	s, c := start(t, castest.Elements)
	c.AutoSignIn("m.durand")
	b := newBrowser()
	if st, _ := b.get(t, s.HTTPURL+"/login/sso/"+provider+"?next=/api/v1/session"); st != 200 {
		t.Fatalf("a valid ticket: %d", st)
	}
	if st, se := b.session(t, s); st != 200 || se != (session{Account: "m.durand", Role: "supervisor", Via: "sso", Provider: provider}) {
		t.Fatalf("after the sign-in: %d %+v", st, se)
	}
	var callback *url.URL
	for _, u := range b.visited {
		if isCallback(s)(u) {
			callback = u
		}
	}
	login := b.visited[0].Query()
	if want := s.HTTPURL + "/login/sso/" + provider + "/callback"; login.Get("service") != want {
		t.Fatalf("the hub named the service %q to the CAS server, want %q", login.Get("service"), want)
	}
	acct, err := s.Auth.Account("m.durand")
	if err != nil || acct.PasswordHash != "" || acct.Name != "Marie Durand" {
		t.Fatalf("the account: %+v %v", acct, err)
	}

	// answer starts a sign-in in a new browser, stops where the hub sends
	// it to the CAS server, and brings the hub ticket instead.
	answer := func(ticket string) int {
		t.Helper()
		nb := newBrowser()
		nb.stop = isCAS(c)
		nb.get(t, s.HTTPURL+"/login/sso/"+provider)
		cb := *callback
		cb.RawQuery = url.Values{"ticket": {ticket}}.Encode()
		st, _ := nb.get(t, cb.String())
		if st, _ := nb.session(t, s); st != http.StatusUnauthorized {
			t.Fatalf("a session was opened: %d", st)
		}
		return st
	}
	mark := len(s.Logs.String())
	if st := answer(callback.Query().Get("ticket")); st != http.StatusForbidden {
		t.Fatalf("a reused ticket: %d", st)
	}
	if !strings.Contains(s.Logs.String()[mark:], "INVALID_TICKET") {
		t.Fatal("the log does not say the server refused the reused ticket")
	}
	// A ticket for another service, from the same single sign-on session.
	b.stop = func(u *url.URL) bool { return u.Host == "other.test" }
	b.get(t, c.URL+"/login?service="+url.QueryEscape("http://other.test/app"))
	other := b.last().Query().Get("ticket")
	if !strings.HasPrefix(other, "ST-") {
		t.Fatalf("no ticket for the other service: %v", b.last())
	}
	mark = len(s.Logs.String())
	if st := answer(other); st != http.StatusForbidden {
		t.Fatalf("a ticket for another service: %d", st)
	}
	if !strings.Contains(s.Logs.String()[mark:], "INVALID_SERVICE") {
		t.Fatal("the log does not say the server refused the other service's ticket")
	}
	// What is no service ticket at all is refused before the server is asked.
	for _, bad := range []string{"", "PT-123-abc", "ST-a b", "ST-" + strings.Repeat("a", 300)} {
		if st := answer(bad); st != http.StatusForbidden {
			t.Fatalf("ticket %.12q: %d", bad, st)
		}
	}
	if strings.Contains(s.Logs.String(), callback.Query().Get("ticket")) || strings.Contains(s.Logs.String(), other) {
		t.Fatal("a ticket reached the log")
	}
}

// A ticket validated after its validity (five minutes at the server)
// signs nobody in.
func TestCASTicketAfterItsValidityIsRefused(t *testing.T) {
	s, c := start(t, castest.Elements)
	c.AutoSignIn("m.durand")
	b := newBrowser()
	b.stop = isCallback(s)
	b.get(t, s.HTTPURL+"/login/sso/"+provider)
	c.Advance(6 * time.Minute)
	b.stop = nil
	if st, _ := b.get(t, b.last().String()); st != http.StatusForbidden {
		t.Fatalf("an expired ticket: %d", st)
	}
	if st, _ := b.session(t, s); st != http.StatusUnauthorized {
		t.Fatalf("a session: %d", st)
	}
	if !strings.Contains(s.Logs.String(), "INVALID_TICKET") {
		t.Fatal("the log does not say why")
	}
}

// The attributes are read in both ways servers write them: an element per
// attribute (repeated for several values) beside the protocol's own, or
// <cas:attribute name value>. The role comes from memberOf, the display
// name from displayName, and guichetAgent signs a.martin in to the site
// agent ana's account; a person whose memberOf gives no role is refused.
func TestCASAttributesInBothForms(t *testing.T) {
	for _, form := range []castest.Form{castest.Elements, castest.NameValue} {
		t.Run(map[castest.Form]string{castest.Elements: "elements", castest.NameValue: "name-value"}[form], func(t *testing.T) {
			s, c := start(t, form)
			for _, tc := range []struct {
				user string
				want session
			}{
				{"a.martin", session{Account: "ana", Role: "agent", Agent: "ana", Via: "sso", Provider: provider}},
				{"m.durand", session{Account: "m.durand", Role: "supervisor", Via: "sso", Provider: provider}},
			} {
				c.AutoSignIn(tc.user)
				b := newBrowser()
				b.get(t, s.HTTPURL+"/login/sso/"+provider)
				if st, se := b.session(t, s); st != 200 || se != tc.want {
					t.Fatalf("%s: %d %+v", tc.user, st, se)
				}
			}
			if a, err := s.Auth.Account("m.durand"); err != nil || a.Name != "Marie Durand" {
				t.Fatalf("display name: %+v %v", a, err)
			}
			c.AutoSignIn("p.leroy")
			if st, _ := newBrowser().get(t, s.HTTPURL+"/login/sso/"+provider); st != http.StatusForbidden {
				t.Fatalf("a person without a role: %d", st)
			}
		})
	}
}

// Single logout: signing out at the CAS server ends the hub's session
// opened with that server's ticket (the server posts its logout request
// from its own address); the same request forged from elsewhere changes
// nothing.
func TestCASSingleLogout(t *testing.T) {
	s, c := start(t, castest.Elements)
	c.AutoSignIn("a.martin")
	ana := newBrowser()
	ana.get(t, s.HTTPURL+"/login/sso/"+provider)
	c.AutoSignIn("m.durand")
	chef := newBrowser()
	chef.get(t, s.HTTPURL+"/login/sso/"+provider)
	var chefTicket string
	for _, u := range chef.visited {
		if isCallback(s)(u) {
			chefTicket = u.Query().Get("ticket")
		}
	}
	for _, b := range []*browser{ana, chef} {
		if st, _ := b.session(t, s); st != 200 {
			t.Fatalf("not signed in: %d", st)
		}
	}

	// A forged logout request for the manager's ticket, from the test's
	// address (127.0.0.1), not the server's (127.0.0.2).
	res, err := http.PostForm(s.HTTPURL+"/login/sso/"+provider+"/callback", url.Values{"logoutRequest": {castest.LogoutRequest(chefTicket)}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a forged logout request: %d", res.StatusCode)
	}
	if st, _ := chef.session(t, s); st != 200 {
		t.Fatalf("a forged logout request ended a session: %d", st)
	}
	if !strings.Contains(s.Logs.String(), "single logout refused") {
		t.Fatal("the forged request is not logged")
	}

	// Ana signs out at the CAS server: it tells the hub.
	if st, _ := ana.get(t, c.URL+"/logout"); st != 200 {
		t.Fatalf("CAS logout: %d", st)
	}
	if got := c.Logouts(); len(got) != 1 || !strings.HasSuffix(got[0], "200 OK") {
		t.Fatalf("logout requests sent: %v", got)
	}
	if st, _ := ana.session(t, s); st != http.StatusUnauthorized {
		t.Fatalf("after the single logout: %d", st)
	}
	if st, _ := chef.session(t, s); st != 200 {
		t.Fatalf("the single logout of another ended this session: %d", st)
	}
	_, events := s.Call("GET", "/api/v1/events?limit=1000", "")
	if !strings.Contains(string(events), `"type":"account.signed_out"`) || !strings.Contains(string(events), `"reason":"sso cas"`) {
		t.Fatalf("no account.signed_out by the single logout:\n%s", events)
	}
}
