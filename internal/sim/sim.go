// Package sim plays a day at the town hall for the demo: citizens arrive
// per service (Poisson arrivals, busier at opening and after lunch) and take
// their tickets at the kiosk; phone calls join the same queue; agents call,
// serve (log-normal service times around each service's expected time),
// recall and mark no-shows, transfer, pause — pressing the buttons of their
// counter terminals. Time runs Speed times faster than real time.
package sim

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"guichet/firmware/counter"
	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/internal/clock"
	"guichet/kiosk"
)

// Desk is an agent's counter terminal.
type Desk interface {
	Tap(button string) error
	State() counter.State
	// Await waits, at most timeout, until cond holds on the terminal's state.
	Await(ctx context.Context, timeout time.Duration, cond func(counter.State) bool) (counter.State, bool)
}

// Kiosk issues the tickets of citizens who walk in.
type Kiosk interface {
	Issue(ctx context.Context, p kiosk.Press) (kiosk.Result, error)
}

// Console is what agents do from the web console rather than the desk
// buttons, and the telephony link's calls.
type Console interface {
	Transfer(ctx context.Context, counter, service string) error
	Phone(ctx context.Context, service string) error
}

// Options set a simulated day up.
type Options struct {
	Site    *queue.Site
	Kiosk   Kiosk
	Console Console
	Desks   map[string]Desk // counter → its terminal
	Speed   float64         // times faster than real time; 1 if zero
	// Clock is the simulated day's clock, shared with the hub and the
	// devices; a new one at Speed if nil (Speed is then the clock's).
	Clock *clock.Day
	// Rates are visits per hour by service at an average hour; missing
	// services get enough for three quarters of an agent's time.
	Rates map[string]float64
	// PhoneShare is the share of phone calls among the demands of a service
	// that takes phone calls: 0.2 if zero; negative for none.
	PhoneShare float64
	NoShow     float64 // share of citizens who do not come when called: 0.05 if zero
	Transfer   float64 // share of visits transferred to another service: 0.03 if zero
	Seed       uint64
	Log        *slog.Logger
}

// Stats count what happened.
type Stats struct {
	Visits, Phone, Refused, Calls, Served, NoShows, Transfers, Pauses atomic.Int64
}

// Sim is a running simulation.
type Sim struct {
	o     Options
	log   *slog.Logger
	clock *clock.Day
	Stats Stats
	mu    sync.Mutex
	rng   *rand.Rand
}

// Staff puts an agent at each counter so that as many lanes (a service on
// a channel) as possible are served: it repeatedly seats, at an empty
// counter, the unplaced agent whose seat serves the most of the lanes
// nobody serves yet, each lane counting the more the fewer seats can serve
// it (a phone lane only the phone position takes outweighs a visit lane
// every desk takes); between equal covers, the agent with the best mean
// skill level over the counter's services; then the first counter, then
// the first agent, in site order. Then it fills the counters left with any
// agent who can serve one of their services. A greedy cover: a lane it
// leaves unserved is named by site.Unserved(Staff(site)), which the
// configuration check reports.
func Staff(site *queue.Site) map[string]string {
	out := map[string]string{}
	used := map[string]bool{}
	covered := map[queue.Lane]bool{}
	can := func(c queue.Counter, a queue.Agent, s queue.Service, ch queue.Channel) bool {
		return a.Skills[s.ID] > 0 && c.Serves(s.ID) && c.Takes(ch)
	}
	seats := map[queue.Lane]float64{} // how many (counter, agent) seats serve each lane
	for _, c := range site.Counters {
		for _, a := range site.Agents {
			for _, s := range site.Services {
				for _, ch := range s.Channels {
					if can(c, a, s, ch) {
						seats[queue.Lane{Service: s.ID, Channel: ch}]++
					}
				}
			}
		}
	}
	gain := func(c queue.Counter, a queue.Agent) (g float64) {
		for _, s := range site.Services {
			for _, ch := range s.Channels {
				l := queue.Lane{Service: s.ID, Channel: ch}
				if !covered[l] && can(c, a, s, ch) {
					g += 1 / seats[l]
				}
			}
		}
		if g > 0 { // between equal covers, the agent most skilled for what the counter serves
			n, sum := 0, 0
			for _, s := range site.Services {
				if c.Serves(s.ID) {
					n, sum = n+1, sum+a.Skills[s.ID]
				}
			}
			g += 1e-6 * float64(sum) / float64(n)
		}
		return g
	}
	for {
		best, bc, ba := 0.0, -1, -1
		for i, c := range site.Counters {
			if out[c.ID] != "" {
				continue
			}
			for j, a := range site.Agents {
				if g := gain(c, a); !used[a.ID] && g > best {
					best, bc, ba = g, i, j
				}
			}
		}
		if bc < 0 {
			break
		}
		c, a := site.Counters[bc], site.Agents[ba]
		out[c.ID], used[a.ID] = a.ID, true
		for _, s := range site.Services {
			for _, ch := range s.Channels {
				if can(c, a, s, ch) {
					covered[queue.Lane{Service: s.ID, Channel: ch}] = true
				}
			}
		}
	}
	for _, c := range site.Counters {
		if out[c.ID] != "" {
			continue
		}
		for _, a := range site.Agents {
			if !used[a.ID] && canServe(site, c, a) {
				out[c.ID], used[a.ID] = a.ID, true
				break
			}
		}
	}
	return out
}

