package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"guichet/hub/config"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/server"
	"guichet/hub/telephony/webhook"
	"guichet/internal/sitetest"
	"guichet/internal/stdwebhook"
)

// The screen pop over HTTP, through a real hub and signed webhooks: a
// citizen filed with "06 12 34 56 78" is found for calls from
// "06 12 34 56 78", "+33612345678" and "0033 6 12 34 56 78"; a call from
// another number finds nobody (numéro inconnu). The calls present show no
// number, and a counter without a callback ticket has nothing to call
// back (409 not_a_call).
func TestTheScreenPopFindsTheCallerHoweverTheNumberIsWritten(t *testing.T) {
	secret := stdwebhook.NewSecret()
	t.Setenv("GUICHET_TEST_WEBHOOK_SECRET", secret.String())
	s := mustStartIn(t, t.TempDir(), func(o *server.Options) {
		cfg, site, err := config.Parse("site.yaml", []byte(sitetest.Config+`
telephony:
  adapter: webhook
  webhook: { secret_env: GUICHET_TEST_WEBHOOK_SECRET }
  queues: { accueil: A }
  members: { agent-9: dan }
  blending: pbx
`))
		if err != nil {
			t.Fatal(err)
		}
		site.Policy.IgnoreHours = true
		o.Config, o.Site = cfg, site
	})
	await(t, s.Hub, "the link listening", func() bool { return s.Calls.State().Resyncs == 1 })
	st, b := call(t, nil, s, "POST", "/api/v1/citizens", `{"family_name":"Lefebvre","first_names":"Anne","phones":["06 12 34 56 78"]}`)
	var created struct{ Citizen crm.Citizen }
	if st != 201 || json.Unmarshal(b, &created) != nil {
		t.Fatalf("create: %d %s", st, b)
	}
	sender := webhook.Sender{URL: s.HTTPURL + config.WebhookPath, Secret: secret}
	numbers := map[string]string{"p1": "06 12 34 56 78", "p2": "+33612345678", "p3": "0033 6 12 34 56 78", "p4": "01 23 45 67 89"}
	for _, id := range slices.Sorted(maps.Keys(numbers)) {
		if err := sender.Send(context.Background(), webhook.TypeCallWaiting, time.Time{}, webhook.Call{CallID: id, Queue: "accueil", Number: numbers[id]}); err != nil {
			t.Fatal(err)
		}
	}
	var live []queue.Ticket
	await(t, s.Hub, "four calls' tickets", func() bool {
		s.Hub.Read(func(e *queue.Engine) { live = e.LiveCalls() })
		return len(live) == 4
	})
	for _, tk := range live {
		st, b := call(t, nil, s, "GET", "/api/v1/tickets/"+tk.ID+"/caller", "")
		var c struct {
			Number, E164 string
			Citizens     []crm.Match
		}
		if st != 200 || json.Unmarshal(b, &c) != nil {
			t.Fatalf("caller of %s: %d %s", tk.Call, st, b)
		}
		if c.Number != strings.ReplaceAll(numbers[tk.Call], " ", "") || (tk.Call != "p4" && c.E164 != "+33612345678") {
			t.Errorf("call %s: number %q (%q), sent %q", tk.Call, c.Number, c.E164, numbers[tk.Call])
		}
		switch {
		case tk.Call == "p4" && len(c.Citizens) != 0:
			t.Errorf("a call from another number finds %+v", c.Citizens)
		case tk.Call != "p4" && (len(c.Citizens) != 1 || c.Citizens[0].Citizen.ID != created.Citizen.ID):
			t.Errorf("a call from %q finds %+v, not %s", numbers[tk.Call], c.Citizens, created.Citizen.ID)
		}
	}
	st, b = call(t, nil, s, "GET", "/api/v1/calls", "")
	if st != 200 || strings.Count(string(b), `"ticket"`) != 4 {
		t.Fatalf("calls present: %d %s", st, b)
	}
	for _, n := range []string{"612345678", "123456789", "12 34", "23 45"} {
		if strings.Contains(string(b), n) {
			t.Fatalf("the calls present show a number (%s): %s", n, b)
		}
	}
	st, b = call(t, nil, s, "GET", "/api/v1/tickets/"+fmt.Sprint("no-such-ticket")+"/caller", "")
	if st != 404 {
		t.Fatalf("caller of no ticket: %d %s", st, b)
	}
	st, b = call(t, nil, s, "POST", "/api/v1/counters/9/callback", "")
	if st != 409 || !strings.Contains(string(b), `"not_a_call"`) {
		t.Fatalf("callback from a counter without a callback: %d %s", st, b)
	}
}
