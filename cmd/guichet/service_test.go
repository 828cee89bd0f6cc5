package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listenNotify is a fake systemd for the roles run as child processes: the
// unixgram socket NOTIFY_SOCKET names, with WatchdogSec=600ms.
func listenNotify(t *testing.T) func(within time.Duration) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wd") // short: socket paths have at most 108 bytes
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
	t.Setenv("WATCHDOG_USEC", "600000")
	t.Setenv("WATCHDOG_PID", "")
	return func(within time.Duration) string {
		buf := make([]byte, 4096)
		c.SetReadDeadline(time.Now().Add(within))
		n, _, err := c.ReadFromUnix(buf)
		if err != nil {
			return ""
		}
		return string(buf[:n])
	}
}

// The hub and the kiosk, run by systemd as Type=notify services with a
// watchdog, say READY=1 once they serve and then ping it, each on the
// socket systemd gave it.
func TestHubAndKioskTellSystemdTheyAreReadyThenPing(t *testing.T) {
	expect := func(next func(time.Duration) string, who string) {
		t.Helper()
		m := next(20 * time.Second)
		if !strings.HasPrefix(m, "READY=1\nSTATUS="+who+" ready") {
			t.Fatalf("%s: first message %q, want READY=1", who, m)
		}
		for i := range 2 {
			if m := next(5 * time.Second); m != "WATCHDOG=1" {
				t.Fatalf("%s: ping %d: %q, want WATCHDOG=1", who, i, m)
			}
		}
	}
	hubNotify := listenNotify(t)
	dir := t.TempDir()
	hub := startHubProcess(t, dir)
	expect(hubNotify, "hub")

	secret := hub.addDevice(t, `{"id":"kiosk-1","role":"kiosk"}`)
	kioskNotify := listenNotify(t) // the kiosk's own socket
	startKioskProcess(t, hub, secret, filepath.Join(dir, "kiosk"))
	expect(kioskNotify, "kiosk")
}
