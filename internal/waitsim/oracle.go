package waitsim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"guichet/hub/queue"
)

// Oracle is the noise floor of the estimate: a predictor that knows, at a
// ticket's issue, everything the day holds but the future service times.
// It knows the whole state of the queue and the agents, every citizen who
// will come (when, for what, by which channel, with which priority), who
// will not come when called, who will be transferred, how long each takes
// to reach the desk, and the agents' schedule (opening, lunch turns,
// closing). It does not know how long the services not yet ended will take
// (those under way are drawn again, longer than they have lasted), nor the
// agents' rare pauses and the few seconds they take to press "next". It
// plays Options.Oracle such futures of the day on a copy of the engine and
// announces the median of the ticket's waits (the number that minimises the
// mean absolute error), within their 10th and 90th percentiles. No
// estimator the hub can build does better on average: the distance between
// its MAE and the oracle's is what there is left to win.
const Oracle = "oracle"

// fork is what a day played from a ticket's issue on watches.
type fork struct {
	watch    string
	calledAt time.Time
	// world draws the future's service times and the agents' small acts;
	// nil replays the day's own chances (a check that a fork is faithful).
	world *rand.Rand
	// mean: every service takes its mean (those under way, their mean
	// knowing how long they have lasted), as the hub's play assumes.
	mean bool
}

// oracle plays d.opt.Oracle futures of the day from now, the ticket id just
// issued, and returns the median of its waits within their 10th and 90th
// percentiles.
func (d *day) oracle(id string, service string, ch queue.Channel) queue.Estimate {
	snap := d.e.Snapshot()
	waits := make([]time.Duration, 0, d.opt.Oracle)
	for w := range d.opt.Oracle {
		world := rand.New(rand.NewPCG(d.seed^uint64(d.n)<<40^uint64(d.issued)<<8, uint64(w)))
		at, err := d.future(snap, id, service, ch, world)
		if err != nil {
			d.fail("oracle", err)
			return queue.Estimate{}
		}
		waits = append(waits, at.Sub(d.now))
	}
	slices.Sort(waits)
	q := func(p float64) time.Duration { return waits[int(math.Round(p*float64(len(waits)-1)))] }
	return queue.Estimate{Wait: q(0.5), Low: q(0.1), High: q(0.9), Known: true}
}

// future plays the day on from now on a copy of the engine restored from
// snap, in world (nil: the day's own chances), until ticket id (of service,
// on ch, just issued) is called, and returns when; the end of the day if it
// never was.
func (d *day) future(snap queue.Snapshot, id, service string, ch queue.Channel, world *rand.Rand) (time.Time, error) {
	return d.futureMode(snap, id, service, ch, world, "")
}

// Ceilings are plays of the day knowing less than the oracle, to tell what
// each part of its knowledge is worth (BenchmarkPlayCeiling):
//
//   - NoArrivals: the oracle's futures without the citizens still to come;
//   - MeanPlay: one future in which every service takes its true mean,
//     nobody still to come, no no-show or transfer foreseen — the hub's
//     play (rule 7 of hub/queue) knowing the true means instead of learning
//     them;
//   - MeanPlayArrivals: MeanPlay with the citizens expected at the
//     scenario's rates (evenly spread, no priority);
//   - MeanPlayRealArrivals: MeanPlay with the day's real citizens to come.
const (
	NoArrivals           = "futures-no-arrivals"
	MeanPlay             = "mean-play"
	MeanPlayArrivals     = "mean-play+expected-arrivals"
	MeanPlayRealArrivals = "mean-play+real-arrivals"
)

// ceiling plays the day from the ticket just issued as ceiling mode says
// and returns the median of its waits (one future but for NoArrivals).
func (d *day) ceiling(id, service string, ch queue.Channel, mode string) queue.Estimate {
	snap := d.e.Snapshot()
	n := 1
	if mode == NoArrivals {
		n = OracleFutures
	}
	waits := make([]time.Duration, 0, n)
	for w := range n {
		world := rand.New(rand.NewPCG(d.seed^uint64(d.n)<<40^uint64(d.issued)<<8, uint64(w)))
		at, err := d.futureMode(snap, id, service, ch, world, mode)
		if err != nil {
			d.fail("ceiling "+mode, err)
			return queue.Estimate{}
		}
		waits = append(waits, at.Sub(d.now))
	}
	slices.Sort(waits)
	return queue.Estimate{Wait: waits[len(waits)/2], Known: true}
}

