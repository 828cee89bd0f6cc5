package sim

import (
	"context"
	"fmt"
	"guichet/hub/config"
	"log/slog"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"guichet/firmware/counter"
	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/internal/clock"
	"guichet/kiosk"
)

// town is a small fake town hall: one queue per service fed by the kiosk
// and the phone, and desks that take from it. It stands for the hub so that
// the simulation's behaviour can be checked over a whole day in virtual time.
type town struct {
	mu       sync.Mutex
	waiting  map[string][]*api.Ticket
	issued   map[string]int
	phone    map[string]int
	served   int
	noShows  int
	recalls  int
	pauses   int
	transfer int
	desks    map[string]*desk
	refuse   bool // the kiosk answers with an error
}

func newTown() *town {
	return &town{waiting: map[string][]*api.Ticket{}, issued: map[string]int{}, phone: map[string]int{}, desks: map[string]*desk{}}
}

func (w *town) add(service, channel string) *api.Ticket {
	w.issued[service]++
	t := &api.Ticket{ID: fmt.Sprintf("%s-%d", service, w.issued[service]), Number: fmt.Sprintf("%s%03d", service, w.issued[service]), Service: service, Channel: channel}
	w.waiting[service] = append(w.waiting[service], t)
	return t
}

func (w *town) Issue(_ context.Context, p kiosk.Press) (kiosk.Result, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refuse {
		return kiosk.Result{}, fmt.Errorf("paper out")
	}
	t := w.add(p.Service, "visit")
	return kiosk.Result{Number: t.Number, Service: p.Service}, nil
}

func (w *town) Phone(_ context.Context, service string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phone[service]++
	w.add(service, "phone")
	return nil
}

func (w *town) Transfer(_ context.Context, counterID, service string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.desks[counterID]
	if d.c.Ticket == nil {
		return fmt.Errorf("nothing held")
	}
	t := d.c.Ticket
	t.Service = service
	w.waiting[service] = append([]*api.Ticket{t}, w.waiting[service]...)
	d.c.Ticket = nil
	w.transfer++
	return nil
}

type desk struct {
	w        *town
	c        api.Counter
	services []string
	presses  map[string]int
}

func (d *desk) State() counter.State {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	c := d.c
	return counter.State{Online: true, Counter: c, LED: c.Ticket != nil}
}

