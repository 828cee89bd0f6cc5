package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"guichet/internal/logbuf"
)

// binary is the guichet binary built once for the tests of this package.
var binary string

func TestMain(m *testing.M) {
	if dir := os.Getenv(execOpenEnv); dir != "" {
		execOpenChild(dir) // TestLauncherRunsTheFileItOpenedNotItsPath's child
	}
	dir, err := os.MkdirTemp("", "guichet-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "guichet")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build guichet:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testConfig is a small site open around the clock.
const testConfig = `
site: { id: test, name: "Mairie de Test", timezone: Europe/Paris }
services:
  - { id: A, name: { fr: "Accueil", en: "Enquiries" }, sla: 10m, service_time: 4m, channels: [visit, phone] }
  - { id: E, name: "État civil", sla: 15m, service_time: 8m }
counters:
  - { id: "1" }
  - { id: "2" }
  - { id: "3" }
agents:
  - { id: ana, skills: { A: 3, E: 1 } }
  - { id: bob, skills: { E: 3 } }
  - { id: cat, skills: { A: 1, E: 1 } }
`

const adminTok = "crash-test-admin-token-0123456789"

// hubProcess is a guichet hub running as a child process.
type hubProcess struct {
	cmd  *exec.Cmd
	url  string // http://…
	mqtt string // tcp://…
	logs *logbuf.Buffer
}

var readyRe = regexp.MustCompile(`msg="hub ready".* http=(\S+) mqtt=(\S+)`)

// addDevice registers a device on the hub (body: the API's JSON) and
// returns its secret.
func (h *hubProcess) addDevice(t testing.TB, body string) string {
	t.Helper()
	st, _, out, err := h.call(context.Background(), "POST", "/api/v1/devices", body)
	if err != nil || st != 201 {
		t.Fatalf("add device %s: %d %s %v", body, st, out, err)
	}
	var nd struct{ Secret string }
	if err := json.Unmarshal(out, &nd); err != nil || nd.Secret == "" {
		t.Fatalf("add device %s: %s: %v", body, out, err)
	}
	return nd.Secret
}

func startHubProcess(t testing.TB, dir string, extra ...string) *hubProcess {
	t.Helper()
	cfg := filepath.Join(dir, "guichet.yaml")
	if _, err := os.Stat(cfg); err != nil {
		if err := os.WriteFile(cfg, []byte(testConfig), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"hub", "--config", cfg, "--data", filepath.Join(dir, "data"), "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "GUICHET_ADMIN_TOKEN="+adminTok)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &hubProcess{cmd: cmd, logs: &logbuf.Buffer{}}
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.WriteString(line + "\n")
			if m := readyRe.FindStringSubmatch(line); m != nil {
				ready <- m
			}
		}
		close(ready)
	}()
	select {
	case m, ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatalf("hub exited before it was ready:\n%s", p.logs)
		}
		p.url, p.mqtt = m[1], m[2]
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("hub not ready after 20 s:\n%s", p.logs)
	}
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *hubProcess) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// call sends one API request with the admin token.
func (p *hubProcess) call(ctx context.Context, method, path, body string, headers ...string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.url+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+adminTok)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}
