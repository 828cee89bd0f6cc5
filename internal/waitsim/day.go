package waitsim

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// The predictors measured: the engine's two (Pace is what the hub shows,
// QueueLength the rule of issue 10) and two from the queue's history
// (Ibrahim and Whitt, "Real-time delay estimation based on delay history",
// M&SOM 11(3), 2009): the wait of the last ticket of the lane to be called
// (LES, last to enter service) and the wait so far of the ticket at the
// head of the lane (HOL).
const (
	Pace        = "pace"
	Play        = "play"
	QueueLength = "queue-length"
	LES         = "LES"
	HOL         = "HOL"
)

// Record is one ticket: what was announced at its issue, and what happened.
type Record struct {
	Day      int
	Ticket   string
	Service  string
	Channel  queue.Channel
	IssuedAt time.Time
	CalledAt time.Time // its first call; zero if it never was (still waiting at closing)
	// Est is the wait each predictor announced at issue.
	Est map[string]queue.Estimate
	// WouldRefuse is what close_when_full would have decided at this
	// arrival with each of the engine's predictors (the site runs with it
	// off, so that every citizen's fate is seen).
	WouldRefuse map[string]bool
	replayed    time.Time // Options.checkForks: when a fork called it
}

// Wait is the real wait, false if the ticket was never called.
func (r *Record) Wait() (time.Duration, bool) {
	if r.CalledAt.IsZero() {
		return 0, false
	}
	return r.CalledAt.Sub(r.IssuedAt), true
}

// Sample is the estimate of a waiting ticket shown on the mobile page at At.
type Sample struct {
	Rec *Record
	At  time.Time
	Est map[string]queue.Estimate
}

// Result is what a scenario's days gave.
type Result struct {
	Scenario Scenario
	Records  []*Record
	Samples  []Sample
	Refused  int // arrivals the engine refused
}

// SampleEvery is how often the mobile page's estimate is sampled.
const SampleEvery = 5 * time.Minute

// Run plays days of scenario sc, each a week after the last (the same
// weekday), on one engine, with the random seed given.
func Run(sc Scenario, days int, seed uint64) (*Result, error) {
	return RunWith(sc, days, seed, Options{})
}

// Options are what a run measures besides the engine's predictors.
type Options struct {
	// Oracle is how many futures the oracle plays for every ticket at its
	// issue (oracle.go); 0: no oracle.
	Oracle int
	// Ceilings are the plays of the day knowing less than the oracle that
	// every ticket gets at issue (oracle.go).
	Ceilings []string
	// checkForks replays every ticket's future with the day's own chances
	// (Record.replayed), to check that a fork plays what the day plays.
	checkForks bool
}

// RunWith is Run with options.
func RunWith(sc Scenario, days int, seed uint64, opt Options) (*Result, error) {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return nil, fmt.Errorf("waitsim: %w", err)
	}
	e, err := queue.New(Site(sc, loc))
	if err != nil {
		return nil, fmt.Errorf("waitsim: site: %w", err)
	}
	res := &Result{Scenario: sc}
	first := time.Date(2026, 3, 2, 0, 0, 0, 0, loc) // a Monday
	first = first.AddDate(0, 0, int(sc.Weekday-time.Monday))
	pcg := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	rng := rand.New(pcg)
	for i := 0; i < days; i++ {
		d := &day{sc: sc, e: e, pcg: pcg, rng: rng, res: res, n: i, date: first.AddDate(0, 0, 7*i), opt: opt, seed: seed,
			agents: map[string]*agent{}, recs: map[string]*Record{}, waiting: map[queue.Lane][]*Record{}, les: map[queue.Lane]time.Duration{},
			fates: map[string]*fate{}, calls: map[string]int{}}
		if err := d.play(); err != nil {
			return res, fmt.Errorf("waitsim: %s day %d: %w", sc.Name, i+1, err)
		}
	}
	return res, nil
}

// day is one simulated day on the engine.
type day struct {
	sc   Scenario
	e    *queue.Engine
	pcg  *rand.PCG // rng's source, copied by a fork that replays the day
	rng  *rand.Rand
	opt  Options
	seed uint64
	res  *Result
	n    int
	date time.Time // local midnight

	now     time.Time
	events  events
	seq     int
	err     error
	agents  map[string]*agent
	recs    map[string]*Record
	waiting map[queue.Lane][]*Record // in issue order, for HOL
	les     map[queue.Lane]time.Duration
	issued  int
	// fates are the tickets' own chances, drawn with the arrivals (by
	// ticket ID): what the oracle knows of the future; calls counts each
	// ticket's calls so far.
	fates map[string]*fate
	calls map[string]int
	// fork is set on a day the oracle plays from a ticket's issue on.
	fork *fork
}

