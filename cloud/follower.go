package cloud

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// Defaults of a destination's options.
const (
	DefaultDeadLetterAfter = 72 * time.Hour // a long weekend
	DefaultMinBackoff      = time.Second
	DefaultMaxBackoff      = 5 * time.Minute
	saveEvery              = time.Second // the cursor is written at most this often
	page                   = 500         // events read from the log at once
)

// DestinationOptions configures one destination.
type DestinationOptions struct {
	Name    string // unique; in logs, the API and the cursor's name
	Kind    string // webhook, bridge, suitecrm, lutece, mqtt
	Dest    Destination
	Purpose Purpose
	// Types are the event types delivered, as path.Match patterns
	// ("ticket.*", "citizen.erased"); every type if empty.
	Types []string
	// Batch is the most events given to one Send; 1 if zero.
	Batch int
	// Cursor names the destination's place in the log in the store;
	// "cloud:" + Name if empty.
	Cursor string
	// DeadLetterAfter: once the destination has failed for this long, a
	// batch it still fails goes to the dead letters and the follower goes
	// on; DefaultDeadLetterAfter if zero, never if negative.
	DeadLetterAfter time.Duration
	// The wait between two tries grows from MinBackoff to MaxBackoff,
	// doubling, each wait drawn between half and all of it (jitter).
	MinBackoff, MaxBackoff time.Duration
}

// The states of a destination.
const (
	StateOK       = "ok"
	StateRetrying = "retrying"
	StateGone     = "gone"
)

// follower delivers the log to one destination, from its cursor. Its
// goroutine (run) owns the cursor and the mapper; the status is read by
// others under mu.
type follower struct {
	o      *Outbox
	d      DestinationOptions
	log    *slog.Logger
	mapper *Mapper
	resume chan struct{}

	cur     atomic.Int64 // delivered or passed up to here
	saved   int64        // written (or being written) up to here; run only
	savedAt time.Time    // run only
	loaded  atomic.Bool
	busy    atomic.Bool    // a cursor write is in flight
	saving  sync.WaitGroup // the write in flight

	mu           sync.Mutex
	saveFailed   bool // a cursor write failed: write it again
	state        string
	failingSince time.Time
	lastErr      string
}

func newFollower(o *Outbox, d DestinationOptions) *follower {
	if d.Batch <= 0 {
		d.Batch = 1
	}
	if d.Cursor == "" {
		d.Cursor = "cloud:" + d.Name
	}
	if d.DeadLetterAfter == 0 {
		d.DeadLetterAfter = DefaultDeadLetterAfter
	}
	if d.MinBackoff <= 0 {
		d.MinBackoff = DefaultMinBackoff
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = DefaultMaxBackoff
	}
	d.MinBackoff = min(d.MinBackoff, d.MaxBackoff)
	log := o.log.With("destination", d.Name)
	return &follower{o: o, d: d, log: log, mapper: NewMapper(o.opts.Site(), o.opts.Log, d.Purpose),
		resume: make(chan struct{}, 1), state: StateOK}
}

// wants reports whether the destination takes ev.
func (f *follower) wants(ev queue.Event) bool {
	if Personal(ev) {
		return false
	}
	if len(f.d.Types) == 0 {
		return true
	}
	for _, p := range f.d.Types {
		if ok, _ := path.Match(p, string(ev.Type)); ok {
			return true
		}
	}
	return false
}

// run delivers until ctx ends, then writes the cursor.
func (f *follower) run(ctx context.Context) {
	changes, cancel := f.o.opts.Watch()
	defer cancel()
	if !f.load(ctx) {
		return
	}
	defer f.save(true)
	tick := time.NewTicker(saveEvery)
	defer tick.Stop()
	for {
		if f.State() == StateGone {
			select {
			case <-ctx.Done():
				return
			case <-f.resume:
			case <-tick.C:
				f.save(false)
			}
			continue
		}
		more, ok := f.step(ctx)
		f.save(false)
		if !ok {
			return
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-changes:
		case <-f.resume:
		case <-tick.C:
		}
	}
}

