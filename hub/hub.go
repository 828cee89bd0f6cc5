// Package hub is the central service of a site: it runs every operation on
// the queue engine, makes its events durable before answering (group
// commit), keeps idempotent replies, and tells the publishers (MQTT, SSE)
// when the queue changed. Transports (HTTP, MQTT) stand on it.
package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/hub/store"
	"guichet/internal/live"
)

// ErrUnavailable is returned when the hub cannot make an operation durable.
var ErrUnavailable = errors.New("hub unavailable: the operation could not be stored")

// ErrNoOutcome is returned when an operation was queued but the writer did
// not answer within Options.AnswerWait after its caller gave up: it may
// still be stored. A retry with the same idempotency key tells.
var ErrNoOutcome = fmt.Errorf("%w yet: it may still be; retry with the same idempotency key", ErrUnavailable)

// Options configures a Hub.
type Options struct {
	Site queue.Site
	// SiteHash is the site file's hash: the file seeds the site, and a
	// changed file replaces it (site.go). Empty: the log's site wins.
	SiteHash      string
	Store         *store.Store
	Log           *slog.Logger
	Clock         func() time.Time // time.Now if nil
	SnapshotEvery int64            // events between snapshots; 20,000 if zero
	MaxBatch      int              // operations per commit; 512 if zero
	// ProbeEvery is how often the writer tries the store again while it
	// refuses writes (see Health); 1 s if zero.
	ProbeEvery time.Duration
	// AnswerWait is how long Do still waits for a queued operation's
	// outcome once its caller's context is done; 10 s if zero.
	AnswerWait time.Duration
	// OnSite, if set, is told the site after every commit that changed it
	// (from the writer: it must not call the hub's Do).
	OnSite func(queue.Site)
}

// Hub is one site's queue, durable.
type Hub struct {
	// Immutable.
	st      *store.Store
	log     *slog.Logger
	clock   func() time.Time
	every   int64
	max     int
	probe   time.Duration
	wait    time.Duration
	metrics *Metrics
	onSite  func(queue.Site)

	ops  chan *pending
	stop chan struct{}
	done chan struct{}

	mu  sync.RWMutex // guards eng; the writer goroutine is its only mutator
	eng *queue.Engine

	changes live.Notifier // told after every commit that changed the queue

	simClock atomic.Pointer[api.SimClock] // a simulated day's clock (demo), for screens

	snapAt   int64 // engine.Applied() at the last snapshot; writer only
	snapping sync.Mutex

	// The writer's checkpoint, to roll the engine back after a failed
	// commit without reading the store: the engine's state at a committed
	// point, and every event committed since, in order. Restoring base and
	// applying since gives the engine exactly what the log holds. base is
	// the snapshot last handed to the store (every SnapshotEvery events), so
	// since holds fewer than SnapshotEvery events. Writer only.
	base  queue.Snapshot
	since []queue.Event

	down atomic.Pointer[Health] // set while the store refuses writes
}

// Action is one operation on the queue, whatever transport carried it.
type Action struct {
	Name string // "issue_ticket", "call_next"…, for logs and metrics
	// Run decides and applies; it returns the events or a refusal.
	Run func(e *queue.Engine, by queue.By) ([]queue.Event, error)
	// View builds the result of a successful Run, from the state right after it.
	View func(e *queue.Engine, now time.Time, evs []queue.Event) any
	// Supersedes names the idempotency key of an earlier command this one
	// replaces (a kiosk's unanswered request, replaced by the ticket it
	// printed offline). Before Run, Prior receives that command's stored
	// reply, or a nil body if it never ran — and then it never will: the key
	// is given the reply Superseded, refused with api.CodeSuperseded.
	Supersedes string
	Prior      func(prior Reply)
	Superseded []byte
}

type pending struct {
	key    string
	actor  string
	act    Action
	encode Encoder
	reply  chan Reply
	err    error
	rec    *store.Record
	res    Reply
	dup    *pending // same key earlier in the batch
}

// New rebuilds the queue from the store and starts the hub's writer.
func New(o Options) (*Hub, error) {
	eng, err := queue.New(o.Site)
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	h := &Hub{st: o.Store, log: o.Log, clock: o.Clock, every: o.SnapshotEvery, max: o.MaxBatch,
		eng: eng, onSite: o.OnSite, ops: make(chan *pending, 1024), stop: make(chan struct{}), done: make(chan struct{})}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.clock == nil {
		h.clock = time.Now
	}
	if h.every <= 0 {
		h.every = 20_000
	}
	if h.max <= 0 {
		h.max = 512
	}
	if h.probe = o.ProbeEvery; h.probe <= 0 {
		h.probe = time.Second
	}
	if h.wait = o.AnswerWait; h.wait <= 0 {
		h.wait = 10 * time.Second
	}
	start := time.Now()
	n, err := h.st.Load(eng)
	if err != nil {
		return nil, fmt.Errorf("rebuild queue: %w", err)
	}
	h.snapAt = eng.Applied() - int64(n)
	if o.SiteHash != "" {
		if err := h.seedSite(o.Site, o.SiteHash); err != nil {
			return nil, err
		}
	}
	h.base = eng.Snapshot()
	h.metrics = newMetrics(h)
	h.log.Info("queue rebuilt", "events", eng.Applied(), "replayed", n, "waiting", eng.WaitingCount(),
		"took", time.Since(start).Round(time.Millisecond))
	if c := eng.Clamped(); c > 0 {
		h.log.Warn("the log holds times outside what the hub accepts now (written by an older build): held within bounds", "times", c)
	}
	if purged, err := h.st.PurgeReplies(30 * 24 * time.Hour); err != nil {
		h.log.Warn("purge idempotency replies", "err", err)
	} else if purged > 0 {
		h.log.Info("purged old idempotency replies", "count", purged)
	}
	go h.run()
	return h, nil
}

