package main

import (
	"log/slog"
	"strings"
	"testing"
)

// Wrong sound settings are refused, saying which, even on a screen with no
// loudspeaker or voice; right ones with nothing to play through give no
// announcer.
func TestDisplaySoundFlagsAreChecked(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		f    soundFlags
		want string
	}{
		{soundFlags{langs: "fr", volume: 101}, "volume 101"},
		{soundFlags{langs: "fr,de", volume: 80}, `language "de"`},
		{soundFlags{langs: "fr", volume: 80, quiet: "20h-8h"}, `quiet hours "20h-8h"`},
	} {
		c.f.voice = "/nonexistent/espeak-ng"
		if a, err := c.f.announcer(log, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v %v, want an error about %s", c.f, a, err, c.want)
		}
	}
	ok := soundFlags{langs: "fr,en", volume: 60, quiet: "19:00-08:30", voice: "/nonexistent/espeak-ng"}
	if a, err := ok.announcer(log, nil); a != nil || err != nil {
		t.Errorf("nothing to play through: %v %v, want no announcer and no error", a, err)
	}
}
