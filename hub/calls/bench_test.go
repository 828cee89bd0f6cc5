package calls

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"guichet/hub/queue"
	"guichet/hub/telephony"
)

// BenchmarkCallJoinToTicket: a call joins (the link's event received by
// the bridge's goroutine) → its phone ticket is in the queue, durable
// (the caller's number recorded in crm.db, the ticket's event in the
// log, each committed with fsync). The call is given up afterwards,
// outside the measure, so the queue stays a day's size. It reports calls
// per second, the latency p50 and p99, and CPU per call.
func BenchmarkCallJoinToTicket(b *testing.B) {
	f := telephony.NewFake(testMapping())
	e := newEnv(b, f, func(o *Options) { o.CallbackAfter = 0 })
	e.running = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.b.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Error(err)
		}
	}()
	f.Send(telephony.Resync{})
	changes, unwatch := e.h.Watch()
	defer unwatch()
	live := func(id string) bool { _, ok := e.live(id); return ok }
	wait := func(cond func() bool) {
		deadline := time.After(30 * time.Second)
		for !cond() {
			select {
			case <-changes:
			case <-deadline:
				b.Fatal("timed out")
			}
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	var measured time.Duration
	for i := range b.N {
		id := fmt.Sprintf("b%d", i)
		start := time.Now()
		f.Send(telephony.CallWaiting{Call: call(id, "accueil", "0612345678", e.clock.now())})
		wait(func() bool { return live(id) })
		d := time.Since(start)
		lat = append(lat, d)
		measured += d
		b.StopTimer()
		f.Send(telephony.CallAbandoned{ID: telephony.CallID(id), Wait: time.Second, Reason: telephony.AbandonHungUp})
		wait(func() bool { return !live(id) })
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/measured.Seconds(), "calls/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(2*b.N), "cpu-µs/event")
	var n int
	e.h.Read(func(en *queue.Engine) { n = len(en.LiveCalls()) })
	if n != 0 {
		b.Fatalf("%d calls left", n)
	}
}

// cpuTime returns the process's CPU time so far (user and system): on a
// machine shared with other work it says what the code costs whatever the
// wall clock shows.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