// Close stops the writer after the operations already queued, and saves a
// snapshot so the next start is quick.
func (h *Hub) Close() error {
	select {
	case <-h.stop:
		return nil
	default:
	}
	close(h.stop)
	<-h.done
	h.snapping.Lock()
	defer h.snapping.Unlock()
	if h.eng.Applied() == h.snapAt {
		return nil
	}
	snap := h.eng.Snapshot()
	return h.st.SaveSnapshot(h.st.LastSeq(), &snap)
}

// Metrics returns the hub's Prometheus metrics.
func (h *Hub) Metrics() *Metrics { return h.metrics }

// Store returns the hub's store, for reads of the log.
func (h *Hub) Store() *store.Store { return h.st }

// Now returns the hub's current time.
func (h *Hub) Now() time.Time { return h.clock() }

// SetSimClock tells the screens that a simulated day runs, and on which
// clock (nil: real time); they are told of the change.
func (h *Hub) SetSimClock(c *api.SimClock) {
	h.simClock.Store(c)
	h.changes.Notify()
}

// SimClock returns the simulated day's clock, nil in real time.
func (h *Hub) SimClock() *api.SimClock { return h.simClock.Load() }

// Read runs fn with the engine, for reading only.
func (h *Hub) Read(fn func(e *queue.Engine)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	fn(h.eng)
}

// Do runs an action. key, when not empty, makes it idempotent: the same key
// again returns the first reply and changes nothing, across restarts. Do
// returns once the action's events are durable.
//
// ctx bounds only the wait for a place in the writer's queue. Once the
// action is queued it will run, so Do answers what happened to it even if
// ctx ends meanwhile (an HTTP client that half-closes its connection after
// its request has its context cancelled, and still reads the answer);
// after ctx ends it waits at most Options.AnswerWait more, then returns
// ErrNoOutcome.
func (h *Hub) Do(ctx context.Context, key, actor string, act Action, enc Encoder) (Reply, error) {
	p := &pending{key: key, actor: actor, act: act, encode: enc, reply: make(chan Reply, 1)}
	select {
	case h.ops <- p:
	default:
		select {
		case h.ops <- p:
		case <-h.stop:
			return Reply{}, ErrUnavailable
		case <-ctx.Done():
			return Reply{}, ctx.Err()
		}
	}
	var r Reply
	select {
	case r = <-p.reply:
	case <-ctx.Done():
		t := time.NewTimer(h.wait)
		defer t.Stop()
		select {
		case r = <-p.reply:
		case <-t.C:
			return Reply{}, ErrNoOutcome
		}
	}
	if p.err != nil {
		return r, p.err
	}
	return r, nil
}

// Watch returns a channel signalled after every commit that changed the
// queue; signals coalesce, so a slow reader reads the state once for all it
// missed. cancel releases it.
func (h *Hub) Watch() (ch <-chan struct{}, cancel func()) { return h.changes.Watch() }

