package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/hub/server"
	"guichet/hub/store"
	"guichet/internal/fulldisk"
	"guichet/internal/logbuf"
	"guichet/internal/sitetest"
)

// startIn starts a hub of sitetest's site on data directory dir.
func startIn(t testing.TB, dir string, set func(*server.Options)) (*server.Server, *logbuf.Buffer, error) {
	t.Helper()
	cfg, site, err := config.Parse("site.yaml", []byte(sitetest.Config))
	if err != nil {
		t.Fatal(err)
	}
	site.Policy.IgnoreHours = true
	logs := &logbuf.Buffer{}
	o := server.Options{Config: cfg, Site: site, Data: dir, HTTP: "127.0.0.1:0", MQTT: "127.0.0.1:0",
		Log: slog.New(slog.NewTextHandler(logs, nil)), Out: io.Discard}
	if set != nil {
		set(&o)
	}
	s, err := server.Start(o)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, logs, err
}

func mustStartIn(t testing.TB, dir string, set func(*server.Options)) *server.Server {
	t.Helper()
	s, logs, err := startIn(t, dir, set)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	return s
}

// call sends an API request with s's token; it returns the status and body.
func call(t *testing.T, c *http.Client, s *server.Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.HTTPURL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func issueTickets(t *testing.T, s *server.Server, n int) []string {
	t.Helper()
	var ids []string
	for i := 0; i < n; i++ {
		st, b := call(t, nil, s, "POST", "/api/v1/tickets", `{"service":"A"}`)
		var tk api.Ticket
		if st != 201 || json.Unmarshal(b, &tk) != nil {
			t.Fatalf("issue: %d %s", st, b)
		}
		ids = append(ids, tk.ID)
	}
	return ids
}

func TestAHubWhoseDatabaseWasDeletedRefusesToStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustStartIn(t, dir, nil)
	issueTickets(t, s, 3)
	s.Close()
	for _, f := range []string{"guichet.db", "guichet.db-wal", "guichet.db-shm"} {
		os.Remove(filepath.Join(dir, f))
	}
	s, logs, err := startIn(t, dir, nil)
	if err == nil {
		st, b := call(t, nil, s, "GET", "/healthz", "")
		t.Fatalf("a hub whose database was deleted started as a new empty site: /healthz %d %s", st, b)
	}
	if !errors.Is(err, store.ErrNoDatabase) || !strings.Contains(err.Error(), "Restore the last backup") {
		t.Fatalf("refused with %v, want ErrNoDatabase saying what to do\n%s", err, logs)
	}
}

func TestAHubOnADamagedDatabaseRefusesToStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustStartIn(t, dir, nil)
	for i := 0; i < 20; i++ {
		issueTickets(t, s, 50)
	}
	s.Close() // a snapshot: the next start reads no old event page
	db := filepath.Join(dir, "guichet.db")
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	f.WriteAt(bytes.Repeat([]byte{0xa5}, 4096), (fi.Size()/4096/3)*4096) // an old page of the log
	f.Close()
	s, _, err = startIn(t, dir, nil)
	if err == nil {
		st, b := call(t, nil, s, "GET", "/healthz", "")
		t.Fatalf("a hub on a damaged database started: /healthz %d %s", st, b)
	}
	if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "guichet store check") {
		t.Fatalf("refused with %v, want ErrDamaged naming guichet store check", err)
	}
}

func TestASecondHubOnTheSameDataDirectoryIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustStartIn(t, dir, nil)
	s, _, err := startIn(t, dir, nil)
	if err == nil {
		issueTickets(t, s, 1)
		t.Fatal("a second hub started on the same data directory: each hands out the same numbers")
	}
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("refused with %v, want ErrInUse", err)
	}
}

