package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"guichet/hub/auth"
	"guichet/hub/config"
	"guichet/hub/queue"
	"guichet/hub/telephony/webhook"
	"guichet/internal/axe"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
	"guichet/internal/stdwebhook"
)

// crmConfig is the test site with its services in sectors: ana (skills A
// and E) writes in accueil and état civil.
const crmConfig = sitetest.Config + `
crm:
  sectors: { A: accueil, E: etat_civil }
`

// newCitizen files Anne LEFEBVRE (06 12 34 56 78) as ana and registers a
// request of hers; it returns the file's id.
func newCitizen(t *testing.T, s *sitetest.Site) string {
	t.Helper()
	ana := s.SignIn("ana", sitetest.Password)
	st, b, _ := ana.Do("POST", "/api/v1/citizens", `{"family_name":"LEFEBVRE","first_names":"Anne","birth_date":"1980-04-12","phones":["06 12 34 56 78"],"email":"anne.lefebvre@example.fr"}`)
	var c struct{ Citizen struct{ ID string } }
	if st != 201 || json.Unmarshal(b, &c) != nil {
		t.Fatalf("create the citizen: %d %s", st, b)
	}
	if st, b, _ := ana.Do("POST", "/api/v1/citizens/"+c.Citizen.ID+"/requests", `{"kind":"acte_etat_civil","title":"Copie intégrale d'acte de naissance","channel":"guichet"}`); st != 201 {
		t.Fatalf("open a request: %d %s", st, b)
	}
	return c.Citizen.ID
}

// openAt signs login in at the agent page and opens counter (named in the
// list of id list: "#choices-visit" or "#choices-phone").
func openAt(t *testing.T, ctx context.Context, s *sitetest.Site, login, list, counter string) {
	t.Helper()
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/agent"))
	signInAt(t, ctx, login)
	browsertest.WaitText(t, ctx, list, "Ouvrir "+counter, 20*time.Second)
	click(t, ctx, list+" li", counter, "Ouvrir "+counter)
}

// callNext waits for number to be next, calls it (Alt+Maj+1) and waits
// for it at the counter.
func callNext(t *testing.T, ctx context.Context, number string) {
	t.Helper()
	browsertest.WaitText(t, ctx, "#next", number, 5*time.Second)
	browsertest.Do(t, ctx, 5*time.Second, shortcut("1"))
	browsertest.WaitText(t, ctx, "#ticket-number", number, 5*time.Second)
}

// openCitizen searches the files for q and opens the first found, once
// name is among them.
func openCitizen(t *testing.T, ctx context.Context, q, name string) {
	t.Helper()
	browsertest.Do(t, ctx, 5*time.Second, chromedp.SendKeys("#citizen-q", q), chromedp.Click("#citizen-search button[type=submit]"))
	browsertest.WaitText(t, ctx, "#citizen-results", name, 5*time.Second)
	clickSel(t, ctx, "#citizen-results button")
}

// signInAt signs in at the sign-in page the browser is on, filling the
// fields rather than typing where the focus is (the keyboard's own flow is
// TestAnAgentSignsInOpensACounterCallsTransfersAndFinishesWithTheKeyboard's).
func signInAt(t *testing.T, ctx context.Context, login string) {
	t.Helper()
	browsertest.WaitText(t, ctx, "h1", "Connexion", 10*time.Second)
	waitLoaded(t, ctx, "#password")
	browsertest.Do(t, ctx, 10*time.Second, chromedp.SetValue("#login", login), chromedp.SetValue("#password", sitetest.Password),
		chromedp.Click(`form button[type=submit]`))
}

