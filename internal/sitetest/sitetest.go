// Package sitetest starts real sites for end-to-end tests: a hub on
// loopback TCP, with its embedded broker or with a real Mosquitto it
// configures, a real SQLite file, real HTTP; and device links to it.
// Nothing is mocked; a missing Mosquitto fails the test (make test installs it).
package sitetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/hub/devices"
	"guichet/hub/queue"
	"guichet/hub/server"
	"guichet/internal/logbuf"
)

// Config is a small site open around the clock: services A (visit and
// phone) and E (visit), counters 1 to 4 and phone position 9, agents ana,
// bob, cat, dan.
const Config = `
site: { id: test, name: "Mairie de Test", timezone: Europe/Paris, public_url: "http://guichet.test",
        info: { fr: "Bienvenue à la mairie de Test", en: "Welcome to Test town hall" } }
services:
  - { id: A, name: { fr: "Accueil", en: "Enquiries" }, sla: 10m, service_time: 4m, channels: [visit, phone] }
  - { id: E, name: { fr: "État civil", en: "Civil status" }, sla: 15m, service_time: 8m }
counters:
  - { id: "1", name: "Guichet 1" }
  - { id: "2", name: "Guichet 2" }
  - { id: "3", name: "Guichet 3" }
  - { id: "4", name: "Guichet 4" }
  - { id: "9", name: "Téléphone", channels: [phone] }
agents:
  - { id: ana, skills: { A: 3, E: 1 } }
  - { id: bob, skills: { E: 3 } }
  - { id: cat, skills: { A: 1, E: 1 } }
  - { id: dan, skills: { A: 2, E: 2 } }
`

// HubPassword is the hub's password on a test Mosquitto.
const HubPassword = "sitetest-hub-password-0123456789"

// Options chooses the broker and the site.
type Options struct {
	Mosquitto bool   // an external Mosquitto instead of the embedded broker
	Config    string // site configuration; Config if empty
	OpenHours bool   // keep every service open around the clock
	TLS       bool   // the embedded broker also listens with TLS (TLSURL, RootCAs)
	// AuthClock is the identity layer's clock (server.Options.AuthClock).
	AuthClock func() time.Time
}

// Site is a running hub.
type Site struct {
	*server.Server
	T         testing.TB
	Dir       string
	Logs      *logbuf.Buffer
	Mosquitto *Mosquitto // nil with the embedded broker
	opts      Options
	httpAddr  string
	mqttAddr  string
	brokerURL string // kept while the hub is stopped
	Topics    api.Topics
	TLSURL    string         // ssl://127.0.0.1:port with Options.TLS
	RootCAs   *x509.CertPool // trusts the TLS listener's certificate
	tls       *tls.Config
}

