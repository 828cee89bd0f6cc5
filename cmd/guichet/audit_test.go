//go:build !device

package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"guichet/hub/audit"
)

func TestAuditVerifyCommandFindsTheAlteredEntry(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 command not installed: run scripts/test-deps.sh")
	}
	dir := t.TempDir()
	l, err := audit.Open(filepath.Join(dir, "audit.db"), audit.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		if err := l.Append(context.Background(), audit.Entry{Actor: "a1", Role: "agent", Action: "citizen.read", Object: "citizen", ObjectID: id}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	var out bytes.Buffer
	if err := runAudit(context.Background(), []string{"verify", "--data", dir}, &out); err != nil || !strings.Contains(out.String(), "3 entries") {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	if b, err := exec.Command("sqlite3", filepath.Join(dir, "audit.db"), `UPDATE entries SET object_id = 'c9' WHERE seq = 2`).CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v %s", err, b)
	}
	out.Reset()
	if err := runAudit(context.Background(), []string{"verify", "--data", dir}, &out); err == nil || !strings.Contains(out.String(), "entry 2") {
		t.Fatalf("verify of an altered log: %v\n%s", err, out.String())
	}
	if err := runAudit(context.Background(), []string{"verify", "--data", t.TempDir()}, &out); err == nil {
		t.Fatal("verify of a data directory without audit log succeeded")
	}
}