// clickSel clicks the first element matching sel, by script (as a click).
func clickSel(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).click()`, sel)))
}

// The issue's browser test, at 1366×768: an agent calls a visitor,
// searches "Lefèbvre" (the file says LEFEBVRE), opens the file (its open
// request with the implicit decision's date), attaches the ticket and
// writes a note holding markup: the note is in the timeline, as text. The
// page with its panels filled is axe-core clean, in French and English.
func TestAnAgentFindsTheCitizenAttachesTheTicketAndWritesANote(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Config: crmConfig, OpenHours: true})
	accounts(s)
	id := newCitizen(t, s)
	tk := issue(t, s, "A")

	ctx := browsertest.Browser(t, 1366, 768)
	openAt(t, ctx, s, "ana", "#choices-visit", "Guichet 1")
	callNext(t, ctx, tk.Number)

	openCitizen(t, ctx, "Lefèbvre", "Anne LEFEBVRE")
	browsertest.WaitText(t, ctx, "#citizen-name", "Anne LEFEBVRE", 5*time.Second)
	waitFocus(t, ctx, "Anne LEFEBVRE")
	browsertest.WaitText(t, ctx, "#citizen-facts", "+33612345678", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-requests", "Copie intégrale d'acte de naissance", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-requests", "acceptation implicite le", 5*time.Second)

	browsertest.WaitText(t, ctx, "#b-attach", "Rattacher le ticket "+tk.Number, 5*time.Second)
	clickSel(t, ctx, "#b-attach")
	browsertest.WaitText(t, ctx, "#attach-state", "Ticket "+tk.Number+" rattaché à ce dossier", 5*time.Second)
	browsertest.WaitText(t, ctx, "#history", "Rattaché au dossier d'un citoyen", 5*time.Second)
	sitetest.Eventually(t, 5*time.Second, "the ticket attached in the hub", func() bool {
		var got queue.Ticket
		s.Hub.Read(func(e *queue.Engine) { got, _ = e.Ticket(tk.ID) })
		return got.Citizen == id
	})

	const note = `<script>document.title="pwned"</script> pièce d'identité à rapporter`
	browsertest.Do(t, ctx, 5*time.Second, chromedp.SetValue("#note-text", note))
	clickSel(t, ctx, "#note-form button[type=submit]")
	browsertest.WaitText(t, ctx, "#note-state", "Note ajoutée", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-timeline", note, 5*time.Second) // the markup, as text
	browsertest.WaitText(t, ctx, "#citizen-timeline", "Note (Accueil)", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-timeline", "par ana", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-timeline", "Demande Copie intégrale d'acte de naissance : Reçue", 5*time.Second)
	if title := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.title`)); title == "pwned" {
		t.Fatal("the note's script ran")
	}
	if n := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("#citizen script").length`)); n != 0 {
		t.Fatalf("the note became %d script element(s)", n)
	}
	if u := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`location.href`)); strings.Contains(u, "bvre") || strings.Contains(u, "?") {
		t.Fatalf("the page's address carries the search: %s", u)
	}
	axe.Serious(t, ctx, "agent console: the citizen file open")
	browsertest.Screenshot(t, ctx, "console-agent-citizen-1366x768")

	// In English, the same file.
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/agent?lang=en"))
	waitLoaded(t, ctx, "#citizen-q")
	browsertest.WaitText(t, ctx, "#ticket-number", tk.Number, 10*time.Second)
	openCitizen(t, ctx, "anne.lefebvre@example.fr", "Anne LEFEBVRE")
	browsertest.WaitText(t, ctx, "#attach-state", "Ticket "+tk.Number+" attached to this file", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-requests", "implicit acceptance on", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-timeline", note, 5*time.Second)
	axe.Serious(t, ctx, "agent console (English): the citizen file open")
	browsertest.Screenshot(t, ctx, "console-agent-citizen-en-1366x768")
}

