package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"guichet/hub/api"
)

type sentOp struct {
	key, method, path, body string
	issue                   bool
	status                  int
	reply                   []byte
	acked                   bool // got a 2xx before the kill
}

// TestHubKilledAtRandomLosesNoAcknowledgedOperation drives a real hub
// process over HTTP from 8 clients, kills it with SIGKILL at random
// moments, restarts it on the same data, and checks that every operation
// that got a 2xx is there, and nothing else.
func TestHubKilledAtRandomLosesNoAcknowledgedOperation(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var all []*sentOp
	for cycle := 0; cycle < 4; cycle++ {
		p := startHubProcess(t, dir)
		ctx := context.Background()
		for i, ag := range []string{"ana", "bob", "cat"} {
			p.call(ctx, "POST", fmt.Sprintf("/api/v1/counters/%d/open", i+1), `{"agent":"`+ag+`"}`)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					op := &sentOp{key: fmt.Sprintf("c%d-w%d-%d", cycle, w, n), method: "POST"}
					switch {
					case w < 5:
						op.path, op.body, op.issue = "/api/v1/tickets", `{"service":"`+[]string{"A", "E"}[n%2]+`"}`, true
					case n%2 == 0:
						op.path = fmt.Sprintf("/api/v1/counters/%d/next", w-4)
					default:
						op.path = fmt.Sprintf("/api/v1/counters/%d/finish", w-4)
					}
					mu.Lock()
					all = append(all, op)
					mu.Unlock()
					st, _, body, err := p.call(ctx, op.method, op.path, op.body, "Idempotency-Key", op.key)
					if err != nil {
						return // killed: this one stays in flight
					}
					mu.Lock()
					op.status, op.reply, op.acked = st, body, st/100 == 2
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(100+r.IntN(500)) * time.Millisecond)
		p.cmd.Process.Kill() // SIGKILL
		p.cmd.Wait()
		close(stop)
		wg.Wait()

		p = startHubProcess(t, dir)
		checkAfterCrash(t, p, all)
		p.kill()
	}
}

func checkAfterCrash(t *testing.T, p *hubProcess, all []*sentOp) {
	t.Helper()
	ctx := context.Background()
	acked, ackedIssues, inflightIssues := 0, map[string]bool{}, 0
	for _, op := range all {
		if op.acked {
			acked++
			if op.issue {
				var tk api.Ticket
				if err := json.Unmarshal(op.reply, &tk); err != nil {
					t.Fatal(err)
				}
				ackedIssues[tk.ID] = true
			}
		} else if op.status == 0 && op.issue {
			inflightIssues++
		}
	}
	tickets := listTickets(t, p)
	for id := range ackedIssues {
		if _, ok := tickets[id]; !ok {
			t.Fatalf("acknowledged ticket %s lost after SIGKILL", id)
		}
	}
	if extra := len(tickets) - len(ackedIssues); extra > inflightIssues {
		t.Fatalf("%d tickets nobody acknowledged, but only %d issues were in flight", extra, inflightIssues)
	}
	// Every acknowledged operation is durable with its reply: its key
	// replays the same answer, and does nothing again.
	for _, op := range all {
		if !op.acked {
			continue
		}
		st, h, body, err := p.call(ctx, op.method, op.path, op.body, "Idempotency-Key", op.key)
		if err != nil {
			t.Fatal(err)
		}
		if st != op.status || !bytes.Equal(body, op.reply) || h.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("acknowledged %s %s (key %s) not durable:\nbefore %d %s\nafter  %d %s", op.method, op.path, op.key, op.status, op.reply, st, body)
		}
	}
	// Retrying what was in flight does it exactly once.
	for _, op := range all {
		if op.acked || op.status != 0 || !op.issue {
			continue
		}
		st, _, body, err := p.call(ctx, op.method, op.path, op.body, "Idempotency-Key", op.key)
		if err != nil || st != 201 {
			t.Fatalf("retry of in-flight issue: %d %s %v", st, body, err)
		}
		op.status, op.reply, op.acked = st, body, true
	}
	tickets = listTickets(t, p)
	issued := 0
	for _, op := range all {
		if op.acked && op.issue {
			issued++
		}
	}
	if len(tickets) != issued {
		t.Fatalf("%d tickets in the hub for %d issues done", len(tickets), issued)
	}
	numbers := map[string]string{}
	for id, tk := range tickets {
		if other, dup := numbers[tk.Number]; dup {
			t.Fatalf("number %s given to %s and %s", tk.Number, other, id)
		}
		numbers[tk.Number] = id
	}
	t.Logf("%d operations acknowledged before the kill, %d tickets, all there", acked, len(tickets))
}

func listTickets(t *testing.T, p *hubProcess) map[string]api.Ticket {
	t.Helper()
	st, _, body, err := p.call(context.Background(), "GET", "/api/v1/tickets", "")
	if err != nil || st != 200 {
		t.Fatalf("list tickets: %d %v", st, err)
	}
	var res struct{ Tickets []api.Ticket }
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	out := map[string]api.Ticket{}
	for _, tk := range res.Tickets {
		out[tk.ID] = tk
	}
	return out
}
