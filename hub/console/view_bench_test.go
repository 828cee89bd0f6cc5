package console

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/hub/store"
)

// busyHub is a hub of n counters, each open with its agent, and waiting
// tickets in four services.
func busyHub(b *testing.B, n, waiting int) *hub.Hub {
	b.Helper()
	site := queue.Site{ID: "bench", Name: "Banc", Location: time.UTC, Policy: queue.DefaultPolicy()}
	site.Policy.IgnoreHours = true
	for _, id := range []string{"A", "E", "P", "U"} {
		site.Services = append(site.Services, queue.Service{ID: id, Names: map[string]string{"fr": "Service " + id}, SLA: 15 * time.Minute,
			Channels: []queue.Channel{queue.Visit, queue.Phone}, ServiceTime: 5 * time.Minute})
	}
	for i := 1; i <= n; i++ {
		site.Counters = append(site.Counters, queue.Counter{ID: fmt.Sprint(i), Name: fmt.Sprint("Guichet ", i)})
		site.Agents = append(site.Agents, queue.Agent{ID: fmt.Sprint("agent", i), Skills: map[string]int{"A": 1, "E": 2, "P": 1, "U": 3}})
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(filepath.Join(b.TempDir(), "guichet.db"), log)
	if err != nil {
		b.Fatal(err)
	}
	h, err := hub.New(hub.Options{Site: site, Store: st, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(); st.Close() })
	do := func(a hub.Action) {
		if _, err := h.Do(b.Context(), "", "bench", a, func(hub.Outcome, json.RawMessage) []byte { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	for i := 1; i <= n; i++ {
		act, _ := hub.CounterAction(api.OpOpen, fmt.Sprint(i), &api.OpenArgs{Agent: fmt.Sprint("agent", i)})
		do(act)
	}
	for i := range waiting {
		do(hub.IssueTicket(api.IssueArgs{Service: []string{"A", "E", "P", "U"}[i%4]}, ""))
	}
	return h
}

// BenchmarkAgentView is the cost of one agent's view, made again at every
// change for every console open: 50 counters open, 200 tickets waiting.
func BenchmarkAgentView(b *testing.B) {
	p := New(Options{Hub: busyHub(b, 50, 200)})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.agentView(fmt.Sprint("agent", 1+i%50), "fr", "")
	}
}

// BenchmarkSupervisionView is the cost of the supervision's view.
func BenchmarkSupervisionView(b *testing.B) {
	p := New(Options{Hub: busyHub(b, 50, 200)})
	b.ReportAllocs()
	for b.Loop() {
		p.supervisionView("fr")
	}
}
