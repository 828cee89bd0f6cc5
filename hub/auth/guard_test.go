package auth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/internal/sitetest"
)

func code(t *testing.T, body []byte) string {
	t.Helper()
	var eb api.ErrorBody
	json.Unmarshal(body, &eb)
	return eb.Error.Code
}

// A state-changing request made with the session cookie must carry the
// session's CSRF token: missing or wrong, it is refused, and logged.
func TestCSRFTokenMissingOrWrongIsRefused(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("ana", auth.RoleAgent, "")
	se := s.SignIn("ana", sitetest.Password)
	for name, tok := range map[string]string{"missing": "", "wrong": se.CSRF[:len(se.CSRF)-2] + "xx"} {
		st, b, _ := se.Do("POST", "/api/v1/counters/1/open", "", auth.CSRFHeader, tok)
		if st != http.StatusForbidden || code(t, b) != api.CodeForbidden || !strings.Contains(string(b), "CSRF") {
			t.Errorf("token %s: %d %s, want 403 forbidden", name, st, b)
		}
	}
	noHeader := *se
	noHeader.CSRF = "" // the form's field only
	if st, b, _ := noHeader.Form("POST", auth.LogoutPath, url.Values{auth.CSRFField: {"forged"}}); st != http.StatusForbidden {
		t.Errorf("a form with a wrong token: %d %s", st, b)
	}
	sitetest.Eventually(t, time.Second, "the refusal logged", func() bool {
		return strings.Contains(s.Logs.String(), "without its CSRF token") && strings.Contains(s.Logs.String(), "the CSRF token is wrong")
	})
	if strings.Contains(s.Logs.String(), se.CSRF) {
		t.Fatal("the session's CSRF token is in the log")
	}
	if st, b, _ := se.Do("POST", "/api/v1/counters/1/open", ""); st != 200 {
		t.Fatalf("with its token: %d %s", st, b)
	}
	if st, _, _ := se.Do("GET", "/api/v1/counters/1", "", auth.CSRFHeader, ""); st != 200 {
		t.Fatalf("a read needs no token: %d", st)
	}
}

// A request from another site is refused even with the right token (it
// may have leaked); a bearer-token call, which no browser makes by itself,
// needs neither.
func TestARequestFromAnotherOriginIsRefused(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("ana", auth.RoleAgent, "")
	se := s.SignIn("ana", sitetest.Password)
	for _, h := range [][]string{{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"}, {"Origin", "null"}} {
		if st, b, _ := se.Do("POST", "/api/v1/counters/1/open", "", h...); st != http.StatusForbidden {
			t.Errorf("%s: %s: %d %s, want 403", h[0], h[1], st, b)
		}
	}
	u, _ := url.Parse(s.HTTPURL)
	if st, b, _ := se.Do("POST", "/api/v1/counters/1/open", "", "Origin", "http://"+u.Host, "Sec-Fetch-Site", "same-origin"); st != 200 {
		t.Errorf("from the hub's own page: %d %s", st, b)
	}
	req, _ := http.NewRequest("POST", s.HTTPURL+"/api/v1/counters/2/open", strings.NewReader(`{"agent":"cat"}`))
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Origin", "http://elsewhere.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("a bearer-token call from a script elsewhere: %d, want 200 (exempt)", res.StatusCode)
	}
}

// A forged session cookie is nobody's: a page sends to the sign-in page
// (which says the session expired), the API answers 401, and the cookie
// is cleared.
func TestAForgedSessionCookieLeadsToTheSignInPage(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	se := s.NewSession()
	u, _ := url.Parse(s.HTTPURL)
	se.Client.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: "Zm9yZ2VkLXNlc3Npb24taWQtMDEyMzQ1Njc4OWFiY2RlZg"}})
	st, _, h := se.Do("GET", auth.PasswordPath, "")
	if st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?next=%2Faccount%2Fpassword&expired=1") {
		t.Fatalf("a page with a forged cookie: %d → %q", st, h.Get("Location"))
	}
	if !strings.Contains(h.Get("Set-Cookie"), auth.SessionCookie+"=;") {
		t.Errorf("the forged cookie is not cleared: %q", h.Get("Set-Cookie"))
	}
	se.Client.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: "Zm9yZ2VkLXNlc3Npb24taWQtMDEyMzQ1Njc4OWFiY2RlZg"}})
	if st, b, _ := se.Do("GET", "/api/v1/tickets", ""); st != 401 || code(t, b) != api.CodeUnauthorized {
		t.Fatalf("the API with a forged cookie: %d %s", st, b)
	}
	st, page, _ := se.Do("GET", strings.TrimPrefix(h.Get("Location"), s.HTTPURL), "")
	if st != 200 || !strings.Contains(string(page), "Votre session a expiré") {
		t.Fatalf("the sign-in page after: %d\n%s", st, page)
	}
}

