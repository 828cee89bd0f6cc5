package kiosk_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hw/printer/virtual"
	"guichet/internal/measure"
	"guichet/internal/sitetest"
	"guichet/kiosk"
)

// stopwatch is a printer that notes when each job's first byte goes out.
type stopwatch struct {
	*virtual.Printer
	mu    sync.Mutex
	times chan time.Time
}

func (s *stopwatch) Print(ctx context.Context, job []byte) error {
	s.times <- time.Now()
	return nil // the bytes are what a printer receives; rendering is not measured
}

// BenchmarkPressToFirstByte: from the button's edge to the first ESC/POS
// byte handed to the printer, with the hub online (target p99 < 100 ms)
// and offline, printing from the lease (target p99 < 20 ms).
func BenchmarkPressToFirstByte(b *testing.B) {
	for _, mode := range []string{"online", "offline"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s := sitetest.Start(b, sitetest.Options{})
				secret := s.AddDevice("kiosk-1", api.RoleKiosk, "")
				dir := b.TempDir()
				l, err := link.Open(s.LinkOptions("kiosk-1", secret, api.RoleKiosk, dir))
				if err != nil {
					b.Fatal(err)
				}
				vp, _ := virtual.New(filepath.Join(dir, "t"), 80)
				sw := &stopwatch{Printer: vp, times: make(chan time.Time, 1)}
				k, err := kiosk.New(kiosk.Options{Link: l, Printer: sw, DataDir: dir, Log: l.Log(), Poll: time.Hour})
				if err != nil {
					b.Fatal(err)
				}
				sitetest.Eventually(b, 10*time.Second, "leases", func() bool { return k.OfflineLeft("A") >= 50 })
				if mode == "offline" {
					s.Stop()
					sitetest.Eventually(b, 5*time.Second, "link down", func() bool { return !l.Connected() })
				}
				btn := pin("GPIO17")
				ctx, cancel := context.WithCancel(context.Background())
				go k.RunInputs(ctx, kiosk.Inputs{Buttons: map[string]gpio.PinIn{"A": btn}, Window: time.Millisecond})
				time.Sleep(100 * time.Millisecond)
				var lat measure.Latencies
				n := 200
				if mode == "offline" {
					n = 40 // of the lease's 50 numbers for today
				}
				for j := 0; j < n; j++ {
					t0 := time.Now()
					btn.EdgesChan <- gpio.Low
					select {
					case t1 := <-sw.times:
						lat = append(lat, t1.Sub(t0))
					case <-time.After(5 * time.Second):
						b.Fatalf("press %d printed nothing", j)
					}
					btn.EdgesChan <- gpio.High
					time.Sleep(60 * time.Millisecond) // released, settled
				}
				lat.Report(b, "press-to-byte-")
				cancel()
				k.Close()
				l.Close()
			}
		})
	}
}
