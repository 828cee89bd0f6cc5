package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/firmware/update"
	"guichet/hub/api"
	"guichet/internal/logbuf"
	"guichet/internal/release"
	"guichet/internal/sitetest"
)

// buildVersion builds guichet with main.version set, once per test run.
func buildVersion(t *testing.T, v string) string {
	t.Helper()
	out := filepath.Join(filepath.Dir(binary), "guichet-"+v)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	b := exec.Command("go", "build", "-ldflags", "-X main.version="+v, "-o", out, ".")
	if msg, err := b.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", v, err, msg)
	}
	return out
}

// buildBroken builds a binary that exits at once, as a release that cannot
// start on the board would, built as version (as release sign wants).
func buildBroken(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module broken\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport \"os\"\n\nfunc main() { println(\"broken release\"); os.Exit(1) }\n"), 0o644)
	out := filepath.Join(dir, "guichet-broken")
	b := exec.Command("go", "build", "-ldflags", "-X main.version="+version, "-o", out, ".")
	b.Dir = dir
	if msg, err := b.CombinedOutput(); err != nil {
		t.Fatalf("build the broken release: %v\n%s", err, msg)
	}
	return out
}

// supervisor runs a command again each time it exits, as systemd's
// Restart=always does, until the test ends.
type supervisor struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	starts int
	exits  []string
	logs   logbuf.Buffer
	done   chan struct{}
}

func supervise(t *testing.T, env []string, name string, args ...string) *supervisor {
	s := &supervisor{done: make(chan struct{})}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-s.done:
				return
			default:
			}
			cmd := exec.Command(name, args...)
			cmd.Env = env
			stderr, _ := cmd.StderrPipe()
			cmd.Stdout = cmd.Stderr
			if err := cmd.Start(); err != nil {
				s.logs.WriteString("start: " + err.Error() + "\n")
				return
			}
			s.mu.Lock()
			s.cmd = cmd
			s.starts++
			s.mu.Unlock()
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				s.logs.WriteString(sc.Text() + "\n")
			}
			err := cmd.Wait()
			s.mu.Lock()
			s.exits = append(s.exits, fmt.Sprint(err))
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		close(s.done)
		s.mu.Lock()
		if s.cmd != nil && s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
		}
		s.mu.Unlock()
		<-stopped
	})
	return s
}