// Signing out ends the session: its cookie no longer opens anything.
// Everywhere ends the account's other sessions too.
func TestSignOutEndsTheSessionOrEverySession(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("ana", auth.RoleAgent, "")
	a, b, c := s.SignIn("ana", sitetest.Password), s.SignIn("ana", sitetest.Password), s.SignIn("ana", sitetest.Password)
	if st, _, h := a.Form("POST", auth.LogoutPath, url.Values{}); st != 303 || !strings.Contains(h.Get("Location"), "signed_out") {
		t.Fatalf("sign out: %d %q", st, h.Get("Location"))
	}
	if st, _, _ := a.Do("GET", "/api/v1/session", ""); st != 401 {
		t.Fatalf("after signing out: %d", st)
	}
	if st, _, _ := b.Do("GET", "/api/v1/session", ""); st != 200 {
		t.Fatalf("another browser's session ended too: %d", st)
	}
	b.Form("POST", auth.LogoutPath, url.Values{"all": {"1"}})
	if st, _, _ := c.Do("GET", "/api/v1/session", ""); st != 401 {
		t.Fatalf("after signing out everywhere: %d", st)
	}
	evs := accountEvents(t, s, "ana")
	if !strings.Contains(evs, "account.signed_out") || !strings.Contains(evs, "all") {
		t.Fatalf("sign-outs not in the log: %s", evs)
	}
}

// accountEvents returns the account events of login, as the admin reads
// the log, one a line.
func accountEvents(t *testing.T, s *sitetest.Site, login string) string {
	t.Helper()
	var res struct{ Events []map[string]any }
	s.Must("GET", "/api/v1/events?limit=1000", "", 200, &res)
	var out []string
	for _, ev := range res.Events {
		if ev["account"] == login {
			b, _ := json.Marshal(ev)
			out = append(out, string(b))
		}
	}
	return strings.Join(out, "\n")
}

// Ten wrong passwords in a row slow the sign-in down: the eleventh try is
// refused before the password is looked at (the right one too), with
// Retry-After, one log line and one account.locked_out event. The clock
// stands still: on a loaded machine ten argon2id hashes can take longer
// than the six seconds that give one more try.
func TestTenWrongPasswordsAreSlowedDown(t *testing.T) {
	now := time.Now()
	s := sitetest.Start(t, sitetest.Options{AuthClock: func() time.Time { return now }})
	s.AddAccount("ana", auth.RoleAgent, "")
	se := s.NewSession()
	const guess = "not-the-password-123"
	for i := 0; i < 10; i++ {
		st, page, _ := se.Form("POST", auth.LoginPath, url.Values{"login": {"ana"}, "password": {guess}})
		if st != http.StatusUnauthorized || !strings.Contains(string(page), "Identifiant ou mot de passe incorrect") {
			t.Fatalf("wrong password %d: %d", i+1, st)
		}
	}
	st, page, h := se.Form("POST", auth.LoginPath, url.Values{"login": {"ana"}, "password": {sitetest.Password}})
	if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(string(page), "Trop de tentatives") {
		t.Fatalf("the right password after ten wrong ones: %d, Retry-After %q; want 429", st, h.Get("Retry-After"))
	}
	logs := s.Logs.String()
	if n := strings.Count(logs, "too many wrong passwords: account slowed down"); n != 1 {
		t.Errorf("%d log lines for the account's lockout, want 1", n)
	}
	if !strings.Contains(logs, "account=ana") || strings.Contains(logs, guess) || strings.Contains(logs, sitetest.Password) {
		t.Errorf("the lockout line must name the account and never a password:\n%s", logs)
	}
	evs := accountEvents(t, s, "ana")
	if strings.Count(evs, "account.locked_out") != 1 || !strings.Contains(evs, `"address":"127.0.0.1"`) {
		t.Errorf("lockout events:\n%s", evs)
	}
	if strings.Contains(evs, "account.signed_in") {
		t.Errorf("signed in while locked out:\n%s", evs)
	}
}

