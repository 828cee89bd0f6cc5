package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// enrollArgs reads GUICHET_ARGS from an env file "guichet enroll" wrote,
// as systemd's EnvironmentFile would.
func enrollArgs(t *testing.T, envFile string) []string {
	t.Helper()
	b, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "GUICHET_ARGS="); ok {
			s, err := strconv.Unquote(v)
			if err != nil {
				t.Fatalf("GUICHET_ARGS %s: %v", v, err)
			}
			return strings.Fields(s)
		}
	}
	t.Fatalf("no GUICHET_ARGS in %s:\n%s", envFile, b)
	return nil
}

// A kiosk set up with nothing but "guichet enroll HUB CODE" connects over
// MQTT with the files it wrote and prints; its secret from before stops
// working; the code does not work twice. The role's flags already in
// kiosk.env are kept.
func TestAKioskEnrolledWithACodeConnectsAndPrints(t *testing.T) {
	dir := t.TempDir()
	hub := startHubProcess(t, dir)
	ctx := context.Background()
	st, _, body, err := hub.call(ctx, "POST", "/api/v1/devices", `{"id":"kiosk-1","role":"kiosk"}`)
	if err != nil || st != 201 {
		t.Fatalf("add device: %d %s %v", st, body, err)
	}
	var nd api.NewDevice
	json.Unmarshal(body, &nd)
	st, _, body, err = hub.call(ctx, "POST", "/api/v1/devices/kiosk-1/enrollment", "")
	if err != nil || st != 201 {
		t.Fatalf("enrollment code: %d %s %v", st, body, err)
	}
	var code struct{ Code string }
	json.Unmarshal(body, &code)

	// The hub serves signed updates: enrollment gives the key.
	keys := filepath.Join(dir, "keys")
	if out, err := exec.Command(binary, "release", "keygen", "--out", keys).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	if out, err := exec.Command(binary, "release", "publish", "--data", filepath.Join(dir, "data"), "--key", filepath.Join(keys, "guichet-update.pub")).CombinedOutput(); err != nil {
		t.Fatalf("publish --key: %v\n%s", err, out)
	}

	etc := filepath.Join(dir, "etc")
	tickets := filepath.Join(dir, "tickets")
	os.MkdirAll(etc, 0o755)
	os.WriteFile(filepath.Join(etc, "kiosk.env"), []byte(`GUICHET_ARGS="--hub tcp://old:1883 --device old --printer virtual:`+tickets+`"`+"\n"), 0o644)
	out, err := exec.Command(binary, "enroll", "--dir", etc, hub.url, code.Code).CombinedOutput()
	if err != nil {
		t.Fatalf("guichet enroll: %v\n%s", err, out)
	}
	for _, want := range []string{"kiosk.env", "kiosk.secret", "systemctl enable --now guichet-kiosk"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"kiosk.env", "kiosk.secret"} {
		if fi, err := os.Stat(filepath.Join(etc, f)); err != nil || fi.Mode().Perm() != 0o640 {
			t.Fatalf("%s: %v %v, want mode 0640", f, fi.Mode(), err)
		}
	}
	args := enrollArgs(t, filepath.Join(etc, "kiosk.env"))
	joined := strings.Join(args, " ")
	if !strings.Contains(joined, "--hub "+hub.mqtt) || !strings.Contains(joined, "--device kiosk-1") || strings.Contains(joined, "old") ||
		!strings.Contains(joined, "--printer virtual:"+tickets) {
		t.Fatalf("GUICHET_ARGS %q: want the hub's broker, the device, and the printer kept", joined)
	}
	if !strings.Contains(joined, "--update-url "+hub.url) || !strings.Contains(joined, "--update-key "+filepath.Join(etc, "update.pub")) {
		t.Fatalf("GUICHET_ARGS %q: want the hub's address and key for updates", joined)
	}
	if got, _ := os.ReadFile(filepath.Join(etc, "update.pub")); string(got) != string(must(os.ReadFile(filepath.Join(keys, "guichet-update.pub")))) {
		t.Fatalf("update.pub %q is not the hub's key", got)
	}

	// The kiosk, with what enroll wrote only (no secret in its environment).
	k := startKioskProcessArgs(t, hub, "", filepath.Join(dir, "kiosk"), args...)
	var n string
	sitetest.Eventually(t, 20*time.Second, "the enrolled kiosk prints", func() bool {
		n, err = k.press("A")
		return err == nil
	})
	sitetest.Eventually(t, 10*time.Second, "ticket "+n+" on paper", func() bool {
		for _, p := range printedNumbers(t, tickets) {
			if p == n {
				return true
			}
		}
		return false
	})

	// The secret it had before: refused.
	old := startKioskProcessArgs(t, hub, nd.Secret, filepath.Join(dir, "old"), "--printer", "virtual:"+filepath.Join(dir, "t-old"))
	sitetest.Eventually(t, 20*time.Second, "the old secret is refused", func() bool { return strings.Contains(old.logs.String(), "wrong credentials") })

	// The code again: refused, and nothing rewritten.
	before, _ := os.ReadFile(filepath.Join(etc, "kiosk.secret"))
	out, err = exec.Command(binary, "enroll", "--dir", etc, hub.url, code.Code).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "code refusé") {
		t.Fatalf("the code used twice: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(filepath.Join(etc, "kiosk.secret")); string(after) != string(before) {
		t.Fatal("a refused code rewrote the secret")
	}
	if strings.Contains(hub.logs.String(), code.Code) {
		t.Fatal("the code is in the hub's log")
	}
}