// run is the writer: it takes the operations waiting, runs them in order on
// the engine, commits all their events in one transaction, then answers.
// While the store refuses writes, it probes it every h.probe.
func (h *Hub) run() {
	defer close(h.done)
	batch := make([]*pending, 0, h.max)
	var probe *time.Ticker
	var probeC <-chan time.Time
	defer func() {
		if probe != nil {
			probe.Stop()
		}
	}()
	for {
		switch down := h.down.Load() != nil; {
		case down && probe == nil:
			probe = time.NewTicker(h.probe)
			probeC = probe.C
		case !down && probe != nil:
			probe.Stop()
			probe, probeC = nil, nil
		}
		batch = batch[:0]
		select {
		case p := <-h.ops:
			batch = append(batch, p)
		case <-probeC:
			h.tryStore()
			continue
		case <-h.stop:
			h.drain()
			return
		}
	fill:
		for len(batch) < h.max {
			select {
			case p := <-h.ops:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		h.process(batch)
	}
}

// drain answers the operations still queued at shutdown.
func (h *Hub) drain() {
	for {
		select {
		case p := <-h.ops:
			p.err = ErrUnavailable
			p.reply <- Reply{}
		default:
			return
		}
	}
}

func (h *Hub) process(batch []*pending) {
	if h.down.Load() != nil {
		h.refuse(batch)
		return
	}
	start := time.Now()
	var recs []*store.Record
	byKey := map[string]*pending{}
	changed, siteChanged := false, false

	h.mu.Lock()
	// Without the monotonic clock reading: the engine measures durations
	// between the times of its events, and after a restart or a rollback it
	// has them from the log, where only the wall clock is kept (two ways of
	// subtracting gave service means 2 ns apart, and a rollback a queue
	// that was not the log's).
	now := h.clock().Round(0)
	for _, p := range batch {
		if p.key != "" {
			if first := byKey[p.key]; first != nil {
				p.dup = first
				continue
			}
			stored, err := h.st.Reply(p.key)
			if err != nil {
				h.log.Error("read idempotency reply", "key", p.key, "err", err)
				p.err = ErrUnavailable
				continue
			}
			if stored != nil {
				p.res = storedReply(stored)
				p.res.Replayed = true
				continue
			}
			byKey[p.key] = p
		}
		var extra *store.Reply
		if k := p.act.Supersedes; k != "" {
			prior, found, err := h.prior(k, byKey)
			if err != nil {
				h.log.Error("read superseded reply", "key", k, "err", err)
				p.err = ErrUnavailable
				continue
			}
			if !found {
				o := Outcome{Code: api.CodeSuperseded}
				extra = &store.Reply{Key: k, Status: storedStatus(o), Body: p.act.Superseded}
				byKey[k] = &pending{key: k, res: Reply{Outcome: o, Body: p.act.Superseded}}
			}
			if p.act.Prior != nil {
				p.act.Prior(prior)
			}
		}
		evs, err := p.act.Run(h.eng, queue.By{At: now, Actor: p.actor})
		o, result := h.outcome(p.act, evs, err, now)
		body := p.encode(o, result)
		p.res = Reply{Outcome: o, Body: body, Events: evs}
		h.metrics.observeOp(p.act.Name, err)
		if len(evs) > 0 || p.key != "" || extra != nil {
			p.rec = &store.Record{Events: evs}
			if p.key != "" {
				p.rec.Reply = &store.Reply{Key: p.key, Status: storedStatus(o), Body: body}
			}
			if extra != nil {
				recs = append(recs, &store.Record{Reply: extra})
			}
			recs = append(recs, p.rec)
			changed = changed || len(evs) > 0
			for _, ev := range evs {
				siteChanged = siteChanged || queue.IsSiteChange(ev.Type)
			}
		}
	}
	h.mu.Unlock()

	if len(recs) > 0 {
		cstart := time.Now()
		if err := h.st.Append(recs); err != nil {
			h.rollback()
			for _, p := range batch {
				if p.rec != nil {
					p.err, p.res = ErrUnavailable, Reply{}
				}
			}
			changed, siteChanged = false, false
			h.failed(err, len(batch))
		} else {
			for _, rec := range recs {
				h.since = append(h.since, rec.Events...)
			}
		}
		h.metrics.observeCommit(len(recs), time.Since(cstart))
	}
	for _, p := range batch {
		if p.dup != nil {
			p.res, p.err = p.dup.res, p.dup.err
			p.res.Replayed, p.res.Events = true, nil
		}
		p.reply <- p.res
	}
	if siteChanged && h.onSite != nil {
		h.mu.RLock()
		site := h.eng.Site().Clone()
		h.mu.RUnlock()
		h.onSite(site)
	}
	if changed {
		h.changes.Notify()
		h.maybeSnapshot()
	}
	h.metrics.batchLatency.Observe(time.Since(start).Seconds())
}

// prior finds the reply to key: in this batch, or stored.
func (h *Hub) prior(key string, batch map[string]*pending) (r Reply, found bool, err error) {
	if p := batch[key]; p != nil {
		return p.res, true, nil
	}
	stored, err := h.st.Reply(key)
	if err != nil || stored == nil {
		return Reply{}, false, err
	}
	return storedReply(stored), true, nil
}

// maybeSnapshot saves a snapshot in the background every h.every events.
func (h *Hub) maybeSnapshot() {
	applied := h.eng.Applied() // the writer is the only mutator: no lock needed
	if applied-h.snapAt < h.every || !h.snapping.TryLock() {
		return
	}
	h.snapAt = applied
	h.mu.RLock()
	snap := h.eng.Snapshot()
	h.mu.RUnlock()
	h.base, h.since = snap, h.since[:0] // the new checkpoint (snap is only read from now on)
	seq := h.st.LastSeq()
	go func() {
		defer h.snapping.Unlock()
		start := time.Now()
		if err := h.st.SaveSnapshot(seq, &snap); err != nil {
			h.log.Error("save snapshot", "seq", seq, "err", err)
			return
		}
		h.log.Debug("snapshot saved", "seq", seq, "tickets", len(snap.Tickets), "took", time.Since(start).Round(time.Millisecond))
	}()
}
