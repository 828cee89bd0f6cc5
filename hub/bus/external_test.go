package bus_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// The hub on an external broker owns its per-device workers: once stopped,
// none is left running. Here the broker dies under a burst of commands,
// so a worker waits to publish a reply nobody can take; it outlived Close
// (up to five seconds a reply) and went on calling the stopped hub.
func TestAStoppedHubOnMosquittoLeavesNoDeviceWorkerRunning(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Mosquitto: true})
	l := s.Link("kiosk-1", s.AddDevice("kiosk-1", api.RoleKiosk, ""), api.RoleKiosk)
	sitetest.Eventually(t, 5*time.Second, "link up", l.Connected)
	for i := 0; i < 300; i++ {
		if err := l.Enqueue(link.NewID(), api.OpIssueTicket, api.IssueArgs{Service: "A"}); err != nil {
			t.Fatal(err)
		}
	}
	sitetest.Eventually(t, 10*time.Second, "the burst under way", func() bool { return len(s.Tickets()) >= 20 })
	s.Mosquitto.Stop()
	if n := goroutinesIn("bus.(*External).work("); n != 1 {
		t.Fatalf("%d device workers for one device", n)
	}
	s.Stop()
	if n := goroutinesIn("bus.(*External).work("); n != 0 {
		t.Fatalf("%d device workers still running after the hub stopped", n)
	}
}

// goroutinesIn counts the goroutines whose stack holds fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), fn)
}