// deviceState reads what the hub knows of a device's state.
func deviceState(t *testing.T, hub *hubProcess, id string) api.DeviceState {
	st, _, b, err := hub.call(context.Background(), "GET", "/api/v1/devices/"+id, "")
	if err != nil || st != 200 {
		return api.DeviceState{}
	}
	var d api.Device
	json.Unmarshal(b, &d)
	if d.State == nil || !d.Online {
		return api.DeviceState{}
	}
	return *d.State
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// A kiosk updates itself from the hub, with real binaries in real
// processes: a signed v1.1.0 is installed, swapped in, and kept once it is
// healthy; a bundle tampered with on the hub's shelf is refused while the
// kiosk keeps running; a signed v1.2.0 that cannot start is rolled back by
// the launcher, and the kiosk is back online with v1.1.0, saying so.
func TestKioskUpdatesItselfAndRollsBackABrokenRelease(t *testing.T) {
	dir := t.TempDir()
	v110 := buildVersion(t, "v1.1.0")
	broken := buildBroken(t, "v1.2.0")
	hub := startHubProcess(t, dir)
	ctx := context.Background()
	st, _, body, err := hub.call(ctx, "POST", "/api/v1/devices", `{"id":"kiosk-1","role":"kiosk"}`)
	if err != nil || st != 201 {
		t.Fatalf("add device: %d %s %v", st, body, err)
	}
	var nd api.NewDevice
	json.Unmarshal(body, &nd)

	// The town's IT: a key pair, v1.1.0 signed and published.
	keys, data := filepath.Join(dir, "keys"), filepath.Join(dir, "data")
	run(t, binary, "release", "keygen", "--out", keys)
	pub, sec := filepath.Join(keys, "guichet-update.pub"), filepath.Join(keys, "guichet-update.key")
	arch := release.HostArch()
	publish := func(bin, version string) {
		rel := filepath.Join(dir, "release-"+version)
		os.MkdirAll(rel, 0o755)
		dst := filepath.Join(rel, "guichet-linux-"+arch)
		b, _ := os.ReadFile(bin)
		os.WriteFile(dst, b, 0o755)
		run(t, binary, "release", "sign", "--key", sec, "--version", version, dst)
		run(t, binary, "release", "publish", "--data", data, "--key", pub, dst)
	}
	// publishTampered signs bin as version (the Go API: release sign
	// wants a binary built as its version, and the content does not
	// matter), publishes it on a shelf aside, changes the binary there, and
	// only then renames its folder onto the hub's shelf: the kiosk, which
	// polls, sees the bundle whole and tampered, never half-written.
	publishTampered := func(bin, version string, tamper func(string)) {
		skb, err := os.ReadFile(sec)
		if err != nil {
			t.Fatal(err)
		}
		sk, err := release.ParseSecretKey(skb, "")
		if err != nil {
			t.Fatal(err)
		}
		rel := filepath.Join(dir, "release-"+version)
		os.MkdirAll(rel, 0o755)
		dst := filepath.Join(rel, "guichet-linux-"+arch)
		b, _ := os.ReadFile(bin)
		os.WriteFile(dst, b, 0o755)
		sig, _, err := release.Sign(sk, bytes.NewReader(b), release.Manifest{Version: version, Arch: arch})
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(dst+".minisig", sig, 0o644)
		aside := filepath.Join(dir, "aside-"+version)
		run(t, binary, "release", "publish", "--data", aside, "--key", pub, dst)
		folder := filepath.Join("updates", arch, version)
		tamper(filepath.Join(aside, folder, release.BinaryName))
		if err := os.Rename(filepath.Join(aside, folder), filepath.Join(data, folder)); err != nil {
			t.Fatal(err)
		}
	}
	publish(v110, "v1.1.0")

	// The kiosk as installed by the package: this test's binary (version
	// dev), restarted by a supervisor whenever it exits.
	kdata := filepath.Join(dir, "kiosk")
	env := append(os.Environ(), "GUICHET_DEVICE_SECRET="+nd.Secret)
	sup := supervise(t, env, binary, "kiosk", "--hub", hub.mqtt, "--site", "test", "--device", "kiosk-1", "--data", kdata,
		"--http", "127.0.0.1:0", "--printer", "virtual:"+filepath.Join(dir, "tickets"),
		"--update-url", hub.url, "--update-key", pub, "--update-every", "200ms", "--update-deadline", "20s")
	udir := filepath.Join(kdata, "update")
	sitetest.Eventually(t, 40*time.Second, "the kiosk runs v1.1.0, kept after its trial", func() bool {
		s, err := update.LoadState(udir)
		return err == nil && s.Highest == "v1.1.0" && s.Trial == nil && deviceState(t, hub, "kiosk-1").Version == "v1.1.0"
	})

	// A bundle changed on the hub's shelf after it was published: refused,
	// the kiosk stays on v1.1.0 and says why.
	publishTampered(v110, "v1.1.5", func(bin string) {
		f, err := os.OpenFile(bin, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("tampered"))
		f.Close()
	})
	sitetest.Eventually(t, 20*time.Second, "the tampered bundle refused", func() bool {
		s, _ := update.LoadState(udir)
		return s.Last.State == update.StateFailed && s.Last.Version == "v1.1.5" && s.Last.Reason == release.ReasonBadSignature
	})
	if cur, _ := os.Readlink(filepath.Join(udir, "current")); cur != "v1.1.0" {
		t.Fatalf("current is %q after a tampered bundle", cur)
	}

	// A signed release that cannot start: installed, tried, rolled back.
	publish(broken, "v1.2.0")
	sitetest.Eventually(t, 40*time.Second, "v1.2.0 rolled back, the kiosk online with v1.1.0", func() bool {
		ds := deviceState(t, hub, "kiosk-1")
		return ds.Version == "v1.1.0" && ds.Health != nil && ds.Health.Update != nil &&
			*ds.Health.Update == api.DeviceUpdate{State: update.StateRolledBack, Version: "v1.2.0", Reason: release.ReasonUnhealthy}
	})
	if !strings.Contains(sup.logs.String(), "broken release") {
		t.Fatalf("the broken release never ran:\n%s", sup.logs.String())
	}
	s, _ := update.LoadState(udir)
	if !s.IsBad("v1.2.0") || s.Highest != "v1.1.0" {
		t.Fatalf("state %+v", s)
	}
	// It is not tried again: the kiosk goes on checking (a later bundle,
	// tampered, is fetched and refused), and v1.2.0 was fetched once.
	sup.mu.Lock()
	starts := sup.starts
	sup.mu.Unlock()
	publishTampered(v110, "v1.2.5", func(bin string) { os.WriteFile(bin, []byte("tampered"), 0o644) })
	sitetest.Eventually(t, 20*time.Second, "a later bundle checked and refused", func() bool {
		s, _ := update.LoadState(udir)
		return s.Last.State == update.StateFailed && s.Last.Version == "v1.2.5"
	})
	if n := strings.Count(hub.logs.String(), "version=v1.2.0"); n != 1 {
		t.Fatalf("v1.2.0 fetched %d times:\n%s", n, hub.logs.String())
	}
	sup.mu.Lock()
	defer sup.mu.Unlock()
	if sup.starts != starts {
		t.Fatalf("the kiosk restarted %d times after the roll-back\n%s", sup.starts-starts, sup.logs.String())
	}
	t.Logf("kiosk starts: %d, exits: %v", sup.starts, sup.exits)
	if testing.Verbose() {
		t.Log(sup.logs.String())
	}
}

// execOpenEnv makes the test binary execOpenChild.
const execOpenEnv = "GUICHET_TEST_EXEC_OPEN"

// execOpenChild opens DIR/run, then swaps DIR/other onto that path (as
// another process could after the launcher verified it), and runs what it
// opened.
func execOpenChild(dir string) {
	f, err := os.Open(filepath.Join(dir, "run"))
	if err == nil {
		err = os.Rename(filepath.Join(dir, "other"), filepath.Join(dir, "run"))
	}
	if err == nil {
		err = execOpen(f, []string{"run", "the opened file ran"}, os.Environ())
	}
	fmt.Fprintln(os.Stderr, "exec:", err)
	os.Exit(2)
}

func TestLauncherRunsTheFileItOpenedNotItsPath(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{"run": "/bin/echo", "other": "/bin/false"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err) // coreutils: on every Debian, never a reason to skip
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), execOpenEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "the opened file ran" {
		t.Fatalf("the swapped path ran instead of the opened file: %v %q", err, out)
	}
}

