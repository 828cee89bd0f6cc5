package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/telephony/webhook"
	"guichet/internal/axe"
	"guichet/internal/browsertest"
)

// The wrap-up after a call, in Chromium through a real hub with a signed
// webhook telephony: a call from Anne's number reaches dan and her file
// pops; when the caller hangs up, the call panel offers the wrap-up (an
// outcome from the list, a note); saved, it is on the call in her
// timeline, in French and in English. A call from a number nobody has is
// wrapped up too: kept with the call. axe-core clean with the form shown.
func TestAfterHangUpTheAgentWrapsUpTheCallInTheTimeline(t *testing.T) {
	s, send := phoneSite(t)
	accounts(s)
	newCitizen(t, s)

	ctx := browsertest.Browser(t, 1366, 768)
	openAt(t, ctx, s, "dan", "#choices-phone", "Téléphone")
	browsertest.WaitText(t, ctx, "#call-none", "Aucun appel", 5*time.Second)
	if browsertest.Visible(t, ctx, "#wrapup-form") {
		t.Fatal("a wrap-up is offered before any call")
	}

	send(webhook.TypeCallWaiting, webhook.Call{CallID: "c1", Queue: "accueil", Number: "+33 6 12 34 56 78"})
	send(webhook.TypeCallConnected, webhook.Call{CallID: "c1", Agent: "agent-9"})
	browsertest.WaitText(t, ctx, "#citizen-name", "Anne LEFEBVRE", 10*time.Second)
	if browsertest.Visible(t, ctx, "#wrapup-form") {
		t.Fatal("a wrap-up is offered during the call")
	}
	send(webhook.TypeCallEnded, webhook.Call{CallID: "c1", By: "caller"})
	browsertest.WaitText(t, ctx, "#wrapup-form legend", "Suite de l'appel A001", 10*time.Second)
	opts := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`[...document.querySelectorAll("#wrapup-outcome option")].map((o) => o.textContent).join(", ")`))
	if opts != "Renseigné, Transféré, Rappel à prévoir, Message pris, Sans suite" {
		t.Fatalf("the outcomes offered: %s", opts)
	}
	const note = "Rappeler après 14 h pour le livret de famille"
	browsertest.Do(t, ctx, 5*time.Second, chromedp.SetValue("#wrapup-outcome", "rappel_a_prevoir"), chromedp.SetValue("#wrapup-note", note))
	clickSel(t, ctx, "#wrapup-form button[type=submit]")
	browsertest.WaitText(t, ctx, "#wrapup-state", "Suite enregistrée dans l'historique du dossier.", 10*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-timeline", "Appel — répondu", 10*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-timeline", "suite : Rappel à prévoir", 10*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-timeline", note, 5*time.Second)
	axe.Serious(t, ctx, "agent console: the wrap-up after a call")
	browsertest.Screenshot(t, ctx, "console-agent-wrapup-1366x768")

	// A number nobody has: the wrap-up stays with the call.
	send(webhook.TypeCallWaiting, webhook.Call{CallID: "c2", Queue: "accueil", Number: "01 23 45 67 89"})
	send(webhook.TypeCallConnected, webhook.Call{CallID: "c2", Agent: "agent-9"})
	browsertest.WaitText(t, ctx, "#call-who", "Numéro inconnu", 10*time.Second)
	if browsertest.Visible(t, ctx, "#wrapup-form") {
		t.Fatal("the last call's wrap-up stays offered during the next call")
	}
	send(webhook.TypeCallEnded, webhook.Call{CallID: "c2", By: "caller"})
	browsertest.WaitText(t, ctx, "#wrapup-form legend", "Suite de l'appel A002", 10*time.Second)
	browsertest.Do(t, ctx, 5*time.Second, chromedp.SetValue("#wrapup-outcome", "message_pris"), chromedp.SetValue("#wrapup-note", "Message pour le service urbanisme"))
	clickSel(t, ctx, "#wrapup-form button[type=submit]")
	browsertest.WaitText(t, ctx, "#wrapup-state", "Suite enregistrée avec l'appel", 10*time.Second)
	var tk2 string
	s.Hub.Read(func(e *queue.Engine) {
		for _, x := range e.Tickets("", "A") {
			if x.Call == "c2" {
				tk2 = x.ID
			}
		}
	})
	rec, err := s.CRM.CallRecord(context.Background(), crm.Viewer{ID: "hub", Role: crm.RoleSystem}, tk2)
	if err != nil || rec.WrapUp != crm.WrapUpMessage || rec.WrapUpNote != "Message pour le service urbanisme" || rec.Citizen != "" {
		t.Fatalf("the unknown caller's call %q: %+v (%v)", tk2, rec, err)
	}

	// In English, Anne's file says the same.
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/agent?lang=en"))
	waitLoaded(t, ctx, "#citizen-q")
	openCitizen(t, ctx, "Lefebvre", "Anne LEFEBVRE")
	browsertest.WaitText(t, ctx, "#citizen-timeline", "outcome: Call back later", 5*time.Second)
	browsertest.WaitText(t, ctx, "#citizen-timeline", note, 5*time.Second)
	if strings.Contains(s.Logs.String(), "livret de famille") || strings.Contains(s.Logs.String(), "service urbanisme") {
		t.Error("a wrap-up's note is in the hub's log")
	}
	axe.Serious(t, ctx, "agent console (English): a call wrapped up in the timeline")
}
