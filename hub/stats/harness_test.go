package stats

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/hub/store"
)

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return l
}()

// testSite: Accueil (A, visit and phone, target 10 min) and État civil (E,
// visit, target 15 min); counter 1 serves A, counter 2 serves E, 9 is the
// phone position; agents ana and bob.
func testSite() queue.Site {
	p := queue.DefaultPolicy()
	p.IgnoreHours = true
	return queue.Site{
		ID: "test", Name: "Mairie de Test", Location: paris, Policy: p,
		Services: []queue.Service{
			{ID: "A", Names: map[string]string{"fr": "Accueil", "en": "Enquiries"}, SLA: 10 * time.Minute,
				Channels: []queue.Channel{queue.Visit, queue.Phone}, ServiceTime: 5 * time.Minute},
			{ID: "E", Names: map[string]string{"fr": "État civil", "en": "Civil status"}, SLA: 15 * time.Minute,
				Channels: []queue.Channel{queue.Visit}, ServiceTime: 8 * time.Minute},
		},
		Counters: []queue.Counter{
			{ID: "1", Name: "Guichet 1", Services: []string{"A"}},
			{ID: "2", Name: "Guichet 2", Services: []string{"E"}},
			{ID: "9", Name: "Téléphone", Channels: []queue.Channel{queue.Phone}},
		},
		Agents: []queue.Agent{
			{ID: "ana", Name: "Ana Martin", Skills: map[string]int{"A": 2, "E": 1}},
			{ID: "bob", Name: "Bob Durand", Skills: map[string]int{"E": 2}},
			{ID: "cat", Name: "Cat Leroy", Skills: map[string]int{"A": 1}},
		},
	}
}

// harness runs the real queue engine on a clock the test sets and appends
// every event it decides to a real store, as the hub does.
type harness struct {
	t    testing.TB
	site queue.Site
	eng  *queue.Engine
	st   *store.Store
	dir  string
	n    int
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	site := testSite()
	eng, err := queue.New(site)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.OpenDir(dir, store.DirOptions{Site: site.ID, Create: true, Exclusive: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &harness{t: t, site: site, eng: eng, st: st, dir: dir}
}

// at is the site's local time on day ("2026-11-05") at clock ("09:04").
func at(day, clock string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+clock, paris)
	if err != nil {
		panic(err)
	}
	return t
}

// do runs an engine operation at t as actor and appends its events.
func (h *harness) do(t time.Time, actor string, op func(queue.By) ([]queue.Event, error)) []queue.Event {
	h.t.Helper()
	evs, err := op(queue.By{At: t, Actor: actor})
	if err != nil {
		h.t.Fatalf("at %s: %v", t.Format(time.DateTime), err)
	}
	if len(evs) > 0 {
		if err := h.st.Append([]*store.Record{{Events: evs}}); err != nil {
			h.t.Fatal(err)
		}
	}
	return evs
}

// issue takes a ticket of service on channel at t from device (none: the
// API) and returns its id.
func (h *harness) issue(t time.Time, service string, ch queue.Channel, device string) string {
	h.t.Helper()
	h.n++
	id := fmt.Sprintf("t%05d", h.n)
	actor := "api"
	if device != "" {
		actor = device
	}
	h.do(t, actor, func(b queue.By) ([]queue.Event, error) {
		return h.eng.Issue(b, queue.IssueRequest{ID: id, Device: device, Args: api.IssueArgs{Service: service, Channel: string(ch), Citizen: "citoyen-secret-42"}})
	})
	return id
}

func (h *harness) open(t time.Time, counter, agent string) {
	h.do(t, "api", func(b queue.By) ([]queue.Event, error) {
		return h.eng.OpenCounter(b, counter, api.OpenArgs{Agent: agent})
	})
}

func (h *harness) next(t time.Time, counter string) {
	h.do(t, "api", func(b queue.By) ([]queue.Event, error) { return h.eng.CallNext(b, counter) })
}

func (h *harness) finish(t time.Time, counter string) {
	h.do(t, "api", func(b queue.By) ([]queue.Event, error) { return h.eng.Finish(b, counter) })
}

func (h *harness) recall(t time.Time, counter string) {
	h.do(t, "api", func(b queue.By) ([]queue.Event, error) { return h.eng.Recall(b, counter) })
}

func (h *harness) start(t time.Time, counter string) {
	h.do(t, "api", func(b queue.By) ([]queue.Event, error) { return h.eng.Start(b, counter) })
}

func (h *harness) transfer(t time.Time, counter, service string) {
	h.do(t, "api", func(b queue.By) ([]queue.Event, error) {
		return h.eng.Transfer(b, counter, api.TransferArgs{Service: service})
	})
}

func (h *harness) cancel(t time.Time, actor, id string) {
	h.do(t, actor, func(b queue.By) ([]queue.Event, error) {
		return h.eng.Cancel(b, api.CancelArgs{Ticket: id, Reason: "gone"})
	})
}

// projection opens the statistics of the harness's store.
func (h *harness) projection() *Projection {
	h.t.Helper()
	site := h.site
	p, err := Open(context.Background(), Options{Store: h.st, Site: &site,
		Clock: func() time.Time { return at("2026-12-01", "12:00") }})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { p.Close() })
	return p
}

func (h *harness) report(p *Projection, q Query) *Report {
	h.t.Helper()
	r, err := p.Report(context.Background(), q)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func statsPath(dir string) string { return filepath.Join(dir, File) }

func timeMin(n int) time.Duration { return time.Duration(n) * time.Minute }

func mathExp(x float64) float64 { return math.Exp(x) }

func newEngine(site queue.Site) (*queue.Engine, error) { return queue.New(site) }

func urlValues(s string) (url.Values, error) { return url.ParseQuery(s) }

func ptr[T any](v T) *T { return &v }
