package wazo

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tel "guichet/hub/telephony"
)

// benchFrames returns a call's frames as websocketd sends them: the
// relayed QueueCallerJoin, AgentCalled, DialEnd, QueueCallerLeave,
// AgentConnect, AgentComplete and Hangup of one call (about 1 KiB each).
func benchFrames(uid string) [][]byte {
	a := &fakeAgent{ID: 1, Number: "1001"}
	frame := func(name string, h map[string]any) []byte {
		data := map[string]any{"Event": name}
		for k, v := range h {
			data[k] = v
		}
		b, _ := json.Marshal(map[string]any{"op": "event", "code": 0, "data": map[string]any{
			"name": name, "origin_uuid": originUUID, "required_acl": "events.ami." + name, "timestamp": "2026-12-02T09:00:00.000000", "data": data}})
		return b
	}
	leg := uid + "1"
	return [][]byte{
		frame("QueueCallerJoin", with(callerHeaders(uid, "0612345678", "Jeanne Martin"), "Queue", "accueil", "Position", "1", "Count", "1")),
		frame("AgentCalled", agentHeaders(callerHeaders(uid, "0612345678", "Jeanne Martin"), a, uid, leg, "accueil")),
		frame("DialEnd", with(agentHeaders(callerHeaders(uid, "0612345678", "Jeanne Martin"), a, uid, leg, "accueil"), "DialStatus", "ANSWER")),
		frame("QueueCallerLeave", with(callerHeaders(uid, "0612345678", "Jeanne Martin"), "Queue", "accueil", "Position", "1", "Count", "0")),
		frame("AgentConnect", with(agentHeaders(callerHeaders(uid, "0612345678", "Jeanne Martin"), a, uid, leg, "accueil"), "HoldTime", "12", "RingTime", "2")),
		frame("AgentComplete", with(agentHeaders(callerHeaders(uid, "0612345678", "Jeanne Martin"), a, uid, leg, "accueil"), "HoldTime", "12", "TalkTime", "95", "Reason", "caller")),
		frame("Hangup", with(callerHeaders(uid, "0612345678", "Jeanne Martin"), "Cause", "16", "Cause-txt", "Normal Clearing")),
	}
}

// BenchmarkWazoDecode is the decoding of one relayed AMI event frame into
// a packet, alone.
func BenchmarkWazoDecode(b *testing.B) {
	frames := benchFrames("1795.1")
	d := decoder{log: slog.New(slog.DiscardHandler)}
	var size int
	for _, f := range frames {
		size += len(f)
	}
	b.SetBytes(int64(size / len(frames)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		if _, ok := d.decode(frames[i%len(frames)]); !ok {
			b.Fatal("dropped")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "events/cpu-s")
}

// cpuTime returns the process's CPU time so far (user and system): on a
// machine shared with other work, events per CPU-second say what the code
// costs whatever the wall clock shows.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWazoEventsOverWebsocket sends calls' frames from the Wazo test
// server over a real websocket on loopback and counts them through the
// adapter (read, decoded, translated, emitted): websocket events parsed
// per second.
func BenchmarkWazoEventsOverWebsocket(b *testing.B) {
	f := newFakeWazo(b)
	var done atomic.Int64
	a, err := New(Config{URL: f.srv.URL, Username: fakeUser, Password: fakePass, Mapping: testMapping(), Backlog: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	up := make(chan struct{})
	go a.Run(ctx, func(e tel.Event) {
		switch e.(type) {
		case tel.Resync:
			close(up)
		case tel.CallEnded:
			done.Add(1)
		}
	})
	<-up
	f.mu.Lock()
	var conn *fakeConn
	for fc := range f.conns {
		conn = fc
	}
	f.mu.Unlock()
	calls := b.N/7 + 1
	all := make([][]byte, 0, calls*7)
	for i := range calls {
		all = append(all, benchFrames(fmt.Sprintf("1795.%d", i))...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for _, fr := range all {
		conn.writeRaw(fr)
	}
	deadline := time.Now().Add(time.Minute)
	for done.Load() < int64(calls) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond) // polls the count with a deadline
	}
	b.StopTimer()
	if done.Load() < int64(calls) {
		b.Fatalf("%d of %d calls ended", done.Load(), calls)
	}
	b.ReportMetric(float64(len(all))/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(all))/(cpuTime()-cpu).Seconds(), "events/cpu-s")
}
