package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStatsCommandReadsARunningHub: the manager's command, run beside the
// hub, prints today's numbers and writes the CSV a spreadsheet opens.
func TestStatsCommandReadsARunningHub(t *testing.T) {
	dir := t.TempDir()
	p := startHubProcess(t, dir)
	defer p.kill()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/tickets", `{"service":"E"}`},
		{"POST", "/api/v1/tickets", `{"service":"A","channel":"phone"}`},
		{"POST", "/api/v1/counters/2/open", `{"agent":"bob"}`},
		{"POST", "/api/v1/counters/2/next", ``},
		{"POST", "/api/v1/counters/2/finish", ``},
	} {
		if status, _, b, err := p.call(ctx, c.method, c.path, c.body); err != nil || status/100 != 2 {
			t.Fatalf("%s %s: %d %s %v", c.method, c.path, status, b, err)
		}
	}
	data := filepath.Join(dir, "data")
	csv := filepath.Join(dir, "jour.csv")
	out := guichet(t, "stats", "--data", data, "--config", filepath.Join(dir, "guichet.yaml"), "--csv", csv)
	for _, want := range []string{"Statistiques — Mairie de Test, le ", "Tickets : 1 (1 visites, 0 appels", "encore en cours : 1",
		"Servis : 1 ;", "Taux de service dans l'objectif : 100,0 % (1 sur 1)", "État civil", "CSV écrit :"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\ufeffDate;Service;Tickets;")) || !bytes.Contains(b, []byte(";État civil;1;1;0;1;")) {
		t.Errorf("CSV:\n%s", b)
	}
	// Without --config: the names the command recorded the first time.
	if out := guichet(t, "stats", "--data", data, "--lang", "en"); !strings.Contains(out, "Civil status") && !strings.Contains(out, "État civil") {
		t.Errorf("without --config:\n%s", out)
	}
	// A range of more than 400 days is refused, with the reason.
	if out, err := exec.Command(binary, "stats", "--data", data, "--from", "2025-01-01", "--to", "2026-12-31").CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "at most 400 days") {
		t.Errorf("a long range: %v\n%s", err, out)
	}
}
