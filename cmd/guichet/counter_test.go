package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/internal/browsertest"
	"guichet/internal/logbuf"
	"guichet/internal/sitetest"
)

var counterReadyRe = regexp.MustCompile(`msg="counter terminal ready".* page=(\S+)`)

// A counter terminal on a PC with no GPIO: `--http` gives it a page with its
// display and buttons, and keys 1 to 5; the keys call the next citizen.
func TestCounterTerminalAsAPageOnAPC(t *testing.T) {
	dir := t.TempDir()
	hub := startHubProcess(t, dir)
	secret := hub.addDevice(t, `{"id":"desk-1","role":"counter","counter":"1"}`)
	if st, _, body, _ := hub.call(context.Background(), "POST", "/api/v1/tickets", `{"service":"A"}`); st != 201 {
		t.Fatalf("issue: %d %s", st, body)
	}

	// Without --http on a machine without GPIO, it says what to do.
	out, err := runOnce(t, secret, "counter", "--hub", hub.mqtt, "--site", "test", "--device", "desk-1", "--counter", "1",
		"--data", filepath.Join(dir, "gpio"))
	if err == nil || !strings.Contains(out, "--http 127.0.0.1:8081") {
		t.Fatalf("counter without GPIO: %v\n%s", err, out)
	}

	cmd := exec.Command(binary, "counter", "--hub", hub.mqtt, "--site", "test", "--device", "desk-1", "--counter", "1",
		"--agent", "ana", "--data", filepath.Join(dir, "desk"), "--http", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GUICHET_DEVICE_SECRET="+secret)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	logs := &logbuf.Buffer{}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := counterReadyRe.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m[1]
			}
		}
	}()
	var page string
	select {
	case page = <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("counter terminal not ready:\n%s", logs)
	}
	b := browsertest.Browser(t, 1366, 768)
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(page))
	browsertest.WaitText(t, b, ".desk .name", "Guichet 1", 10*time.Second)
	sitetest.Eventually(t, 10*time.Second, "the counter open for ana", func() bool {
		_, _, body, _ := hub.call(context.Background(), "GET", "/api/v1/counters/1", "")
		return strings.Contains(string(body), `"agent":"ana"`)
	})
	browsertest.Do(t, b, 5*time.Second, chromedp.KeyEvent("1"))
	sitetest.Eventually(t, 10*time.Second, "A001 called at counter 1", func() bool {
		_, _, body, _ := hub.call(context.Background(), "GET", "/api/v1/counters/1", "")
		return strings.Contains(string(body), `"number":"A001"`)
	})
	browsertest.WaitText(t, b, ".desk .buttons", "Suivant", time.Second)
	browsertest.Screenshot(t, b, "counter-page-1366x768")
}

// runOnce runs a device command to its end, with the device's secret.
func runOnce(t *testing.T, secret string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "GUICHET_DEVICE_SECRET="+secret)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
