package webhook_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// site starts a hub whose site file has the destination yaml (one flow
// mapping); the receiver's secret is in $TEST_WEBHOOK_SECRET.
func site(t *testing.T, r *sitetest.Receiver, yaml string) *sitetest.Site {
	t.Helper()
	t.Setenv("TEST_WEBHOOK_SECRET", r.Secret.String())
	cfg := sitetest.Config + "destinations:\n  - " + yaml + "\n"
	return sitetest.Start(t, sitetest.Options{Config: cfg, OpenHours: true})
}

func dest(r *sitetest.Receiver, extra string) string {
	return fmt.Sprintf(`{ name: crm, type: webhook, url: %q, secret_env: TEST_WEBHOOK_SECRET%s }`, r.URL, extra)
}

// serveOne issues a ticket, calls it at counter 1 and serves it.
func serveOne(s *sitetest.Site, body string) api.Ticket {
	var tk api.Ticket
	s.Must("POST", "/api/v1/tickets", body, 201, &tk)
	s.Must("POST", "/api/v1/counters/9/open", `{"agent":"ana"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/9/next", ``, 200, nil)
	s.Must("POST", "/api/v1/counters/9/start", ``, 200, nil)
	s.Must("POST", "/api/v1/counters/9/finish", ``, 200, nil)
	return tk
}

// A served ticket's events each say what a CRM needs on their own: the
// number as displayed, the service and its name, the channel, the counter
// and agent names, times with the site's offset — and no personal data to
// a destination not configured for the CRM.
func TestWebhookEventsCarryWhatACRMNeedsAndNoPersonalData(t *testing.T) {
	r := sitetest.NewReceiver(t)
	r.Start()
	s := site(t, r, dest(r, ""))
	tk := serveOne(s, `{"service":"A","channel":"phone","citizen":"Jean Dupont, 06 01 02 03 04"}`)
	ids, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
	r.WaitFor(ids, 10*time.Second)
	var served *api.CloudEvent
	for _, id := range r.Received() {
		ce, _ := r.Event(id)
		if strings.Contains(string(ce.Data), "Dupont") || strings.Contains(string(ce.Data), `"token"`) {
			t.Fatalf("personal data sent to a public destination: %s", ce.Data)
		}
		if ce.Type == "ticket.served" {
			served = &ce
		}
	}
	if served == nil {
		t.Fatal("no ticket.served")
	}
	var d api.EventData
	if err := json.Unmarshal(served.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Number != tk.Number || d.Service != "A" || d.ServiceName != "Accueil" || d.Channel != "phone" ||
		d.Counter != "9" || d.CounterName != "Téléphone" || d.Agent != "ana" || d.Ticket != tk.ID || d.IssuedAt == nil {
		t.Fatalf("ticket.served data: %+v", d)
	}
	if _, off := d.At.Zone(); off != 3600 && off != 7200 {
		t.Fatalf("time %s not with Paris's offset", d.At)
	}
	raw, _ := json.Marshal(served)
	if !strings.Contains(string(raw), "+01:00") && !strings.Contains(string(raw), "+02:00") {
		t.Fatalf("times on the wire without the site's offset: %s", raw)
	}
	if served.ID != "test-"+served.Sequence || served.Source != "urn:guichet:test" || served.Subject != tk.ID {
		t.Fatalf("attributes: %+v", served)
	}
}

// A destination configured for the CRM gets the free-text citizen field;
// never the QR token.
func TestCRMDestinationGetsTheCitizenButNeverTheToken(t *testing.T) {
	r := sitetest.NewReceiver(t)
	r.Start()
	s := site(t, r, dest(r, ", crm: true"))
	var tk api.Ticket
	s.Must("POST", "/api/v1/tickets", `{"service":"A","citizen":"Jean Dupont"}`, 201, &tk)
	ids, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
	r.WaitFor(ids, 10*time.Second)
	ce, _ := r.Event(ids[len(ids)-1])
	if !strings.Contains(string(ce.Data), `"citizen":"Jean Dupont"`) || tk.Token != "" && strings.Contains(string(ce.Data), tk.Token) {
		t.Fatalf("ticket.issued to the CRM: %s", ce.Data)
	}
}

// Batched mode posts arrays; filters by type leave the rest out.
func TestBatchedWebhookWithATypeFilter(t *testing.T) {
	r := sitetest.NewReceiver(t)
	s := site(t, r, dest(r, `, mode: batched, batch: 50, types: ["ticket.issued"]`))
	for range 30 {
		s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	}
	s.Must("POST", "/api/v1/counters/1/open", `{"agent":"ana"}`, 200, nil)
	r.Start() // down until now: 30 events wait
	var issued []string
	var p api.CloudEventsPage
	s.Must("GET", "/api/v1/cloudevents?limit=1000", "", 200, &p)
	for _, ce := range p.Events {
		if ce.Type == "ticket.issued" {
			issued = append(issued, ce.ID)
		}
	}
	r.WaitFor(issued, 15*time.Second)
	for _, id := range r.Received() {
		if ce, _ := r.Event(id); ce.Type != "ticket.issued" {
			t.Fatalf("%s delivered past the filter", ce.Type)
		}
	}
	if n := r.Requests(); n > 5 {
		t.Fatalf("%d requests for 30 events in batches of 50", n)
	}
}

// destinations reads the outbox's state over the API.
func destinations(t *testing.T, s *sitetest.Site) map[string]api.Destination {
	t.Helper()
	var out struct{ Destinations []api.Destination }
	s.Must("GET", "/api/v1/destinations", "", 200, &out)
	m := map[string]api.Destination{}
	for _, d := range out.Destinations {
		m[d.Name] = d
	}
	return m
}

// A receiver that fails in every way a network can: each is tried again
// with backoff until it takes the event, and every event arrives.
func TestWebhookRetriesUntilTaken(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"500": func(w http.ResponseWriter) { http.Error(w, "boom", 500) },
		"timeout": func(w http.ResponseWriter) {
			time.Sleep(700 * time.Millisecond) // past the destination's 300ms timeout
		},
		"cut mid-body": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			w.Write([]byte(`{"ok":`))
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		},
		"429": func(w http.ResponseWriter) { http.Error(w, "slow down", 429) },
	}
	for name, fail := range cases {
		t.Run(name, func(t *testing.T) {
			r := sitetest.NewReceiver(t)
			r.Behave(func(w http.ResponseWriter, _ *http.Request, n int) bool {
				if n <= 3 {
					fail(w)
					return true
				}
				return false
			})
			r.Start()
			s := site(t, r, dest(r, ", timeout: 300ms, max_backoff: 100ms"))
			for range 5 {
				s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
			}
			ids, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
			r.WaitFor(ids, 15*time.Second)
			if n := r.Requests(); n < len(ids)+3 {
				t.Fatalf("%d requests: the failures were not tried again", n)
			}
			sitetest.Eventually(t, 5*time.Second, "the destination caught up", func() bool {
				d := destinations(t, s)["crm"]
				return d.State == "ok" && d.DeadLetters == 0 && d.Behind == 0
			})
			if !strings.Contains(s.Logs.String(), "destination failing") || !strings.Contains(s.Logs.String(), "destination back") {
				t.Fatalf("the failure and the recovery are not logged:\n%s", s.Logs)
			}
		})
	}
}

// A slow receiver (within the timeout) is waited for: nothing is sent twice.
func TestSlowWebhookIsWaitedFor(t *testing.T) {
	r := sitetest.NewReceiver(t)
	r.Behave(func(w http.ResponseWriter, _ *http.Request, n int) bool {
		time.Sleep(150 * time.Millisecond)
		return false
	})
	r.Start()
	s := site(t, r, dest(r, ", timeout: 2s"))
	for range 3 {
		s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	}
	ids, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
	r.WaitFor(ids, 10*time.Second)
	if n := r.Repeats(); n != 0 {
		t.Fatalf("%d events sent twice to a slow receiver", n)
	}
}

// A 422 is refused for good: the event goes to the dead letters with the
// receiver's reason, the others go on; an admin replays it once the
// receiver takes it, and it leaves the list.
func TestRefusedEventGoesToDeadLettersAndIsReplayed(t *testing.T) {
	r := sitetest.NewReceiver(t)
	var mu sync.Mutex
	refuse := "none yet"
	r.Behave(func(w http.ResponseWriter, req *http.Request, n int) bool {
		mu.Lock()
		defer mu.Unlock()
		if req.Header.Get("ce-id") == refuse {
			http.Error(w, `{"error":"unknown service","contact":"DUPONT Marie"}`, 422)
			return true
		}
		return false
	})
	r.Start()
	s := site(t, r, dest(r, ""))
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	_, last := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
	mu.Lock()
	refuse = fmt.Sprintf("test-%d", last+1) // the next ticket's
	mu.Unlock()
	for range 2 {
		s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	}
	r.WaitFor([]string{fmt.Sprintf("test-%d", last), fmt.Sprintf("test-%d", last+2)}, 10*time.Second)
	var dl struct {
		DeadLetters []api.DeadLetter `json:"dead_letters"`
	}
	s.Must("GET", "/api/v1/destinations/crm/dead-letters", "", 200, &dl)
	if len(dl.DeadLetters) != 1 || dl.DeadLetters[0].ID != refuse || !strings.Contains(dl.DeadLetters[0].Reason, "422") ||
		!strings.Contains(dl.DeadLetters[0].Reason, "unknown service") {
		t.Fatalf("dead letters: %+v", dl.DeadLetters)
	}
	// What the receiver said may echo personal data: kept with the dead
	// letters for an admin, never in the log nor in supervision's view.
	if strings.Contains(s.Logs.String(), "DUPONT") {
		t.Error("the receiver's words reached the hub's log")
	}
	if d := destinations(t, s)["crm"]; strings.Contains(d.LastError, "DUPONT") {
		t.Errorf("the receiver's words reached the destination's state: %q", d.LastError)
	}
	if st, _ := s.Call("GET", "/api/v1/destinations/nope/dead-letters", ""); st != 404 {
		t.Fatalf("unknown destination: %d", st)
	}
	mu.Lock()
	dead := refuse
	refuse = ""
	mu.Unlock()
	var res api.Replayed
	s.Must("POST", "/api/v1/destinations/crm/replay", `{}`, 200, &res)
	if res.Delivered != 1 || len(res.Failed) != 0 {
		t.Fatalf("replay: %+v", res)
	}
	if _, ok := r.Event(dead); !ok {
		t.Fatal("the replayed event did not arrive")
	}
	s.Must("GET", "/api/v1/destinations/crm/dead-letters", "", 200, &dl)
	if len(dl.DeadLetters) != 0 {
		t.Fatalf("still dead after replay: %+v", dl.DeadLetters)
	}
}

// A receiver that answers 410 Gone stops the destination: the event is a
// dead letter, the next ones wait in the log (not lost) until an admin
// resumes it.
func TestGoneStopsTheDestinationUntilResumed(t *testing.T) {
	r := sitetest.NewReceiver(t)
	var gone atomic.Bool
	gone.Store(true)
	r.Behave(func(w http.ResponseWriter, _ *http.Request, n int) bool {
		if gone.Load() {
			http.Error(w, "the hook of DUPONT Marie was deleted", 410)
			return true
		}
		return false
	})
	r.Start()
	s := site(t, r, dest(r, ""))
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	first, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
	sitetest.Eventually(t, 10*time.Second, "the destination gone", func() bool { return destinations(t, s)["crm"].State == "gone" })
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	before := r.Requests()
	time.Sleep(300 * time.Millisecond) // a stopped destination sends nothing
	if r.Requests() != before {
		t.Fatal("a gone destination was sent to")
	}
	if d := destinations(t, s)["crm"]; d.DeadLetters != 1 || !strings.Contains(d.LastError, "410") || d.Behind == 0 ||
		strings.Contains(d.LastError, "DUPONT") {
		t.Fatalf("gone: %+v", d)
	}
	if strings.Contains(s.Logs.String(), "DUPONT") {
		t.Error("the receiver's words reached the hub's log")
	}
	gone.Store(false)
	s.Must("POST", "/api/v1/destinations/crm/resume", ``, 200, nil)
	all, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
	r.WaitFor(all[len(first):], 10*time.Second)
	if _, ok := r.Event(first[0]); ok {
		t.Fatal("the dead letter was sent without a replay")
	}
}

// A destination failing longer than its limit files what it still fails
// as dead letters and goes on; nothing is lost: a replay delivers them.
func TestDestinationFailingPastItsLimitFilesDeadLetters(t *testing.T) {
	r := sitetest.NewReceiver(t)
	var down atomic.Bool
	down.Store(true)
	r.Behave(func(w http.ResponseWriter, _ *http.Request, n int) bool {
		if down.Load() {
			http.Error(w, "maintenance", 503)
			return true
		}
		return false
	})
	r.Start()
	s := site(t, r, dest(r, ", dead_letter_after: 300ms, max_backoff: 50ms"))
	for range 3 {
		s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	}
	before, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
	sitetest.Eventually(t, 10*time.Second, "every event a dead letter", func() bool {
		return destinations(t, s)["crm"].DeadLetters == len(before)
	})
	down.Store(false)
	var res api.Replayed
	s.Must("POST", "/api/v1/destinations/crm/replay", `{}`, 200, &res)
	if res.Delivered != len(before) {
		t.Fatalf("replay: %+v", res)
	}
	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	ids, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
	for _, id := range ids {
		sitetest.Eventually(t, 10*time.Second, id, func() bool { _, ok := r.Event(id); return ok })
	}
}
