package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/hub/api"
)

// TestABackupTakenUnderLoadRestoresEveryAcknowledgedTicket: tickets are
// issued over HTTP by 6 clients while guichet backup copies the running
// hub's database; guichet restore puts the copy into a new data directory, a
// hub starts on it, and every ticket acknowledged before the backup started is
// in its queue; guichet store check finds the copy sound.
func TestABackupTakenUnderLoadRestoresEveryAcknowledgedTicket(t *testing.T) {
	dir := t.TempDir()
	p := startHubProcess(t, dir)
	ctx := context.Background()
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				st, _, b, err := p.call(ctx, "POST", "/api/v1/tickets", `{"service":"`+[]string{"A", "E"}[n%2]+`"}`)
				var tk api.Ticket
				if err != nil || st != 201 || json.Unmarshal(b, &tk) != nil {
					t.Errorf("issue: %d %s %v", st, b, err)
					return
				}
				mu.Lock()
				acked[tk.ID] = true
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	for deadline := time.Now().Add(20 * time.Second); count() < 300; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d tickets issued in 20 s", count())
		}
	}
	mu.Lock()
	before := make([]string, 0, len(acked))
	for id := range acked {
		before = append(before, id)
	}
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "guichet-backup.db")
	res, err := exec.Command(binary, "backup", "--data", filepath.Join(dir, "data"), out).CombinedOutput()
	n := count()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("guichet backup: %v\n%s", err, res)
	}
	if !strings.Contains(string(res), "Backup written") || n <= len(before) {
		t.Fatalf("backup said:\n%s\n(%d tickets before it, %d after: was it under load?)", res, len(before), n)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v", err, fi.Mode().Perm())
	}

	restored := t.TempDir()
	if err := os.MkdirAll(filepath.Join(restored, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	if res := guichet(t, "restore", "--data", filepath.Join(restored, "data"), out); !strings.Contains(res, "Restored") {
		t.Fatalf("guichet restore:\n%s", res)
	}
	q := startHubProcess(t, restored)
	st, _, b, err := q.call(ctx, "GET", "/api/v1/tickets", "")
	var list struct{ Tickets []api.Ticket }
	if err != nil || st != 200 || json.Unmarshal(b, &list) != nil {
		t.Fatalf("tickets of the restored hub: %d %v", st, err)
	}
	have := map[string]bool{}
	for _, tk := range list.Tickets {
		have[tk.ID] = true
	}
	for _, id := range before {
		if !have[id] {
			t.Errorf("ticket %s, acknowledged before the backup started, is not in the restored hub", id)
		}
	}
	mu.Lock()
	for id := range have {
		if !acked[id] {
			t.Errorf("the restored hub holds ticket %s that nobody was given", id)
		}
	}
	mu.Unlock()
	q.kill()
	check, err := exec.Command(binary, "store", "check", "--data", filepath.Join(restored, "data"), "--config", filepath.Join(restored, "guichet.yaml")).CombinedOutput()
	if err != nil || !strings.Contains(string(check), "OK: nothing wrong found") {
		t.Fatalf("guichet store check on the restored copy: %v\n%s", err, check)
	}
	t.Logf("%d tickets acknowledged before the backup, %d in it, %d in all", len(before), len(have), n)
}

// TestStoreCheckSaysWhatIsWrong: a sound directory exits 0; one whose
// database belongs elsewhere exits 1 and says so.
func TestStoreCheckSaysWhatIsWrong(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		p := startHubProcess(t, d)
		p.call(context.Background(), "POST", "/api/v1/tickets", `{"service":"A"}`)
		p.kill()
	}
	out := guichet(t, "store", "check", "--data", filepath.Join(a, "data"))
	if !strings.Contains(out, "OK: nothing wrong found") {
		t.Fatalf("sound directory:\n%s", out)
	}
	for _, f := range []string{"guichet.db", "guichet.db-wal", "guichet.db-shm"} {
		os.Remove(filepath.Join(a, "data", f))
	}
	res, err := exec.Command(binary, "backup", "--data", filepath.Join(b, "data"), filepath.Join(a, "data", "guichet.db")).CombinedOutput()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, res)
	}
	bad, err := exec.Command(binary, "store", "check", "--data", filepath.Join(a, "data")).CombinedOutput()
	if err == nil || !strings.Contains(string(bad), "belongs to another data directory") {
		t.Fatalf("a database from another directory: %v\n%s", err, bad)
	}
	// And the hub refuses to start on it.
	cmd := exec.Command(binary, "hub", "--config", filepath.Join(a, "guichet.yaml"), "--data", filepath.Join(a, "data"), "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GUICHET_ADMIN_TOKEN="+adminTok)
	hubOut, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(hubOut), "belongs to another data directory") {
		t.Fatalf("hub on a foreign database: %v\n%s", err, hubOut)
	}
}

// TestRestoreWaitsForTheHubToStop: guichet restore refuses while a hub runs
// on the directory, then sets the database aside and restores the backup.
func TestRestoreWaitsForTheHubToStop(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := startHubProcess(t, dir)
	p.call(context.Background(), "POST", "/api/v1/tickets", `{"service":"A"}`)
	out := filepath.Join(t.TempDir(), "b.db")
	guichet(t, "backup", "--data", data, out)
	p.call(context.Background(), "POST", "/api/v1/tickets", `{"service":"A"}`)
	res, err := exec.Command(binary, "restore", "--data", data, out).CombinedOutput()
	if err == nil || !strings.Contains(string(res), "stop it first") {
		t.Fatalf("restore under a running hub: %v\n%s", err, res)
	}
	p.kill()
	if res := guichet(t, "restore", out, "--data", data); !strings.Contains(res, "replaced-") {
		t.Fatalf("restore:\n%s", res)
	}
	q := startHubProcess(t, dir)
	_, _, b, _ := q.call(context.Background(), "GET", "/healthz", "")
	if !strings.Contains(string(b), `"waiting":1}`) { // the log also holds the accounts the first start gave the site's agents
		t.Fatalf("restored hub: %s, want the one ticket of the backup", b)
	}
}
