package kiosk_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
	"guichet/kiosk"
)

// siteWith is a site of n services, all open, and one counter.
func siteWith(n int) string {
	names := []string{"Accueil général", "État civil", "Passeports et cartes d'identité", "Urbanisme", "Petite enfance",
		"Action sociale (CCAS)", "Élections", "Recensement citoyen", "Cimetières", "Associations", "Logement",
		"Voirie et propreté", "Sports et jeunesse", "Culture", "Objets trouvés", "Médiathèque", "Marchés et foires",
		"Police municipale", "Scolaire et périscolaire", "Seniors", "Emploi", "Stationnement", "Eau et assainissement", "Déchets"}
	var b strings.Builder
	b.WriteString("site: { id: test, name: \"Mairie de Villeneuve-sur-Lot\", timezone: Europe/Paris }\nservices:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - { id: %c, name: %q }\n", 'A'+i, names[i])
	}
	b.WriteString("counters:\n  - { id: \"1\" }\nagents:\n  - { id: ana, skills: { A: 1 } }\n")
	return b.String()
}

// fit says where the buttons are: whether every service button of the page
// shown, and the priority and appointment buttons, are inside the viewport.
const fitJS = `(() => {
  const inside = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5; };
  const shown = [...document.querySelectorAll("#services .svc")].filter((b) => b.getClientRects().length);
  return JSON.stringify({shown: shown.map((b) => b.value), inside: shown.every(inside),
    actions: inside(document.getElementById("priority")) && inside(document.getElementById("open-checkin")),
    pager: !document.getElementById("pager").hidden, page: document.getElementById("pageno").textContent,
    minHeight: Math.min(...shown.map((b) => b.getBoundingClientRect().height)),
    overflow: shown.some((b) => b.scrollHeight > b.clientHeight + 1),
    scroll: document.documentElement.scrollHeight > innerHeight + 1});
})()`

type fitState struct {
	Shown     []string
	Inside    bool
	Actions   bool
	Pager     bool
	Page      string
	MinHeight float64
	Scroll    bool
	Overflow  bool // a name does not fit its button
}

// On the official 7-inch touchscreen (800×480) only two to four services
// were visible and "Public prioritaire" and "J'ai un rendez-vous" were
// below the fold. Up to 12 services fit whole at 800×480 and 1024×600;
// beyond, they come by pages.
func TestKioskPageFitsSmallTouchscreens(t *testing.T) {
	type site struct {
		n   int
		url string
	}
	var sites []site
	for _, n := range []int{3, 12, 24} {
		s := sitetest.Start(t, sitetest.Options{Config: siteWith(n), OpenHours: true})
		r := newRig(t, s, "kiosk-hall")
		sitetest.Eventually(t, 10*time.Second, "the kiosk's menu", func() bool { return len(r.kiosk.View("fr").Services) == n })
		srv := httptest.NewServer(kiosk.NewPage(r.kiosk))
		t.Cleanup(srv.Close)
		sites = append(sites, site{n, srv.URL})
	}
	// One browser per screen size, on every site: Chromium starts are what
	// this test spends its time on.
	for _, size := range []struct{ w, h int }{{800, 480}, {1024, 600}} {
		b := browsertest.Browser(t, size.w, size.h)
		for _, on := range sites {
			n, url := on.n, on.url
			name := fmt.Sprintf("%d-services-%dx%d", n, size.w, size.h)
			t.Run(name, func(t *testing.T) {
				browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(url+"/"))
				browsertest.WaitText(t, b, "#services", "Accueil", 5*time.Second)
				var st fitState
				browsertest.JSON(t, b, fitJS, &st)
				browsertest.Screenshot(t, b, "kiosk-"+name)
				if !st.Inside || !st.Actions || st.Scroll || st.Overflow {
					t.Fatalf("%+v: every button shown must be inside the screen, without scrolling", st)
				}
				if st.MinHeight < 48 {
					t.Fatalf("%+v: buttons under 48 px are hard to touch", st)
				}
				if n <= 12 {
					if len(st.Shown) != n || st.Pager {
						t.Fatalf("%+v: want all %d services on one page", st, n)
					}
					return
				}
				if st.Pager == (len(st.Shown) == n) {
					t.Fatalf("%+v: pages when all fit, or not all shown without pages", st)
				}
				if !st.Pager {
					return
				}
				// More than fit: pages, and the next pages show the rest.
				if !strings.HasPrefix(st.Page, "1 / ") {
					t.Fatalf("%+v: want pages", st)
				}
				seen := map[string]bool{}
				for _, v := range st.Shown {
					seen[v] = true
				}
				for range 3 {
					browsertest.Do(t, b, 5*time.Second, chromedp.Click(chromedp.CSS("#next")))
					browsertest.JSON(t, b, fitJS, &st)
					if !st.Inside || !st.Actions {
						t.Fatalf("next page: %+v", st)
					}
					for _, v := range st.Shown {
						seen[v] = true
					}
				}
				if len(seen) != n {
					t.Fatalf("the pages show %d of %d services", len(seen), n)
				}
			})
		}
	}
}

// The browser runs in UTC, the site in Paris: the kiosk's clock shows Paris.
func TestKioskClockShowsTheSitesTime(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	r := newRig(t, s, "kiosk-hall")
	r.ready()
	srv := httptest.NewServer(kiosk.NewPage(r.kiosk))
	t.Cleanup(srv.Close)
	b := browsertest.Browser(t, 800, 480)
	browsertest.TimeZone(t, b, "UTC")
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(srv.URL+"/"))
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Now().In(paris)
	browsertest.WaitAnyText(t, b, "#clock", []string{now.Format("15:04"), now.Add(time.Minute).Format("15:04")}, 5*time.Second)
}
