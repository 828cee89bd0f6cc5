package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"guichet/internal/release"
	"guichet/internal/sitetest"
)

// idleWindow is how long the idle kiosk is watched.
const idleWindow = time.Minute

// writeBytes reads a process's write_bytes from /proc/PID/io: the bytes it
// caused to be written to storage (counted when a page is dirtied, so a
// write still in the page cache counts). ok is false where the kernel
// keeps no I/O accounting.
func writeBytes(pid int) (n int64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "write_bytes: "); found {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// dirStamp is every file under dir with its size and modification time.
func dirStamp(dir string) map[string]string {
	m := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			m[p] = fmt.Sprint(fi.Size(), " ", fi.ModTime().UnixNano())
		}
		return nil
	})
	return m
}

// An idle kiosk — connected to a real hub, its virtual printer ready, its
// updates checked every second — writes nothing to its SD card for a
// minute: no byte by the kernel's count of the process's writes
// (/proc/PID/io write_bytes, which also sees files outside its data
// directory), and no file of its data directory changed (which names the
// culprit). A minute of real time (a child process has no virtual clock):
// skipped with -short, run beside the package's other tests.
func TestAnIdleKioskWritesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of real time")
	}
	t.Parallel()
	dir := t.TempDir()
	hub := startHubProcess(t, dir)
	secret := hub.addDevice(t, `{"id":"kiosk-1","role":"kiosk"}`)
	pub, _, _ := release.GenerateKey("")
	keyFile := filepath.Join(dir, "update.pub")
	os.WriteFile(keyFile, pub, 0o644)
	data := filepath.Join(dir, "kiosk")
	k := startKioskProcessArgs(t, hub, secret, data, "--printer", "virtual:"+filepath.Join(data, "tickets"),
		"--update-url", hub.url, "--update-key", keyFile, "--update-every", "1s")
	sitetest.Eventually(t, 20*time.Second, "the kiosk online on the hub", func() bool { return deviceState(t, hub, "kiosk-1").Online })
	// It printed a ticket once: the idle that follows is a day's, not a
	// fresh install's.
	if _, err := k.press("A"); err != nil {
		t.Fatal(err)
	}
	sitetest.Eventually(t, 10*time.Second, "the ticket printed", func() bool { return len(printedNumbers(t, filepath.Join(data, "tickets"))) == 1 })
	pid := k.cmd.Process.Pid
	before, accounted := writeBytes(pid)
	stamp := dirStamp(data)
	if !accounted || before == 0 {
		t.Log("no I/O accounting here: only the data directory's files are compared")
		accounted = false
	}
	exited := make(chan struct{})
	go func() { k.cmd.Process.Wait(); close(exited) }()
	select {
	case <-exited:
		t.Fatalf("the kiosk exited:\n%s", k.logs)
	case <-time.After(idleWindow): // the measure itself, not a wait for something
	}
	after, _ := writeBytes(pid)
	for p, v := range dirStamp(data) {
		if stamp[p] != v {
			t.Errorf("idle, the kiosk wrote %s (%s → %s)", p, stamp[p], v)
		}
	}
	if accounted && after != before {
		t.Errorf("idle for %s, the kiosk wrote %d bytes (write_bytes %d → %d)", idleWindow, after-before, before, after)
	}
	t.Logf("write_bytes %d → %d over %s idle", before, after, idleWindow)
}
