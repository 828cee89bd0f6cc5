package console_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/forecast"
	"guichet/hub/queue"
	"guichet/hub/store"
	"guichet/internal/axe"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// writeHistory writes a generated event log of ten weeks before today into
// the hub's store: service A has 6 tickets at 9, 10 and 11 h on Mondays and
// 3 the other weekdays; E 4 at 14 h on Tuesdays and Thursdays; last week's
// Monday had 9 at 9 h instead of 6. It returns last week's Monday.
func writeHistory(t *testing.T, s *sitetest.Site) time.Time {
	t.Helper()
	var loc *time.Location
	s.Hub.Read(func(e *queue.Engine) { loc = e.Site().Location })
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	thisMonday := today.AddDate(0, 0, -(int(today.Weekday())+6)%7)
	lastMonday := thisMonday.AddDate(0, 0, -7)
	var evs []queue.Event
	n := 0
	add := func(svc string, at time.Time, count int) {
		for i := range count {
			n++
			evs = append(evs, queue.Event{At: at.Add(time.Duration(i) * time.Minute), Type: queue.TicketIssued,
				Ticket: fmt.Sprintf("hist-%d", n), Actor: "kiosk-hall", Service: svc, Number: n, Channel: queue.Visit})
		}
	}
	for d := lastMonday.AddDate(0, 0, -63); d.Before(today); d = d.AddDate(0, 0, 1) {
		at := func(h int) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), h, 5, 0, 0, loc) }
		switch wd := d.Weekday(); {
		case wd == time.Monday:
			for _, h := range []int{9, 10, 11} {
				c := 6
				if d.Equal(lastMonday) && h == 9 {
					c = 9
				}
				add("A", at(h), c)
			}
		case wd >= time.Tuesday && wd <= time.Friday:
			for _, h := range []int{9, 10, 11} {
				add("A", at(h), 3)
			}
			if wd == time.Tuesday || wd == time.Thursday {
				add("E", at(14), 4)
			}
		}
	}
	if err := s.Hub.Store().Append([]*store.Record{{Events: evs}}); err != nil {
		t.Fatal(err)
	}
	return lastMonday
}

// The forecast page, from a generated event log: next week's tickets per
// service, weekday and hour with the agents each hour needs (hub/forecast's
// Plan), the agents of all services per hour, and last week's forecast
// beside the tickets that came. axe-core finds no serious violation in
// French and English; screenshots at 1920×1080 and 1366×768.
func TestForecastPageShowsNextWeekAndLastWeeksForecastAgainstWhatCame(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	accounts(s)
	lastMonday := writeHistory(t, s)
	nextMonday := lastMonday.AddDate(0, 0, 14)
	// Next Monday, 9 h, at A: the mean of the last 8 Mondays, seven at 6
	// and last week's at 9.
	agents, err := forecast.AgentsNeeded(6.375, 4*time.Minute, 10*time.Minute, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang, w                     string
		width, height               int
		monday, a9, e, past, hourly string
	}{
		{"fr", "1920x1080", 1920, 1080, "lun. " + nextMonday.Format("02/01"), fmt.Sprintf("6,4 · %d ag.", agents), "4,0", "18,0 / 21 (-14 %)", "Écart moyen par heure"},
		{"en", "1366x768", 1366, 768, "Mon " + nextMonday.Format("02/01"), fmt.Sprintf("6.4 · %d ag.", agents), "4.0", "18.0 / 21 (-14%)", "Mean deviation per hour"},
	} {
		ctx := browsertest.Browser(t, c.width, c.height)
		browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/supervision/forecast?weeks=8&lang="+c.lang))
		signIn(t, ctx, "sup")
		browsertest.WaitText(t, ctx, "#fc-A", c.monday, 10*time.Second)
		waitLoaded(t, ctx, "#fc-past")
		cell := func(table string, row, col int) string {
			return browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](fmt.Sprintf(
				`(() => { const r = document.querySelectorAll(%q)[%d]; return r ? r.children[%d].innerText.replace(/\s+/g, " ").trim() : ""; })()`,
				table+" tbody tr", row, col)))
		}
		heads := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#fc-A thead th")].map((th) => th.textContent)`))
		if len(heads) != 6 || heads[1] != c.monday {
			t.Errorf("%s: the days of next week %q, want the hour then Monday to Friday", c.lang, heads)
		}
		if got := cell("#fc-A", 0, 0); got != "9 h" {
			t.Errorf("%s: A's first hour %q", c.lang, got)
		}
		if got := cell("#fc-A", 0, 1); got != c.a9 {
			t.Errorf("%s: A, Monday 9 h: %q, want %q", c.lang, got, c.a9)
		}
		if got := cell("#fc-staff", 0, 1); got != fmt.Sprint(agents) {
			t.Errorf("%s: agents of all services, Monday 9 h: %q, want %d", c.lang, got, agents)
		}
		// E: Tuesday (column 2) at 14 h (the hours are 9, 10, 11, 14).
		if got := cell("#fc-E", 3, 2); !strings.HasPrefix(got, c.e+" ") {
			t.Errorf("%s: E, Tuesday 14 h: %q, want %s tickets", c.lang, got, c.e)
		}
		past := text(t, ctx, "#fc-past")
		if got := cell("#fc-past", 0, 1); got != c.past {
			t.Errorf("%s: last Monday at A, forecast / actual %q, want %q (%s)", c.lang, got, c.past, past)
		}
		if !strings.Contains(past, c.hourly) {
			t.Errorf("%s: no hourly deviation: %s", c.lang, past)
		}
		axe.Serious(t, ctx, "forecast ("+c.lang+")")
		browsertest.Screenshot(t, ctx, "console-forecast-"+c.lang+"-"+c.w)
	}
}

// The forecast page refuses a period it cannot read with a clear message,
// and a site without history says so rather than drawing empty tables.
func TestForecastPageRefusesBadSettingsAndSaysWhenThereIsNoHistory(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	accounts(s)
	sup := s.SignIn("sup", sitetest.Password)
	for _, q := range []string{"weeks=0", "weeks=abc", "weeks=105", "from=lundi"} {
		st, b, _ := sup.Do("GET", "/supervision/forecast?"+q, "")
		if st != 400 || !strings.Contains(string(b), `role="alert"`) {
			t.Errorf("?%s: %d", q, st)
		}
	}
	st, b, _ := sup.Do("GET", "/supervision/forecast", "")
	if st != 200 || !strings.Contains(string(b), "Aucun ticket attendu") {
		t.Errorf("without history: %d %s", st, b)
	}
}
