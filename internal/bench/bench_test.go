package bench

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

func TestParseGapReadsARangeOrOneDuration(t *testing.T) {
	for _, c := range []struct {
		in         string
		lo, spread time.Duration
		ok         bool
	}{
		{"1s-3s", time.Second, 2 * time.Second, true},
		{"2s", 2 * time.Second, 0, true},
		{"3s-1s", 0, 0, false},
		{"soon", 0, 0, false},
	} {
		lo, spread, err := ParseGap(c.in)
		if (err == nil) != c.ok || lo != c.lo || spread != c.spread {
			t.Errorf("ParseGap(%q) = %v, %v, %v", c.in, lo, spread, err)
		}
	}
}

// Wrong settings are refused before any site is started.
func TestBadSettingsOpenNoSite(t *testing.T) {
	opened := false
	open := func(context.Context, *slog.Logger, string, []byte, bool) (*Site, error) {
		opened = true
		return nil, context.Canceled
	}
	if _, err := E2E(t.Context(), E2EOptions{Open: open, Counters: 0, Calls: 1, MinGap: time.Second}); err == nil {
		t.Error("no counters: accepted")
	}
	if _, err := E2E(t.Context(), E2EOptions{Open: open, Counters: 1, Calls: 1, MinGap: 100 * time.Millisecond}); err == nil {
		t.Error("a gap shorter than a terminal's press window: accepted")
	}
	if _, err := Display(t.Context(), DisplayOptions{Open: open, Hours: 1, Speed: 0.5, Every: time.Minute}); err == nil {
		t.Error("a speed below real time: accepted")
	}
	if opened {
		t.Fatal("a site was started for wrong settings")
	}
}
