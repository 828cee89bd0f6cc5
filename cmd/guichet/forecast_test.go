package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/hub/store"
)

// The manager's forecast reads the hub's log: three Mondays with six
// passport tickets at 09:00 forecast six for the next Monday at 09:00, and
// the agents Erlang C gives for them; a bad --period is refused.
func TestForecastCommandPlansNextMondayFromTheLog(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(cfgPath, config.Sample, 0o600); err != nil {
		t.Fatal(err)
	}
	_, site, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(filepath.Join(data, "guichet.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	site.Policy.IgnoreHours = true
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, site.Location) // a Monday
	h, err := hub.New(hub.Options{Site: site, Store: st, Log: quiet, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for week := range 3 {
		now = time.Date(2026, 3, 2+7*week, 9, 0, 0, 0, site.Location)
		for i := range 6 {
			now = now.Add(time.Duration(i) * time.Minute)
			if _, err := h.Do(context.Background(), "", "test", hub.IssueTicket(api.IssueArgs{Service: "P"}, ""), func(hub.Outcome, json.RawMessage) []byte { return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = runForecast(context.Background(), []string{"--data", data, "--config", cfgPath, "--weeks", "3", "--until", "2026-03-22",
		"--from", "2026-03-23", "--days", "1", "--period", "vacances:2026-04-04:2026-04-19"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var row string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "Mon 23/03") && strings.Contains(l, "09h") {
			row = l
		}
	}
	if !strings.Contains(out.String(), "18 tickets") || !strings.Contains(row, "6.0") {
		t.Fatalf("forecast:\n%s", out.String())
	}
	if err := runForecast(context.Background(), []string{"--data", data, "--config", cfgPath, "--period", "vacances:2026-04-19:2026-04-04"}, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "ends before it starts") {
		t.Errorf("a period ending before it starts: %v", err)
	}
}
