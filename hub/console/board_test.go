package console

import (
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/hub/queue"
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

// The supervision's phone figures count the day's calls of the telephony
// link: waiting (with the oldest), abandoned, the callbacks waiting; a site
// without calls shows no phone section.
func TestPhoneFiguresCountTheDaysCalls(t *testing.T) {
	_, site, err := config.Parse("site.yaml", []byte(phoneSite))
	if err != nil {
		t.Fatal(err)
	}
	site.Policy.IgnoreHours = true
	e, err := queue.New(site)
	if err != nil {
		t.Fatal(err)
	}
	if v := phoneView(e); v != nil {
		t.Fatalf("no call yet: %+v", v)
	}
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, site.Location)
	by := func(m int) queue.By { return queue.By{At: at.Add(time.Duration(m) * time.Minute), Actor: "pbx"} }
	for i, call := range []string{"c1", "c2", "c3"} {
		if _, err := e.JoinCall(by(i), queue.CallJoin{ID: "t-" + call, Call: call, Service: "A"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.AbandonCall(by(5), queue.CallAbandon{Call: "c1", Reason: "hung_up", Callback: "t-cb1"}); err != nil {
		t.Fatal(err)
	}
	v := phoneView(e)
	if v == nil || v.Waiting != 2 || v.Abandoned != 1 || v.CallbacksWaiting != 1 || v.Talking != 0 {
		t.Fatalf("phone figures %+v: want 2 waiting, 1 abandoned, 1 callback waiting", v)
	}
	if v.OldestWaiting == nil || !v.OldestWaiting.Equal(at.Add(time.Minute)) {
		t.Fatalf("oldest waiting %v, want the second call's join at 10:01", v.OldestWaiting)
	}
}

const phoneSite = `
site: { id: test, name: "Mairie de Test", timezone: Europe/Paris }
services:
  - { id: A, name: "Accueil", sla: 10m, service_time: 4m, channels: [visit, phone] }
counters:
  - { id: "1" }
  - { id: "9", name: "Téléphone", channels: [phone] }
agents:
  - { id: ana, skills: { A: 1 } }
`
