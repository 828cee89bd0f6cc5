package auth_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/hub/auth"
	"guichet/hub/store"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newService returns an identity layer on a new database, with accounts
// ana (agent) and adm (admin) whose password is pw.
func newService(t testing.TB, c *clock, set ...func(*auth.Options)) (*auth.Service, *store.Store) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(filepath.Join(t.TempDir(), "guichet.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o := auth.Options{Store: st, Log: quiet}
	if c != nil {
		o.Clock = c.now
	}
	for _, f := range set {
		f(&o)
	}
	a := auth.New(o)
	for id, role := range map[string]auth.Role{"ana": auth.RoleAgent, "adm": auth.RoleAdmin} {
		if _, err := a.AddAccount(context.Background(), auth.By{Actor: "test"}, auth.NewAccount{ID: id, Role: role, Agent: id, Password: pw}); err != nil {
			t.Fatal(err)
		}
	}
	return a, st
}

const pw = "une phrase assez longue 2026"

func TestThePasswordRuleRefusesShortAndEasyPasswords(t *testing.T) {
	for _, bad := range []string{"", "short", "motdepasse12", "azertyuiop123", "aaaaaaaaaaaaaaaa", "123456789012", "mairie2026mairie2026", "Password1234"} {
		if err := auth.CheckPassword(bad); !errors.Is(err, auth.ErrWeakPassword) {
			t.Errorf("%q: %v, want refused", bad, err)
		} else if strings.Contains(err.Error(), bad) && bad != "" {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	for _, good := range []string{pw, "Velo rouge sous la pluie 17", "k7#Qp9!zR2@m", auth.TemporaryPassword()} {
		if err := auth.CheckPassword(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	if err := auth.CheckPassword(strings.Repeat("xY3!", 100)); err == nil {
		t.Error("a password over 256 bytes is accepted")
	}
}

// Passwords are stored as argon2id hashes with their parameters, never as
// themselves; a wrong password, an unknown login and an account without a
// password get the same answer.
func TestPasswordsAreKeptAsArgon2idHashes(t *testing.T) {
	a, st := newService(t, nil)
	acc, _ := st.Account("ana")
	if !strings.HasPrefix(acc.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(acc.PasswordHash, pw) {
		t.Fatalf("hash %q", acc.PasswordHash)
	}
	acc2, _ := st.Account("adm")
	if acc.PasswordHash == acc2.PasswordHash {
		t.Fatal("two accounts with the same password have the same hash: no salt")
	}
	ctx, addr := context.Background(), netip.MustParseAddr("192.0.2.1")
	if _, p, err := a.SignIn(ctx, "ana", pw, addr); err != nil || p.Account != "ana" || p.Role != auth.RoleAgent || p.Agent != "ana" || p.CSRF == "" {
		t.Fatalf("sign in: %+v, %v", p, err)
	}
	a.AddAccount(ctx, auth.By{}, auth.NewAccount{ID: "nopw", Role: auth.RoleAgent})
	for _, c := range [][2]string{{"ana", "wrong password here"}, {"ghost", pw}, {"nopw", ""}, {"nopw", pw}} {
		if _, _, err := a.SignIn(ctx, c[0], c[1], addr); !errors.Is(err, auth.ErrBadPassword) {
			t.Errorf("%s / %q: %v, want ErrBadPassword", c[0], c[1], err)
		}
	}
}

// Ten wrong passwords for one account, from anywhere, slow that account
// down; thirty from one address slow that address down for every account.
func TestSignInLimitsAreKeptPerAccountAndPerAddress(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)}
	a, _ := newService(t, c)
	ctx := context.Background()
	for i := range 10 {
		a.SignIn(ctx, "ana", "wrong password!!", netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}))
	}
	_, _, err := a.SignIn(ctx, "ana", pw, netip.MustParseAddr("203.0.113.9"))
	var lock *auth.LockoutError
	if !errors.As(err, &lock) || lock.Retry <= 0 {
		t.Fatalf("ana after ten wrong passwords from ten addresses: %v, want a lockout", err)
	}
	if _, _, err := a.SignIn(ctx, "adm", pw, netip.MustParseAddr("203.0.113.9")); err != nil {
		t.Fatalf("another account meanwhile: %v", err)
	}
	c.add(lock.Retry)
	if _, _, err := a.SignIn(ctx, "ana", pw, netip.MustParseAddr("203.0.113.9")); err != nil {
		t.Fatalf("ana after waiting Retry: %v", err)
	}
	nat := netip.MustParseAddr("192.0.2.50")
	for i := range 30 {
		if _, _, err := a.SignIn(ctx, "agent"+string(rune('a'+i%26))+"x", "wrong password!!", nat); errors.As(err, &lock) {
			t.Fatalf("try %d from one address is already locked out: agents behind one NAT would lock each other out", i+1)
		}
	}
	if _, _, err := a.SignIn(ctx, "adm", pw, nat); !errors.As(err, &lock) {
		t.Fatalf("the 31st try from one address: %v, want a lockout", err)
	}
}

// A session ends after two idle hours, or twelve hours after its sign-in
// however busy; then its pages send to the sign-in page and the API
// answers 401.
func TestAnExpiredSessionLeadsToTheSignInPage(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	a, _ := newService(t, c)
	tb := a.Table()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(auth.From(r.Context()).Account)) })
	tb.Add(auth.Route{Method: "GET", Pattern: "/page", Access: auth.Agent, Kind: auth.Page, Handler: ok})
	tb.Add(auth.Route{Method: "GET", Pattern: "/api", Access: auth.Agent, Kind: auth.API, Handler: ok})
	srv := httptest.NewServer(tb)
	defer srv.Close()
	get := func(cookie, path string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: cookie})
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location")
	}
	idle, _, err := a.SignIn(context.Background(), "ana", pw, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	busy, _, _ := a.SignIn(context.Background(), "ana", pw, netip.Addr{})
	for range 11 {
		c.add(time.Hour)
		if st, _ := get(busy, "/api"); st != 200 {
			t.Fatalf("a session used every hour, at %s: %d", c.now().Format("15:04"), st)
		}
	}
	if st, to := get(idle, "/page"); st != http.StatusSeeOther || to != "/login?next=%2Fpage&expired=1" {
		t.Fatalf("a session idle for 11 hours: %d → %q", st, to)
	}
	c.add(61 * time.Minute)
	if st, _ := get(busy, "/api"); st != http.StatusUnauthorized {
		t.Fatalf("a session 12 hours after its sign-in: %d, want 401", st)
	}
}

