package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"guichet/hub/auth"
	"guichet/hub/config"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/telephony/webhook"
	"guichet/internal/sitetest"
	"guichet/internal/stdwebhook"
)

// telephonyConfig is crmConfig with a signed-webhook telephony: the queue
// accueil is the service A, the member agent-9 is dan.
const telephonyConfig = crmConfig + `
telephony:
  adapter: webhook
  webhook: { secret_env: GUICHET_TEST_WEBHOOK_SECRET }
  queues: { accueil: A }
  members: { agent-9: dan }
  blending: pbx
`

// The wrap-up of a call over HTTP, through a real hub and signed webhooks:
// dan takes a call from Anne's number and, after hang-up, says it ended
// "renseigné" with a note — both are on the call's entry in her timeline;
// ana, who did not take it, cannot (404, as a call that does not exist);
// a supervisor can, and replaces it. A wrap-up written before hang-up
// goes into the timeline with the call; a call from a number nobody has
// keeps it on its record. An outcome not in the list, a note too long,
// a call nobody took are refused; the note is in no log.
func TestTheAgentWhoTookACallWrapsItUpInTheCallersTimeline(t *testing.T) {
	secret := stdwebhook.NewSecret()
	t.Setenv("GUICHET_TEST_WEBHOOK_SECRET", secret.String())
	s := sitetest.Start(t, sitetest.Options{Config: telephonyConfig, OpenHours: true})
	s.AddAccount("ana", auth.RoleAgent, "ana")
	s.AddAccount("dan", auth.RoleAgent, "dan")
	s.AddAccount("sup", auth.RoleSupervisor, "")
	ana, dan, sup := s.SignIn("ana", sitetest.Password), s.SignIn("dan", sitetest.Password), s.SignIn("sup", sitetest.Password)
	var created struct{ Citizen crm.Citizen }
	must(t, ana, "POST", "/api/v1/citizens", `{"family_name":"LEFEBVRE","first_names":"Anne","phones":["06 12 34 56 78"]}`, 201, &created)
	id := created.Citizen.ID
	sitetest.Eventually(t, 10*time.Second, "the telephony link listening", func() bool { return s.Calls != nil && s.Calls.State().Resyncs >= 1 })
	sender := webhook.Sender{URL: s.HTTPURL + config.WebhookPath, Secret: secret}
	send := func(typ string, c webhook.Call) {
		t.Helper()
		if err := sender.Send(context.Background(), typ, time.Time{}, c); err != nil {
			t.Fatalf("webhook %s: %v", typ, err)
		}
	}
	ticketOf := func(call string) string {
		t.Helper()
		var tk string
		sitetest.Eventually(t, 10*time.Second, "the ticket of call "+call, func() bool {
			s.Hub.Read(func(e *queue.Engine) {
				for _, x := range e.Tickets("", "A") {
					if x.Call == call {
						tk = x.ID
					}
				}
			})
			return tk != ""
		})
		return tk
	}
	ended := func(ticket string) {
		t.Helper()
		sitetest.Eventually(t, 10*time.Second, "the call of "+ticket+" ended", func() bool {
			rec, err := s.CRM.CallRecord(context.Background(), crm.Viewer{ID: "hub", Role: crm.RoleSystem}, ticket)
			return err == nil && !rec.EndedAt.IsZero()
		})
	}
	callEntry := func() *crm.Call {
		t.Helper()
		var tl struct{ Timeline []crm.Entry }
		must(t, ana, "GET", "/api/v1/citizens/"+id+"/timeline", "", 200, &tl)
		for _, e := range tl.Timeline {
			if e.Kind == crm.EntryCall {
				return e.Call
			}
		}
		return nil
	}

	const note = "Demande l'horaire de la mairie annexe ; rappeler si fermée"
	send(webhook.TypeCallWaiting, webhook.Call{CallID: "c1", Queue: "accueil", Number: "+33 6 12 34 56 78"})
	t1 := ticketOf("c1")
	path := "/api/v1/tickets/" + t1 + "/wrapup"
	if st, b, _ := dan.Do("POST", path, `{"outcome":"renseigne"}`); st != 404 {
		t.Fatalf("a wrap-up of a call nobody took: %d %s", st, b)
	}
	send(webhook.TypeCallConnected, webhook.Call{CallID: "c1", Agent: "agent-9"})
	send(webhook.TypeCallEnded, webhook.Call{CallID: "c1", By: "caller"})
	ended(t1)
	var got struct{ Ticket, Outcome, Citizen string }
	must(t, dan, "POST", path, `{"outcome":"renseigne","note":"`+note+`"}`, 200, &got)
	if got.Ticket != t1 || got.Outcome != "renseigne" || got.Citizen != id {
		t.Fatalf("dan's wrap-up answers %+v", got)
	}
	if c := callEntry(); c == nil || c.WrapUp != crm.WrapUpInformed || c.WrapUpNote != note || c.Outcome != "answered" {
		t.Fatalf("the call in Anne's timeline: %+v", c)
	}
	for _, c := range []struct {
		who  string
		body string
		st   int
		code string
	}{
		{"ana", `{"outcome":"sans_suite"}`, 404, "not_found"},
		{"dan", `{"outcome":"answered"}`, 400, "invalid_argument"},
		{"dan", `{"outcome":""}`, 400, "invalid_argument"},
		{"dan", `{"outcome":"message_pris","note":"` + strings.Repeat("é", crm.MaxWrapUpNote+1) + `"}`, 400, "invalid_argument"},
	} {
		se := map[string]*sitetest.Session{"ana": ana, "dan": dan}[c.who]
		if st, b, _ := se.Do("POST", path, c.body); st != c.st || !strings.Contains(string(b), `"`+c.code+`"`) {
			t.Errorf("%s: %.60s: %d %s, want %d %s", c.who, c.body, st, b, c.st, c.code)
		}
	}
	must(t, sup, "POST", path, `{"outcome":"rappel_a_prevoir","note":"Rappeler demain matin"}`, 200, nil)
	if c := callEntry(); c == nil || c.WrapUp != crm.WrapUpCallBack || c.WrapUpNote != "Rappeler demain matin" {
		t.Fatalf("the call in Anne's timeline after the supervisor's wrap-up: %+v", c)
	}

	// Wrapped up before hang-up: the call is filed with it.
	send(webhook.TypeCallWaiting, webhook.Call{CallID: "c2", Queue: "accueil", Number: "06 12 34 56 78"})
	t2 := ticketOf("c2")
	send(webhook.TypeCallConnected, webhook.Call{CallID: "c2", Agent: "agent-9"})
	sitetest.Eventually(t, 10*time.Second, "dan on call c2", func() bool {
		st, _, _ := dan.Do("POST", "/api/v1/tickets/"+t2+"/wrapup", `{"outcome":"transfere","note":"Vers l'état civil"}`)
		return st == 200
	})
	send(webhook.TypeCallEnded, webhook.Call{CallID: "c2", By: "caller"})
	ended(t2)
	var tl struct{ Timeline []crm.Entry }
	must(t, ana, "GET", "/api/v1/citizens/"+id+"/timeline", "", 200, &tl)
	found := false
	for _, e := range tl.Timeline {
		found = found || e.Kind == crm.EntryCall && e.Call.WrapUp == crm.WrapUpTransferred && e.Call.WrapUpNote == "Vers l'état civil"
	}
	if !found {
		t.Fatalf("the call wrapped up before hang-up is not filed with its wrap-up: %+v", tl.Timeline)
	}

	// A number nobody has: the wrap-up stays on the call's record.
	send(webhook.TypeCallWaiting, webhook.Call{CallID: "c3", Queue: "accueil", Number: "01 23 45 67 89"})
	t3 := ticketOf("c3")
	send(webhook.TypeCallConnected, webhook.Call{CallID: "c3", Agent: "agent-9"})
	send(webhook.TypeCallEnded, webhook.Call{CallID: "c3", By: "caller"})
	ended(t3)
	got.Citizen = ""
	must(t, dan, "POST", "/api/v1/tickets/"+t3+"/wrapup", `{"outcome":"message_pris","note":"Message pour M. Durand"}`, 200, &got)
	rec, err := s.CRM.CallRecord(context.Background(), crm.Viewer{ID: "hub", Role: crm.RoleSystem}, t3)
	if err != nil || got.Citizen != "" || rec.WrapUp != crm.WrapUpMessage || rec.WrapUpNote != "Message pour M. Durand" || rec.WrapUpBy != "dan" {
		t.Fatalf("the unknown caller's call: %+v (%v), answered %+v", rec, err, got)
	}
	for _, secret := range []string{"mairie annexe", "Rappeler demain", "Vers l'état civil", "M. Durand"} {
		if strings.Contains(s.Logs.String(), secret) {
			t.Errorf("a wrap-up's note is in the log: %q", secret)
		}
	}
}
