package admin_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"guichet/internal/sitetest"
)

type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, s *sitetest.Site) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: s.HTTPURL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values, headers ...string) (int, http.Header, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func TestTheAdministrationIsClosedWithoutTheTokenAndItsForms(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	c := newClient(t, s)

	// Not signed in: the pages send to the sign-in page, forms are refused.
	if st, h, _ := c.do("GET", "/admin/services", nil); st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/admin/signin") {
		t.Fatalf("anonymous page: %d %s", st, h.Get("Location"))
	}
	if st, _, _ := c.do("POST", "/admin/pauses", url.Values{"reasons": {"x"}}); st != http.StatusUnauthorized {
		t.Fatalf("anonymous form: %d", st)
	}
	// A forged cookie is no session.
	u, _ := url.Parse(s.HTTPURL + "/admin/")
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "guichet_admin", Value: "0123456789abcdef", Path: "/admin/"}})
	if st, _, _ := c.do("GET", "/admin/", nil); st != http.StatusSeeOther {
		t.Fatalf("forged cookie: %d", st)
	}
	// A wrong token is refused, with a log line that does not hold it.
	if st, _, body := c.do("POST", "/admin/signin", url.Values{"token": {"guess-1234"}}); st != http.StatusUnauthorized || !strings.Contains(body, "Jeton incorrect") {
		t.Fatalf("wrong token: %d", st)
	}
	if !strings.Contains(s.Logs.String(), "admin: sign-in refused") || strings.Contains(s.Logs.String(), "guess-1234") {
		t.Fatal("the refused sign-in is not logged, or its token is")
	}
	// The token signs in: an HttpOnly, SameSite=Strict cookie.
	st, h, _ := c.do("POST", "/admin/signin", url.Values{"token": {s.Token}, "next": {"/admin/pauses"}})
	if st != http.StatusSeeOther || h.Get("Location") != "/admin/pauses" || !strings.Contains(h.Get("Set-Cookie"), "HttpOnly") ||
		!strings.Contains(h.Get("Set-Cookie"), "SameSite=Strict") {
		t.Fatalf("sign-in: %d %v", st, h)
	}
	// next cannot send elsewhere.
	if _, h, _ := c.do("POST", "/admin/signin", url.Values{"token": {s.Token}, "next": {"//evil.example/"}}); h.Get("Location") != "/admin/" {
		t.Fatalf("next led to %q", h.Get("Location"))
	}
	_, _, page := c.do("GET", "/admin/pauses", nil)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token in the form")
	}
	// Without the CSRF token, or from another site: refused, and nothing changes.
	if st, _, _ := c.do("POST", "/admin/pauses", url.Values{"reasons": {"Déjeuner"}}); st != http.StatusForbidden {
		t.Fatalf("form without its CSRF token: %d", st)
	}
	if st, _, _ := c.do("POST", "/admin/pauses", url.Values{"reasons": {"Déjeuner"}, "csrf": {m[1]}}, "Sec-Fetch-Site", "cross-site"); st != http.StatusForbidden {
		t.Fatalf("cross-site form: %d", st)
	}
	if st, _, _ := c.do("POST", "/admin/pauses", url.Values{"reasons": {"Déjeuner\nRéunion"}, "csrf": {m[1]}}); st != http.StatusSeeOther {
		t.Fatalf("form: %d", st)
	}
	var site struct {
		PauseReasons []string `json:"pause_reasons"`
	}
	s.Must("GET", "/api/v1/site", "", 200, &site)
	if strings.Join(site.PauseReasons, "|") != "Déjeuner|Réunion" {
		t.Fatalf("pause reasons %v", site.PauseReasons)
	}

	// Ten wrong tokens from one address: slowed down, with a log line.
	for i := 0; i < 12; i++ {
		c.do("POST", "/admin/signin", url.Values{"token": {"wrong"}})
	}
	if st, h, _ := c.do("POST", "/admin/signin", url.Values{"token": {s.Token}}); st != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("after twelve wrong tokens: %d", st)
	}
	if !strings.Contains(s.Logs.String(), "too many failed sign-ins") {
		t.Fatal("no log line for the lockout")
	}
}

// signedIn returns a client signed in to the administration and its CSRF token.
func signedIn(t *testing.T, s *sitetest.Site) (*client, string) {
	c := newClient(t, s)
	if st, _, _ := c.do("POST", "/admin/signin", url.Values{"token": {s.Token}}); st != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", st)
	}
	_, _, page := c.do("GET", "/admin/pauses", nil)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token")
	}
	return c, m[1]
}

func TestWhatIsInUseCannotBeRemovedAndThePageSaysWhy(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	c, csrf := signedIn(t, s)
	s.Must("POST", "/api/v1/counters/1/open", `{"agent":"ana"}`, 200, nil)
	s.Must("POST", "/api/v1/tickets", `{"service":"E"}`, 201, nil)
	for _, x := range []struct{ path, want, list string }{
		{"/admin/counters/1/delete", "sign them out first", "Guichet 2"},
		{"/admin/agents/ana/delete", "sign them out first", "bob"},
		{"/admin/services/E/delete", "still has 1 tickets", `value="État civil"`},
	} {
		st, _, body := c.do("POST", x.path, url.Values{"csrf": {csrf}})
		if st != http.StatusUnprocessableEntity || !strings.Contains(body, x.want) || !strings.Contains(body, x.list) {
			t.Fatalf("%s: %d, want the refusal %q and the page around it:\n%s", x.path, st, x.want, body)
		}
	}
}
