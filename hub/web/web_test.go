package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/api"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

func TestMobileTicketPageFollowsTheTicketLive(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	var tk api.Ticket
	s.Must("POST", "/api/v1/tickets", `{"service":"A","citizen":"crm-secret-42"}`, 201, &tk)
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	var second api.Ticket
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, &second)

	ctx := browsertest.Browser(t, 390, 844) // a small phone
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/t/"+second.Token))
	browsertest.WaitText(t, ctx, "#number", "A003", 5*time.Second)
	browsertest.WaitText(t, ctx, "#status", "2 personnes avant vous", 2*time.Second)
	browsertest.WaitText(t, ctx, "#service", "Accueil", time.Second)
	browsertest.Screenshot(t, ctx, "mobile-ticket-waiting")

	s.Must("POST", "/api/v1/counters/1/open", `{"agent":"ana"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/1/next", ``, 200, nil)
	browsertest.WaitText(t, ctx, "#status", "1 personne avant vous", 2*time.Second)
	s.Must("POST", "/api/v1/counters/2/open", `{"agent":"cat"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/2/next", ``, 200, nil)
	s.Must("POST", "/api/v1/counters/1/next", ``, 200, nil) // A003 to Guichet 1
	browsertest.WaitText(t, ctx, "#status", "C'est à vous !", 2*time.Second)
	browsertest.WaitText(t, ctx, "#wait", "Présentez-vous au Guichet 1", time.Second)
	browsertest.Screenshot(t, ctx, "mobile-ticket-called")

	en := browsertest.Browser(t, 390, 844)
	browsertest.Do(t, en, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/t/"+second.Token+"?lang=en"))
	browsertest.WaitText(t, en, "#status", "It's your turn!", 5*time.Second)

	s.Must("POST", "/api/v1/counters/1/finish", ``, 200, nil)
	browsertest.WaitText(t, ctx, "#status", "Merci de votre visite", 2*time.Second)

	// A finished ticket's stream sends its last state and ends.
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(s.HTTPURL + "/t/" + second.Token + "/events")
	if err != nil {
		t.Fatal(err)
	}
	last, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || strings.Count(string(last), "data: ") != 1 || !strings.Contains(string(last), `"state":"done"`) {
		t.Fatalf("a finished ticket's stream: %q, %v", last, err)
	}

	// The page shows no personal data.
	res, err = http.Get(s.HTTPURL + "/t/" + tk.Token + "/state")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || strings.Contains(string(body), "crm-secret-42") || strings.Contains(string(body), tk.ID) {
		t.Fatalf("state %d: %s", res.StatusCode, body)
	}
}

func TestUnknownTicketTokenSaysSoInFrench(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	res, err := http.Get(s.HTTPURL + "/t/AAAAAAAAAAAAAAAAAAAAAA")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 404 || !strings.Contains(string(body), "pas ou plus suivi") || !strings.Contains(string(body), `lang="fr"`) {
		t.Fatalf("%d: %s", res.StatusCode, body)
	}
	// The refused request is logged, without the token (a citizen's link).
	sitetest.Eventually(t, 2*time.Second, "the 404 logged", func() bool { return strings.Contains(s.Logs.String(), "status=404") })
	if strings.Contains(s.Logs.String(), "AAAAAAAAAAAAAAAAAAAAAA") {
		t.Fatalf("the ticket's token is in the log:\n%s", s.Logs.String())
	}
}

// The hub serves the board itself at /display/, for smart TVs and signage
// players: in French by default, in English on request.
func TestHubDisplayPageFollowsTheCalls(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.Must("POST", "/api/v1/tickets", `{"service":"E"}`, 201, nil)
	s.Must("POST", "/api/v1/tickets", `{"service":"E"}`, 201, nil)

	fr := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, fr, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/display"))
	browsertest.WaitText(t, fr, "#services", "État civil", 5*time.Second)
	browsertest.WaitText(t, fr, "#services", "2 pers.", time.Second)
	browsertest.WaitText(t, fr, "#info", "Bienvenue à la mairie de Test", time.Second)
	en := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, en, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/display/?lang=en"))
	browsertest.WaitText(t, en, "#services", "Civil status", 5*time.Second)

	s.Must("POST", "/api/v1/counters/3/open", `{"agent":"bob"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/3/next", ``, 200, nil)
	browsertest.WaitText(t, fr, "#calls li:first-child", "E001", time.Second)
	browsertest.WaitText(t, fr, "#calls li:first-child", "Guichet 3", time.Second)
	browsertest.WaitText(t, fr, "#services", "1 pers.", time.Second)
	browsertest.WaitText(t, en, "#calls li:first-child", "E001", time.Second)
	browsertest.WaitText(t, en, ".head", "DESK", time.Second)
	browsertest.Screenshot(t, fr, "hub-display")
}

// A ticket taken in English at the kiosk opens in English on a French
// phone, unless the citizen switches.
func TestMobileTicketPageSpeaksTheTicketsLanguage(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	var en, fr api.Ticket
	s.Must("POST", "/api/v1/tickets", `{"service":"A","lang":"en"}`, 201, &en)
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, &fr)
	ctx := browsertest.Browser(t, 390, 844) // the browser says fr-FR
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/t/"+en.Token))
	browsertest.WaitText(t, ctx, "#status", "You are next", 5*time.Second)
	if l := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.documentElement.lang`)); l != "en" {
		t.Fatalf("page language %q, want en", l)
	}
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/t/"+en.Token+"?lang=fr"))
	browsertest.WaitText(t, ctx, "#status", "Vous êtes la prochaine personne", 5*time.Second)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/t/"+fr.Token))
	browsertest.WaitText(t, ctx, "#status", "1 personne avant vous", 5*time.Second)
}

// One visitor and five calls the phone position answers: the screen says
// "1 pers." for a new visitor (it said 6), and a walk-in's phone page says
// one person ahead of them (it said six).
func TestPagesCountOnlyThePeopleAVisitorWaitsBehind(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{OpenHours: true})
	s.Must("POST", "/api/v1/counters/1/open", `{"agent":"ana"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/9/open", `{"agent":"dan"}`, 200, nil)
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	s.Must("POST", "/api/v1/counters/1/next", ``, 200, nil) // ana busy with A001
	s.Must("POST", "/api/v1/counters/9/next", ``, 409, nil) // no call yet
	for range 5 {
		s.Must("POST", "/api/v1/tickets", `{"service":"A","channel":"phone"}`, 201, nil)
	}
	s.Must("POST", "/api/v1/counters/9/next", ``, 200, nil) // dan on the first call
	var walkIn api.Ticket
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, &walkIn)

	board := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, board, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/display/"))
	browsertest.WaitText(t, board, "#services", "Accueil", 5*time.Second)
	if row := browsertest.Text(t, board, "#services tr:first-child"); !strings.Contains(row, "2 pers.") {
		t.Fatalf("board row %q: want 2 people ahead of a new visitor (the 4 calls waiting are the phone position's)", row)
	}
	phone := browsertest.Browser(t, 390, 844)
	browsertest.Do(t, phone, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/t/"+walkIn.Token))
	browsertest.WaitText(t, phone, "#status", "1 personne avant vous", 5*time.Second)
}
