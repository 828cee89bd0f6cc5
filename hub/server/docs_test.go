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
// mosquitto_pub examples, verbatim, against a hub of the sample site.
func TestMQTTDocWorksAsWritten(t *testing.T) {
	for _, tool := range []string{"mosquitto_pub", "mosquitto_sub"} {
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
			"DESK_SECRET="+s.AddDevice("desk-3", api.RoleCounter, "3"))
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
		time.Sleep(300 * time.Millisecond) // let it subscribe
		for _, name := range []string{"issue", "issue", "call"} {
			if b, err := run(name).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v: %s", name, err, b)
			}
		}
		defer func() {
			if t.Failed() && s.Mosquitto != nil {
				t.Logf("watch: %s\nmosquitto: %s", out, s.Mosquitto.Log())
			}
		}()
		sitetest.Eventually(t, 5*time.Second, "the watch shows the reply and the board", func() bool {
			o := out.String()
			return strings.Contains(o, `{"id":"try-1","ok":true,"result":{`) && strings.Contains(o, `"number":"E001"`) &&
				strings.Contains(o, `"ticket":"E001","service":"E","counter":"3","counter_name":"Guichet 3"`)
		})
		if n := strings.Count(out.String(), `"id":"try-1"`); n != 2 {
			t.Fatalf("%d replies to try-1, want 2 (the command was published twice):\n%s", n, out)
		}
		if n := len(s.Tickets()); n != 1 {
			t.Fatalf("%d tickets after publishing the same command twice", n)
		}
		t.Logf("mosquitto_sub printed:\n%s", out)
	})
}
