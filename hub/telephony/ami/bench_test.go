package ami

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// cycle reads b again and again.
type cycle struct {
	b   []byte
	off int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := copy(p, c.b[c.off:])
	c.off = (c.off + n) % len(c.b)
	return n, nil
}

// recordedStream returns Asterisk's side of the recording without its
// greeting, and how many packets it holds.
func recordedStream(b *testing.B) ([]byte, int) {
	lines := loadFixture(b)
	all := asteriskBytes(lines)
	stream := all[bytes.IndexByte(all, '\n')+1:]
	return stream, len(asteriskPackets(b, lines))
}

// The reader alone, parsing the recorded session (Asterisk 22's real
// events: 378 packets of 480 bytes on average) from memory: events parsed
// per second, bytes and allocations per event, and what the reader keeps
// between packets.
func BenchmarkReaderEvents(b *testing.B) {
	stream, packets := recordedStream(b)
	r := NewReader(&cycle{b: stream}, 0, 0, nil)
	b.SetBytes(int64(len(stream) / packets))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(r.Retained()), "retained-B")
	if r.Dropped() != 0 {
		b.Fatalf("%d packets dropped", r.Dropped())
	}
}

// The whole client over TCP on loopback: Asterisk's side of the recording
// written in a loop, read by a Conn and taken one by one with Next (the
// list items of the recording come out as events here, having no pending
// action).
func BenchmarkConnEventsOverTCP(b *testing.B) {
	stream, _ := recordedStream(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		io.WriteString(c, "Asterisk Call Manager/11.0.0\r\n")
		login, _ := readRaw(br)
		id := actionIDRE.FindStringSubmatch(login)
		io.WriteString(c, "Response: Success\r\nActionID: "+id[1]+"\r\nMessage: Authentication accepted\r\n\r\n")
		for {
			if _, err := c.Write(stream); err != nil {
				return
			}
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c, err := Open(context.Background(), nc, Options{Username: "bench", PingInterval: -1, MaxPending: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := c.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(c.Retained()), "conn-retained-B")
}

// Memory of an idle logged-in connection: the heap and goroutine stacks
// that 200 Conns add, less what 200 bare TCP connections doing the same
// login by hand take (the server's side, the sockets).
func BenchmarkIdleConnectionMemory(b *testing.B) {
	const n = 200
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "Asterisk Call Manager/11.0.0\r\n")
				buf := make([]byte, 256)
				var got []byte
				for !bytes.Contains(got, []byte("\r\n\r\n")) {
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					got = append(got, buf[:k]...)
				}
				id := actionIDRE.FindSubmatch(got)
				io.WriteString(c, "Response: Success\r\nActionID: "+string(id[1])+"\r\nMessage: Authentication accepted\r\n\r\n")
				c.Read(buf[:1])
			}()
		}
	}()
	measure := func(open func() io.Closer) float64 {
		closers := make([]io.Closer, 0, n)
		before := inUse()
		for range n {
			closers = append(closers, open())
		}
		after := inUse()
		for _, c := range closers {
			c.Close()
		}
		return float64(after-before) / n
	}
	var withConn, bare float64
	for range b.N {
		bare = measure(func() io.Closer {
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			br := bufio.NewReaderSize(nc, 16)
			br.ReadString('\n')
			io.WriteString(nc, "Action: Login\r\nActionID: x\r\nUsername: bench\r\nSecret: s\r\nEvents: on\r\n\r\n")
			readRaw(br)
			return nc
		})
		withConn = measure(func() io.Closer {
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c, err := Open(context.Background(), nc, Options{Username: "bench", Secret: "s"})
			if err != nil {
				b.Fatal(err)
			}
			return c
		})
	}
	b.ReportMetric(withConn-bare, "B/idle-conn")
	b.ReportMetric(withConn, "B/idle-conn-with-server")
}

func inUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}