// Await polls, in virtual time: the fake has nothing to watch.
func (d *desk) Await(ctx context.Context, timeout time.Duration, cond func(counter.State) bool) (counter.State, bool) {
	deadline := time.Now().Add(timeout)
	for {
		st := d.State()
		if cond(st) || !time.Now().Before(deadline) || ctx.Err() != nil {
			return st, cond(st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *desk) Tap(b string) error {
	w := d.w
	w.mu.Lock()
	defer w.mu.Unlock()
	d.presses[b]++
	switch b {
	case counter.Next:
		if d.c.Ticket != nil {
			d.c.Ticket = nil
			w.served++
		}
		d.c.AgentState = "available"
		for _, s := range d.services {
			if q := w.waiting[s]; len(q) > 0 {
				d.c.Ticket, w.waiting[s] = q[0], q[1:]
				d.c.AgentState = "serving"
				break
			}
		}
	case counter.Finish:
		if d.c.Ticket != nil {
			d.c.Ticket = nil
			w.served++
		}
		d.c.AgentState = "available"
	case counter.Recall:
		w.recalls++
	case counter.NoShow:
		if d.c.Ticket != nil {
			d.c.Ticket = nil
			w.noShows++
		}
	case counter.Pause:
		if d.c.Ticket == nil {
			d.c.AgentState = "paused"
			w.pauses++
		}
	default:
		return fmt.Errorf("unknown button %q", b)
	}
	return nil
}

var quiet = slog.New(slog.DiscardHandler)

func testSite() *queue.Site {
	paris, _ := time.LoadLocation("Europe/Paris")
	return &queue.Site{
		ID: "test", Location: paris,
		Services: []queue.Service{
			{ID: "A", ServiceTime: 4 * time.Minute, Channels: []queue.Channel{queue.Visit}},
			{ID: "E", ServiceTime: 6 * time.Minute, Channels: []queue.Channel{queue.Visit, queue.Phone}},
		},
		Counters: []queue.Counter{
			{ID: "1", Services: []string{"A"}},
			{ID: "2"},
			{ID: "T", Channels: []queue.Channel{queue.Phone}},
		},
		Agents: []queue.Agent{
			{ID: "marie", Skills: map[string]int{"E": 2}},
			{ID: "paul", Skills: map[string]int{"A": 1}},
			{ID: "lea", Skills: map[string]int{"A": 1, "E": 1}},
		},
	}
}

func TestStaffPutsAnAgentWhoCanServeAtEachCounter(t *testing.T) {
	site := testSite()
	got := Staff(site)
	// Counter 1 serves only A: marie (E only) cannot sit there; lea (A and
	// E) at the general counter, marie on the phone: every lane is served.
	want := map[string]string{"1": "paul", "2": "lea", "T": "marie"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Staff = %v, want %v", got, want)
	}
	if u := site.Unserved(got); len(u) != 0 {
		t.Fatalf("lanes left unserved: %v", u)
	}
}

// The sample site's phone position took, in counter order, the first agent
// left who could serve one of its services, who lacked the skills of three
// phone services: their calls waited forever in the demo.
func TestStaffServesEveryLaneOfTheSampleSite(t *testing.T) {
	_, site, err := config.Parse("sample.yaml", config.Sample)
	if err != nil {
		t.Fatal(err)
	}
	staff := Staff(&site)
	if u := site.Unserved(staff); len(u) != 0 {
		t.Fatalf("the demo's staffing leaves lanes unserved: %v (staff %v)", u, staff)
	}
	if len(staff) != len(site.Counters) {
		t.Fatalf("every counter of the sample is staffed: %v", staff)
	}
}

func TestParseRates(t *testing.T) {
	got, err := ParseRates(" A=20, E=7.5")
	if err != nil || got["A"] != 20 || got["E"] != 7.5 || len(got) != 2 {
		t.Fatalf("ParseRates = %v, %v", got, err)
	}
	for _, bad := range []string{"A", "A=", "=3", "A=x", "A=-1", "A=5000", "A=1,,E=2"} {
		if _, err := ParseRates(bad); err == nil {
			t.Errorf("ParseRates(%q) accepted", bad)
		}
	}
}

func TestNewRefusesWhatCannotBePlayed(t *testing.T) {
	site := testSite()
	for name, o := range map[string]Options{
		"unknown service": {Site: site, Rates: map[string]float64{"Z": 3}},
		"too slow":        {Site: site, Speed: 0.01},
		"too fast":        {Site: site, Speed: 10000},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A day played at 60 times real time, in virtual time: arrivals follow the
// rates and the day's profile, agents serve nearly everyone, some citizens
// do not show up, a few are transferred, phone calls join the queue.
func TestADayAtTheTownHall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTown()
		site := testSite()
		desks := map[string]Desk{}
		for _, c := range site.Counters[:2] {
			d := &desk{w: w, c: api.Counter{ID: c.ID, Open: true, AgentState: "available"}, presses: map[string]int{}, services: c.Services}
			if len(d.services) == 0 {
				d.services = []string{"E", "A"}
			}
			w.desks[c.ID], desks[c.ID] = d, d
		}
		const speed = 60
		s, err := New(Options{Site: site, Kiosk: w, Console: w, Desks: desks, Speed: speed, Seed: 42, Log: quiet,
			Rates: map[string]float64{"A": 10, "E": 6}, NoShow: 0.1, Transfer: 0.05})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		time.Sleep(clock.DayLength/speed - time.Second)
		if day, at := s.Clock(); day != 0 || at < 8*time.Hour {
			t.Errorf("clock after most of a day: day %d, %v since opening", day, at)
		}
		if got := s.Now().Format("15:04"); got < "16:30" || got > "17:30" {
			t.Errorf("simulated time near closing: %s", got)
		}
		time.Sleep(2 * time.Second)
		if day, _ := s.Clock(); day != 1 {
			t.Errorf("the next day should have begun: day %d", day)
		}
		cancel()
		<-done

		w.mu.Lock()
		defer w.mu.Unlock()
		// The profile averages 8.425 busy hours over the 9 of the day.
		for svc, rate := range map[string]float64{"A": 10, "E": 6} {
			want := rate * 8.425
			got := float64(w.issued[svc])
			if math.Abs(got-want) > 4*math.Sqrt(want)+2 {
				t.Errorf("service %s: %v demands in a day, want about %.0f", svc, got, want)
			}
		}
		if w.phone["A"] != 0 {
			t.Errorf("service A takes no phone calls, yet got %d", w.phone["A"])
		}
		if w.phone["E"] == 0 || w.phone["E"] > w.issued["E"]/2 {
			t.Errorf("phone calls for E: %d of %d demands, want about a fifth", w.phone["E"], w.issued["E"])
		}
		total := w.issued["A"] + w.issued["E"]
		held := 0
		for _, d := range w.desks {
			if d.c.Ticket != nil {
				held++
			}
		}
		left := len(w.waiting["A"]) + len(w.waiting["E"])
		// Every demand is served, a no-show, transferred (and then still
		// counted once), waiting or at a desk: none is lost or done twice.
		if w.served+w.noShows+left+held != total {
			t.Errorf("served %d + no-shows %d + waiting %d + held %d != %d demands", w.served, w.noShows, left, held, total)
		}
		if w.served < total*3/4 {
			t.Errorf("only %d of %d demands served in a day with spare capacity", w.served, total)
		}
		if w.noShows == 0 || w.recalls < w.noShows {
			t.Errorf("no-shows %d, recalls %d: each no-show is recalled first", w.noShows, w.recalls)
		}
		if w.transfer == 0 {
			t.Errorf("no transfer in a day")
		}
		if got := s.Stats.Visits.Load() + s.Stats.Phone.Load(); got != int64(total) {
			t.Errorf("stats count %d demands, the town %d", got, total)
		}
		if got := s.Stats.NoShows.Load(); got != int64(w.noShows) {
			t.Errorf("stats count %d no-shows, the town %d", got, w.noShows)
		}
	})
}

// When the kiosk refuses (paper out), the simulation counts the refusal and
// goes on; nothing is served that was not issued.
func TestRefusedTicketsAreCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newTown()
		w.refuse = true
		s, err := New(Options{Site: testSite(), Kiosk: w, Speed: 600, Seed: 1, Log: quiet, PhoneShare: -1, Rates: map[string]float64{"A": 30, "E": 0}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour/600)
		defer cancel()
		s.Run(ctx)
		if s.Stats.Refused.Load() == 0 || s.Stats.Visits.Load() != 0 || w.issued["A"] != 0 {
			t.Fatalf("refused %d, visits %d, issued %d", s.Stats.Refused.Load(), s.Stats.Visits.Load(), w.issued["A"])
		}
	})
}
