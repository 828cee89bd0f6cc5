package kiosk_test

import (
	"encoding/json"
	"testing"
	"time"

	"guichet/hub/api"
)

// FuzzKioskRetained: whatever arrives on the kiosk's topics (config, queue,
// its lease), the menu it shows encodes, and the numbers it may print
// offline are counted at once and within a lease's bounds.
func FuzzKioskRetained(f *testing.F) {
	for _, seed := range []string{
		siteConfig,
		`{"services":[{"service":"A","waiting":3,"estimated_wait_s":600}]}`,
		`{"device":"kiosk-test","blocks":[{"service":"A","day":"2026-03-02","from":901,"to":950,"used":[901]}]}`,
		`{"device":"kiosk-test","blocks":[{"service":"A","day":"2026-03-02","from":1,"to":9223372036854775807}]}`,
		`{"device":"kiosk-test","blocks":[{"service":"A","day":"2026-03-02","from":-5,"to":-1}]}`,
		`{"services":[{"service":"A","estimated_wait_s":9500000000}]}`,
		`{"site":{"name":"X","timezone":"Local"},"services":[{"id":"A","channels":["visit","visit"],"open":true}]}`,
	} {
		for k := range 3 {
			f.Add(uint8(k), []byte(seed))
		}
	}
	fl := newFakeLink()
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, paris)
	k := openKiosk(f, fl, newPrinter(f), f.TempDir(), func() time.Time { return now })
	f.Fuzz(func(t *testing.T, kind uint8, p []byte) {
		fl.deliver([]string{topics.Config(), topics.Queue(), topics.Lease("kiosk-test")}[kind%3], string(p))
		for _, lang := range []string{"fr", "en"} {
			if _, err := json.Marshal(k.View(lang)); err != nil {
				t.Fatalf("the menu does not encode: %v", err)
			}
		}
		done := make(chan int, 1)
		go func() { done <- k.OfflineLeft("A") }()
		select {
		case n := <-done:
			if n < 0 || n > api.MaxLeases*api.MaxLeaseSize {
				t.Fatalf("%d offline numbers", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("offline numbers still counted after 10 s")
		}
	})
}