// Start starts a site in a temporary directory; it stops with the test.
func Start(t testing.TB, o Options) *Site {
	t.Helper()
	s := &Site{T: t, Dir: t.TempDir(), Logs: &logbuf.Buffer{}, opts: o, httpAddr: "127.0.0.1:0", mqttAddr: "127.0.0.1:0"}
	if s.opts.Config == "" {
		s.opts.Config = Config
	}
	_, site, err := config.Parse("site.yaml", []byte(s.opts.Config))
	if err != nil {
		t.Fatal(err)
	}
	s.Topics = api.Topics{Site: site.ID}
	if o.TLS {
		s.tls, s.RootCAs = selfSigned(t)
		s.TLSURL = fmt.Sprintf("ssl://127.0.0.1:%d", FreePort(t))
	}
	if o.Mosquitto {
		s.Mosquitto = StartMosquitto(t, filepath.Join(s.Dir, "mosquitto"), s.Topics)
	}
	s.start()
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *Site) start() {
	s.T.Helper()
	cfg, site, err := config.Parse("site.yaml", []byte(s.opts.Config))
	if err != nil {
		s.T.Fatal(err)
	}
	site.Policy.IgnoreHours = site.Policy.IgnoreHours || s.opts.OpenHours
	log := slog.New(slog.NewTextHandler(io.MultiWriter(s.Logs, testWriter{s.T}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	o := server.Options{Config: cfg, Site: site, Data: filepath.Join(s.Dir, "hub"), HTTP: s.httpAddr, MQTT: s.mqttAddr, Log: log, Out: io.Discard,
		AuthClock: s.opts.AuthClock}
	if m := s.Mosquitto; m != nil {
		o.MQTTURL, o.MQTTPass, o.MosquittoDir, o.MosquittoPID = m.URL, HubPassword, m.Dir, m.PIDFile
	}
	if s.tls != nil {
		o.MQTTTLS, o.TLS = strings.TrimPrefix(s.TLSURL, "ssl://"), s.tls
	}
	if s.Server, err = server.Start(o); err != nil {
		s.T.Fatal(err)
	}
	s.brokerURL = s.MQTTURL
	// Restarts keep the same addresses, as a real hub would.
	s.httpAddr = strings.TrimPrefix(s.HTTPURL, "http://")
	if s.Mosquitto == nil {
		s.mqttAddr = strings.TrimPrefix(s.MQTTURL, "tcp://")
	}
}

// Stop stops the hub (not Mosquitto).
func (s *Site) Stop() {
	if s.Server != nil {
		s.Server.Close()
		s.Server = nil
	}
}

// Restart stops and starts the hub on the same data and addresses.
func (s *Site) Restart() {
	s.T.Helper()
	s.Stop()
	s.start()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("GUICHET_TEST_LOGS") != "" {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// Call sends an API request with the admin token.
func (s *Site) Call(method, path, body string) (int, []byte) {
	s.T.Helper()
	req, err := http.NewRequest(method, s.HTTPURL+path, strings.NewReader(body))
	if err != nil {
		s.T.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// Must sends an API request that must answer want, and decodes into v.
func (s *Site) Must(method, path, body string, want int, v any) {
	s.T.Helper()
	st, b := s.Call(method, path, body)
	if st != want {
		s.T.Fatalf("%s %s: %d, want %d: %s", method, path, st, want, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			s.T.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// AddDevice registers a device through the API and returns its secret.
func (s *Site) AddDevice(id, role, counter string) string {
	s.T.Helper()
	body, _ := json.Marshal(map[string]string{"id": id, "role": role, "counter": counter})
	var nd api.NewDevice
	reloads := s.Mosquitto.Reloads()
	s.Must("POST", "/api/v1/devices", string(body), 201, &nd)
	s.Mosquitto.WaitReload(reloads)
	return nd.Secret
}

// Tickets returns the tickets the hub holds.
func (s *Site) Tickets() []api.Ticket {
	s.T.Helper()
	var res struct{ Tickets []api.Ticket }
	s.Must("GET", "/api/v1/tickets", "", 200, &res)
	return res.Tickets
}

// Link opens a device link to the site; it closes with the test.
func (s *Site) Link(id, secret, role string) *link.Link {
	s.T.Helper()
	l, err := link.Open(s.LinkOptions(id, secret, role, s.T.TempDir()))
	if err != nil {
		s.T.Fatal(err)
	}
	s.T.Cleanup(func() { l.Close() })
	return l
}

// LinkOptions are the options of a device link to this site.
func (s *Site) LinkOptions(id, secret, role, dir string) link.Options {
	return link.Options{Broker: s.brokerURL, Site: s.Topics.Site, Device: id, Secret: secret, Role: role, Version: "test",
		DataDir: dir, Log: slog.New(slog.NewTextHandler(io.MultiWriter(s.Logs, testWriter{s.T}), nil)),
		ReplyTimeout: 2 * time.Second}
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// FreePort returns a loopback TCP port free a moment ago.
func FreePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Mosquitto is a Mosquitto broker run for a test.
type Mosquitto struct {
	t       testing.TB
	Dir     string
	URL     string
	Port    int
	PIDFile string
	cmd     *exec.Cmd
}

// StartMosquitto runs Debian's Mosquitto on a free loopback port with the
// password and ACL files the hub writes in dir (the hub user only, at first).
func StartMosquitto(t testing.TB, dir string, topics api.Topics) *Mosquitto {
	t.Helper()
	if _, err := exec.LookPath("mosquitto"); err != nil {
		t.Fatal("mosquitto is not installed: run make test (scripts/test-deps.sh installs it)")
	}
	m := &Mosquitto{t: t, Dir: dir, Port: FreePort(t), PIDFile: filepath.Join(dir, "mosquitto.pid")}
	m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
	if err := devices.MosquittoFiles(dir, topics, nil, HubPassword); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root\n"
	}
	// The conf guichet mosquitto writes, and what a test needs besides.
	conf := devices.MosquittoConf(dir, fmt.Sprintf("%d 127.0.0.1", m.Port)) +
		fmt.Sprintf("pid_file %s\npersistence_location %s/\n%slog_dest file %s/mosquitto.log\nlog_type all\n", m.PIDFile, dir, user, dir)
	if err := os.WriteFile(filepath.Join(dir, "mosquitto.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(m.Stop)
	return m
}

// Start starts (or restarts) the broker and waits for its port.
func (m *Mosquitto) Start() {
	m.t.Helper()
	m.cmd = exec.Command("mosquitto", "-c", filepath.Join(m.Dir, "mosquitto.conf"))
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	Eventually(m.t, 10*time.Second, "mosquitto listening", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", m.Port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// Stop stops the broker.
func (m *Mosquitto) Stop() {
	if m.cmd != nil && m.cmd.ProcessState == nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
}

// Log returns what Mosquitto logged.
func (m *Mosquitto) Log() string {
	b, _ := os.ReadFile(filepath.Join(m.Dir, "mosquitto.log"))
	return string(b)
}

// Reloads counts the times Mosquitto reloaded its files (0 for a nil m).
func (m *Mosquitto) Reloads() int {
	if m == nil {
		return 0
	}
	return strings.Count(m.Log(), "Reloading config")
}

// WaitReload waits until Mosquitto has reloaded its files more than before
// times; it does nothing for a nil m (the embedded broker reads the registry).
func (m *Mosquitto) WaitReload(before int) {
	if m == nil {
		return
	}
	m.t.Helper()
	Eventually(m.t, 5*time.Second, "mosquitto reloaded its files", func() bool { return m.Reloads() > before })
}

// Engine reads the hub's engine.
func (s *Site) Engine(fn func(e *queue.Engine)) { s.Hub.Read(fn) }

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "guichet test hub"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}