// An agent acts only at the counter they opened; a supervisor, and the
// admin token, may act at any.
func TestAnAgentActsOnlyAtTheCounterTheyOpened(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("ana", auth.RoleAgent, "")
	s.AddAccount("bob", auth.RoleAgent, "")
	s.AddAccount("sup", auth.RoleSupervisor, "")
	ana, bob, sup := s.SignIn("ana", sitetest.Password), s.SignIn("bob", sitetest.Password), s.SignIn("sup", sitetest.Password)
	for i := 0; i < 4; i++ {
		s.Must("POST", "/api/v1/tickets", `{"service":"E"}`, 201, nil)
	}
	var c api.Counter
	st, b, _ := ana.Do("POST", "/api/v1/counters/3/open", "")
	if json.Unmarshal(b, &c); st != 200 || c.Agent != "ana" {
		t.Fatalf("ana opens counter 3 for herself: %d %s", st, b)
	}
	if st, b, _ := ana.Do("POST", "/api/v1/counters/3/next", ""); st != 200 {
		t.Fatalf("ana calls next at her counter: %d %s", st, b)
	}
	if st, b, _ := bob.Do("POST", "/api/v1/counters/4/open", `{"agent":"bob"}`); st != 200 {
		t.Fatalf("bob opens counter 4: %d %s", st, b)
	}
	for _, op := range []string{"next", "recall", "pause", "close"} {
		body := ""
		if op == "pause" {
			body = `{"reason":"café"}`
		}
		if st, b, _ := ana.Do("POST", "/api/v1/counters/4/"+op, body); st != 403 || code(t, b) != api.CodeForbidden {
			t.Errorf("ana %s at bob's counter 4: %d %s, want 403", op, st, b)
		}
	}
	if st, b, _ := ana.Do("POST", "/api/v1/counters/2/open", `{"agent":"cat"}`); st != 403 {
		t.Errorf("ana opens counter 2 for cat: %d %s, want 403", st, b)
	}
	if st, b, _ := sup.Do("POST", "/api/v1/counters/4/next", ""); st != 200 {
		t.Errorf("the supervisor calls next at bob's counter: %d %s", st, b)
	}
	if st, b := s.Call("POST", "/api/v1/counters/3/recall", ""); st != 200 {
		t.Errorf("the admin token recalls at ana's counter: %d %s", st, b)
	}
	var cs api.Counter
	s.Must("GET", "/api/v1/counters/4", "", 200, &cs)
	if cs.Agent != "bob" || cs.Ticket == nil {
		t.Errorf("counter 4 after: %+v", cs)
	}
	var evs struct{ Events []map[string]any }
	s.Must("GET", "/api/v1/events?limit=1000", "", 200, &evs)
	actors := map[string]bool{}
	for _, ev := range evs.Events {
		if ev["type"] == "ticket.called" {
			actors[ev["actor"].(string)] = true
		}
	}
	if !actors["ana"] || !actors["sup"] {
		t.Errorf("the log names who called: %v", actors)
	}
}