// fate is what chance decides for a ticket: its priority, and for each of
// its calls (a transferred ticket is called again) whether the citizen
// comes, how long they take to reach the desk, the service time's normal
// draw and whether the visit is transferred.
type fate struct {
	priority bool
	calls    [3]callFate
}

type callFate struct {
	noShow, transfer bool
	walk             time.Duration
	z                float64
}

type agent struct {
	id, counter string
	idle        bool // at the counter with nobody to call: woken by an arrival
	away        bool // at lunch, or gone for the day
	lunch       int  // minute the agent leaves for lunch; 0: no lunch
}

func (d *day) at(minute int) time.Time { return d.date.Add(time.Duration(minute) * time.Minute) }

// after schedules f at d.now + delay.
func (d *day) after(delay time.Duration, f func(*day)) { d.schedule(d.now.Add(delay), f) }

func (d *day) schedule(t time.Time, f func(*day)) {
	d.seq++
	heap.Push(&d.events, event{at: t, seq: d.seq, do: f})
}

func (d *day) by() queue.By { return queue.By{At: d.now, Actor: "sim"} }

// fail keeps the first unexpected error; the day stops on it.
func (d *day) fail(what string, err error) {
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("%s at %s: %w", what, d.now.Format("15:04:05"), err)
	}
}

func (d *day) play() error {
	d.now = d.at(Opening)
	for _, id := range []string{"a1", "a2", "a3", "a4", "a5"} {
		a := &agent{id: id, counter: seat[id]}
		if d.sc.Lunch {
			a.lunch = lunchTurn[id]
		}
		d.agents[id] = a
		d.schedule(d.at(Opening), func(d *day) { d.open(d.agents[id]) })
		if a.lunch > 0 {
			d.schedule(d.at(a.lunch), func(d *day) { d.lunchDue(d.agents[id]) })
		}
	}
	for _, s := range d.e.Site().Services {
		d.arrivals(s.ID, s.Takes(queue.Phone))
	}
	for t := d.at(Opening).Add(SampleEvery); t.Before(d.at(Closing)); t = t.Add(SampleEvery) {
		d.schedule(t, (*day).sample)
	}
	d.schedule(d.at(Closing).Add(time.Hour), (*day).endOfDay)
	d.run()
	return d.err
}

// run plays the events in order until none is left, an error, or (in a
// fork) the ticket watched is called.
func (d *day) run() {
	for d.events.Len() > 0 && d.err == nil && (d.fork == nil || d.fork.calledAt.IsZero()) {
		ev := heap.Pop(&d.events).(event)
		d.now = ev.at
		ev.do(d)
	}
}

// arrivals schedules the day's citizens of a service: a Poisson process
// whose rate follows the scenario's shape (drawn at the peak rate, kept
// with the moment's share).
func (d *day) arrivals(service string, phone bool) {
	rate := d.sc.Rates[service]
	peak := 0.0
	for m := Opening; m < Closing; m++ {
		peak = max(peak, d.sc.Shape(m))
	}
	t := float64(Opening)
	for {
		t += d.rng.ExpFloat64() / (rate * peak) * 60
		if t >= Closing {
			return
		}
		if d.rng.Float64() >= d.sc.Shape(int(t))/peak {
			continue
		}
		ch := queue.Visit
		if phone && d.rng.Float64() < d.sc.Phone {
			ch = queue.Phone
		}
		f := &fate{priority: ch == queue.Visit && d.rng.Float64() < 0.05}
		for k := range f.calls {
			f.calls[k] = callFate{noShow: d.rng.Float64() < d.sc.NoShow, transfer: d.rng.Float64() < d.sc.Transfer,
				walk: d.between(15*time.Second, 60*time.Second), z: d.rng.NormFloat64()}
		}
		at := d.date.Add(time.Duration(t * float64(time.Minute)))
		d.seq++
		heap.Push(&d.events, event{at: at, seq: d.seq, do: func(d *day) { d.arrive(service, ch, f) }, arrival: true})
	}
}

