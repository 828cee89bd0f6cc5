package broker

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
)

// BenchmarkEventsToPersistentSessions publishes events to 20 connected
// consumers with persistent sessions, with broker.db (every message kept
// until acknowledged, written behind) and without: 2,000 events at once
// (a backlog after a restart), or 300 at 100 a second (a busy site's pace,
// and more). It reports deliveries per second, the process's CPU
// time per delivery (broker and consumers: what the shared machine's load
// changes least) and the rows left on disk once all are acknowledged.
func BenchmarkEventsToPersistentSessions(b *testing.B) {
	for _, pace := range []time.Duration{0, 10 * time.Millisecond} {
		for _, sessions := range []string{noSessions, ""} {
			name := map[time.Duration]string{0: "burst", 10 * time.Millisecond: "paced"}[pace] + "/" +
				map[string]string{noSessions: "memory", "": "broker.db"}[sessions]
			b.Run(name, func(b *testing.B) { benchEvents(b, sessions, pace) })
		}
	}
}

func benchEvents(b *testing.B, sessions string, pace time.Duration) {
	tb := start(b, Options{Sessions: sessions})
	consumers, events := 20, 2000
	if pace > 0 {
		events = 300
	}
	var got atomic.Int64
	for i := range consumers {
		id := fmt.Sprintf("crm%d", i)
		secret, err := tb.reg.Add(id, api.RoleIntegration, "", "bench")
		if err != nil {
			b.Fatal(err)
		}
		c := consumer(b, tb, id, secret, func(paho.Message) { got.Add(1) })
		defer c.Disconnect(0)
	}
	payload := make([]byte, 700)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for range b.N {
		got.Store(0)
		tick := time.NewTicker(max(pace, time.Nanosecond))
		for range events {
			if pace > 0 {
				<-tick.C
			}
			if err := tb.Publish(tb.bus.Topics().Event("ticket.issued"), payload, false); err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		for got.Load() < int64(consumers*events) {
			time.Sleep(time.Millisecond)
		}
	}
	n := float64(b.N * consumers * events)
	b.ReportMetric(n/time.Since(start).Seconds(), "deliveries/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/delivery")
	b.StopTimer()
	if tb.sessions != nil {
		eventually(b, "every delivery acknowledged", func() bool {
			for _, cl := range tb.srv.Clients.GetAll() {
				if cl.State.Inflight.Len() > 0 {
					return false
				}
			}
			return true
		})
		if err := tb.Sync(); err != nil {
			b.Fatal(err)
		}
		var rows int
		tb.sessions.db.QueryRow(`SELECT COUNT(*) FROM inflight`).Scan(&rows)
		b.ReportMetric(float64(rows), "rows-left")
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
