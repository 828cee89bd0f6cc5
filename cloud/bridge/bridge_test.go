package bridge_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// central is Debian's Mosquitto playing the central broker: TLS only,
// its own accounts (the site's bridge may write its site's topics; the
// CRM reads every site's events), persistence on.
type central struct {
	t       *testing.T
	dir     string
	port    int
	ca      string
	pool    *x509.CertPool
	cmd     *exec.Cmd
	restart int
}

const (
	bridgePass = "bridge-password-of-the-test-site-0123"
	crmPass    = "crm-password-at-the-central-broker-4567"
)

func startCentral(t *testing.T) *central {
	t.Helper()
	if _, err := exec.LookPath("mosquitto_passwd"); err != nil {
		t.Fatal("mosquitto_passwd is not installed: run scripts/test-deps.sh")
	}
	c := &central{t: t, dir: t.TempDir(), port: sitetest.FreePort(t)}
	cert, key := sitetest.CertFiles(t, c.dir)
	c.ca = cert
	pemBytes, _ := os.ReadFile(cert)
	c.pool = x509.NewCertPool()
	c.pool.AppendCertsFromPEM(pemBytes)
	passwd := filepath.Join(c.dir, "passwd")
	for i, u := range [][2]string{{"mairie-test", bridgePass}, {"crm", crmPass}} {
		args := []string{"-b", passwd, u[0], u[1]}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v %s", err, out)
		}
	}
	acl := "user mairie-test\ntopic write guichet/v1/test/#\nuser crm\ntopic read guichet/v1/+/events/#\n"
	os.WriteFile(filepath.Join(c.dir, "acl"), []byte(acl), 0o644)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root\n"
	}
	conf := fmt.Sprintf("listener %d 127.0.0.1\ncertfile %s\nkeyfile %s\nallow_anonymous false\npassword_file %s\nacl_file %s\n"+
		"persistence true\npersistence_location %s/\nautosave_interval 1\n%slog_dest file %s/mosquitto.log\n",
		c.port, cert, key, passwd, filepath.Join(c.dir, "acl"), c.dir, user, c.dir)
	os.WriteFile(filepath.Join(c.dir, "mosquitto.conf"), []byte(conf), 0o644)
	c.start()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

func (c *central) start() {
	c.t.Helper()
	c.cmd = exec.Command("mosquitto", "-c", filepath.Join(c.dir, "mosquitto.conf"))
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	sitetest.Eventually(c.t, 10*time.Second, "the central mosquitto listening", func() bool {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", c.port))
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
}

// restartBroker stops the broker (SIGTERM: it saves its sessions), waits
// a moment down, and starts it again.
func (c *central) restartBroker(down time.Duration) {
	c.cmd.Process.Signal(syscall.SIGTERM)
	c.cmd.Wait()
	time.Sleep(down) // the broker is away: the bridge's sends fail meanwhile
	c.start()
}

// crm subscribes at the central broker as the town's CRM does: a
// persistent session at QoS 1 on every site's events.
type crm struct {
	mu   sync.Mutex
	seen map[string]int
	bad  []string
}

func (c *central) subscribe(t *testing.T) *crm {
	r := &crm{seen: map[string]int{}}
	record := func(_ paho.Client, m paho.Message) {
		var ce api.CloudEvent
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := json.Unmarshal(m.Payload(), &ce); err != nil || ce.ID == "" || m.Topic() != "guichet/v1/test/events/"+ce.Type {
			r.bad = append(r.bad, m.Topic())
			return
		}
		r.seen[ce.ID]++
	}
	cl := paho.NewClient(paho.NewClientOptions().AddBroker(fmt.Sprintf("ssl://127.0.0.1:%d", c.port)).
		SetClientID("central-crm").SetUsername("crm").SetPassword(crmPass).SetCleanSession(false).
		SetTLSConfig(&tls.Config{RootCAs: c.pool, MinVersion: tls.VersionTLS12}).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).SetMaxReconnectInterval(time.Second).
		SetDefaultPublishHandler(record).
		SetOnConnectHandler(func(cl paho.Client) { cl.Subscribe("guichet/v1/+/events/#", 1, record) }))
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("the CRM's connection: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return r
}

func (r *crm) waitFor(t *testing.T, ids []string, timeout time.Duration) {
	t.Helper()
	sitetest.Eventually(t, timeout, fmt.Sprintf("%d events at the central broker", len(ids)), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.bad) > 0 {
			t.Fatalf("not a CloudEvent of the site's topic: %v", r.bad)
		}
		for _, id := range ids {
			if r.seen[id] == 0 {
				return false
			}
		}
		return true
	})
}

// The site's events reach the central broker over TLS with the bridge's
// own account, on the site's topics, while the central Mosquitto is
// restarted twice with events flowing: nothing is lost.
func TestBridgeLosesNothingWhenTheCentralBrokerRestarts(t *testing.T) {
	c := startCentral(t)
	sub := c.subscribe(t)
	t.Setenv("TEST_BRIDGE_PASSWORD", bridgePass)
	cfg := sitetest.Config + fmt.Sprintf("destinations:\n  - { name: central, type: bridge, url: \"ssl://127.0.0.1:%d\", username: mairie-test, "+
		"password_env: TEST_BRIDGE_PASSWORD, ca_file: %q, max_backoff: 300ms, timeout: 2s }\n", c.port, c.ca)
	s := sitetest.Start(t, sitetest.Options{Config: cfg, OpenHours: true})

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // events flowing: a ticket every 20 ms
		defer wg.Done()
		for !stop.Load() {
			s.Call("POST", "/api/v1/tickets", `{"service":"A"}`)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	c.restartBroker(300 * time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	c.restartBroker(1 * time.Second)
	time.Sleep(500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	ids, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
	sub.waitFor(t, ids, 30*time.Second)
	var d struct{ Destinations []api.Destination }
	s.Must("GET", "/api/v1/destinations", "", 200, &d)
	for _, x := range d.Destinations {
		if x.Name == "central" && x.DeadLetters != 0 {
			t.Fatalf("dead letters: %+v", x)
		}
	}
	t.Logf("%d events through two restarts of the central broker", len(ids))
}

// A wrong password at the central broker: the bridge says so, and the
// events wait in the log.
func TestBridgeWithAWrongPasswordWaits(t *testing.T) {
	c := startCentral(t)
	t.Setenv("TEST_BRIDGE_PASSWORD", "not-the-right-password-at-all-0000")
	cfg := sitetest.Config + fmt.Sprintf("destinations:\n  - { name: central, type: bridge, url: \"ssl://127.0.0.1:%d\", username: mairie-test, "+
		"password_env: TEST_BRIDGE_PASSWORD, ca_file: %q, max_backoff: 300ms }\n", c.port, c.ca)
	s := sitetest.Start(t, sitetest.Options{Config: cfg, OpenHours: true})
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	sitetest.Eventually(t, 10*time.Second, "the bridge retrying", func() bool {
		var d struct{ Destinations []api.Destination }
		s.Must("GET", "/api/v1/destinations", "", 200, &d)
		for _, x := range d.Destinations {
			if x.Name == "central" && x.State == "retrying" && x.Behind > 0 && x.DeadLetters == 0 {
				return true
			}
		}
		return false
	})
	if logs := s.Logs.String(); containsSecret(logs) {
		t.Fatal("the password is in the logs")
	}
}

func containsSecret(s string) bool {
	return strings.Contains(s, "not-the-right-password") || strings.Contains(s, bridgePass)
}
