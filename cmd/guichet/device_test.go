package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
)

func guichet(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("guichet %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestDeviceCommandsWorkWhileTheHubRuns(t *testing.T) {
	dir := t.TempDir()
	p := startHubProcess(t, dir)
	data := filepath.Join(dir, "data")
	out := guichet(t, "device", "add", "kiosk-hall", "--role", "kiosk", "--data", data)
	m := regexp.MustCompile(`MQTT password \(shown once, keep it on the device\): (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no secret in:\n%s", out)
	}
	if _, err := exec.Command(binary, "device", "add", "desk", "--role", "counter", "--counter", "99",
		"--data", data, "--config", filepath.Join(dir, "guichet.yaml")).CombinedOutput(); err == nil {
		t.Fatal("a counter terminal for an unknown counter was registered")
	}
	leases := make(chan api.Leases, 8)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(p.mqtt).SetClientID("kiosk-hall").SetUsername("kiosk-hall").
		SetPassword(m[1]).SetAutoReconnect(false).SetConnectTimeout(3 * time.Second).
		SetDefaultPublishHandler(func(_ paho.Client, msg paho.Message) {
			var l api.Leases
			if json.Unmarshal(msg.Payload(), &l) == nil {
				leases <- l
			}
		}))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("the device added by the command line cannot connect: %v", tok.Error())
	}
	// The hub hears of the new kiosk (within its polling period) and leases
	// it numbers to print when the hub is unreachable.
	c.Subscribe(api.Topics{Site: "test"}.Lease("kiosk-hall"), 1, nil)
	for got := false; !got; {
		select {
		case l := <-leases:
			got = len(l.Blocks) > 0
		case <-time.After(10 * time.Second):
			t.Fatalf("no lease for a kiosk added by the command line:\n%s", p.logs)
		}
	}
	if list := guichet(t, "device", "list", "--data", data); !strings.Contains(list, "kiosk-hall") || strings.Contains(list, m[1]) {
		t.Fatalf("list:\n%s", list)
	}
	guichet(t, "device", "disable", "kiosk-hall", "--data", data)
	deadline := time.Now().Add(5 * time.Second)
	for c.IsConnectionOpen() {
		if time.Now().After(deadline) {
			t.Fatalf("a device disabled from the command line stayed connected:\n%s", p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Without the site file, the command checks a counter terminal's counter
// against what the hub recorded of its site, and shows times in the site's
// zone, not the machine's.
func TestDeviceCommandsKnowTheSiteWithoutItsFile(t *testing.T) {
	dir := t.TempDir()
	startHubProcess(t, dir)
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(binary, "device", "add", "desk-9", "--role", "counter", "--counter", "9", "--data", data).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), `unknown counter "9"`) {
		t.Fatalf("a counter terminal for counter 9, which the site lacks: %v\n%s", err, out)
	}
	guichet(t, "device", "add", "desk-2", "--role", "counter", "--counter", "2", "--data", data)
	cmd := exec.Command(binary, "device", "list", "--data", data)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Now().In(paris)
	if !strings.Contains(string(out), now.Format("2006-01-02 15:")) && !strings.Contains(string(out), now.Add(-time.Minute).Format("2006-01-02 15:")) {
		t.Fatalf("device list in UTC should show Paris times (%s):\n%s", now.Format("15:04"), out)
	}
}
