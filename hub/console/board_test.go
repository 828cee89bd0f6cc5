package console

import (
	"testing"
	"time"

	"guichet/hub/api"
)

// A board's health reads in French and in English on the supervision
// page; a board at 80 °C is marked hot; a boot dated in the future by the
// device's own clock is not shown.
func TestBoardHealthInWords(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	boot, future := now.Add(-(3*24*time.Hour + 5*time.Hour)), now.Add(time.Hour)
	c, mb, w := 81.25, int64(9011), 30
	h := &api.DeviceHealth{BootedAt: &boot, TempC: &c, DiskFreeMB: &mb, WearPct: &w}
	for lang, want := range map[string]string{
		"fr": "81,2 °C · allumé depuis 3 j · 8,8 Gio libres · usure ≤ 30 %",
		"en": "81.2 °C · up 3 d · 8.8 GiB free · wear ≤ 30%",
	} {
		if got, hot := boardText(h, now, lang); got != want || !hot {
			t.Errorf("%s: %q (hot %v), want %q (hot)", lang, got, hot, want)
		}
	}
	cool := 45.0
	if got, hot := boardText(&api.DeviceHealth{BootedAt: &future, TempC: &cool}, now, "fr"); got != "45,0 °C" || hot {
		t.Errorf("%q (hot %v), want only the temperature, not hot", got, hot)
	}
	if got, _ := boardText(nil, now, "fr"); got != "" {
		t.Errorf("no health: %q", got)
	}
}
