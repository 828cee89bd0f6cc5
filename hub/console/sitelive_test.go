package console_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// An admin's change to the site's names and pause reasons reaches the
// consoles already open, without a reload: the agent's pause dialog offers
// the new reason, and supervision names the renamed agent a ticket is held
// for.
func TestConsolesFollowTheSitesNamesAndReasonsWithoutAReload(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	accounts(s)
	for _, a := range []struct{ login, counter string }{{"ana", "1"}, {"bob", "2"}} {
		if st, b, _ := s.SignIn(a.login, sitetest.Password).Do("POST", "/api/v1/counters/"+a.counter+"/open", ""); st != 200 {
			t.Fatalf("open counter %s: %d %s", a.counter, st, b)
		}
	}
	tk := issue(t, s, "E")
	if st, b := s.Call("POST", "/api/v1/tickets/"+tk.ID+"/transfer", `{"agent":"bob","note":"dossier vu"}`); st != 200 {
		t.Fatalf("transfer to bob: %d %s", st, b)
	}

	agent := browsertest.Browser(t, 1366, 768)
	browsertest.Do(t, agent, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/agent"))
	signIn(t, agent, "ana")
	waitLoaded(t, agent, "#b-pause")
	sup := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, sup, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/supervision"))
	signIn(t, sup, "sup")
	browsertest.WaitText(t, sup, "#tickets", "Réservé à bob", 10*time.Second)

	if st, b := s.Call("PUT", "/api/v1/site/pause-reasons", `{"pause_reasons":["Réunion","Courrier du matin"]}`); st != 200 {
		t.Fatalf("pause reasons: %d %s", st, b)
	}
	if st, b := s.Call("PUT", "/api/v1/site/agents/bob", `{"name":"Robert Durand","skills":{"E":3}}`); st != 200 {
		t.Fatalf("rename bob: %d %s", st, b)
	}

	browsertest.WaitText(t, sup, "#tickets", "Réservé à Robert Durand", 10*time.Second)
	sitetest.Eventually(t, 10*time.Second, "the new pause reason in the agent's page", func() bool {
		return browsertest.Get(t, agent, 5*time.Second, chromedp.Evaluate[bool](`G.site.reasons.includes("Courrier du matin")`))
	})
	browsertest.Do(t, agent, 5*time.Second, chromedp.Click("#b-pause"))
	browsertest.WaitText(t, agent, "#pause-reason", "Courrier du matin", 5*time.Second)
}