func (d *day) arrive(service string, ch queue.Channel, f *fate) {
	if d.fork != nil {
		d.forkArrive(service, ch, f)
		return
	}
	rec := &Record{Day: d.n, Service: service, Channel: ch, IssuedAt: d.now, Est: map[string]queue.Estimate{}, WouldRefuse: map[string]bool{}}
	left := d.at(Closing).Sub(d.now)
	for _, p := range []string{Play, Pace, QueueLength} {
		_, est := d.e.NewTicketEstimate(predictor(p), d.now, service, ch)
		rec.WouldRefuse[p] = est.Known && est.Wait > left
	}
	d.issued++
	rec.Ticket = fmt.Sprintf("d%02d-%05d", d.n, d.issued)
	d.fates[rec.Ticket] = f
	args := api.IssueArgs{Service: service, Channel: string(ch)}
	if f.priority {
		args.Priority = string(queue.PriorityPublic)
	}
	if _, err := d.e.Issue(d.by(), queue.IssueRequest{ID: rec.Ticket, Args: args}); err != nil {
		d.res.Refused++
		return
	}
	if d.opt.Oracle > 0 {
		rec.Est[Oracle] = d.oracle(rec.Ticket, service, ch)
	}
	for _, m := range d.opt.Ceilings {
		rec.Est[m] = d.ceiling(rec.Ticket, service, ch, m)
	}
	if d.opt.checkForks {
		rec.replayed, _ = d.future(d.e.Snapshot(), rec.Ticket, service, ch, nil)
	}
	for _, p := range []string{Play, Pace, QueueLength} {
		_, rec.Est[p] = d.e.EstimateWith(predictor(p), d.now, rec.Ticket)
	}
	lane := queue.Lane{Service: service, Channel: ch}
	if w, ok := d.les[lane]; ok {
		rec.Est[LES] = queue.Estimate{Wait: w, Known: true}
	} else {
		rec.Est[LES] = queue.Estimate{Known: true}
	}
	hol := queue.Estimate{Known: true}
	if ws := d.waiting[lane]; len(ws) > 0 {
		hol.Wait = d.now.Sub(ws[0].IssuedAt)
	}
	rec.Est[HOL] = hol
	d.recs[rec.Ticket] = rec
	d.waiting[lane] = append(d.waiting[lane], rec)
	d.res.Records = append(d.res.Records, rec)
	d.wake(service, ch)
}

func predictor(name string) queue.Predictor {
	switch name {
	case QueueLength:
		return queue.PredictQueueLength
	case Play:
		return queue.PredictPlay
	}
	return queue.PredictPace
}

// wake sends the idle agents who may take a ticket of service on ch to
// call next, each after a moment (they look up, press the button).
func (d *day) wake(service string, ch queue.Channel) {
	for _, id := range []string{"a1", "a2", "a3", "a4", "a5"} {
		a := d.agents[id]
		c := d.e.Counter(a.counter)
		if !a.idle || a.away || d.e.Agent(id).Skills[service] == 0 || !c.Serves(service) || !c.Takes(ch) {
			continue
		}
		a.idle = false
		d.after(d.between(5*time.Second, 30*time.Second), func(d *day) { d.ready(d.agents[id]) })
	}
}

func (d *day) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(d.rng.Float64()*float64(hi-lo))
}

func (d *day) open(a *agent) {
	a.away = false
	_, err := d.e.OpenCounter(d.by(), a.counter, api.OpenArgs{Agent: a.id})
	d.fail("open "+a.counter, err)
	d.ready(a)
}

func (d *day) lunchDue(a *agent) {
	if a.idle {
		d.leaveForLunch(a)
	}
	// Otherwise the agent leaves when the current citizen is served (ready).
}

func (d *day) leaveForLunch(a *agent) {
	a.idle, a.away, a.lunch = false, true, -a.lunch
	_, err := d.e.CloseCounter(d.by(), a.counter)
	d.fail("lunch "+a.counter, err)
	id := a.id
	d.after(time.Hour, func(d *day) { d.open(d.agents[id]) })
}

// ready is an agent free to call: lunch, the end of the day, a pause, or
// call next.
func (d *day) ready(a *agent) {
	if a.away {
		return
	}
	if a.lunch > 0 && d.now.Sub(d.date) >= time.Duration(a.lunch)*time.Minute {
		d.leaveForLunch(a)
		return
	}
	if !d.now.Before(d.at(Closing)) {
		a.away, a.idle = true, false
		_, err := d.e.CloseCounter(d.by(), a.counter)
		d.fail("close "+a.counter, err)
		return
	}
	id, counter := a.id, a.counter
	if d.rng.Float64() < 0.01 {
		_, err := d.e.Pause(d.by(), a.counter, api.PauseArgs{Reason: "pause"})
		d.fail("pause", err)
		d.after(d.between(5*time.Minute, 12*time.Minute), func(d *day) {
			_, err := d.e.Resume(d.by(), counter)
			d.fail("resume", err)
			d.ready(d.agents[id])
		})
		return
	}
	evs, err := d.e.CallNext(d.by(), a.counter)
	if errors.Is(err, queue.ErrQueueEmpty) {
		a.idle = true
		return
	}
	d.fail("call next "+a.counter, err)
	if err != nil {
		return
	}
	called := evs[len(evs)-1].Ticket
	d.called(called)
	t, _ := d.e.Ticket(called)
	k := d.calls[called]
	d.calls[called] = k + 1
	cf := d.fates[called].calls[min(k, len(d.fates[called].calls)-1)]
	if cf.noShow {
		d.after(time.Minute, func(d *day) { _, err := d.e.Recall(d.by(), counter); d.fail("recall", err) })
		d.after(2*time.Minute, func(d *day) {
			_, err := d.e.NoShow(d.by(), counter)
			d.fail("no-show", err)
			d.after(10*time.Second, func(d *day) { d.ready(d.agents[id]) })
		})
		return
	}
	d.after(cf.walk, func(d *day) { _, err := d.e.Start(d.by(), counter); d.fail("start", err) })
	mean := d.e.Service(t.Service).ServiceTime
	if t.Channel == queue.Phone {
		mean = mean * 2 / 3
	}
	dur := serviceTime(mean, cf.z)
	if d.fork != nil && d.fork.world != nil {
		dur = serviceTime(mean, d.fork.world.NormFloat64())
		if d.fork.mean {
			dur = mean
		}
	}
	d.seq++
	heap.Push(&d.events, event{at: d.now.Add(cf.walk + dur), seq: d.seq, do: func(d *day) { d.finish(d.agents[id], t, cf) },
		service: &inService{start: d.now.Add(cf.walk), mean: mean}})
}

