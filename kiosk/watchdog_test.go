package kiosk_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"guichet/firmware/watchdog"
	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/kiosk"
)

// hungPrinter answers its status until hung, then never again — not even
// when asked to give up: a driver stuck in a system call.
type hungPrinter struct {
	*virtual.Printer
	hung chan struct{} // closed: Status blocks forever
}

func (h *hungPrinter) Status(ctx context.Context) (printer.Status, error) {
	select {
	case <-h.hung:
		select {} // stuck, ctx or not
	default:
		return h.Printer.Status(ctx)
	}
}

// A kiosk whose main loop hangs (its printer's driver stuck) stops the
// watchdog pings systemd reads on NOTIFY_SOCKET — here a unixgram socket
// the test reads, as systemd would — so systemd restarts it.
func TestAKioskWhoseLoopHangsStopsTheWatchdogPings(t *testing.T) {
	dir, err := os.MkdirTemp("", "wd") // short: socket paths have at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sockPath := filepath.Join(dir, "notify")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	t.Setenv("NOTIFY_SOCKET", sockPath)
	next := func(within time.Duration) string {
		buf := make([]byte, 512)
		sock.SetReadDeadline(time.Now().Add(within))
		n, _, err := sock.ReadFromUnix(buf)
		if err != nil {
			return ""
		}
		return string(buf[:n])
	}

	wd := watchdog.New(watchdog.Options{Timeout: 300 * time.Millisecond})
	pr := &hungPrinter{Printer: newPrinter(t), hung: make(chan struct{})}
	k, err := kiosk.New(kiosk.Options{Link: newFakeLink(), Printer: pr, DataDir: t.TempDir(), Poll: 20 * time.Millisecond, Beat: wd.Beat})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { wd.Run(ctx) })
	go k.Run(ctx) // hangs for good below: not waited for
	wd.Ready("kiosk ready")
	if m := next(5 * time.Second); m != "READY=1\nSTATUS=kiosk ready" {
		t.Fatalf("first message %q", m)
	}
	for i := range 3 {
		if m := next(5 * time.Second); m != "WATCHDOG=1" {
			t.Fatalf("ping %d while the loop turns: %q", i, m)
		}
	}
	close(pr.hung)
	next(200 * time.Millisecond) // a ping decided on beats from before the hang
	if m := next(time.Second); m != "" {
		t.Fatalf("the kiosk's loop hangs, yet systemd got %q", m)
	}
}
