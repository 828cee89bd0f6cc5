package httpapi

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/internal/measure"
)

// BenchmarkHTTPIssue32Clients: tickets issued per second over HTTP (loopback
// TCP, keep-alive) by 32 concurrent clients, each ticket durable before its
// 201.
func BenchmarkHTTPIssue32Clients(b *testing.B) {
	for i := 0; i < b.N; i++ {
		e := start(b, b.TempDir())
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		const clients, each = 32, 500
		var wg sync.WaitGroup
		var mu sync.Mutex
		var lat measure.Latencies
		begin := time.Now()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine measure.Latencies
				for n := 0; n < each; n++ {
					req, _ := http.NewRequest("POST", e.url+"/api/v1/tickets", strings.NewReader(`{"service":"A"}`))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/json")
					t0 := time.Now()
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 201 {
						b.Errorf("status %d", res.StatusCode)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(begin)
		b.ReportMetric(float64(clients*each)/elapsed.Seconds(), "tickets/s")
		lat.Report(b, "")
		e.stop()
	}
}
