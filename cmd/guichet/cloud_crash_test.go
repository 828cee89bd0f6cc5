package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"guichet/internal/sitetest"
)

// TestWebhookDownThroughTwoKillsGetsEveryEventOnce: a webhook destination
// is down for the whole test while tickets are issued and the hub process
// is killed (SIGKILL) twice in the middle; when it comes up, every event of
// the log reaches it, in order, and each once after de-duplication by id.
func TestWebhookDownThroughTwoKillsGetsEveryEventOnce(t *testing.T) {
	dir := t.TempDir()
	r := sitetest.NewReceiver(t)
	t.Setenv("TEST_WEBHOOK_SECRET", r.Secret.String())
	cfg := testConfig + fmt.Sprintf("destinations:\n  - { name: crm, type: webhook, url: %q, secret_env: TEST_WEBHOOK_SECRET, max_backoff: 200ms }\n", r.URL)
	if err := os.WriteFile(filepath.Join(dir, "guichet.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startHubProcess(t, dir)
	for kill := range 2 {
		n := issueUntilKilled(p, time.Duration(300+200*kill)*time.Millisecond)
		t.Logf("kill %d: after %d tickets", kill+1, n)
		p = startHubProcess(t, dir)
	}
	for range 3 {
		p.call(context.Background(), "POST", "/api/v1/tickets", `{"service":"A"}`)
	}
	ids, _ := sitetest.CloudEventIDs(t, p.url, adminTok, 0)
	if len(ids) < 10 {
		t.Fatalf("only %d events", len(ids))
	}
	r.Start() // the destination comes up
	r.WaitFor(ids, 60*time.Second)
	if got := r.Received(); len(got) != len(ids) {
		t.Fatalf("%d distinct events received, the log has %d", len(got), len(ids))
	}
	t.Logf("%d events received in order (%d delivered twice)", len(ids), r.Repeats())
}
