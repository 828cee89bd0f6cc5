package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/server"
	"guichet/hub/telephony/webhook"
	"guichet/internal/sitetest"
	"guichet/internal/stdwebhook"
)

// amiSite is sitetest's site with the recorded Asterisk's queue feeding
// service A and its two members ana and dan.
func amiSite(t testing.TB, addr string) func(*server.Options) {
	return func(o *server.Options) {
		t.Setenv("GUICHET_TEST_AMI_SECRET", "secret")
		cfg, site, err := config.Parse("site.yaml", []byte(sitetest.Config+`
telephony:
  adapter: ami
  ami: { addr: "`+addr+`", username: ceo, secret_env: GUICHET_TEST_AMI_SECRET, originate_context: from-internal }
  queues: { reception: A }
  members: { "Local/100@agents/n": ana, "Local/101@agents/n": dan }
`))
		if err != nil {
			t.Fatal(err)
		}
		site.Policy.IgnoreHours = true
		o.Config, o.Site = cfg, site
	}
}

func hubDo(t testing.TB, h *hub.Hub, act hub.Action) hub.Reply {
	t.Helper()
	r, err := h.Do(context.Background(), "", "test", act, func(hub.Outcome, json.RawMessage) []byte { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// await waits until cond holds, told by the queue's changes, within 20 s.
func await(t testing.TB, h *hub.Hub, what string, cond func() bool) {
	t.Helper()
	ch, cancel := h.Watch()
	defer cancel()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The recorded Asterisk session through a real hub: the AMI adapter logs
// in, the hub pauses both members (nobody was given a call), and the
// recorded calls become phone tickets — the two the agent took are served
// at the phone position, the one given up is cancelled — with their calls
// in the calls store and no caller's number in the event log.
func TestTheRecordedAsteriskSessionThroughARealHub(t *testing.T) {
	ast := startAsterisk(t)
	s := mustStartIn(t, t.TempDir(), amiSite(t, ast.addr()))
	act, _ := hub.CounterAction(api.OpOpen, "9", &api.OpenArgs{Agent: "dan"})
	if r := hubDo(t, s.Hub, act); !r.Done() {
		t.Fatal(r.Message)
	}
	await(t, s.Hub, "the link's first resynchronisation and pauses", func() bool {
		return s.Calls.State().Resyncs == 1 && len(ast.pauses()) >= 2
	})
	_, _, events := recordedAsterisk(t)
	ast.replay <- events
	type state struct{ done, cancelled, live int }
	count := func() (st state) {
		s.Hub.Read(func(e *queue.Engine) {
			for _, tk := range e.Tickets("", "A") {
				switch {
				case tk.Call == "":
				case tk.State == queue.Done && tk.Counter == "9" && tk.Agent == "dan":
					st.done++
				case tk.State == queue.Cancelled:
					st.cancelled++
				default:
					st.live++
				}
			}
		})
		return st
	}
	await(t, s.Hub, "two calls served at the phone position and one given up", func() bool { return count() == state{done: 2, cancelled: 1} })
	pauses := strings.Join(ast.pauses(), "\n")
	for _, want := range []string{"QueuePause Local/100@agents/n true hors ligne", "QueuePause Local/101@agents/n true en attente"} {
		if !strings.Contains(pauses, want) {
			t.Errorf("the hub did not ask %q; it asked:\n%s", want, pauses)
		}
	}
	dpo := crm.Viewer{ID: "dpo", Role: crm.RoleDPO}
	outcomes := map[string]int{}
	await(t, s.Hub, "the three calls' records ended", func() bool {
		recs, err := s.CRM.CallRecords(context.Background(), dpo, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		outcomes = map[string]int{}
		for _, r := range recs {
			outcomes[r.Outcome]++
			if r.Number != "0612345678" || r.Queue != "reception" {
				t.Fatalf("record %+v", r)
			}
		}
		return outcomes["answered"] == 2 && outcomes["abandoned"] == 1
	})
	evs, err := s.Store.Events(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		if bytes.Contains(b, []byte("0612345678")) || bytes.Contains(b, []byte("Dupont")) {
			t.Fatalf("event %s holds the caller's number or name: %s", ev.Type, b)
		}
	}
}

// A telephony that posts signed webhooks reaches the hub at
// config.WebhookPath, outside the API's tokens: a signed call.waiting is a
// phone ticket; a message signed with another secret is refused (401) and
// changes nothing.
func TestAWebhookTelephonyPostsItsCallsToTheHub(t *testing.T) {
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
	url := s.HTTPURL + config.WebhookPath
	await(t, s.Hub, "the link listening", func() bool { return s.Calls.State().Resyncs == 1 })
	wrong := webhook.Sender{URL: url, Secret: stdwebhook.NewSecret()}
	err := wrong.Send(context.Background(), webhook.TypeCallWaiting, time.Time{}, webhook.Call{CallID: "w1", Queue: "accueil", Number: "0612345678"})
	var st *webhook.StatusError
	if !errors.As(err, &st) || st.Status != 401 {
		t.Fatalf("a message signed with another secret: %v", err)
	}
	right := webhook.Sender{URL: url, Secret: secret}
	if err := right.Send(context.Background(), webhook.TypeCallWaiting, time.Time{}, webhook.Call{CallID: "w2", Queue: "accueil", Number: "0612345678"}); err != nil {
		t.Fatal(err)
	}
	var live []queue.Ticket
	await(t, s.Hub, "the call's ticket", func() bool {
		s.Hub.Read(func(e *queue.Engine) { live = e.LiveCalls() })
		return len(live) > 0
	})
	if len(live) != 1 || live[0].Call != "w2" || !live[0].ByPBX || live[0].Service != "A" {
		t.Fatalf("live calls %+v", live)
	}
}

// BenchmarkAMICallJoinToTicket: the AMI adapter end to end, through a real
// hub: a QueueCallerJoin (the recorded one, under a new Uniqueid) written
// on the AMI connection → read and translated by the adapter → the
// bridge → the phone ticket in the queue, durable. The recorded hang-up
// that follows it (QueueCallerAbandon and the channels' ends) then clears
// the call, outside the measure. It reports calls per second, p50 and p99.
func BenchmarkAMICallJoinToTicket(b *testing.B) {
	ast := startAsterisk(b)
	s := mustStartIn(b, b.TempDir(), amiSite(b, ast.addr()))
	await(b, s.Hub, "the first resynchronisation", func() bool { return s.Calls.State().Resyncs == 1 })
	_, _, events := recordedAsterisk(b)
	const uid = "1795335038.10"
	var join string
	var rest []string
	for _, e := range events {
		switch {
		case strings.HasPrefix(e, "Event: QueueCallerJoin") && strings.Contains(e, uid):
			join = e
		case join != "" && strings.Contains(e, uid) && !strings.HasPrefix(e, "Event: OriginateResponse"):
			rest = append(rest, e)
		}
	}
	live := func(id string) bool {
		var ok bool
		s.Hub.Read(func(e *queue.Engine) { _, ok = e.LiveCall(id) })
		return ok
	}
	changes, cancel := s.Hub.Watch()
	defer cancel()
	wait := func(cond func() bool) {
		deadline := time.After(30 * time.Second)
		for !cond() {
			select {
			case <-changes:
			case <-deadline:
				b.Fatal("timed out")
			}
		}
	}
	lat := make([]time.Duration, 0, b.N)
	var measured time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("1795400000.%d", i)
		start := time.Now()
		ast.replay <- []string{strings.ReplaceAll(join, uid, id)}
		wait(func() bool { return live(id) })
		d := time.Since(start)
		lat = append(lat, d)
		measured += d
		b.StopTimer()
		var after []string
		for _, e := range rest {
			after = append(after, strings.ReplaceAll(e, uid, id))
		}
		ast.replay <- after
		wait(func() bool { return !live(id) })
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/measured.Seconds(), "calls/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