// An admin's reset gives a temporary password: the account must change it
// before anything else, and then works with its own.
func TestATemporaryPasswordMustBeChangedFirst(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("adm", auth.RoleAdmin, "")
	adm := s.SignIn("adm", sitetest.Password)
	st, b, _ := adm.Do("POST", "/api/v1/accounts/dan/password", "")
	var reset struct {
		Temporary string `json:"temporary_password"`
	}
	if json.Unmarshal(b, &reset); st != 200 || len(reset.Temporary) < 12 {
		t.Fatalf("reset dan's password: %d %s", st, b)
	}
	dan := s.NewSession()
	st, _, h := dan.Form("POST", auth.LoginPath, url.Values{"login": {"dan"}, "password": {reset.Temporary}, "next": {"/api/v1/counters"}})
	if st != 303 || !strings.HasPrefix(h.Get("Location"), auth.PasswordPath) {
		t.Fatalf("sign in with a temporary password: %d → %q, want the password page", st, h.Get("Location"))
	}
	var who struct {
		CSRF string `json:"csrf_token"`
	}
	_, b, _ = dan.Do("GET", "/api/v1/session", "")
	if st, b, _ := dan.Do("GET", "/api/v1/counters", ""); st != 403 || !strings.Contains(string(b), "temporary") {
		t.Fatalf("the API before the change: %d %s", st, b)
	}
	st, b, _ = dan.Do("GET", "/api/v1/session", "")
	if st != 403 {
		t.Fatalf("/api/v1/session before the change: %d", st)
	}
	_, page, _ := dan.Do("GET", auth.PasswordPath, "")
	m := strings.SplitN(strings.SplitN(string(page), `name="csrf_token" value="`, 2)[1], `"`, 2)
	who.CSRF = m[0]
	dan.CSRF = who.CSRF
	for _, tc := range []struct {
		cur, nw string
		want    int
	}{{"wrong-current-password", "a brand new passphrase 7", 422}, {reset.Temporary, "password1234", 422}, {reset.Temporary, "azertyuiopqsd", 422}} {
		if st, _, _ := dan.Form("POST", auth.PasswordPath, url.Values{"current": {tc.cur}, "new": {tc.nw}, "again": {tc.nw}}); st != tc.want {
			t.Errorf("change %q → %q: %d, want %d", tc.cur, tc.nw, st, tc.want)
		}
	}
	const mine = "Velo rouge sous la pluie 17"
	st, _, h = dan.Form("POST", auth.PasswordPath, url.Values{"current": {reset.Temporary}, "new": {mine}, "again": {mine}, "next": {"/api/v1/counters"}})
	if st != 303 || h.Get("Location") != "/api/v1/counters" {
		t.Fatalf("change: %d → %q", st, h.Get("Location"))
	}
	if st, _, _ := dan.Do("GET", "/api/v1/counters", ""); st != 200 {
		t.Fatalf("after the change: %d", st)
	}
	if evs := accountEvents(t, s, "dan"); !strings.Contains(evs, `"account.password_set"`) || !strings.Contains(evs, `"account.password_changed"`) ||
		!strings.Contains(evs, `"actor":"adm"`) {
		t.Fatalf("the reset and the change are not in the log:\n%s", evs)
	}
}

// A personal token acts with its role, at most its account's; revoked, it
// stops at once. An integration token reads the event log, without the
// account events, and nothing else.
func TestPersonalTokensActWithTheirRoleUntilRevoked(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("ana", auth.RoleAgent, "")
	s.AddAccount("sup", auth.RoleSupervisor, "")
	ana, sup := s.SignIn("ana", sitetest.Password), s.SignIn("sup", sitetest.Password)
	if st, b, _ := ana.Do("POST", "/api/v1/tokens", `{"name":"script","role":"admin"}`); st != 403 {
		t.Fatalf("an agent's admin token: %d %s", st, b)
	}
	st, b, _ := ana.Do("POST", "/api/v1/tokens", `{"name":"mon script"}`)
	var tok struct{ ID, Token, Role string }
	if json.Unmarshal(b, &tok); st != 201 || !strings.HasPrefix(tok.Token, auth.TokenPrefix) || tok.Role != "agent" {
		t.Fatalf("create: %d %s", st, b)
	}
	if st, _ := s.Bearer(tok.Token, "GET", "/api/v1/tickets", ""); st != 200 {
		t.Fatalf("the token reads tickets: %d", st)
	}
	if st, _ := s.Bearer(tok.Token, "GET", "/api/v1/devices", ""); st != 403 {
		t.Fatalf("an agent's token lists devices: %d", st)
	}
	_, b, _ = ana.Do("GET", "/api/v1/tokens", "")
	if strings.Contains(string(b), tok.Token) || !strings.Contains(string(b), `"last_used"`) || !strings.Contains(string(b), "mon script") {
		t.Fatalf("the list shows the secret, or not the use: %s", b)
	}
	if st, b, _ := ana.Do("DELETE", "/api/v1/tokens/"+tok.ID, ""); st != 200 {
		t.Fatalf("revoke: %d %s", st, b)
	}
	if st, _ := s.Bearer(tok.Token, "GET", "/api/v1/tickets", ""); st != 401 {
		t.Fatalf("a revoked token: %d", st)
	}

	st, b, _ = sup.Do("POST", "/api/v1/tokens", `{"name":"crm","role":"integration"}`)
	if json.Unmarshal(b, &tok); st != 201 {
		t.Fatalf("integration token: %d %s", st, b)
	}
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	st, b = s.Bearer(tok.Token, "GET", "/api/v1/events", "")
	if st != 200 || !strings.Contains(string(b), "ticket.issued") || strings.Contains(string(b), "account.") || strings.Contains(string(b), "127.0.0.1") {
		t.Fatalf("the integration's log: %d %s", st, b)
	}
	for _, path := range []string{"/api/v1/tickets", "/api/v1/counters", "/api/v1/tokens"} {
		if st, _ := s.Bearer(tok.Token, "GET", path, ""); st != 403 {
			t.Errorf("the integration token reads %s: %d", path, st)
		}
	}
	if evs := accountEvents(t, s, "ana"); !strings.Contains(evs, "account.token_created") || !strings.Contains(evs, "account.token_revoked") {
		t.Fatalf("token events:\n%s", evs)
	}
}