// A token keeps at most its account's role: demoted, the account's tokens
// are demoted with it (an integration token stops); disabled, they stop.
func TestATokenNeverActsAboveItsAccount(t *testing.T) {
	a, _ := newService(t, nil)
	by := auth.By{Actor: "test"}
	admin, _, err := a.CreateToken(by, "adm", "automation", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	integ, _, _ := a.CreateToken(by, "adm", "crm", auth.RoleIntegration)
	if _, _, err := a.CreateToken(by, "ana", "x", auth.RoleSupervisor); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("an agent's supervisor token: %v", err)
	}
	tb := a.Table()
	tb.Add(auth.Route{Method: "GET", Pattern: "/admin", Access: auth.Admin, Kind: auth.API, Handler: http.NotFoundHandler()})
	tb.Add(auth.Route{Method: "GET", Pattern: "/events", Access: auth.Integration, Kind: auth.API, Handler: http.NotFoundHandler()})
	tb.Add(auth.Route{Method: "GET", Pattern: "/agent", Access: auth.Agent, Kind: auth.API, Handler: http.NotFoundHandler()})
	call := func(tok, path string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		tb.ServeHTTP(rec, req)
		return rec.Code
	}
	if call(admin, "/admin") != 404 || call(integ, "/events") != 404 || call(integ, "/agent") != 403 {
		t.Fatal("tokens before the demotion")
	}
	a.SetRole(by, "adm", auth.RoleAgent)
	if st := call(admin, "/admin"); st != 403 {
		t.Errorf("an admin token of a demoted account: %d, want 403", st)
	}
	if st := call(admin, "/agent"); st != 404 {
		t.Errorf("it keeps the account's role: %d", st)
	}
	if st := call(integ, "/events"); st != 401 {
		t.Errorf("an integration token whose account may no longer read the log: %d, want 401", st)
	}
	a.SetDisabled(by, "adm", true)
	if st := call(admin, "/agent"); st != 401 {
		t.Errorf("a token of a disabled account: %d, want 401", st)
	}
}

// A database that cannot be read is no reason to sign anyone out: the
// request is refused with 503 and the cookie kept.
func TestASessionTheDatabaseCannotReadIsNotSignedOut(t *testing.T) {
	a, st := newService(t, nil)
	tb := a.Table()
	tb.Add(auth.Route{Method: "GET", Pattern: "/api", Access: auth.Agent, Kind: auth.API, Handler: http.NotFoundHandler()})
	cookie, _, err := a.SignIn(context.Background(), "ana", pw, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+st.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`ALTER TABLE sessions RENAME TO sessions_away`); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api", nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: cookie})
	tb.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("%d, Set-Cookie %q: want 503 and the cookie kept", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	db.Exec(`ALTER TABLE sessions_away RENAME TO sessions`)
	rec = httptest.NewRecorder()
	tb.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("the database back: %d, want the route's answer", rec.Code)
	}
}