// Sigma is the spread of the log-normal service times.
const Sigma = 0.5

// serviceTime is the log-normal time of the given mean (σ Sigma) at the
// normal draw z.
func serviceTime(mean time.Duration, z float64) time.Duration {
	mu := math.Log(float64(mean)) - Sigma*Sigma/2
	return time.Duration(math.Exp(mu + Sigma*z))
}

func (d *day) finish(a *agent, t queue.Ticket, cf callFate) {
	if t.Channel == queue.Visit && cf.transfer {
		for _, s := range d.e.Site().Services {
			if s.ID != t.Service && s.Takes(queue.Visit) {
				_, err := d.e.Transfer(d.by(), a.counter, api.TransferArgs{Service: s.ID})
				d.fail("transfer", err)
				d.wake(s.ID, queue.Visit)
				d.ready(a)
				return
			}
		}
	}
	_, err := d.e.Finish(d.by(), a.counter)
	d.fail("finish", err)
	if d.rng.Float64() < 0.5 {
		d.ready(a) // "next" at once
		return
	}
	id := a.id
	d.after(d.between(10*time.Second, 45*time.Second), func(d *day) { d.ready(d.agents[id]) })
}

// called records a ticket's first call: its real wait, the lane's last
// wait (LES) and its leaving the lane's line (HOL).
func (d *day) called(id string) {
	if d.fork != nil {
		if id == d.fork.watch && d.fork.calledAt.IsZero() {
			d.fork.calledAt = d.now
		}
		return
	}
	rec := d.recs[id]
	if rec == nil || !rec.CalledAt.IsZero() {
		return // a transferred ticket called again
	}
	rec.CalledAt = d.now
	lane := queue.Lane{Service: rec.Service, Channel: rec.Channel}
	d.les[lane] = d.now.Sub(rec.IssuedAt)
	ws := d.waiting[lane]
	for i, w := range ws {
		if w == rec {
			d.waiting[lane] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
}

// sample records what the mobile page of every waiting ticket shows.
func (d *day) sample() {
	if d.fork != nil {
		return
	}
	for _, ws := range d.waiting {
		for _, rec := range ws {
			s := Sample{Rec: rec, At: d.now, Est: map[string]queue.Estimate{}}
			for _, p := range []string{Play, Pace, QueueLength} {
				_, s.Est[p] = d.e.EstimateWith(predictor(p), d.now, rec.Ticket)
			}
			d.res.Samples = append(d.res.Samples, s)
		}
	}
}

// endOfDay cancels what still waits an hour after closing: those citizens
// were not served.
func (d *day) endOfDay() {
	for _, t := range d.e.Tickets(queue.Waiting, "") {
		_, err := d.e.Cancel(d.by(), api.CancelArgs{Ticket: t.ID, Reason: "closing"})
		d.fail("cancel", err)
	}
}

// event is something that happens at a moment of the day; seq keeps events
// of the same moment in the order they were scheduled. do reads nothing but
// the day it is given, so that a fork of the day can play it; service is
// set on the end of a service, whose moment a fork draws again.
type event struct {
	at      time.Time
	seq     int
	do      func(*day)
	service *inService
	arrival bool
}

// inService is a service under way: when the citizen reached the desk, and
// the mean time of the service.
type inService struct {
	start time.Time
	mean  time.Duration
}

type events []event

func (h events) Len() int { return len(h) }
func (h events) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h events) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *events) Push(x any)   { *h = append(*h, x.(event)) }
func (h *events) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