func (d *day) futureMode(snap queue.Snapshot, id, service string, ch queue.Channel, world *rand.Rand, mode string) (time.Time, error) {
	e, err := queue.New(d.e.Site().Clone())
	if err != nil {
		return time.Time{}, fmt.Errorf("fork: %w", err)
	}
	e.Restore(snap)
	f := &day{sc: d.sc, e: e, seed: d.seed, n: d.n, date: d.date, now: d.now, seq: d.seq, issued: d.issued,
		agents: make(map[string]*agent, len(d.agents)), fates: make(map[string]*fate, len(d.fates)+64),
		calls: make(map[string]int, len(d.calls)), fork: &fork{watch: id, world: world}}
	for k, a := range d.agents {
		c := *a
		f.agents[k] = &c
	}
	for k, v := range d.fates {
		f.fates[k] = v
	}
	for k, v := range d.calls {
		f.calls[k] = v
	}
	f.events = slices.Clone(d.events)
	if world == nil {
		pcg := *d.pcg
		f.pcg = &pcg
		f.rng = rand.New(f.pcg)
	} else {
		f.rng = world
		f.fork.mean = mode == MeanPlay || mode == MeanPlayArrivals || mode == MeanPlayRealArrivals
		if mode == NoArrivals || mode == MeanPlay || mode == MeanPlayArrivals {
			kept := f.events[:0]
			for _, ev := range f.events {
				if !ev.arrival {
					kept = append(kept, ev)
				}
			}
			f.events = kept
		}
		if f.fork.mean {
			for k := range f.fates {
				if f.calls[k] == 0 {
					f.fates[k] = neutral()
				}
			}
		}
		if mode == MeanPlayArrivals {
			f.expectedArrivals()
		}
		for i := range f.events {
			if s := f.events[i].service; s != nil {
				if f.fork.mean {
					f.events[i].at = s.start.Add(max(condMean(s.mean, f.now.Sub(s.start)), f.now.Sub(s.start)))
				} else {
					f.events[i].at = s.start.Add(serviceAfter(s.mean, f.now.Sub(s.start), world))
				}
			}
		}
		heap.Init(&f.events)
	}
	f.wake(service, ch) // as arrive does once the ticket is issued
	f.run()
	if f.err != nil {
		return time.Time{}, f.err
	}
	if f.fork.calledAt.IsZero() {
		return f.now, nil
	}
	return f.fork.calledAt, nil
}

// forkArrive is a citizen's arrival in a fork: the ticket issued as arrive
// issues it, nothing measured.
func (d *day) forkArrive(service string, ch queue.Channel, f *fate) {
	d.issued++
	id := fmt.Sprintf("d%02d-%05d", d.n, d.issued)
	d.fates[id] = f
	args := queue.IssueRequest{ID: id}
	args.Args.Service, args.Args.Channel = service, string(ch)
	if f.priority {
		args.Args.Priority = string(queue.PriorityPublic)
	}
	if _, err := d.e.Issue(d.by(), args); err != nil {
		return
	}
	d.wake(service, ch)
}

// serviceAfter draws a log-normal service time of the given mean that lasts
// longer than least (a service under way for least already).
func serviceAfter(mean, least time.Duration, rng *rand.Rand) time.Duration {
	if least <= 0 {
		return serviceTime(mean, rng.NormFloat64())
	}
	mu := math.Log(float64(mean)) - Sigma*Sigma/2
	zmin := (math.Log(float64(least)) - mu) / Sigma
	p0 := normalCDF(zmin)
	u := min(p0+rng.Float64()*(1-p0), 1-1e-12)
	return max(serviceTime(mean, math.Sqrt2*math.Erfinv(2*u-1)), least)
}

func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// condMean is the mean of a log-normal service time of the given mean that
// has lasted least already.
func condMean(mean, least time.Duration) time.Duration {
	if least <= 0 {
		return mean
	}
	mu := math.Log(float64(mean)) - Sigma*Sigma/2
	zmin := (math.Log(float64(least)) - mu) / Sigma
	return time.Duration(float64(mean) * normalCDF(Sigma-zmin) / (1 - normalCDF(zmin) + 1e-12))
}

// expectedArrivals schedules, from now to closing, the citizens expected
// at the scenario's rates, evenly, with neutral fates.
func (d *day) expectedArrivals() {
	for _, s := range d.e.Site().Services {
		rate := d.sc.Rates[s.ID]
		phone := 0.0
		if s.Takes(queue.Phone) {
			phone = d.sc.Phone
		}
		start := int(d.now.Sub(d.date).Minutes())
		acc := [2]float64{}
		for m := start; m < Closing; m++ {
			per := rate * d.sc.Shape(m) / 60
			for k, share := range [2]float64{1 - phone, phone} {
				acc[k] += per * share
				for acc[k] >= 1 {
					acc[k]--
					ch := queue.Visit
					if k == 1 {
						ch = queue.Phone
					}
					at := d.at(m).Add(time.Duration(d.rng.Float64() * float64(time.Minute)))
					if !at.After(d.now) {
						continue
					}
					f := neutral()
					sid := s.ID
					d.seq++
					d.events = append(d.events, event{at: at, seq: d.seq, do: func(d *day) { d.arrive(sid, ch, f) }, arrival: true})
				}
			}
		}
	}
}

// neutral is the fate the hub's play assumes: the citizen comes, is not
// transferred, walks to the desk in 30 seconds.
func neutral() *fate {
	c := callFate{walk: 30 * time.Second}
	return &fate{calls: [3]callFate{c, c, c}}
}
