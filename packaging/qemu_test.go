package packaging

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// cross holds the arm64 and armv7 device binaries (what a Pi runs:
// guichet-device-linux-ARCH), built once per test run.
var cross sync.Map // arch → *crossBuild

type crossBuild struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

func crossRelease(t *testing.T, arch string) string {
	t.Helper()
	v, _ := cross.LoadOrStore(arch, &crossBuild{})
	c := v.(*crossBuild)
	c.once.Do(func() {
		dir := filepath.Join(release(t), "cross")
		cmd := exec.Command("scripts/release.sh", dir, arch)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "VERSION=1.0.0", "FLAVOURS=device")
		c.out, c.err = cmd.CombinedOutput()
		c.bin = filepath.Join(dir, "guichet-device-linux-"+arch)
	})
	if c.err != nil {
		t.Fatalf("release %s: %v\n%s", arch, c.err, c.out)
	}
	return c.bin
}

// started runs a command and waits for a line of its standard error that
// matches re; it is killed at the test's end.
func started(t *testing.T, re *regexp.Regexp, env []string, name string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan []string, 1)
	var logs strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case m := <-found:
		return m
	case <-time.After(2 * time.Minute):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%s: no %q after 2 min:\n%s", name, re, logs.String())
		return nil
	}
}

// openSite is a small site open around the clock.
const openSite = `
site: { id: test, name: "Mairie de Test", timezone: Europe/Paris }
services:
  - { id: A, name: { fr: "Accueil", en: "Enquiries" }, sla: 10m, service_time: 4m }
counters:
  - { id: "1" }
agents:
  - { id: ana, skills: { A: 3 } }
`

// The arm64 and armv7 device binaries, run by qemu-user as on a Pi: a
// kiosk talks to a hub on loopback (the amd64 release of the hub) and
// prints a ticket on the virtual printer.
func TestArmKioskUnderQemuPrintsATicketFromTheHub(t *testing.T) {
	need(t, "gcc", "aarch64-linux-gnu-gcc", "arm-linux-gnueabihf-gcc", "qemu-aarch64-static", "qemu-arm-static")
	hubBin := filepath.Join(release(t), "guichet-linux-amd64")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "guichet.yaml"), []byte(openSite), 0o600)
	const token = "qemu-test-admin-token-0123456789abcdef"
	m := started(t, regexp.MustCompile(`msg="hub ready".* http=(\S+) mqtt=(\S+)`), []string{"GUICHET_ADMIN_TOKEN=" + token},
		hubBin, "hub", "--config", filepath.Join(dir, "guichet.yaml"), "--data", filepath.Join(dir, "hub"), "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0")
	hubURL, mqtt := m[1], m[2]

	// -L: the cross toolchain's libc, the dynamic loader and glibc a Pi has.
	for _, c := range []struct{ arch, qemu, sysroot string }{
		{"arm64", "qemu-aarch64-static", "/usr/aarch64-linux-gnu"}, {"armv7", "qemu-arm-static", "/usr/arm-linux-gnueabihf"}} {
		t.Run(c.arch, func(t *testing.T) {
			bin := crossRelease(t, c.arch)
			if out, err := exec.Command(c.qemu, "-L", c.sysroot, bin, "version").CombinedOutput(); err != nil || !strings.Contains(string(out), "1.0.0 device") {
				t.Fatalf("guichet version under %s: %v %s", c.qemu, err, out)
			}
			id := "kiosk-" + c.arch
			req, _ := http.NewRequest("POST", hubURL+"/api/v1/devices", strings.NewReader(`{"id":"`+id+`","role":"kiosk"}`))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var nd struct{ Secret string }
			json.NewDecoder(res.Body).Decode(&nd)
			res.Body.Close()
			if res.StatusCode != 201 || nd.Secret == "" {
				t.Fatalf("register %s: %d", id, res.StatusCode)
			}
			tickets := filepath.Join(dir, id, "tickets")
			start := time.Now()
			m := started(t, regexp.MustCompile(`msg="kiosk ready".* page=(\S+)`), []string{"GUICHET_DEVICE_SECRET=" + nd.Secret},
				c.qemu, "-L", c.sysroot, bin, "kiosk", "--hub", mqtt, "--site", "test", "--device", id, "--data", filepath.Join(dir, id),
				"--http", "127.0.0.1:0", "--printer", "virtual:"+tickets)
			t.Logf("%s kiosk under qemu: ready in %v", c.arch, time.Since(start).Round(time.Millisecond))
			page := m[1]
			deadline := time.Now().Add(time.Minute)
			for {
				r, _ := http.NewRequest("POST", page+"press", strings.NewReader(url.Values{"service": {"A"}}.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Accept", "application/json")
				res, err := http.DefaultClient.Do(r)
				var out struct{ Number, Message string }
				if err == nil {
					json.NewDecoder(res.Body).Decode(&out)
					res.Body.Close()
				}
				if out.Number != "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no ticket from the %s kiosk: %v %+v", c.arch, err, out)
				}
				time.Sleep(200 * time.Millisecond) // polling with a deadline: the kiosk waits for the hub's configuration
			}
			pngs, _ := filepath.Glob(filepath.Join(tickets, "*.png"))
			if len(pngs) == 0 {
				t.Fatalf("the %s kiosk answered but printed nothing in %s", c.arch, tickets)
			}
		})
	}
}