// Every sign-in is in the log with who and from where; none is published
// on MQTT, where integrations and screens listen: an agent's address and
// hours are personal data.
func TestSignInsAreLoggedWithTheirAddressAndNeverPublished(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("crm", api.RoleIntegration, "")
	got := make(chan string, 100)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(s.MQTTURL).SetClientID("crm").SetUsername("crm").SetPassword(secret).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { got <- m.Topic() }))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(0)
	if tok := c.Subscribe(s.Topics.EventsFilter(), 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	s.AddAccount("ana", auth.RoleAgent, "")
	s.SignIn("ana", sitetest.Password)
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	deadline := time.After(5 * time.Second)
	for done := false; !done; {
		select {
		case topic := <-got:
			if strings.Contains(topic, "account.") {
				t.Fatalf("published: %s", topic)
			}
			done = strings.HasSuffix(topic, "ticket.issued") // in order: every account event before it was skipped
		case <-deadline:
			t.Fatal("ticket.issued never published")
		}
	}
	evs := accountEvents(t, s, "ana")
	if !strings.Contains(evs, `"type":"account.signed_in"`) || !strings.Contains(evs, `"address":"127.0.0.1"`) || !strings.Contains(evs, `"actor":"ana"`) {
		t.Fatalf("the sign-in in the log:\n%s", evs)
	}
}

// An Idempotency-Key is the caller's own: another account sending the
// same key does its own operation, and does not read the first one's
// reply.
func TestIdempotencyKeysAreTheCallersOwn(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("ana", auth.RoleAgent, "")
	s.AddAccount("bob", auth.RoleAgent, "")
	ana, bob := s.SignIn("ana", sitetest.Password), s.SignIn("bob", sitetest.Password)
	var first, again, other api.Ticket
	st, b, _ := ana.Do("POST", "/api/v1/tickets", `{"service":"A","citizen":"ana-s-citizen"}`, "Idempotency-Key", "desk-0001")
	json.Unmarshal(b, &first)
	st2, b2, h := ana.Do("POST", "/api/v1/tickets", `{"service":"A"}`, "Idempotency-Key", "desk-0001")
	json.Unmarshal(b2, &again)
	if st != 201 || st2 != 201 || again.ID != first.ID || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("ana's retry: %d %d, %s then %s", st, st2, first.ID, again.ID)
	}
	st, b, h = bob.Do("POST", "/api/v1/tickets", `{"service":"A"}`, "Idempotency-Key", "desk-0001")
	json.Unmarshal(b, &other)
	if st != 201 || other.ID == first.ID || h.Get("Idempotent-Replayed") != "" || strings.Contains(string(b), "ana-s-citizen") {
		t.Fatalf("bob with ana's key: %d, replayed %q: %s", st, h.Get("Idempotent-Replayed"), b)
	}
}
