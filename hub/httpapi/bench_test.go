package httpapi

import (
	"fmt"
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

// BenchmarkHTTPIssueAtQueueSize: tickets issued per second over HTTP by 32
// clients (loopback, keep-alive, each ticket durable before its 201, its
// answer carrying its position and estimate), with 30 and with 30,000
// tickets of the service already waiting and two agents serving it: issue
// 14 asks the same cost at both lengths.
//
//	go test ./hub/httpapi -run '^$' -bench HTTPIssueAtQueueSize -benchtime 1x
func BenchmarkHTTPIssueAtQueueSize(b *testing.B) {
	for _, waiting := range []int{30, 30_000} {
		b.Run(fmt.Sprintf("waiting=%d", waiting), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e := start(b, b.TempDir())
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				for c, agent := range map[string]string{"1": "mlefebvre", "2": "tnguyen"} {
					if st := post(b, client, e.url+"/api/v1/counters/"+c+"/open", `{"agent":"`+agent+`"}`); st != 200 {
						b.Fatalf("open counter %s: %d", c, st)
					}
				}
				issueMany(b, client, e.url, 32, waiting/32+1)
				const clients, each = 32, 250
				begin := time.Now()
				lat := issueMany(b, client, e.url, clients, each)
				elapsed := time.Since(begin)
				b.ReportMetric(float64(clients*each)/elapsed.Seconds(), "tickets/s")
				lat.Report(b, "")
				e.stop()
			}
		})
	}
}

// issueMany issues clients × each tickets of service A over HTTP, clients
// at once, and returns their latencies.
func issueMany(b *testing.B, client *http.Client, url string, clients, each int) measure.Latencies {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lat measure.Latencies
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine measure.Latencies
			for n := 0; n < each; n++ {
				t0 := time.Now()
				if st := post(b, client, url+"/api/v1/tickets", `{"service":"A"}`); st != 201 {
					b.Errorf("status %d", st)
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
	return lat
}

// post posts body with the admin token and returns the status (0 and an
// error reported on failure).
func post(b *testing.B, client *http.Client, url, body string) int {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
