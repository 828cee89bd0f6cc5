//go:build !device

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"guichet/hub/config"
	"guichet/hub/queue"
	"guichet/internal/sitetest"
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

// TestConfigExportOfARunningSiteReadsBackAsTheSameSite: a site changed over
// the API, exported from its data directory, passes guichet config check and
// reads back as the site the hub runs; a hub started on the export keeps it.
func TestConfigExportOfARunningSiteReadsBackAsTheSameSite(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.Must("PUT", "/api/v1/site/services/X", `{"names":{"fr":"Élections","en":"Elections"},"sla":"12m0s","channels":["visit","phone"],
		"hours":{"week":{"mon":"09:00-12:00 14:00-16:30"},"closed":["2027-05-01"]}}`, 200, nil)
	s.Must("PUT", "/api/v1/site/agents/ana", `{"skills":{"A":3,"X":2}}`, 200, nil)
	s.Must("POST", "/api/v1/services/E/close", `{"message":{"fr":"Revenez demain"}}`, 200, nil)
	var live queue.Site
	s.Engine(func(e *queue.Engine) { live = e.Site().Clone() })
	data := filepath.Join(s.Dir, "hub")

	var out bytes.Buffer
	if err := runConfig([]string{"export", "--data", data}, &out); err != nil {
		t.Fatalf("export beside a running hub: %v", err)
	}
	path := filepath.Join(t.TempDir(), "exported.yaml")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var check bytes.Buffer
	if err := runConfig([]string{"check", "--config", path}, &check); err != nil && !errors.Is(err, errConfigProblems) {
		t.Fatalf("check of the export: %v\n%s\n%s", err, check.String(), out.String())
	}
	_, back, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(back)
	b, _ := json.Marshal(live)
	if string(a) != string(b) {
		t.Fatalf("the export reads back as another site:\n%s\nwant\n%s", a, b)
	}
	if err := runConfig([]string{"export", "--data", t.TempDir()}, io.Discard); err == nil {
		t.Fatal("an empty directory exported a site")
	}
}