// guichet enroll refuses an http:// hub that is not on this machine (the
// code and the secret would cross the network in clear) unless --insecure.
func TestEnrollRefusesAnHTTPHubElsewhere(t *testing.T) {
	out, err := exec.Command(binary, "enroll", "--dir", t.TempDir(), "http://hub.mairie.local", "7K3M-Q9XD-2B8F-WN4T").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "https://") {
		t.Fatalf("http:// elsewhere: %v\n%s", err, out)
	}
	// With --insecure it goes as far as asking (the name does not resolve).
	out, err = exec.Command(binary, "enroll", "--insecure", "--dir", t.TempDir(), "http://hub.invalid", "7K3M-Q9XD-2B8F-WN4T").CombinedOutput()
	if err == nil || strings.Contains(string(out), "in clear") {
		t.Fatalf("--insecure: %v\n%s", err, out)
	}
}

// What a hub answers goes into files a service reads: an answer with a
// line break, a quote or a shell character in a value, a CA that is not a
// certificate, or too large, is refused and nothing is written.
func TestEnrollRefusesAHubAnswerItCannotWriteSafely(t *testing.T) {
	good := api.Enrollment{ID: "kiosk-1", Role: "kiosk", Site: "test", Secret: strings.Repeat("a", 43), MQTTURLs: []string{"tcp://hub:1883"}}
	bad := map[string]func(e *api.Enrollment){
		"line break in the broker": func(e *api.Enrollment) { e.MQTTURLs = []string{"tcp://hub:1883\nGUICHET_ARGS=--evil"} },
		"quote in the broker":      func(e *api.Enrollment) { e.MQTTURLs = []string{`tcp://hub:1883"`} },
		"shell in the broker":      func(e *api.Enrollment) { e.MQTTURLs = []string{"tcp://$(reboot):1883"} },
		"line break in the site":   func(e *api.Enrollment) { e.Site = "test\nX=1" },
		"path in the role":         func(e *api.Enrollment) { e.Role = "../../etc/passwd" },
		"path in the device":       func(e *api.Enrollment) { e.ID = "../x" },
		"space in the secret":      func(e *api.Enrollment) { e.Secret = strings.Repeat("a", 40) + " b\n" },
		"not a certificate":        func(e *api.Enrollment) { e.CAPEM = "hello" },
		"huge":                     func(e *api.Enrollment) { e.CAPEM = strings.Repeat("x", 300<<10) },
	}
	for name, spoil := range bad {
		t.Run(name, func(t *testing.T) {
			e := good
			spoil(&e)
			b, _ := json.Marshal(e)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(b) }))
			defer srv.Close()
			dir := t.TempDir()
			out, err := exec.Command(binary, "enroll", "--dir", dir, srv.URL, "7K3M-Q9XD-2B8F-WN4T").CombinedOutput()
			if err == nil {
				t.Fatalf("accepted:\n%s", out)
			}
			if files, _ := os.ReadDir(dir); len(files) != 0 {
				t.Fatalf("wrote %v", files)
			}
		})
	}
	// The good answer, for contrast, is written.
	b, _ := json.Marshal(good)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(b) }))
	defer srv.Close()
	if out, err := exec.Command(binary, "enroll", "--dir", t.TempDir(), srv.URL, "7K3M-Q9XD-2B8F-WN4T").CombinedOutput(); err != nil {
		t.Fatalf("the good answer: %v\n%s", err, out)
	}
}

// A hub whose HTTPS certificate is its own: enroll refuses it, and trusts
// it with --hub-ca.
func TestEnrollTrustsAHubsOwnCertificateWithHubCA(t *testing.T) {
	b, _ := json.Marshal(api.Enrollment{ID: "kiosk-1", Role: "kiosk", Site: "test", Secret: strings.Repeat("a", 43), MQTTURLs: []string{"tcp://hub:1883"}})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(b) }))
	defer srv.Close()
	if out, err := exec.Command(binary, "enroll", "--dir", t.TempDir(), srv.URL, "7K3M-Q9XD-2B8F-WN4T").CombinedOutput(); err == nil {
		t.Fatalf("an unknown certificate was trusted:\n%s", out)
	}
	ca := filepath.Join(t.TempDir(), "hub.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	if out, err := exec.Command(binary, "enroll", "--hub-ca", ca, "--dir", t.TempDir(), srv.URL, "7K3M-Q9XD-2B8F-WN4T").CombinedOutput(); err != nil {
		t.Fatalf("--hub-ca: %v\n%s", err, out)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// Over plain http to another machine (--insecure), the update address is
// not written: the device would send its secret in clear at every check.
func TestEnrollWritesNoUpdateURLForAnHTTPHubElsewhere(t *testing.T) {
	e := &api.Enrollment{ID: "kiosk-1", Role: "kiosk", Site: "test", Secret: strings.Repeat("a", 43),
		MQTTURLs: []string{"tcp://hub:1883"}, UpdateKey: "untrusted comment: k\nRWQ\n"}
	for hub, want := range map[string]bool{
		"http://hub.mairie.local":   false,
		"http://192.168.1.10:8080/": false,
		"http://127.0.0.1:8080":     true,
		"https://hub.mairie.local/": true,
	} {
		dir := t.TempDir()
		if _, err := writeEnrollment(dir, e, hub, nil); err != nil {
			t.Fatal(err)
		}
		env, _ := os.ReadFile(filepath.Join(dir, "kiosk.env"))
		if got := strings.Contains(string(env), "--update-url"); got != want {
			t.Errorf("%s: --update-url written %v, want %v:\n%s", hub, got, want, env)
		}
		if !strings.Contains(string(env), "--update-key") {
			t.Errorf("%s: no --update-key (installed versions are still checked):\n%s", hub, env)
		}
	}
}
