package auth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"guichet/hub/auth"
	"guichet/hub/auth/signin"
)

// signInOver signs in as ana on the sign-in page at base with client c,
// sending extra headers, and returns the session cookie's Set-Cookie.
func signInOver(t *testing.T, c *http.Client, base string, headers ...string) string {
	t.Helper()
	res, err := c.Get(base + auth.LoginPath)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="login_token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no form token:\n%s", page)
	}
	req, _ := http.NewRequest("POST", base+auth.LoginPath, strings.NewReader(url.Values{"login": {"ana"}, "password": {pw}, "login_token": {string(m[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, sc := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, auth.SessionCookie+"=") {
			return sc
		}
	}
	t.Fatalf("no session cookie: %d", res.StatusCode)
	return ""
}

// The session cookie is HttpOnly, SameSite=Lax, for the whole hub, and
// Secure when the browser came over HTTPS: the hub's own TLS listener, or
// a trusted proxy that says so (and only a trusted one).
func TestTheSessionCookieIsSecureBehindTLS(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	newHub := func(tls bool, proxies ...netip.Prefix) (string, *http.Client) {
		a, _ := newService(t, nil, func(o *auth.Options) { o.TrustedProxies = proxies })
		tb := a.Table()
		signin.New(a, "Mairie de Test", quiet).Register(tb)
		var srv *httptest.Server
		if tls {
			srv = httptest.NewTLSServer(tb)
		} else {
			srv = httptest.NewServer(tb)
		}
		t.Cleanup(srv.Close)
		c := srv.Client()
		c.Jar, _ = cookiejar.New(nil)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return srv.URL, c
	}
	attrs := func(sc string) string {
		var out []string
		for _, a := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Secure"} {
			if strings.Contains(sc, "; "+a) {
				out = append(out, a)
			}
		}
		return strings.Join(out, " ")
	}
	base, c := newHub(true)
	if got := attrs(signInOver(t, c, base)); got != "HttpOnly SameSite=Lax Path=/ Secure" {
		t.Errorf("over the hub's HTTPS: %s", got)
	}
	base, c = newHub(false)
	if got := attrs(signInOver(t, c, base, "X-Forwarded-Proto", "https")); got != "HttpOnly SameSite=Lax Path=/" {
		t.Errorf("plain HTTP, a client claiming https: %s (only a trusted proxy is believed)", got)
	}
	base, c = newHub(false, netip.MustParsePrefix("127.0.0.0/8"))
	if got := attrs(signInOver(t, c, base, "X-Forwarded-Proto", "https")); got != "HttpOnly SameSite=Lax Path=/ Secure" {
		t.Errorf("behind a trusted proxy that terminates TLS: %s", got)
	}
}
