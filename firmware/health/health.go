// Package health reads what a device says of its board in its state: when
// it started, its CPU's temperature, the free space where it keeps its
// data, and the wear of its SD card or eMMC where the card reports it. The
// supervision page shows them and raises an alert when a board overheats.
//
// Everything is read from Linux's files (/proc, /sys) below a root that
// tests replace with a folder of their own; what a board does not have
// (no thermal zone, a card that reports no wear) is left out, never
// guessed. Reading costs a few small file reads and one statfs: a device
// reads it when it publishes its state and every few minutes.
package health

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"guichet/hub/api"
)

// Reader reads a board's health.
type Reader struct {
	Root    string           // "/" if empty: where proc/ and sys/ are
	DataDir string           // the device's data directory: its free space
	Now     func() time.Time // time.Now if nil
	// Update is the device's update state (firmware/update); nil: none said.
	Update func() *api.DeviceUpdate
}

// Read returns what the board says of itself now.
func (r Reader) Read() *api.DeviceHealth {
	root, now := r.Root, r.Now
	if root == "" {
		root = "/"
	}
	if now == nil {
		now = time.Now
	}
	h := &api.DeviceHealth{}
	if up, ok := uptime(root); ok {
		booted := now().Add(-up).Truncate(time.Minute) // stable across reads
		h.BootedAt = &booted
	}
	if c, ok := temperature(root); ok {
		h.TempC = &c
	}
	if r.DataDir != "" {
		if mb, ok := freeMB(r.DataDir); ok {
			h.DiskFreeMB = &mb
		}
	}
	if w, ok := wear(root); ok {
		h.WearPct = &w
	}
	if r.Update != nil {
		h.Update = r.Update()
	}
	return h
}

// uptime reads /proc/uptime: "12345.67 23456.78".
func uptime(root string) (time.Duration, bool) {
	b, err := os.ReadFile(filepath.Join(root, "proc/uptime"))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	s, err := strconv.ParseFloat(f[0], 64)
	if err != nil || s < 0 || s > 100*365*24*3600 {
		return 0, false
	}
	return time.Duration(s * float64(time.Second)), true
}

// temperature reads the first thermal zone, in millidegrees Celsius (the
// Raspberry Pi's CPU is thermal_zone0).
func temperature(root string) (float64, bool) {
	b, err := os.ReadFile(filepath.Join(root, "sys/class/thermal/thermal_zone0/temp"))
	if err != nil {
		return 0, false
	}
	m, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || m < -100_000 || m > 200_000 {
		return 0, false
	}
	return float64(m/100) / 10, true // to the tenth of a degree
}

// freeMB is the space left to an unprivileged writer in dir, in MiB.
func freeMB(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize) >> 20, true
}

// wear reads the eMMC's or SD card's life time estimate, where the card
// reports it: /sys/block/mmcblk0/device/life_time holds two values (type A
// and type B memory), each 0x01 for 0–10 % of its life used … 0x0A for
// 90–100 %, 0x0B past its life. The upper bound of the worse one is given.
// Most SD cards report nothing: the field is then left out.
func wear(root string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(root, "sys/block/mmcblk0/device/life_time"))
	if err != nil {
		return 0, false
	}
	worst := 0
	for _, f := range strings.Fields(string(b)) {
		v, err := strconv.ParseInt(strings.TrimPrefix(strings.ToLower(f), "0x"), 16, 32)
		if err != nil || v < 0 || v > 0x0B {
			return 0, false
		}
		worst = max(worst, int(v))
	}
	if worst == 0 {
		return 0, false // "not defined" by the card
	}
	return min(worst*10, 110), true
}

// Significant reports whether b differs from a enough to publish the state
// again: a change of boot, of 3 °C, of 5 % of the free space (or 100 MiB),
// of the wear estimate or of the update state — not every tenth of a degree.
func Significant(a, b *api.DeviceHealth) bool {
	if (a == nil) != (b == nil) {
		return true
	}
	if a == nil {
		return false
	}
	switch {
	case (a.BootedAt == nil) != (b.BootedAt == nil) || a.BootedAt != nil && !a.BootedAt.Equal(*b.BootedAt):
		return true
	case (a.TempC == nil) != (b.TempC == nil) || a.TempC != nil && abs(*a.TempC-*b.TempC) >= 3:
		return true
	case (a.WearPct == nil) != (b.WearPct == nil) || a.WearPct != nil && *a.WearPct != *b.WearPct:
		return true
	case (a.DiskFreeMB == nil) != (b.DiskFreeMB == nil):
		return true
	case (a.Update == nil) != (b.Update == nil) || a.Update != nil && *a.Update != *b.Update:
		return true
	case a.DiskFreeMB != nil:
		d := abs(float64(*a.DiskFreeMB - *b.DiskFreeMB))
		return d >= min(100, max(1, 0.05*float64(*a.DiskFreeMB))) // a full disk (0 MiB) is not a change at every read
	}
	return false
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
