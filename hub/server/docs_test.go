package server_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/internal/logbuf"
	"guichet/internal/sitetest"
)

// docBlocks returns the shell blocks of a doc marked "<!-- try: name -->".
func docBlocks(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- try: (\\S+) -->\\s*```sh\\n(.*?)```")
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestMQTTDocWorksAsWritten runs docs/mqtt.md's mosquitto_sub and
// mosquitto_rr examples, verbatim, against a hub of the sample site.
func TestMQTTDocWorksAsWritten(t *testing.T) {
	for _, tool := range []string{"mosquitto_rr", "mosquitto_sub"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run make test (scripts/test-deps.sh installs it)", tool)
		}
	}
	blocks := docBlocks(t, "../../docs/mqtt.md")
	for _, name := range []string{"watch", "issue", "call"} {
		if blocks[name] == "" {
			t.Fatalf("docs/mqtt.md has no %q example", name)
		}
	}
	brokersWith(t, sitetest.Options{Config: string(config.Sample), OpenHours: true}, func(t *testing.T, s *sitetest.Site) {
		port := strings.TrimPrefix(s.MQTTURL, "tcp://127.0.0.1:")
		env := append(os.Environ(), "HUB=127.0.0.1", "PORT="+port, "SITE="+s.Topics.Site,
			"SECRET="+s.AddDevice("kiosk-hall", api.RoleKiosk, ""),
			"DESK_SECRET="+s.AddDevice("desk-3", api.RoleCounter, "3"),
			"SCREEN_SECRET="+s.AddDevice("screen-hall", api.RoleDisplay, ""))
		run := func(name string) *exec.Cmd {
			cmd := exec.Command("bash", "-euc", blocks[name])
			cmd.Env = env
			return cmd
		}
		watch := run("watch")
		out := &logbuf.Buffer{}
		watch.Stdout, watch.Stderr = out, out
		if err := watch.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { watch.Process.Kill(); watch.Wait() }()
		defer func() {
			if t.Failed() && s.Mosquitto != nil {
				t.Logf("watch: %s\nmosquitto: %s", out, s.Mosquitto.Log())
			}
		}()
		// The board is retained: once the watch prints it, it is subscribed.
		sitetest.Eventually(t, 5*time.Second, "the watch shows the board", func() bool { return strings.Contains(out.String(), "/board ") })
		var replies []string
		for _, name := range []string{"issue", "issue", "call"} {
			b, err := run(name).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v: %s", name, err, b)
			}
			replies = append(replies, string(b))
		}
		if !strings.Contains(replies[0], `{"id":"try-1","ok":true,"result":{`) || !strings.Contains(replies[0], `"number":"E001"`) {
			t.Fatalf("issue printed: %s", replies[0])
		}
		if replies[1] != replies[0] {
			t.Fatalf("the same command twice got two replies:\n%s\n%s", replies[0], replies[1])
		}
		if n := len(s.Tickets()); n != 1 {
			t.Fatalf("%d tickets after publishing the same command twice", n)
		}
		if !strings.Contains(replies[2], `{"id":"try-3","ok":true,`) {
			t.Fatalf("call printed: %s", replies[2])
		}
		sitetest.Eventually(t, 5*time.Second, "the watch shows the call on the board", func() bool {
			return strings.Contains(out.String(), `"ticket":"E001","service":"E","counter":"3","counter_name":"Guichet 3"`)
		})
		t.Logf("mosquitto_rr printed:\n%s\nmosquitto_sub printed:\n%s", strings.Join(replies, ""), out)
	})
}