func TestReleaseSignRefusesABinaryBuiltAsAnotherVersion(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	run(t, binary, "release", "keygen", "--out", keys)
	sec := filepath.Join(keys, "guichet-update.key")
	v110 := filepath.Join(dir, "guichet-linux-"+release.HostArch())
	b, err := os.ReadFile(buildVersion(t, "v1.1.0"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(v110, b, 0o755)
	out, err := exec.Command(binary, "release", "sign", "--key", sec, "--version", "v1.1.5", v110).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "built as v1.1.0, not v1.1.5") {
		t.Fatalf("v1.1.0 signed as v1.1.5: %v\n%s", err, out)
	}
	if _, err := os.Stat(v110 + ".minisig"); err == nil {
		t.Fatal("a signature was written")
	}
	// This test's guichet is built without a version: refused too.
	if out, err := exec.Command(binary, "release", "sign", "--key", sec, "--version", "v1.0.0", binary).CombinedOutput(); err == nil {
		t.Fatalf("a binary without its version signed:\n%s", out)
	}
	run(t, binary, "release", "sign", "--key", sec, "--version", "v1.1.0", v110)
}

func TestLdflagsVersionFindsMainVersion(t *testing.T) {
	for flags, want := range map[string]string{
		"-X main.version=v1.2.0":                          "v1.2.0",
		"-s -w -buildid= -X main.version=v1.4.0 -X a.b=c": "v1.4.0",
		"-X=main.version=v2.0.0":                          "v2.0.0",
		"-X 'main.version=v1.0.0'":                        "v1.0.0",
		"-s -w":                                           "",
		"-X main.versions=v9":                             "",
	} {
		if got := ldflagsVersion(flags); got != want {
			t.Errorf("ldflagsVersion(%q) = %q, want %q", flags, got, want)
		}
	}
}
