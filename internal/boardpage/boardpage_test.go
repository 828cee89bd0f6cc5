package boardpage_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/api"
	"guichet/internal/boardpage"
	"guichet/internal/browsertest"
	"guichet/internal/live"
)

// fixed is a board source with a fixed view.
type fixed struct {
	v       boardpage.View
	changes live.Notifier
}

func (f *fixed) View(string) boardpage.View       { return f.v }
func (f *fixed) Watch() (<-chan struct{}, func()) { return f.changes.Watch() }

var paris, _ = time.LoadLocation("Europe/Paris")

// busyTownHall is a board with 14 services (two closed, one nobody serves,
// one phone-only) and six calls.
func busyTownHall(now time.Time) boardpage.View {
	cfg := api.SiteConfig{Site: api.SiteInfo{Name: "Mairie de Villeneuve", Timezone: "Europe/Paris"}}
	q := api.Queue{At: now}
	names := []string{"Accueil général", "État civil", "Passeports et cartes d'identité", "Urbanisme", "Petite enfance",
		"Action sociale (CCAS)", "Élections", "Recensement citoyen", "Cimetières", "Associations", "Logement",
		"Voirie et propreté", "Sports et jeunesse", "Culture", "Standard (téléphone)"}
	for i, n := range names {
		w := 60 * (i + 2)
		s := api.ServiceQueue{Service: string(rune('A' + i)), Name: api.Names{"fr": n}, Ahead: i, EstimatedWait: &w, Open: true, Channels: []string{"visit", "phone"}}
		switch i {
		case 3: // closed until the afternoon
			next := time.Date(now.Year(), now.Month(), now.Day(), 13, 30, 0, 0, paris)
			s.Open, s.NextOpen = false, &next
		case 8:
			s.Open = false
		case 5:
			s.EstimatedWait = nil // nobody serves it now
		case 14:
			s.Channels = []string{"phone"} // nobody in the room waits for it
		}
		q.Services = append(q.Services, s)
	}
	var board api.Board
	for i := 6; i >= 1; i-- {
		board.Calls = append(board.Calls, api.Call{Ticket: fmt.Sprintf("A%03d", 40+i), Counter: fmt.Sprint(i), CounterName: fmt.Sprintf("Guichet %d", i), At: now.Add(-time.Duration(6-i) * time.Minute)})
	}
	return boardpage.Build("fr", cfg, board, q, true)
}

func TestBuildSaysWhyAServiceHasNoWait(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, paris)
	v := busyTownHall(now)
	if len(v.Services) != 14 {
		t.Fatalf("%d services on the board, want 14 (the phone-only one is not for the room)", len(v.Services))
	}
	for _, s := range v.Services {
		if s.Wait == "—" || strings.Contains(s.Wait, "0 min") && !s.Closed && s.People == "0 pers." && s.Wait == "0 min" {
			t.Errorf("%s: unexplained %q", s.Name, s.Wait)
		}
	}
	if got := v.Services[3]; got.Wait != "Fermé · ouvre à 13 h 30" || got.People != "" || !got.Closed {
		t.Errorf("closed service: %+v", got)
	}
	if got := v.Services[8]; got.Wait != "Fermé" || !got.Closed {
		t.Errorf("closed service with no opening in a fortnight: %+v", got)
	}
	if got := v.Services[5]; got.Wait != "Aucun guichet ouvert" || !got.Closed {
		t.Errorf("service nobody serves: %+v", got)
	}
	if got := v.Services[0]; got.Wait != "~2 min" || got.People != "0 pers." {
		t.Errorf("open service: %+v", got)
	}
	if v.TZ != "Europe/Paris" {
		t.Errorf("tz = %q", v.TZ)
	}
}

