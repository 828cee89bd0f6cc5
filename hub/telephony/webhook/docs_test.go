package webhook

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	tel "guichet/hub/telephony"
)

// docBlock returns the shell block of docs/telephony.md marked
// "<!-- try: name -->".
func docBlock(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../../docs/telephony.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- try: " + regexp.QuoteMeta(name) + " -->\\s*```sh\\n(.*?)```")
	m := re.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("docs/telephony.md has no %q example", name)
	}
	return m[1]
}

// TestCurlExampleOfTheDocsWorksAsWritten runs docs/telephony.md's curl
// example, verbatim, against the webhook: openssl computes the signature
// as the doc shows, and the call arrives in the hub's view. Sent twice
// (a new id, the same call), it changes nothing the second time.
func TestCurlExampleOfTheDocsWorksAsWritten(t *testing.T) {
	for _, tool := range []string{"curl", "openssl", "base64", "od"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run make test (scripts/test-deps.sh installs it)", tool)
		}
	}
	block := docBlock(t, "webhook-curl")
	r := newRig(t, func(c *Config) { c.Now = nil }) // the shell's clock is the real one
	run := func() string {
		cmd := exec.Command("bash", "-euc", block)
		cmd.Env = append(os.Environ(), "GUICHET_URL="+r.url, "GUICHET_SECRET="+testSecret)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the doc's example failed: %v\n%s\nhub log:\n%s", err, out, r.log)
		}
		return string(out)
	}
	if out := run(); !strings.Contains(out, `"result":"applied"`) {
		t.Fatalf("the hub answered %s", out)
	}
	r.cons.await(t, "the doc's call", func(c *consumer) bool { return c.announced["c-20261202-0001"] == 1 })
	r.cons.mu.Lock()
	c, _ := r.cons.view.Call("c-20261202-0001")
	r.cons.mu.Unlock()
	if c.Number != "+33612345678" || c.Name != "Jeanne Martin" || c.Service != "A" || c.State != tel.Waiting {
		t.Errorf("the call arrived as %+v", c)
	}
	if out := run(); !strings.Contains(out, `"result":"ignored"`) {
		t.Errorf("the same call again: %s", out)
	}
}
