package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// signIn submits the sign-in page of the hub at base and returns the
// status and where it leads.
func signIn(t *testing.T, base, login, password string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="login_token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no form token:\n%s", page)
	}
	res, err = c.PostForm(base+"/login", url.Values{"login": {login}, "password": {password}, "login_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

// A new site's first admin is made on the command line, before the hub
// ever starts; the commands then work while it runs.
func TestAccountCommandsStartASiteAndWorkWhileTheHubRuns(t *testing.T) {
	dir := t.TempDir()
	data, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "guichet.yaml")
	if err := os.WriteFile(cfg, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(binary, "account", "add", "it", "--role", "admin", "--data", data).CombinedOutput(); err == nil {
		t.Fatalf("a mistyped --data, without --config, made a new site:\n%s", out)
	}
	out := guichet(t, "account", "add", "it", "--role", "admin", "--name", "Service informatique", "--data", data, "--config", cfg)
	m := regexp.MustCompile(`Temporary password \(shown once; to be changed at the first sign-in\): (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no temporary password in:\n%s", out)
	}
	p := startHubProcess(t, dir)
	if st, to := signIn(t, p.url, "it", m[1]); st != 303 || !strings.HasPrefix(to, "/account/password") {
		t.Fatalf("sign in with the temporary password: %d → %q, want the password change page", st, to)
	}
	list := guichet(t, "account", "list", "--data", data)
	if !regexp.MustCompile(`(?m)^it\s+admin\s+-\s+temporary\s+false\s+Service informatique$`).MatchString(list) {
		t.Fatalf("list:\n%s", list)
	}
	if !regexp.MustCompile(`(?m)^ana\s+agent\s+ana\s+none\s+false`).MatchString(list) {
		t.Fatalf("the site file's agents have no accounts:\n%s", list)
	}
	out = guichet(t, "account", "passwd", "ana", "--data", data)
	m = regexp.MustCompile(`Temporary password \(shown once; to be changed at the next sign-in\): (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("passwd:\n%s", out)
	}
	if st, to := signIn(t, p.url, "ana", m[1]); st != 303 || !strings.HasPrefix(to, "/account/password") {
		t.Fatalf("ana with her temporary password: %d → %q", st, to)
	}
	guichet(t, "account", "role", "ana", "supervisor", "--data", data)
	guichet(t, "account", "disable", "ana", "--data", data)
	if st, _ := signIn(t, p.url, "ana", m[1]); st != 401 {
		t.Fatalf("a disabled account signs in: %d", st)
	}
	list = guichet(t, "account", "list", "--data", data)
	if !regexp.MustCompile(`(?m)^ana\s+supervisor\s+ana\s+temporary\s+true`).MatchString(list) {
		t.Fatalf("list after role and disable:\n%s", list)
	}
	weak := exec.Command(binary, "account", "add", "weak", "--role", "agent", "--password-stdin", "--data", data)
	weak.Stdin = strings.NewReader("password1234\n")
	if out, err := weak.CombinedOutput(); err == nil || !strings.Contains(string(out), "too easy to guess") {
		t.Fatalf("a weak password from stdin: %v\n%s", err, out)
	}
	good := exec.Command(binary, "account", "add", "chef", "--role", "supervisor", "--password-stdin", "--data", data)
	good.Stdin = strings.NewReader("Velo rouge sous la pluie 17\n")
	if out, err := good.CombinedOutput(); err != nil || strings.Contains(string(out), "Temporary") {
		t.Fatalf("a password from stdin: %v\n%s", err, out)
	}
	if st, to := signIn(t, p.url, "chef", "Velo rouge sous la pluie 17"); st != 303 || to != "/" {
		t.Fatalf("chef signs in: %d → %q", st, to)
	}
}
