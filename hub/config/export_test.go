package config

import (
	"encoding/json"
	"testing"
	"time"

	"guichet/hub/queue"
)

func siteJSON(t *testing.T, s queue.Site) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// roundTrip exports a site and reads it back.
func roundTrip(t *testing.T, s queue.Site) queue.Site {
	t.Helper()
	out, err := Export(s, "exported for a test\nsecond line")
	if err != nil {
		t.Fatal(err)
	}
	_, back, err := Parse("exported.yaml", out)
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, out)
	}
	if got, want := siteJSON(t, back), siteJSON(t, s); got != want {
		t.Fatalf("the export reads back as another site:\n%s\nwant\n%s\nfile:\n%s", got, want, out)
	}
	return back
}

func TestExportOfTheSampleReadsBackAsTheSameSite(t *testing.T) {
	_, site, err := Parse("sample.yaml", Sample)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, site)
}

func TestExportAfterChangesInTheBrowserReadsBackAsTheSameSite(t *testing.T) {
	_, site, err := Parse("sample.yaml", Sample)
	if err != nil {
		t.Fatal(err)
	}
	e, err := queue.New(site)
	if err != nil {
		t.Fatal(err)
	}
	by := queue.By{At: time.Date(2026, 12, 1, 9, 0, 0, 0, site.Location), Actor: "admin"}
	var week [7][]queue.Span
	week[time.Wednesday] = []queue.Span{{From: 9 * 60, To: 12*60 + 30}}
	for _, op := range []func() ([]queue.Event, error){
		func() ([]queue.Event, error) {
			return e.SaveService(by, queue.Service{ID: "X", Names: map[string]string{"fr": "Élections « 2027 »", "en": "Elections"},
				SLA: 12 * time.Minute, Weight: 1.25, Channels: []queue.Channel{queue.Phone}, ServiceTime: 90 * time.Second,
				Hours: queue.NewHours(week, []string{"2027-05-01"})})
		},
		func() ([]queue.Event, error) {
			return e.CloseService(by, "P", map[string]string{"fr": "Plus de rendez-vous aujourd'hui", "en": "No more today"})
		},
		func() ([]queue.Event, error) {
			return e.SavePauseReasons(by, []string{"Déjeuner", "Réunion", "Formation"})
		},
		func() ([]queue.Event, error) {
			return e.SetBoardMessage(by, map[string]string{"fr": "Fermeture à 16 h"})
		},
		func() ([]queue.Event, error) {
			return e.SaveCounter(by, queue.Counter{ID: "9", Name: "Guichet 9: élections", Channels: []queue.Channel{queue.Phone, queue.Visit}, Services: []string{"X", "A"}})
		},
		func() ([]queue.Event, error) {
			return e.SaveAgent(by, queue.Agent{ID: "zoe", Name: "Zoé L'Hôte", Skills: map[string]int{"X": 5, "A": 1}})
		},
		func() ([]queue.Event, error) {
			return e.SaveSettings(by, queue.Settings{Name: "Mairie: Villeneuve", Languages: []string{"fr", "en", "es"}, PublicURL: "https://guichet.example/x?y=1",
				Info: map[string]string{"fr": "Bienvenue #1", "es": "Bienvenido"}})
		},
	} {
		if _, err := op(); err != nil {
			t.Fatal(err)
		}
	}
	back := roundTrip(t, *e.Site())
	if back.Service("P").Closed == nil || back.Service("X").Hours.Closed["2027-05-01"] != true {
		t.Fatalf("closure or closed date lost: %+v", back.Service("P"))
	}
}