// load reads the cursor, trying again until it can or ctx ends.
func (f *follower) load(ctx context.Context) bool {
	for wait := f.d.MinBackoff; ; wait = min(2*wait, f.d.MaxBackoff) {
		seq, err := f.o.opts.Log.Cursor(f.d.Cursor)
		if err == nil {
			f.cur.Store(seq)
			f.saved, f.savedAt = seq, time.Now()
			f.loaded.Store(true)
			return true
		}
		f.log.Error("read the destination's cursor; trying again", "err", err)
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// save writes the cursor if it moved and saveEvery passed, or now. What
// was sent is made durable first (Syncer): a crash sends again rather than
// loses. The write goes to the store's single writer connection, behind the
// hub's commits: it is done beside the deliveries (at most one at a time),
// so that they do not wait for it; now waits for it.
func (f *follower) save(now bool) {
	cur := f.cur.Load()
	if now {
		f.saving.Wait()
	}
	if f.saveFailedReset() {
		f.saved = -1 // not written: write it again
	}
	if cur == f.saved || !now && time.Since(f.savedAt) < saveEvery || !f.busy.CompareAndSwap(false, true) {
		return
	}
	f.saved, f.savedAt = cur, time.Now() // optimistic: set back on failure
	f.saving.Add(1)
	write := func() {
		defer f.saving.Done()
		defer f.busy.Store(false)
		fail := func() {
			f.mu.Lock()
			f.saveFailed = true
			f.mu.Unlock()
		}
		if s, ok := f.d.Dest.(Syncer); ok {
			if err := s.Sync(); err != nil {
				f.log.Warn("the cursor waits: what was sent is not durable yet", "err", err)
				fail()
				return
			}
		}
		if err := f.o.opts.Log.SetCursor(f.d.Cursor, cur); err != nil {
			f.log.Warn("save the destination's cursor", "err", err)
			fail()
		}
	}
	if now {
		write()
		return
	}
	go write()
}

// saveFailedReset tells, once, whether a write failed since the last
// call; the cursor is then written again at the next save.
func (f *follower) saveFailedReset() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	failed := f.saveFailed
	f.saveFailed = false
	return failed
}

// step delivers one page of the log after the cursor. more: there may be
// more to read at once; ok is false when ctx ended.
func (f *follower) step(ctx context.Context) (more, ok bool) {
	f.mapper.SetSite(f.o.opts.Site())
	evs, err := f.o.opts.Log.Events(ctx, f.cur.Load(), page)
	if err != nil {
		if ctx.Err() != nil {
			return false, false
		}
		f.log.Warn("read the event log; trying again", "err", err)
		return false, sleep(ctx, f.d.MinBackoff)
	}
	var batch []Event
	var upto int64 // the cursor once batch is delivered
	for _, ev := range evs {
		if !f.wants(ev) {
			if len(batch) == 0 {
				f.cur.Store(ev.Seq)
			}
			upto = ev.Seq
			continue
		}
		e, err := f.mapper.Map(ctx, ev)
		if err != nil {
			if ctx.Err() != nil {
				return false, false
			}
			f.log.Warn("map an event; trying again", "seq", ev.Seq, "err", err)
			return false, sleep(ctx, f.d.MinBackoff) // batch is sent again from the cursor
		}
		batch, upto = append(batch, e), ev.Seq
		if len(batch) == f.d.Batch {
			if !f.deliver(ctx, batch) {
				return false, false
			}
			f.cur.Store(upto)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if !f.deliver(ctx, batch) {
			return false, false
		}
		f.cur.Store(upto)
	}
	return len(evs) == page, true
}

// deliver sends batch until it is taken, or filed as dead letters; false
// when ctx ended first.
func (f *follower) deliver(ctx context.Context, batch []Event) bool {
	for attempt := 1; ; attempt++ {
		err := f.d.Dest.Send(ctx, batch)
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			f.succeeded()
			return true
		}
		rejected, gone := classify(err)
		reason, words := err.Error(), Words(err) // words: for the dead letters only
		switch {
		case rejected && len(batch) > 1:
			f.log.Warn("a batch was refused: its events are sent one by one", "events", len(batch), "reason", reason)
			for i := range batch {
				if !f.deliver(ctx, batch[i:i+1]) {
					return false
				}
			}
			return true
		case rejected || gone:
			if f.bury(batch, attempt, reason, words) {
				if gone {
					f.setGone(reason)
				} else {
					f.succeeded() // it answers
				}
				return true
			}
		default:
			since := f.failing(reason, attempt)
			if f.d.DeadLetterAfter >= 0 && time.Since(since) >= f.d.DeadLetterAfter {
				if f.bury(batch, attempt, fmt.Sprintf("failing for %s: %s", time.Since(since).Round(time.Second), reason), words) {
					return sleep(ctx, f.backoff(attempt)) // the next batch, after the wait
				}
			}
		}
		if !sleep(ctx, f.backoff(attempt)) {
			return false
		}
	}
}

// backoff is the wait after the attempt-th failure: doubling from
// MinBackoff up to MaxBackoff, drawn between half and all of it.
func (f *follower) backoff(attempt int) time.Duration {
	d := f.d.MinBackoff
	for i := 1; i < attempt && d < f.d.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, f.d.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// bury files batch as dead letters with the reason and the destination's
// own words (see Said), and logs the reason alone; false if it could not
// (it is tried again, so nothing is lost).
func (f *follower) bury(batch []Event, attempts int, reason, words string) bool {
	filed := reason
	if words != "" {
		filed = fmt.Sprintf("%s: %q", reason, words)
	}
	if err := f.o.opts.DeadLetters.Add(f.d.Name, batch, time.Now(), attempts, filed); err != nil {
		f.log.Error("file dead letters; the events are tried again", "err", err)
		return false
	}
	f.log.Warn("events filed as dead letters", "events", len(batch), "first", batch[0].Seq, "last", batch[len(batch)-1].Seq,
		"attempts", attempts, "reason", reason)
	return true
}

// failing records a failure; it returns when the destination started
// failing.
func (f *follower) failing(reason string, attempt int) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failingSince.IsZero() {
		f.failingSince = time.Now()
		f.log.Warn("destination failing; retrying with backoff", "reason", reason)
	} else {
		f.log.Debug("destination still failing", "reason", reason, "attempt", attempt)
	}
	if f.state != StateGone {
		f.state = StateRetrying
	}
	f.lastErr = reason
	return f.failingSince
}

func (f *follower) succeeded() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.failingSince.IsZero() {
		f.log.Info("destination back", "after", time.Since(f.failingSince).Round(time.Second))
	}
	f.failingSince, f.state = time.Time{}, StateOK
}

func (f *follower) setGone(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state, f.lastErr = StateGone, reason
	if f.failingSince.IsZero() {
		f.failingSince = time.Now()
	}
	f.log.Error("the destination says it is gone: stopped until an admin resumes it", "reason", reason)
}

// State returns the destination's state.
func (f *follower) State() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// status shows the destination.
func (f *follower) status(last int64) api.Destination {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := api.Destination{Name: f.d.Name, Kind: f.d.Kind, Cursor: f.cur.Load(), State: f.state, LastError: f.lastErr}
	d.Behind = max(0, last-d.Cursor)
	if !f.failingSince.IsZero() {
		t := f.failingSince
		d.FailingSince = &t
	}
	return d
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