func canServe(site *queue.Site, c queue.Counter, a queue.Agent) bool {
	for _, s := range site.Services {
		if a.Skills[s.ID] > 0 && c.Serves(s.ID) && slices.ContainsFunc(s.Channels, c.Takes) {
			return true
		}
	}
	return false
}

// ParseRates reads "A=20,E=8" (visits per hour).
func ParseRates(s string) (map[string]float64, error) {
	out := map[string]float64{}
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		r, err := strconv.ParseFloat(v, 64)
		if !ok || k == "" || err != nil || r < 0 || r > 3600 {
			return nil, fmt.Errorf("rate %q: write SERVICE=VISITS_PER_HOUR, as A=20", part)
		}
		out[k] = r
	}
	return out, nil
}

// New prepares a simulation; Run plays it.
func New(o Options) (*Sim, error) {
	if o.Clock != nil {
		o.Speed = o.Clock.Speed()
	}
	if o.Speed == 0 {
		o.Speed = 1
	}
	if o.Speed < 0.1 || o.Speed > 3600 {
		return nil, fmt.Errorf("speed %g: from 0.1 to 3600", o.Speed)
	}
	for id := range o.Rates {
		if o.Site.Service(id) == nil {
			return nil, fmt.Errorf("rate for unknown service %q", id)
		}
	}
	if o.PhoneShare == 0 {
		o.PhoneShare = 0.2
	}
	if o.NoShow == 0 {
		o.NoShow = 0.05
	}
	if o.Transfer == 0 {
		o.Transfer = 0.03
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.New(o.Site.Location, o.Speed)
	}
	return &Sim{o: o, log: o.Log, clock: o.Clock, rng: rand.New(rand.NewPCG(o.Seed, o.Seed>>1))}, nil
}

// Now is the simulated time.
func (s *Sim) Now() time.Time { return s.clock.Now() }

// Epoch returns a real instant and the simulated time at that instant, on
// the current simulated day: from there the day runs Speed times faster
// until it closes (the next day starts at its opening).
func (s *Sim) Epoch() (real, simulated time.Time) { return s.clock.Epoch() }

// Speed is how many times faster than real time the day runs.
func (s *Sim) Speed() float64 { return s.clock.Speed() }

// Clock returns the simulated day (0 the first) and the time since it
// opened.
func (s *Sim) Clock() (day int, sinceOpening time.Duration) { return s.clock.Clock() }

// sleep waits d of simulated time.
func (s *Sim) sleep(ctx context.Context, d time.Duration) bool { return s.clock.Sleep(ctx, d) }

func (s *Sim) float() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64()
}

func (s *Sim) between(a, b time.Duration) time.Duration {
	return a + time.Duration(s.float()*float64(b-a))
}

// serviceTime draws a log-normal time around the service's expected one.
func (s *Sim) serviceTime(mean time.Duration) time.Duration {
	const sigma = 0.5
	s.mu.Lock()
	z := s.rng.NormFloat64()
	s.mu.Unlock()
	mu := math.Log(float64(mean)) - sigma*sigma/2
	return time.Duration(math.Exp(mu + sigma*z))
}

