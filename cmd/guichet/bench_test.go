//go:build !device

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"guichet/hw/printer/virtual"
	"guichet/internal/bench"
	"guichet/internal/sitetest"
)

// rss reads a process's resident memory from /proc, in bytes.
func rss(pid int) int64 { return procStatus(pid, "VmRSS:") }

// procStatus reads a size field of /proc/PID/status (VmRSS:, RssAnon:,
// RssFile:), in bytes.
func procStatus(pid int, field string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkKioskMemoryAfter10000Tickets: the resident memory of a guichet
// kiosk process after printing 10,000 tickets on a network printer
// (target < 40 MB).
func BenchmarkKioskMemoryAfter10000Tickets(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		hub := startHubProcess(b, dir)
		secret := hub.addDevice(b, `{"id":"kiosk-1","role":"kiosk"}`)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go (&virtual.Wire{}).Serve(c)
			}
		}()
		k := startKioskProcessArgs(b, hub, secret, filepath.Join(dir, "kiosk"), "--printer", "tcp:"+ln.Addr().String())
		before := rss(k.cmd.Process.Pid)
		for j := 0; j < 10000; j++ {
			if _, err := k.press([]string{"A", "E"}[j%2]); err != nil {
				b.Fatalf("ticket %d: %v", j, err)
			}
		}
		after := rss(k.cmd.Process.Pid)
		b.ReportMetric(float64(before)/1e6, "rss-start-MB")
		b.ReportMetric(float64(after)/1e6, "rss-after-10k-MB")
		ln.Close()
		k.cmd.Process.Kill()
		hub.kill()
	}
}

// BenchmarkCounterButtonToDisplayPage: 50 counter terminals press "next" at
// random (each every 1 to 3 s); each press goes GPIO edge → outbox → MQTT →
// hub → retained board → display device → SSE → the board page's DOM in
// headless Chromium (target p99 < 50 ms).
func BenchmarkCounterButtonToDisplayPage(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r, err := bench.E2E(b.Context(), bench.E2EOptions{Open: benchSite(""), Counters: 50, Calls: 20, MinGap: time.Second, Gap: 2 * time.Second, Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		if r.Failed > 0 || len(r.Missing) > 0 {
			b.Fatalf("%d presses called nobody, %d calls never shown", r.Failed, len(r.Missing))
		}
		r.Latencies.Report(b, "button-to-page-")
		b.ReportMetric(float64(len(r.Latencies))/r.Elapsed.Seconds(), "calls/s")
	}
}

// BenchmarkDisplayPageOverASimulatedHour: the board page in Chromium while
// an hour of the demo's day plays at ×60: JS heap and DOM nodes after a
// garbage collection at the start and at the end (no leak: they stay
// flat), and the share of time its main thread is busy.
func BenchmarkDisplayPageOverASimulatedHour(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s, err := bench.Display(b.Context(), bench.DisplayOptions{Open: benchSite(""), Hours: 1, Speed: 60, Every: 5 * time.Minute, Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		first, last := s[0], s[len(s)-1]
		b.ReportMetric(first.Heap/1e6, "heap-start-MB")
		b.ReportMetric(last.Heap/1e6, "heap-end-MB")
		b.ReportMetric(last.Nodes, "dom-nodes-end")
		b.ReportMetric(100*float64(last.Task-first.Task)/float64(last.At-first.At), "main-thread-busy-%")
		b.ReportMetric(float64(last.Calls), "calls")
	}
}

// BenchmarkKioskMemoryVirtualPrinter: the resident memory (VmRSS) of a
// guichet kiosk process on its default printer, the virtual one, once
// online, and after 20 tickets (target < 25 MB). GUICHET_BENCH_ENV adds
// environment variables to the kiosk (GOGC=50 GOMEMLIMIT=10MiB, its unit's) to compare
// the runtime's settings; GUICHET_BENCH_BINARY runs another build of
// guichet as the kiosk (a release binary: scripts/release.sh; the device's
// build guichet-device-linux-amd64 is what a board runs), whose size is
// reported too.
func BenchmarkKioskMemoryVirtualPrinter(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		hub := startHubProcess(b, dir)
		secret := hub.addDevice(b, `{"id":"kiosk-1","role":"kiosk"}`)
		for _, kv := range strings.Fields(os.Getenv("GUICHET_BENCH_ENV")) {
			k, v, _ := strings.Cut(kv, "=")
			b.Setenv(k, v)
		}
		data := filepath.Join(dir, "kiosk")
		built := binary
		if alt := os.Getenv("GUICHET_BENCH_BINARY"); alt != "" {
			binary = alt
		}
		k := startKioskProcessArgs(b, hub, secret, data)
		kioskBin := binary
		binary = built
		sitetest.Eventually(b, 20*time.Second, "the kiosk online", func() bool {
			_, _, body, _ := hub.call(context.Background(), "GET", "/api/v1/devices/kiosk-1", "")
			return strings.Contains(string(body), `"online":true`)
		})
		before := rss(k.cmd.Process.Pid)
		for j := 0; j < 20; j++ {
			if _, err := k.press([]string{"A", "E"}[j%2]); err != nil {
				b.Fatalf("ticket %d: %v", j, err)
			}
		}
		sitetest.Eventually(b, 20*time.Second, "20 tickets on paper", func() bool {
			m, _ := filepath.Glob(filepath.Join(data, "tickets", "*.png"))
			return len(m) == 20
		})
		after := rss(k.cmd.Process.Pid)
		b.ReportMetric(float64(before)/1e6, "rss-online-MB")
		b.ReportMetric(float64(after)/1e6, "rss-after-20-MB")
		b.ReportMetric(float64(procStatus(k.cmd.Process.Pid, "RssAnon:"))/1e6, "anon-after-20-MB")
		b.ReportMetric(float64(procStatus(k.cmd.Process.Pid, "RssFile:"))/1e6, "file-after-20-MB")
		if fi, err := os.Stat(kioskBin); err == nil {
			b.ReportMetric(float64(fi.Size())/1e6, "binary-MB")
		}
		k.cmd.Process.Kill()
		hub.kill()
	}
}