// A new file from the console's dialog: the agent types the names, the
// birth date, the phone and the e-mail, and the new file opens. A refused
// number is said in words, and what was typed is not in the browser's
// console.
func TestAnAgentCreatesACitizenFromTheConsole(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Config: crmConfig, OpenHours: true})
	accounts(s)
	ctx := browsertest.Browser(t, 1366, 768)
	openAt(t, ctx, s, "ana", "#choices-visit", "Guichet 1")
	browsertest.WaitText(t, ctx, "#where", "Guichet 1", 5*time.Second)
	clickSel(t, ctx, "#b-citizen-new")
	browsertest.WaitText(t, ctx, "#citizen-dialog[open] h2", "Nouveau dossier", 5*time.Second)
	waitFocus(t, ctx, "INPUT#cz-family")
	axe.Serious(t, ctx, "agent console: the new file's dialog")

	// A number that is none is refused in words; what was typed stays out
	// of the browser's console.
	var mu sync.Mutex
	var logged []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventConsoleAPICalled); ok {
			mu.Lock()
			defer mu.Unlock()
			for _, a := range e.Args {
				logged = append(logged, string(a.Value)+a.Description)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	browsertest.Do(t, ctx, 5*time.Second, chromedp.SetValue("#cz-family", "D'Artagnan"), chromedp.SetValue("#cz-phone", "06 98 Z"))
	clickSel(t, ctx, "#citizen-dialog button[type=submit]")
	browsertest.WaitText(t, ctx, "#citizen-error", "Saisie refusée", 5*time.Second)
	mu.Lock()
	if all := strings.Join(logged, " "); strings.Contains(all, "'Z'") || !strings.Contains(all, "invalid_argument") {
		t.Errorf("the browser's console says %q", all)
	}
	mu.Unlock()

	browsertest.Do(t, ctx, 5*time.Second,
		chromedp.SetValue("#cz-family", "D'Artagnan"), chromedp.SetValue("#cz-first", "Charles"),
		chromedp.SetValue("#cz-birth", "1990-02-28"), chromedp.SetValue("#cz-phone", "06.98.76.54.32"),
		chromedp.SetValue("#cz-email", "charles@example.fr"))
	clickSel(t, ctx, "#citizen-dialog button[type=submit]")
	waitNoDialog(t, ctx)
	browsertest.WaitText(t, ctx, "#citizen-name", "Charles D'Artagnan", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-facts", "+33698765432", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-msg", "Dossier créé", 5*time.Second)
	waitFocus(t, ctx, "Charles D'Artagnan")
	if st, b := s.Call("GET", "/api/v1/citizens?q=0698765432", ""); st != 200 || !strings.Contains(string(b), "D'Artagnan") {
		t.Fatalf("the new file is not found by its number: %d %s", st, b)
	}
}

// telephonyConfig is the test site with a signed-webhook telephony: the
// queue accueil is the service A; the member agent-9 is dan.
const telephonyConfig = crmConfig + `
telephony:
  adapter: webhook
  webhook: { secret_env: GUICHET_TEST_WEBHOOK_SECRET }
  queues: { accueil: A }
  members: { agent-9: dan }
  blending: pbx
`

// phoneSite starts the test site with its signed-webhook telephony and
// dan's account, waits for the link to listen, and returns it with the
// hosted telephony's sender of signed webhooks.
func phoneSite(t testing.TB) (*sitetest.Site, func(typ string, c webhook.Call)) {
	t.Helper()
	secret := stdwebhook.NewSecret()
	t.Setenv("GUICHET_TEST_WEBHOOK_SECRET", secret.String())
	s := sitetest.Start(t, sitetest.Options{Config: telephonyConfig, OpenHours: true})
	s.AddAccount("dan", auth.RoleAgent, "")
	sitetest.Eventually(t, 10*time.Second, "the telephony link listening", func() bool { return s.Calls != nil && s.Calls.State().Resyncs >= 1 })
	sender := webhook.Sender{URL: s.HTTPURL + config.WebhookPath, Secret: secret}
	return s, func(typ string, c webhook.Call) {
		t.Helper()
		if err := sender.Send(context.Background(), typ, time.Time{}, c); err != nil {
			t.Fatalf("webhook %s: %v", typ, err)
		}
	}
}

// The screen pop, in Chromium: a call from "+33 6 12 34 56 78" reaches
// dan at the phone position (signed webhooks, as a hosted telephony
// posts them) and the file of Anne LEFEBVRE, filed with "06 12 34 56 78",
// opens by itself; when the caller hangs up, the call is in her timeline.
// A call from a number nobody has says "numéro inconnu" and offers a new
// file with the number. axe-core clean with the call panel filled.
func TestAPhoneCallOpensTheCallersFileByItself(t *testing.T) {
	s, send := phoneSite(t)
	accounts(s)
	newCitizen(t, s)

	ctx := browsertest.Browser(t, 1366, 768)
	openAt(t, ctx, s, "dan", "#choices-phone", "Téléphone")
	browsertest.WaitText(t, ctx, "#where", "Téléphone", 5*time.Second)
	browsertest.WaitText(t, ctx, "#call-none", "Aucun appel", 5*time.Second)

	send(webhook.TypeCallWaiting, webhook.Call{CallID: "c1", Queue: "accueil", Number: "+33 6 12 34 56 78"})
	send(webhook.TypeCallConnected, webhook.Call{CallID: "c1", Agent: "agent-9"})
	browsertest.WaitText(t, ctx, "#call-what", "Appel de +33612345678 (ticket A001) — a attendu < 1 min", 10*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-name", "Anne LEFEBVRE", 5*time.Second) // nobody searched
	browsertest.WaitText(t, ctx, "#call-who", "trouvé par son numéro", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-requests", "Copie intégrale", 5*time.Second)
	axe.Serious(t, ctx, "agent console: the screen pop")
	browsertest.Screenshot(t, ctx, "console-agent-screen-pop-1366x768")

	send(webhook.TypeCallEnded, webhook.Call{CallID: "c1", By: "caller"})
	browsertest.WaitText(t, ctx, "#call-wrapup", "terminé", 10*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-timeline", "Appel — répondu", 10*time.Second)

	send(webhook.TypeCallWaiting, webhook.Call{CallID: "c2", Queue: "accueil", Number: "01 23 45 67 89"})
	send(webhook.TypeCallConnected, webhook.Call{CallID: "c2", Agent: "agent-9"})
	browsertest.WaitText(t, ctx, "#call-who", "Numéro inconnu", 10*time.Second)
	if shown := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[bool](`!document.querySelector("#citizen-file").hidden`)); shown {
		t.Fatal("the last caller's file stays open for a call from an unknown number")
	}
	browsertest.WaitText(t, ctx, "#b-call-create", "Créer un dossier avec ce numéro", 5*time.Second)
	axe.Serious(t, ctx, "agent console: an unknown number")
	browsertest.Screenshot(t, ctx, "console-agent-unknown-number-1366x768")
	clickSel(t, ctx, "#b-call-create")
	browsertest.WaitText(t, ctx, "#citizen-dialog[open] h2", "Nouveau dossier", 5*time.Second)
	if v := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.querySelector("#cz-phone").value`)); v != "0123456789" && v != "01 23 45 67 89" {
		t.Fatalf("the new file's phone is prefilled with %q", v)
	}
}

// Click-to-call, in Chromium: a caller who hung up after waiting past the
// threshold comes back as a callback ticket; the agent at the phone
// position calls it next, the caller's file opens by itself, and
// "Rappeler le …" posts call.originate to the provider's action URL; the
// provider's result is shown.
func TestAnAgentCallsBackACallerFromThePage(t *testing.T) {
	secret := stdwebhook.NewSecret()
	t.Setenv("GUICHET_TEST_WEBHOOK_SECRET", secret.String())
	originated := make(chan webhook.Originate, 4)
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhook.Message
		if json.NewDecoder(r.Body).Decode(&m) == nil && m.Type == webhook.TypeCallOriginate {
			var o webhook.Originate
			if json.Unmarshal(m.Data, &o) == nil {
				originated <- o
			}
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(provider.Close)
	cfg := strings.Replace(telephonyConfig, "secret_env: GUICHET_TEST_WEBHOOK_SECRET }",
		"secret_env: GUICHET_TEST_WEBHOOK_SECRET, action_url: \""+provider.URL+"\" }", 1) + "  callback_after: 1s\n"
	s := sitetest.Start(t, sitetest.Options{Config: cfg, OpenHours: true})
	accounts(s)
	s.AddAccount("dan", auth.RoleAgent, "")
	newCitizen(t, s)
	sitetest.Eventually(t, 10*time.Second, "the telephony link listening", func() bool { return s.Calls != nil && s.Calls.State().Resyncs >= 1 })
	sender := webhook.Sender{URL: s.HTTPURL + config.WebhookPath, Secret: secret}
	send := func(typ string, v any) {
		t.Helper()
		if err := sender.Send(context.Background(), typ, time.Time{}, v); err != nil {
			t.Fatalf("webhook %s: %v", typ, err)
		}
	}
	joined := time.Now().Add(-2 * time.Minute)
	send(webhook.TypeCallWaiting, webhook.Call{CallID: "c1", Queue: "accueil", Number: "06 12 34 56 78", JoinedAt: &joined})
	send(webhook.TypeCallAbandoned, webhook.Call{CallID: "c1", Reason: "hung_up"})
	sitetest.Eventually(t, 10*time.Second, "a callback ticket", func() bool {
		n := 0
		s.Hub.Read(func(e *queue.Engine) {
			for _, tk := range e.Tickets(queue.Waiting, "A") {
				if tk.Callback != "" {
					n++
				}
			}
		})
		return n == 1
	})

	ctx := browsertest.Browser(t, 1366, 768)
	openAt(t, ctx, s, "dan", "#choices-phone", "Téléphone")
	browsertest.WaitText(t, ctx, "#where", "Téléphone", 5*time.Second)
	clickSel(t, ctx, "#b-call_next")
	browsertest.WaitText(t, ctx, "#call-what", "Rappel à faire : 0612345678", 10*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-name", "Anne LEFEBVRE", 5*time.Second)
	browsertest.WaitText(t, ctx, "#b-callback", "Rappeler le 0612345678", 5*time.Second)
	clickSel(t, ctx, "#b-callback")
	var o webhook.Originate
	select {
	case o = <-originated:
	case <-time.After(10 * time.Second):
		t.Fatal("no call.originate reached the provider")
	}
	if o.Agent != "agent-9" || !strings.HasSuffix(o.Number, "612345678") {
		t.Fatalf("call.originate %+v", o)
	}
	send(webhook.TypeOriginateResult, webhook.OriginateResult{Ref: o.Ref, OK: true})
	browsertest.WaitText(t, ctx, "#callback-state", "Votre téléphone sonne", 10*time.Second)
	axe.Serious(t, ctx, "agent console: a callback")
	browsertest.Screenshot(t, ctx, "console-agent-callback-1366x768")
}