// profile is how busy an hour of the day is, 1 on average.
func profile(t time.Time) float64 {
	m := t.Hour()*60 + t.Minute()
	switch {
	case m < 10*60:
		return 1.4 // the morning rush
	case m < 12*60:
		return 1.0
	case m < 13*60+30:
		return 0.35 // lunch
	case m < 15*60:
		return 1.2
	default:
		return 0.8
	}
}

// Run plays days until ctx ends.
func (s *Sim) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, svc := range s.o.Site.Services {
		rate := s.o.Rates[svc.ID]
		if _, set := s.o.Rates[svc.ID]; !set {
			rate = 0.75 * float64(time.Hour) / float64(max(svc.ServiceTime, time.Minute))
		}
		if rate <= 0 {
			continue
		}
		phone := svc.Takes(queue.Phone) && s.o.PhoneShare > 0 && s.o.Console != nil
		wg.Add(1)
		go func() { defer wg.Done(); s.arrivals(ctx, svc.ID, rate, phone) }()
	}
	for _, id := range slices.Sorted(maps.Keys(s.o.Desks)) {
		wg.Add(1)
		go func() { defer wg.Done(); s.agent(ctx, id, s.o.Desks[id]) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.report(ctx) }()
	wg.Wait()
}

// arrivals brings citizens (and calls) for one service: a Poisson process
// whose rate follows the hour of the day.
func (s *Sim) arrivals(ctx context.Context, service string, perHour float64, phone bool) {
	peak := perHour * 1.4
	for {
		// Thinning: draw at the peak rate, keep with the hour's share.
		gap := time.Duration(-math.Log(1-s.float()) / peak * float64(time.Hour))
		if !s.sleep(ctx, gap) {
			return
		}
		if s.float() >= profile(s.Now())/1.4 {
			continue
		}
		if phone && s.float() < s.o.PhoneShare {
			if err := s.o.Console.Phone(ctx, service); err != nil {
				s.log.Debug("sim: phone call refused", "service", service, "err", err)
				s.Stats.Refused.Add(1)
				continue
			}
			s.Stats.Phone.Add(1)
			continue
		}
		lang := "fr"
		if s.float() < 0.1 {
			lang = "en"
		}
		res, err := s.o.Kiosk.Issue(ctx, kiosk.Press{Service: service, Priority: s.float() < 0.05, Lang: lang})
		if err != nil {
			s.log.Debug("sim: no ticket", "service", service, "err", err)
			s.Stats.Refused.Add(1)
			continue
		}
		s.Stats.Visits.Add(1)
		s.log.Debug("sim: ticket", "number", res.Number)
	}
}

// agent plays the agent at one counter.
func (s *Sim) agent(ctx context.Context, id string, d Desk) {
	a := &agentRun{s: s, id: id, d: d, last: map[string]time.Time{}}
	a.run(ctx)
}

type agentRun struct {
	s    *Sim
	id   string
	d    Desk
	last map[string]time.Time // when each button was last pressed, real time
	seen string               // the last ticket handled
}

// tap presses a button, no sooner than the terminal takes a second press.
func (a *agentRun) tap(ctx context.Context, b string) {
	if wait := 750*time.Millisecond - time.Since(a.last[b]); wait > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	a.last[b] = time.Now()
	if err := a.d.Tap(b); err != nil {
		a.s.log.Warn("sim: press", "counter", a.id, "button", b, "err", err)
	}
}

// until waits, in real time, for cond on the terminal's state.
func (a *agentRun) until(ctx context.Context, cond func(counter.State) bool) bool {
	_, ok := a.d.Await(ctx, 3*time.Second, cond)
	return ok
}

func ticketKey(t *api.Ticket) string {
	if t == nil {
		return ""
	}
	return t.ID
}

