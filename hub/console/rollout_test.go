package console

import (
	"strings"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/release"
)

// The supervision page says how far the newest update has gone: devices
// on it, on trial, rolled back, failed — disabled devices, devices never
// seen and integrations left out; and each device's update in words.
func TestRolloutCountsTheDevicesOnTheNewestVersion(t *testing.T) {
	reads := 0
	p := &Pages{o: Options{NewestUpdate: func() string { reads++; return "v1.2.0" }}}
	rows := []DeviceRow{
		{ID: "k1", Role: "kiosk", Seen: true, Version: "v1.2.0"},
		{ID: "k2", Role: "kiosk", Seen: true, Version: "v1.1.0"},
		{ID: "d1", Role: "display", Seen: true, Version: "v1.1.0"},
		{ID: "c1", Role: "counter", Seen: true, Version: "v1.2.0"},
		{ID: "off", Role: "kiosk", Seen: true, Version: "v1.0.0", Disabled: true},
		{ID: "new", Role: "kiosk"},
		{ID: "int", Role: api.RoleIntegration, Seen: true},
	}
	states := map[string]*api.DeviceUpdate{
		"c1": {State: "trial", Version: "v1.2.0"},
		"k2": {State: "rolled_back", Version: "v1.2.0", Reason: "unhealthy"},
		"d1": {State: "failed", Version: "v1.2.0", Reason: "bad_signature"},
	}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	r := p.rollout(now, rows, states, "fr")
	if r == nil || r.Devices != 4 || r.OnNewest != 2 || r.Trial != 1 || r.RolledBack != 1 || r.Failed != 1 {
		t.Fatalf("%+v", r)
	}
	if r.Text != "Mise à jour v1.2.0 : 2 appareils sur 4 l'exécutent, 1 en essai, 1 annulées, 1 en échec." {
		t.Fatalf("%q", r.Text)
	}
	p.rollout(now.Add(10*time.Second), rows, states, "en")
	if reads != 1 {
		t.Fatalf("the shelf read %d times within %s", reads, rolloutEvery)
	}
	p.rollout(now.Add(rolloutEvery), rows, states, "en")
	if reads != 2 {
		t.Fatalf("the shelf read %d times after %s", reads, rolloutEvery)
	}
	for _, c := range []struct {
		u        *api.DeviceUpdate
		lang, is string
	}{
		{states["k2"], "fr", "annulée : v1.2.0 (pas en bonne santé à temps)"},
		{states["d1"], "en", "refused: v1.2.0 (bad signature)"},
		{states["c1"], "fr", "essai de v1.2.0"},
		{&api.DeviceUpdate{State: "idle", Version: "v1.2.0"}, "fr", ""},
	} {
		if got := updateText(c.u, c.lang); got != c.is {
			t.Errorf("%+v in %s: %q, want %q", c.u, c.lang, got, c.is)
		}
	}
	if (&Pages{}).rollout(now, rows, states, "fr") != nil {
		t.Fatal("a rollout without an update shelf")
	}
}

func TestEveryUpdateReasonIsSaidInWords(t *testing.T) {
	for _, r := range release.Reasons {
		for _, lang := range []string{"fr", "en"} {
			got := updateText(&api.DeviceUpdate{State: api.UpdateFailed, Version: "v1.2.0", Reason: r}, lang)
			if strings.Contains(got, "("+r+")") {
				t.Errorf("%s in %s: %q (the code, not words)", r, lang, got)
			}
		}
	}
}
