//go:build !device

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
	"guichet/hub/queue"
	"guichet/hub/store"
)

// The manager's forecast reads the hub's log: three Mondays with six
// passport tickets at 09:00 forecast six for the next Monday at 09:00, and
// the agents Erlang A gives for them, with the patience of the 24 citizens
// who gave up after 10 minutes on a Tuesday; a bad --period is refused.
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
	now = time.Date(2026, 3, 3, 10, 0, 0, 0, site.Location)
	do := func(act hub.Action) {
		t.Helper()
		if _, err := h.Do(context.Background(), "", "test", act, func(hub.Outcome, json.RawMessage) []byte { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for range 24 {
		do(hub.IssueTicket(api.IssueArgs{Service: "P"}, ""))
	}
	now = now.Add(10 * time.Minute)
	var gone []string
	h.Read(func(e *queue.Engine) {
		for _, tk := range e.Tickets(queue.Waiting, "P") {
			if tk.IssuedAt.Day() == 3 {
				gone = append(gone, tk.ID)
			}
		}
	})
	for _, id := range gone {
		do(hub.CancelTicket(api.CancelArgs{Ticket: id, Reason: "parti"}))
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
	if len(gone) != 24 || !strings.Contains(out.String(), "42 tickets") || !strings.Contains(row, "6.0") ||
		!strings.Contains(out.String(), "Patience moyenne apprise des abandons (Erlang A) : P 10 min") {
		t.Fatalf("forecast:\n%s", out.String())
	}
	if err := runForecast(context.Background(), []string{"--data", data, "--config", cfgPath, "--period", "vacances:2026-04-19:2026-04-04"}, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "ends before it starts") {
		t.Errorf("a period ending before it starts: %v", err)
	}
}
