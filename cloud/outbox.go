package cloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// Log is the hub's event log as the outbox reads it (hub/store), and the
// cursors it keeps there.
type Log interface {
	TicketLog
	Events(ctx context.Context, after int64, limit int) ([]queue.Event, error)
	EventsBetween(ctx context.Context, from, to time.Time, after int64, limit int) ([]queue.Event, error)
	LastSeq() int64
	Cursor(name string) (int64, error)
	SetCursor(name string, seq int64) error
}

// Options configures an Outbox.
type Options struct {
	Log         Log
	Watch       func() (<-chan struct{}, func()) // told after every commit (hub.Watch)
	Site        func() Site                      // the site's names, as they are now
	DeadLetters *DeadLetters
	Logger      *slog.Logger
}

// ErrUnknown is returned for a destination the outbox does not have.
var ErrUnknown = errors.New("no such destination")

// Outbox runs the site's destinations, one goroutine each.
type Outbox struct {
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	followers []*follower
	ctx       context.Context // set by Start
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New returns an outbox; destinations are added with Add and run from Start.
func New(o Options) *Outbox {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Outbox{opts: o, log: o.Logger.With("part", "cloud")}
}

// Add adds a destination; after Start, it starts at once.
func (o *Outbox) Add(d DestinationOptions) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d.Name == "" || d.Dest == nil {
		return errors.New("a destination needs a name and a connector")
	}
	if slices.ContainsFunc(o.followers, func(f *follower) bool { return f.d.Name == d.Name }) {
		return fmt.Errorf("destination %q: the name is taken", d.Name)
	}
	f := newFollower(o, d)
	o.followers = append(o.followers, f)
	if o.ctx != nil {
		o.start(f)
	}
	return nil
}

// Start starts delivering to every destination.
func (o *Outbox) Start() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ctx != nil {
		return
	}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	for _, f := range o.followers {
		o.start(f)
	}
}

func (o *Outbox) start(f *follower) {
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		f.run(o.ctx)
	}()
}

// Close stops every destination; each writes its cursor (after its
// Syncer) before Close returns; then the connectors that can be are closed.
func (o *Outbox) Close() {
	o.mu.Lock()
	cancel := o.cancel
	o.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	o.wg.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range o.followers {
		if c, ok := f.d.Dest.(interface{ Close() error }); ok {
			if err := c.Close(); err != nil {
				f.log.Warn("close the destination", "err", err)
			}
		}
	}
}

func (o *Outbox) follower(name string) (*follower, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range o.followers {
		if f.d.Name == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknown, name)
}

// Destinations shows every destination, in the order they were added.
func (o *Outbox) Destinations() []api.Destination {
	o.mu.Lock()
	fs := slices.Clone(o.followers)
	o.mu.Unlock()
	last := o.opts.Log.LastSeq()
	out := []api.Destination{}
	for _, f := range fs {
		d := f.status(last)
		if n, err := o.opts.DeadLetters.Count(f.d.Name); err == nil {
			d.DeadLetters = n
		}
		out = append(out, d)
	}
	return out
}

// DeadLetters lists up to limit of a destination's dead letters.
func (o *Outbox) DeadLetters(ctx context.Context, name string, limit int) ([]api.DeadLetter, error) {
	if _, err := o.follower(name); err != nil {
		return nil, err
	}
	return o.opts.DeadLetters.List(ctx, o.opts.Site().ID, name, limit)
}

// Replay sends a destination's dead letters again — those of seqs, or all
// if seqs is empty — each once, in order: those delivered leave the list,
// the others stay with the new reason. The events are read from the log
// and mapped again as the destination's purpose allows.
func (o *Outbox) Replay(ctx context.Context, name string, seqs []int64) (api.Replayed, error) {
	f, err := o.follower(name)
	if err != nil {
		return api.Replayed{}, err
	}
	site := o.opts.Site()
	dls, err := o.opts.DeadLetters.List(ctx, site.ID, name, 1<<30)
	if err != nil {
		return api.Replayed{}, err
	}
	m := NewMapper(site, o.opts.Log, f.d.Purpose)
	res := api.Replayed{Failed: []api.DeadLetter{}}
	for _, dl := range dls {
		if len(seqs) > 0 && !slices.Contains(seqs, dl.Seq) {
			continue
		}
		if err := o.replayOne(ctx, f, m, dl.Seq); err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			dl.Reason, dl.Attempts, dl.At = err.Error(), dl.Attempts+1, time.Now()
			if e := o.opts.DeadLetters.Add(name, []Event{{Seq: dl.Seq, Type: dl.Type}}, dl.At, 1, dl.Reason); e != nil {
				return res, e
			}
			res.Failed = append(res.Failed, dl)
			continue
		}
		if err := o.opts.DeadLetters.Remove(name, dl.Seq); err != nil {
			return res, err
		}
		res.Delivered++
	}
	f.log.Info("dead letters replayed", "delivered", res.Delivered, "failed", len(res.Failed))
	return res, nil
}

func (o *Outbox) replayOne(ctx context.Context, f *follower, m *Mapper, seq int64) error {
	evs, err := o.opts.Log.Events(ctx, seq-1, 1)
	if err != nil {
		return fmt.Errorf("read the log: %w", err)
	}
	if len(evs) == 0 || evs[0].Seq != seq {
		return errors.New("the event is no longer in the log")
	}
	e, err := m.Map(ctx, evs[0])
	if err != nil {
		return err
	}
	return f.d.Dest.Send(ctx, []Event{e})
}

// Resume starts again a destination stopped by a 410.
func (o *Outbox) Resume(name string) error {
	f, err := o.follower(name)
	if err != nil {
		return err
	}
	f.mu.Lock()
	if f.state == StateGone {
		f.state, f.failingSince, f.lastErr = StateOK, time.Time{}, ""
		f.log.Info("destination resumed")
	}
	f.mu.Unlock()
	select {
	case f.resume <- struct{}{}:
	default:
	}
	return nil
}

// CloudEvents returns the log after seq in CloudEvents form, as a public
// destination gets it (for catching up over HTTP): at most limit events
// read; Next is the last sequence read.
func (o *Outbox) CloudEvents(ctx context.Context, after int64, limit int) (api.CloudEventsPage, error) {
	evs, err := o.opts.Log.Events(ctx, after, limit)
	if err != nil {
		return api.CloudEventsPage{}, err
	}
	m := NewMapper(o.opts.Site(), o.opts.Log, Public)
	p := api.CloudEventsPage{Events: []api.CloudEvent{}, Next: after}
	for _, ev := range evs {
		p.Next = ev.Seq
		if Personal(ev) {
			continue
		}
		ce, err := m.CloudEvent(ctx, ev)
		if err != nil {
			return api.CloudEventsPage{}, err
		}
		p.Events = append(p.Events, ce)
	}
	return p, nil
}
