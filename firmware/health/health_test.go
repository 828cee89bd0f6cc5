package health_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"guichet/firmware/health"
	"guichet/hub/api"
)

// board writes a fake board's /proc and /sys below a folder.
func board(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// A Raspberry Pi's files give its boot time (stable from one read to the
// next), its CPU's temperature, the free space of the data directory and
// its eMMC's wear; a board without them gives only the free space.
func TestReadsWhatTheBoardTells(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 30, 0, time.UTC)
	root := board(t, map[string]string{
		"proc/uptime":                          "3600.52 7000.10\n",
		"sys/class/thermal/thermal_zone0/temp": "61234\n",
		"sys/block/mmcblk0/device/life_time":   "0x02 0x03\n",
	})
	r := health.Reader{Root: root, DataDir: t.TempDir(), Now: func() time.Time { return now }}
	h := r.Read()
	if h.BootedAt == nil || !h.BootedAt.Equal(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("booted at %v, want 09:00 (an hour before, to the minute)", h.BootedAt)
	}
	if h.TempC == nil || *h.TempC != 61.2 {
		t.Fatalf("temperature %v, want 61.2", h.TempC)
	}
	if h.WearPct == nil || *h.WearPct != 30 {
		t.Fatalf("wear %v, want 30 (the worse of 10–20 %% and 20–30 %%)", h.WearPct)
	}
	if h.DiskFreeMB == nil || *h.DiskFreeMB <= 0 {
		t.Fatalf("free space %v", h.DiskFreeMB)
	}
	r.Now = func() time.Time { return now.Add(20 * time.Second) }
	root2 := board(t, map[string]string{"proc/uptime": "3620.52 7000.10\n"})
	r.Root = root2
	if h2 := r.Read(); !h2.BootedAt.Equal(*h.BootedAt) {
		t.Fatalf("the boot time moved from %v to %v between two reads", h.BootedAt, h2.BootedAt)
	}

	bare := health.Reader{Root: board(t, map[string]string{
		"sys/class/thermal/thermal_zone0/temp": "hot",
		"sys/block/mmcblk0/device/life_time":   "0x00 0x00",
	}), DataDir: t.TempDir()}.Read()
	if bare.BootedAt != nil || bare.TempC != nil || bare.WearPct != nil || bare.DiskFreeMB == nil {
		t.Fatalf("a board that tells nothing (or junk): %+v", bare)
	}
}

// The state is published again for a change that matters, not for every
// tenth of a degree.
func TestSignificantChanges(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	h := func(c float64, mb int64, boot time.Time) *api.DeviceHealth {
		return &api.DeviceHealth{TempC: &c, DiskFreeMB: &mb, BootedAt: &boot}
	}
	base := h(60, 10_000, at)
	for _, c := range []struct {
		b    *api.DeviceHealth
		want bool
	}{
		{h(60, 10_000, at), false},
		{h(62.9, 9_950, at), false},
		{h(63, 10_000, at), true},
		{h(60, 9_899, at), true},
		{h(60, 10_000, at.Add(time.Minute)), true},
		{nil, true},
	} {
		if got := health.Significant(base, c.b); got != c.want {
			t.Errorf("Significant(%+v): %v, want %v", c.b, got, c.want)
		}
	}
}