// pageRows returns, for the services table, how many rows there are, how
// many pages they are shown in, and whether every row of the page shown is
// whole inside the panel.
const pageRows = `(() => {
  const box = document.getElementById("svcbox").getBoundingClientRect();
  const rows = [...document.querySelectorAll("#services tr")];
  const shown = rows.filter((r) => r.getClientRects().length);
  return JSON.stringify({rows: rows.length, shown: shown.length, page: document.getElementById("page").textContent,
    inside: shown.every((r) => r.getBoundingClientRect().bottom <= box.bottom + 1),
    cut: shown.some((r) => [...r.cells].some((c) => c.scrollWidth > c.clientWidth + 1)),
    calls: [...document.querySelectorAll("#calls li")].filter((li) => !li.hidden && li.getClientRects().length).length,
    font: parseFloat(getComputedStyle(document.getElementById("services")).fontSize)});
})()`

func TestBoardFitsOrPagesFourteenServices(t *testing.T) {
	src := &fixed{v: busyTownHall(time.Now())}
	src.v.Message = "Le service Passeports ferme exceptionnellement à 16 h aujourd'hui"
	srv := httptest.NewServer(boardpage.Handler(src, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	for _, size := range []struct {
		name string
		w, h int
	}{{"landscape", 1920, 1080}, {"portrait", 1080, 1920}} {
		t.Run(size.name, func(t *testing.T) {
			b := browsertest.Browser(t, size.w, size.h)
			browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(srv.URL+"/"))
			browsertest.WaitText(t, b, "#calls li:first-child", "A046", 5*time.Second)
			var st struct {
				Rows, Shown, Calls int
				Page               string
				Inside, Cut        bool
				Font               float64
			}
			browsertest.JSON(t, b, pageRows, &st)
			if st.Rows != 14 || !st.Inside || st.Cut {
				t.Fatalf("%+v: want 14 rows, those shown whole, no text cut", st)
			}
			if st.Shown < 14 && !strings.HasPrefix(st.Page, "1/") {
				t.Fatalf("%+v: rows hidden without pages", st)
			}
			if st.Font < 14 {
				t.Fatalf("%+v: text too small to read across the room", st)
			}
			if st.Calls < 3 {
				t.Fatalf("%+v: want at least three calls visible", st)
			}
			browsertest.Screenshot(t, b, "board-14-services-"+size.name)
			if st.Shown < 14 { // the other rows come on the next page
				first := browsertest.Text(t, b, "#services")
				browsertest.WaitTextChange(t, b, "#services", first, 10*time.Second)
				browsertest.JSON(t, b, pageRows, &st)
				if !strings.HasPrefix(st.Page, "2/") || !st.Inside {
					t.Fatalf("second page: %+v", st)
				}
			}
		})
	}
}

// The browser runs in UTC and the site in Paris: the clock shows Paris time;
// a simulated day's clock shows the simulated time of day.
func TestBoardClockShowsTheSitesTime(t *testing.T) {
	src := &fixed{v: busyTownHall(time.Now())}
	srv := httptest.NewServer(boardpage.Handler(src, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	b := browsertest.Browser(t, 1920, 1080)
	browsertest.TimeZone(t, b, "UTC")
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(srv.URL+"/"))
	if utc := browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[int](`new Date().getTimezoneOffset()`)); utc != 0 {
		t.Fatalf("the browser is not in UTC: offset %d", utc)
	}
	wantParis := func() []string {
		n := time.Now().In(paris)
		return []string{n.Format("15:04"), n.Add(-time.Minute).Format("15:04")}
	}
	browsertest.WaitAnyText(t, b, "#clock", wantParis(), 5*time.Second)

	sim := time.Date(2026, 12, 1, 10, 42, 0, 0, paris)
	src.v.Clock = &boardpage.Clock{Real: time.Now().UnixMilli(), Sim: sim.UnixMilli(), Speed: 60}
	src.changes.Notify()
	browsertest.WaitAnyText(t, b, "#clock", []string{"10:42", "10:43", "10:44"}, 5*time.Second)
}
