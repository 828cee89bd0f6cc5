package server_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// BenchmarkRetainedFlood has one device try to make the embedded broker
// keep 60 retained messages of 1 MB each — under device/{itself}/, and on
// its state topic — and reports the hub's heap and the process's RSS
// before and after (the hub runs in this process; the device's own
// buffer, 1 MB, is counted too).
func BenchmarkRetainedFlood(b *testing.B) {
	for range b.N {
		s := sitetest.Start(b, sitetest.Options{})
		secret := s.AddDevice("kiosk-a", api.RoleKiosk, "")
		heap0, rss0 := memory()
		payload := []byte(`{"online":true,"extra":{"x":"` + strings.Repeat("x", 1<<20) + `"}}`)
		var c paho.Client
		accepted := 0
		for i := range 60 {
			if c == nil || !c.IsConnectionOpen() {
				c = paho.NewClient(paho.NewClientOptions().AddBroker(s.MQTTURL).SetClientID("kiosk-a").SetUsername("kiosk-a").
					SetPassword(secret).SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(3 * time.Second))
				if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
					b.Fatalf("connect: %v", tok.Error())
				}
			}
			topic := s.Topics.DeviceState("kiosk-a")
			if i%2 == 0 {
				topic = strings.TrimSuffix(topic, "state") + "photo" + strconv.Itoa(i)
			}
			tok := c.Publish(topic, 1, true, payload)
			if tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
				accepted++
			}
		}
		c.Disconnect(0)
		heap1, rss1 := memory()
		b.ReportMetric(heap0, "heap-before-MB")
		b.ReportMetric(heap1, "heap-after-MB")
		b.ReportMetric(rss0, "rss-before-MB")
		b.ReportMetric(rss1, "rss-after-MB")
		b.ReportMetric(float64(accepted), "publishes-acked")
		b.Logf("60 × 1 MB retained: %d acknowledged; heap %.1f → %.1f MB, RSS %.1f → %.1f MB", accepted, heap0, heap1, rss0, rss1)
		s.Stop()
	}
}

// memory returns the heap in use after a GC and the process's RSS, in MB.
func memory() (heap, rss float64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if kb, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var n float64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), &n)
			rss = n / 1024
		}
	}
	return float64(m.HeapInuse) / (1 << 20), rss
}
