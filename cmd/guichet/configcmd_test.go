package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guichet/hub/config"
)

func TestConfigCheckPassesTheSampleSite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guichet.yaml")
	if err := os.WriteFile(path, config.Sample, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runConfig([]string{"check", "--config", path}, &out); err != nil {
		t.Fatalf("check of the sample: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ok: every service can be served") || !strings.Contains(out.String(), "Accueil téléphonique         efournier") {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestConfigCheckNamesLanesNobodyCanServe(t *testing.T) {
	// testConfig: A takes phone calls but no counter does; and nobody may serve B.
	site := testConfig + "  - { id: dan, skills: { A: 1 } }\n"
	site = strings.Replace(site, "  - { id: E, name:", "  - { id: B, name: \"Urbanisme\", channels: [visit] }\n  - { id: E, name:", 1)
	path := filepath.Join(t.TempDir(), "guichet.yaml")
	if err := os.WriteFile(path, []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := runConfig([]string{"check", "--config", path}, &out)
	if !errors.Is(err, errConfigProblems) {
		t.Fatalf("err = %v, want the problems error\n%s", err, out.String())
	}
	for _, want := range []string{
		"problem: Enquiries (A) by phone: no counter takes phone for this service",
		"problem: Urbanisme (B) by visit: no agent has a skill for this service",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestConfigCheckReportsAFileErrorWithItsLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guichet.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(testConfig, "sla: 15m", "sla: soon", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runConfig([]string{"check", path}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "guichet.yaml:") {
		t.Fatalf("err = %v, want the file and line", err)
	}
}
