package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tel "guichet/hub/telephony"
	"guichet/internal/stdwebhook"
)

// tick is a clock that moves 10 ms at each reading, so that a benchmark's
// hundreds of thousands of ids leave the replay window as they would over
// a real day.
type tick struct{ n atomic.Int64 }

func (c *tick) Now() time.Time { return t0.Add(time.Duration(c.n.Add(1)) * 10 * time.Millisecond) }

// BenchmarkWebhookVerifiedAndDelivered posts signed messages over HTTP on
// loopback (a call's waiting and its abandon, alternately) and waits for
// each one's event out of Run: verification, replay check, decoding, the
// book and the delivery. It reports messages per second and the latency
// from the post to the event, p50 and p99.
func BenchmarkWebhookVerifiedAndDelivered(b *testing.B) {
	clk := &tick{}
	a, err := New(Config{Secret: testSecret, Mapping: testMapping(), Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(a)
	defer srv.Close()
	got := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx, func(e tel.Event) {
		if _, ok := e.(tel.Resync); !ok {
			got <- struct{}{}
		}
	})
	secret, _ := stdwebhook.ParseSecret(testSecret)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	snd := &Sender{URL: srv.URL, Secret: secret, Client: client, Now: clk.Now}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		id := fmt.Sprintf("c%d", i/2)
		typ, data := TypeCallWaiting, Call{CallID: id, Queue: "accueil", Number: "0612345678"}
		if i%2 == 1 {
			typ, data = TypeCallAbandoned, Call{CallID: id}
		}
		start := time.Now()
		if err := snd.Send(ctx, typ, time.Time{}, data); err != nil {
			b.Fatal(err)
		}
		<-got
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	report(b, lat)
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "msgs/cpu-s")
}

// BenchmarkWebhookHandlerInProcess is the same without the network: the
// handler called directly, the cost of the hub's side alone.
func BenchmarkWebhookHandlerInProcess(b *testing.B) {
	clk := &tick{}
	a, err := New(Config{Secret: testSecret, Mapping: testMapping(), Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	var delivered atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.Run(ctx, func(tel.Event) { delivered.Add(1) }) }()
	for delivered.Load() == 0 {
		time.Sleep(time.Millisecond) // waits for Run's Resync
	}
	secret, _ := stdwebhook.ParseSecret(testSecret)
	bodies := make([][]byte, 2)
	for i, m := range []struct {
		typ  string
		data Call
	}{{TypeCallWaiting, Call{CallID: "c", Queue: "accueil", Number: "0612345678"}}, {TypeCallAbandoned, Call{CallID: "c"}}} {
		raw, _ := json.Marshal(m.data)
		bodies[i], _ = json.Marshal(Message{Type: m.typ, Data: raw})
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		body := bodies[i%2]
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		secret.Sign(req.Header, fmt.Sprintf("msg_%d", i), clk.Now(), body)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d: %s", w.Code, w.Body)
		}
	}
	for delivered.Load() < int64(b.N)+1 {
		time.Sleep(100 * time.Microsecond) // waits for Run to deliver the last events
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "msgs/cpu-s")
	cancel()
	wg.Wait()
}

func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// cpuTime returns the process's CPU time so far (user and system): on a
// machine shared with other work, messages per CPU-second say what the
// code costs whatever the wall clock shows. The HTTP benchmark's figure
// counts both sides, the sender's and the hub's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