func (a *agentRun) run(ctx context.Context) {
	s := a.s
	for ctx.Err() == nil {
		st := a.d.State()
		c := st.Counter
		switch {
		case !c.Open || !st.Online:
			s.sleep(ctx, 30*time.Second)
		case c.AgentState == "paused":
			s.sleep(ctx, s.between(5*time.Minute, 12*time.Minute))
			a.tap(ctx, counter.Next) // back: resume and call
			a.until(ctx, func(st counter.State) bool { return st.Counter.AgentState != "paused" })
		case c.Ticket == nil:
			if s.float() < 0.01 {
				a.tap(ctx, counter.Pause)
				if a.until(ctx, func(st counter.State) bool { return st.Counter.AgentState == "paused" }) {
					s.Stats.Pauses.Add(1)
				}
				continue
			}
			a.tap(ctx, counter.Next)
			if !a.until(ctx, func(st counter.State) bool { return st.Counter.Ticket != nil }) {
				s.sleep(ctx, s.between(20*time.Second, 60*time.Second)) // nobody waiting
			}
		case ticketKey(c.Ticket) == a.seen: // handled, yet still held: a press went amiss
			s.sleep(ctx, 5*time.Second)
			if ticketKey(a.d.State().Counter.Ticket) == a.seen {
				a.tap(ctx, counter.Finish)
				a.until(ctx, func(st counter.State) bool { return ticketKey(st.Counter.Ticket) != a.seen })
			}
		default:
			a.serve(ctx, c)
		}
	}
}

// serve handles the citizen just called.
func (a *agentRun) serve(ctx context.Context, c api.Counter) {
	s := a.s
	t := c.Ticket
	a.seen = ticketKey(t)
	s.Stats.Calls.Add(1)
	same := func(st counter.State) bool { return ticketKey(st.Counter.Ticket) == a.seen }
	gone := func(st counter.State) bool { return !same(st) }
	if s.float() < s.o.NoShow {
		s.sleep(ctx, 90*time.Second)
		a.tap(ctx, counter.Recall)
		s.sleep(ctx, 90*time.Second)
		if same(a.d.State()) {
			a.tap(ctx, counter.NoShow)
			if a.until(ctx, gone) {
				s.Stats.NoShows.Add(1)
			}
		}
		return
	}
	svc := s.o.Site.Service(t.Service)
	mean := 5 * time.Minute
	if svc != nil && svc.ServiceTime > 0 {
		mean = svc.ServiceTime
	}
	if t.Channel == "phone" {
		mean = mean * 2 / 3
	}
	s.sleep(ctx, s.between(15*time.Second, 60*time.Second)) // walking to the counter
	s.sleep(ctx, s.serviceTime(mean))
	if s.o.Console != nil && s.float() < s.o.Transfer {
		if to := a.otherService(t.Service, queue.Channel(t.Channel)); to != "" {
			if err := s.o.Console.Transfer(ctx, a.id, to); err == nil {
				s.Stats.Transfers.Add(1)
				a.until(ctx, gone)
				return
			} else {
				s.log.Debug("sim: transfer", "counter", a.id, "err", err)
			}
		}
	}
	s.Stats.Served.Add(1)
	if s.float() < 0.5 {
		a.tap(ctx, counter.Finish)
		a.until(ctx, gone)
		s.sleep(ctx, s.between(10*time.Second, 45*time.Second)) // notes, filing
		return
	}
	a.tap(ctx, counter.Next) // "next" at once: it finishes and calls
	a.until(ctx, gone)
}

// otherService picks another service taking the ticket's channel.
func (a *agentRun) otherService(from string, ch queue.Channel) string {
	var options []string
	for _, svc := range a.s.o.Site.Services {
		if svc.ID != from && svc.Takes(ch) {
			options = append(options, svc.ID)
		}
	}
	if len(options) == 0 {
		return ""
	}
	return options[int(a.s.float()*float64(len(options)))%len(options)]
}

// report logs the day's figures every simulated hour.
func (s *Sim) report(ctx context.Context) {
	for s.sleep(ctx, time.Hour) {
		day, _ := s.Clock()
		s.log.Info("sim", "day", day+1, "time", s.Now().Format("15:04"), "visits", s.Stats.Visits.Load(), "phone", s.Stats.Phone.Load(),
			"calls", s.Stats.Calls.Load(), "served", s.Stats.Served.Load(), "no_shows", s.Stats.NoShows.Load(),
			"transfers", s.Stats.Transfers.Load(), "pauses", s.Stats.Pauses.Load())
	}
}
