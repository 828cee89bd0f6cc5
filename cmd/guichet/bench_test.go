package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"guichet/hub/api"
	"guichet/hw/printer/virtual"
)

// rss reads a process's resident memory from /proc, in bytes.
func rss(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
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
		_, _, body, err := hub.call(context.Background(), "POST", "/api/v1/devices", `{"id":"kiosk-1","role":"kiosk"}`)
		if err != nil {
			b.Fatal(err)
		}
		var nd api.NewDevice
		json.Unmarshal(body, &nd)
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
		k := startKioskProcessArgs(b, hub, nd.Secret, filepath.Join(dir, "kiosk"), "--printer", "tcp:"+ln.Addr().String())
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
