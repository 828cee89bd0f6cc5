package watchdog_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"guichet/firmware/watchdog"
)

// NotifySocket is a fake systemd: the unixgram socket NOTIFY_SOCKET names,
// whose messages the test reads.
type NotifySocket struct {
	conn *net.UnixConn
	Path string
}

// ListenNotify binds a notify socket and points NOTIFY_SOCKET at it.
func ListenNotify(t *testing.T) *NotifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "wd") // short: a socket path has at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return &NotifySocket{conn: c, Path: path}
}

// Next returns the next message, or "" if none comes before the deadline.
func (s *NotifySocket) Next(within time.Duration) string {
	buf := make([]byte, 4096)
	s.conn.SetReadDeadline(time.Now().Add(within))
	n, _, err := s.conn.ReadFromUnix(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

func TestPingsStopWhenTheMainLoopStalls(t *testing.T) {
	sock := ListenNotify(t)
	w := watchdog.New(watchdog.Options{Timeout: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait() // runs after cancel: defers run last-in first-out
	defer cancel()
	wg.Go(func() { w.Run(ctx) })
	w.Ready("kiosk ready")
	if m := sock.Next(5 * time.Second); !strings.HasPrefix(m, "READY=1") {
		t.Fatalf("first message %q, want READY=1", m)
	}

	loop, stall := context.WithCancel(ctx)
	wg.Go(func() { // the main loop: turns every 10 ms until stalled
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-loop.Done():
				return
			case <-tick.C:
				w.Beat()
			}
		}
	})
	for i := range 3 {
		if m := sock.Next(5 * time.Second); m != "WATCHDOG=1" {
			t.Fatalf("ping %d: %q, want WATCHDOG=1", i, m)
		}
	}
	stall()
	// A ping already decided may still come (the loop beat before it
	// stalled); after it, none for ten ping periods.
	sock.Next(150 * time.Millisecond)
	if m := sock.Next(time.Second); m != "" {
		t.Fatalf("a stalled loop still pinged: %q", m)
	}
	// It turns again: the pings resume.
	w.Beat()
	if m := sock.Next(5 * time.Second); m != "WATCHDOG=1" {
		t.Fatalf("after the loop turned again: %q, want WATCHDOG=1", m)
	}
}

func TestNoSystemdNoPings(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	w := watchdog.New(watchdog.Options{})
	if w.Timeout() != 0 {
		t.Fatalf("timeout %v without WATCHDOG_USEC", w.Timeout())
	}
	done := make(chan struct{})
	go func() { w.Run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run without a watchdog did not return")
	}
	w.Ready("ok") // no socket: nothing happens, no error
}

func TestTimeoutComesFromSystemdsEnvironment(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "")
	if got := watchdog.New(watchdog.Options{}).Timeout(); got != 30*time.Second {
		t.Fatalf("timeout %v, want 30s", got)
	}
	t.Setenv("WATCHDOG_PID", "1") // meant for another process
	if got := watchdog.New(watchdog.Options{}).Timeout(); got != 0 {
		t.Fatalf("timeout %v for another process's watchdog", got)
	}
}

func TestPingEveryHalfTimeoutInVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sent []time.Duration
		start := time.Now()
		w := watchdog.New(watchdog.Options{Timeout: 30 * time.Second, Notify: func(s string) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			if s == "WATCHDOG=1" {
				sent = append(sent, time.Since(start))
			}
			return true, nil
		}})
		ctx, cancel := context.WithCancel(t.Context())
		go w.Run(ctx)
		for range 4 { // beats for a minute, every 5 s: pings at 15, 30, 45, 60 s
			for range 3 {
				w.Beat()
				time.Sleep(5 * time.Second)
			}
		}
		time.Sleep(time.Minute) // then a minute stalled: none
		cancel()
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		want := []time.Duration{15 * time.Second, 30 * time.Second, 45 * time.Second, 60 * time.Second}
		if len(sent) != len(want) {
			t.Fatalf("pings at %v, want %v", sent, want)
		}
		for i := range want {
			if sent[i] != want[i] {
				t.Fatalf("pings at %v, want %v", sent, want)
			}
		}
		if w.Pings() != 4 {
			t.Fatalf("Pings() = %d", w.Pings())
		}
	})
}

func TestANotifyErrorIsLoggedNotFatal(t *testing.T) {
	w := watchdog.New(watchdog.Options{Timeout: time.Second, Notify: func(string) (bool, error) { return false, errors.New("refused") }})
	w.Ready("x") // does not panic
}

func TestAHungHealthCheckStopsThePings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		pings := 0
		w := watchdog.New(watchdog.Options{Timeout: 30 * time.Second, Notify: func(s string) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			if s == "WATCHDOG=1" {
				pings++
			}
			return true, nil
		}})
		count := func() int { mu.Lock(); defer mu.Unlock(); return pings }
		lock := make(chan struct{}, 1) // the role's lock, free
		h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			lock <- struct{}{}
			<-lock
			rw.WriteHeader(http.StatusServiceUnavailable) // degraded is still alive
		})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go w.Run(ctx)
		go w.Probe(ctx, 5*time.Second, 10*time.Second, watchdog.HandlerAnswers(h, "/healthz"))
		time.Sleep(time.Minute + time.Second)
		if n := count(); n != 4 {
			t.Fatalf("%d pings in a healthy minute, want 4", n)
		}
		lock <- struct{}{} // the lock is never released: the handler hangs
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := count(); n > 5 { // one ping may be decided from beats before the hang
			t.Fatalf("%d pings while the handler hangs, want none after the hang", n)
		}
		<-lock // released: the check answers again, the pings resume
		time.Sleep(time.Minute)
		if n := count(); n < 7 {
			t.Fatalf("%d pings after the handler answered again", n)
		}
		cancel()
		synctest.Wait()
	})
}