func TestAWeakAdminTokenIsRefusedBeforeAnythingIsCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, weak := range []string{"aaaaaaaaaaaaaaaaaaaaaaaa", "0123456789abcdefghijklmn", "motdepasse-mairie-admin-2024"} {
		t.Setenv("GUICHET_ADMIN_TOKEN", weak)
		s, _, err := startIn(t, dir, nil)
		if err == nil {
			s.Close()
			t.Fatalf("GUICHET_ADMIN_TOKEN %q accepted", weak)
		}
		if !strings.Contains(err.Error(), "too easy to guess") || strings.Contains(err.Error(), weak) {
			t.Fatalf("%q: %v; want the rule, not the token", weak, err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused start created the data directory: %v", err)
	}
	t.Setenv("GUICHET_ADMIN_TOKEN", "Jq1yW5aRZ0h-8yX3mE2b_P4cN7kTt9Lv")
	s := mustStartIn(t, dir, nil)
	if s.Token != "Jq1yW5aRZ0h-8yX3mE2b_P4cN7kTt9Lv" {
		t.Fatal("the token given is not the one used")
	}
	s.Close()

	// The same rule for a token written into the file by hand; a file
	// readable by others is made private.
	t.Setenv("GUICHET_ADMIN_TOKEN", "")
	file := filepath.Join(dir, "admin-token")
	os.WriteFile(file, []byte("admin-admin-admin-admin\n"), 0o644)
	if s, _, err := startIn(t, dir, nil); err == nil || !strings.Contains(err.Error(), "too easy to guess") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("a weak token in %s: %v", file, err)
	}
	os.WriteFile(file, []byte("Jq1yW5aRZ0h-8yX3mE2b_P4cN7kTt9Lv\n"), 0o644)
	s, logs, err := startIn(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(file)
	if fi.Mode().Perm() != 0o600 || !strings.Contains(logs.String(), "made private") {
		t.Fatalf("admin-token left at %v", fi.Mode().Perm())
	}
}

// selfSigned makes a certificate for 127.0.0.1, written as PEM files.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "hub.mairie.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestTheAPIIsServedOverTLSAlone(t *testing.T) {
	cert, pool := selfSigned(t)
	s := mustStartIn(t, t.TempDir(), func(o *server.Options) {
		o.HTTP, o.HTTPTLS = "", "127.0.0.1:0"
		o.HTTPTLSCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	if !strings.HasPrefix(s.HTTPURL, "https://") || s.HTTPURL != s.HTTPSURL {
		t.Fatalf("HTTPURL %q, HTTPSURL %q", s.HTTPURL, s.HTTPSURL)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if st, b := call(t, c, s, "POST", "/api/v1/tickets", `{"service":"A"}`); st != 201 {
		t.Fatalf("issue over TLS: %d %s", st, b)
	}
	res, err := c.Get(s.HTTPSURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("not TLS ≥ 1.2: %+v", res.TLS)
	}
	// Plain HTTP to the TLS port is not served.
	if res, err := http.Get("http://" + strings.TrimPrefix(s.HTTPSURL, "https://") + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Fatal("plain HTTP answered on the TLS listener")
		}
	}
}

// A real full disk (a tmpfs of its own, filled): tickets are refused at
// once with 503 while it is full, /healthz says degraded, and when room is
// made the hub serves again by itself; after a restart the queue holds
// exactly the tickets that were acknowledged.
func TestAFullDiskIsRefusedFastAndTheHubComesBackByItself(t *testing.T) {
	mnt := fulldisk.Mount(t, 16<<20)
	dir := filepath.Join(mnt, "data")
	s := mustStartIn(t, dir, nil)
	acked := issueTickets(t, s, 20)
	free := fulldisk.Fill(t, mnt)
	refused := 0
	for i := 0; refused < 5; i++ {
		if i > 20000 {
			t.Fatal("the full disk still takes tickets after 20,000")
		}
		st, b := call(t, nil, s, "POST", "/api/v1/tickets", `{"service":"A"}`)
		switch st {
		case 201:
			var tk api.Ticket
			json.Unmarshal(b, &tk)
			acked = append(acked, tk.ID)
		case 503:
			refused++
		default:
			t.Fatalf("issue on a full disk: %d %s", st, b)
		}
	}
	t0 := time.Now()
	for i := 0; i < 100; i++ {
		if st, _ := call(t, nil, s, "POST", "/api/v1/tickets", `{"service":"A"}`); st != 503 {
			t.Fatalf("issue %d on a full disk: %d", i, st)
		}
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("100 refusals took %s: a full disk must be refused at once", d)
	}
	st, b := call(t, nil, s, "GET", "/healthz", "")
	if st != 503 || !strings.Contains(string(b), `"degraded"`) {
		t.Fatalf("/healthz on a full disk: %d %s", st, b)
	}
	free()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if st, _ := call(t, nil, s, "GET", "/healthz", ""); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz not ok 15 s after the disk was freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	acked = append(acked, issueTickets(t, s, 3)...)
	s.Close()

	s = mustStartIn(t, dir, nil)
	st, b = call(t, nil, s, "GET", "/api/v1/tickets?state=waiting", "")
	var list struct{ Tickets []api.Ticket }
	if st != 200 || json.Unmarshal(b, &list) != nil {
		t.Fatalf("tickets after restart: %d %s", st, b)
	}
	got := map[string]bool{}
	for _, tk := range list.Tickets {
		got[tk.ID] = true
	}
	for _, id := range acked {
		if !got[id] {
			t.Errorf("acknowledged ticket %s lost", id)
		}
	}
	if len(got) != len(acked) {
		t.Fatalf("%d tickets after restart, %d acknowledged: a refused one is in the queue", len(got), len(acked))
	}
	fmt.Fprint(io.Discard, refused)
}

// A port already in use says which flag chooses another, and a hub that
// fails to start does not announce an admin token as "shown once": the
// next start that succeeds shows a new one.
func TestAPortInUseNamesItsFlagAndShowsNoToken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("GUICHET_ADMIN_TOKEN", "")
	var out strings.Builder
	s, _, err := startIn(t, dir, func(o *server.Options) { o.HTTP, o.Out = taken.Addr().String(), &out })
	if err == nil {
		s.Close()
		t.Fatal("started on a port in use")
	}
	if !strings.Contains(err.Error(), "choose another with --http") {
		t.Fatalf("err = %v, want the flag that chooses another port", err)
	}
	if out.Len() > 0 {
		t.Fatalf("a hub that did not start printed: %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "admin-token")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the token of a failed start was kept: %v", err)
	}
	s, _, err = startIn(t, dir, func(o *server.Options) { o.MQTT, o.Out = taken.Addr().String(), &out })
	if err == nil || !strings.Contains(err.Error(), "choose another with --mqtt") {
		if err == nil {
			s.Close()
		}
		t.Fatalf("MQTT on a port in use: %v", err)
	}
	s = mustStartIn(t, dir, func(o *server.Options) { o.Out = &out })
	if !strings.Contains(out.String(), "shown once") || !strings.Contains(out.String(), s.Token) {
		t.Fatalf("the first start that succeeds shows the token: %q", out.String())
	}
}
