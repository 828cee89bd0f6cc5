package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/hub/server"
	"guichet/internal/fulldisk"
	"guichet/internal/measure"
	"guichet/internal/sitetest"
)

// BenchmarkFullDisk15kEvents: a hub whose log holds 15,000 events, on a disk
// that is full. Eight clients issue tickets over HTTP as fast as they are
// answered (each answer is a 503: nothing can be stored) while a monitor
// reads /healthz every 10 ms, for two seconds. Reported: the issue and
// /healthz latencies (p50, p99, max) and how many answers per second.
// Needs root (a tmpfs of its own); skipped otherwise.
func BenchmarkFullDisk15kEvents(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := fulldisk.Mount(b, 64<<20)
		cfg, site, err := config.Parse("site.yaml", []byte(sitetest.Config))
		if err != nil {
			b.Fatal(err)
		}
		site.Policy.IgnoreHours = true
		s, err := server.Start(server.Options{Config: cfg, Site: site, Data: filepath.Join(dir, "hub"), HTTP: "127.0.0.1:0", MQTT: "127.0.0.1:0",
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		do := func(act hub.Action) {
			if _, err := s.Hub.Do(ctx, "", "bench", act, func(hub.Outcome, json.RawMessage) []byte { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		open, _ := hub.CounterAction("open", "1", &api.OpenArgs{Agent: "ana"})
		do(open)
		for s.Store.LastSeq() < 15_000 {
			do(hub.IssueTicket(api.IssueArgs{Service: "A"}, ""))
			next, _ := hub.CounterAction("call_next", "1", nil)
			do(next)
			finish, _ := hub.CounterAction("finish", "1", nil)
			do(finish)
		}
		free := fulldisk.Fill(b, dir)
		// SQLite writes on in the room its WAL file already has: issue
		// until the disk refuses ten operations in a row.
		for refused, n := 0, 0; refused < 10; n++ {
			if n > 100_000 {
				b.Fatal("the full disk still takes tickets after 100,000")
			}
			if _, err := s.Hub.Do(ctx, "", "bench", hub.IssueTicket(api.IssueArgs{Service: "A"}, ""), func(hub.Outcome, json.RawMessage) []byte { return nil }); err != nil {
				refused++
			} else {
				refused = 0
			}
		}

		const issuers, span = 8, 2 * time.Second
		var mu sync.Mutex
		var issueLat, healthLat measure.Latencies
		var answers, stored atomic.Int64
		stop := time.Now().Add(span)
		var wg sync.WaitGroup
		for w := 0; w < issuers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine measure.Latencies
				for time.Now().Before(stop) {
					req, _ := http.NewRequest("POST", s.HTTPURL+"/api/v1/tickets", strings.NewReader(`{"service":"A"}`))
					req.Header.Set("Authorization", "Bearer "+s.Token)
					req.Header.Set("Content-Type", "application/json")
					t0 := time.Now()
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					mine = append(mine, time.Since(t0))
					answers.Add(1)
					if res.StatusCode == 201 {
						stored.Add(1)
					}
				}
				mu.Lock()
				issueLat = append(issueLat, mine...)
				mu.Unlock()
			}()
		}
		for time.Now().Before(stop) {
			t0 := time.Now()
			res, err := http.Get(s.HTTPURL + "/healthz")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			healthLat = append(healthLat, time.Since(t0))
			time.Sleep(10 * time.Millisecond)
		}
		wg.Wait()
		b.ReportMetric(float64(answers.Load())/span.Seconds(), "issue-answers/s")
		b.ReportMetric(float64(stored.Load()), "stored")
		issueLat.Report(b, "issue-")
		healthLat.Report(b, "healthz-")
		b.Logf("%d issue answers, %d stored (the disk is full), %d health reads; %s free", answers.Load(), stored.Load(), len(healthLat), fmt.Sprint(fulldisk.Free(dir)))
		free()
		s.Close()
	}
}
