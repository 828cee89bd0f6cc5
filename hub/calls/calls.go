// Package calls is the hub's side of the telephony link: it takes what a
// telephony.Link says of the calls at the PBX and drives the queue with it
// (a phone ticket per call waiting, started by the agent who answers,
// served when it ends, cancelled with a callback when the caller gives up),
// keeps the calls store (the caller's number, in the citizen file), opens
// and closes agents' phone lines by the blending rule (blending.go), and
// offers the console its functions: the caller of a call (the screen pop),
// click-to-call for a callback.
//
// One goroutine owns it (Run), like the hub's writer: it applies the link's
// events in order, then brings the agents' lines to what the rule wants
// after every change of the queue. After every (re)connection the link
// sends what the PBX has now, and the bridge repairs the queue with
// telephony.Reconcile against what it believes: calls that vanished are
// ended, calls that appeared get tickets, none twice.
//
// Callers' numbers and names are never logged: logs name calls by their
// PBX id and tickets by theirs.
package calls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"guichet/hub"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/telephony"
)

// Blending rules (see blending.go).
const (
	// Policy: the hub's call next gives each call to an agent; the agent's
	// line alone is opened for it.
	Policy = "policy"
	// PBX: the telephone system distributes its calls itself; the hub
	// mirrors them and never pauses a member.
	PBX = "pbx"
)

// Options sets a Bridge up.
type Options struct {
	Hub     *hub.Hub
	Link    telephony.Link
	Mapping telephony.Mapping
	// Store is the citizen file, which keeps the calls store.
	Store *crm.Store
	// Sectors: service → the sector its calls are filed under.
	Sectors map[string]crm.Sector
	// CallbackAfter: a call abandoned after waiting at least this long
	// gets a callback ticket; 0 for none.
	CallbackAfter time.Duration
	// Blending is Policy (the default) or PBX.
	Blending string
	// ActionTimeout bounds one action at the PBX (pause, unpause): 5 s if
	// zero.
	ActionTimeout time.Duration
	// RetryAfter is how long a line the PBX could not close waits before
	// the bridge tries again: 5 s if zero.
	RetryAfter time.Duration
	Log        *slog.Logger
}

// actor is who the bridge's operations are by, in the event log.
const actor = "telephony"

// system is the bridge in the citizen file.
var system = crm.Viewer{ID: "hub-telephony", Role: crm.RoleSystem}

// Bridge is the hub's side of one telephony link.
type Bridge struct {
	// Immutable.
	o   Options
	h   *hub.Hub
	log *slog.Logger

	events chan telephony.Event
	reqs   chan func(ctx context.Context)

	// The owner goroutine's.
	view    *telephony.View
	tickets map[telephony.CallID]string // the ticket of each call present
	up      bool                        // the link is connected
	lines   map[string]*line            // mapped agents' lines, as the PBX confirmed them
	retryAt time.Time                   // when lines the PBX did not close are tried again

	mu         sync.Mutex
	originated map[string]telephony.OriginateResult // click-to-call outcomes, by ref
	state      State
}

// New checks the options and returns a bridge; Run starts it.
func New(o Options) (*Bridge, error) {
	if o.Hub == nil || o.Link == nil || o.Store == nil {
		return nil, errors.New("calls: a hub, a link and the citizen file are required")
	}
	if err := o.Mapping.Validate(); err != nil {
		return nil, fmt.Errorf("calls: mapping: %w", err)
	}
	switch o.Blending {
	case "":
		o.Blending = Policy
	case Policy, PBX:
	default:
		return nil, fmt.Errorf("calls: blending %q is neither %s nor %s", o.Blending, Policy, PBX)
	}
	if o.ActionTimeout <= 0 {
		o.ActionTimeout = 5 * time.Second
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	b := &Bridge{o: o, h: o.Hub, log: o.Log, events: make(chan telephony.Event, 4096), reqs: make(chan func(context.Context)),
		view: telephony.NewView(), tickets: map[telephony.CallID]string{}, lines: map[string]*line{},
		originated: map[string]telephony.OriginateResult{}}
	for _, a := range o.Mapping.Members {
		b.lines[a] = &line{}
	}
	return b, nil
}

// State is what the bridge tells of the link, for supervision.
type State struct {
	Connected bool      `json:"connected"`
	Since     time.Time `json:"since,omitzero"`
	Error     string    `json:"error,omitempty"` // why it is down
	Calls     int       `json:"calls"`           // calls present at the PBX, as the hub believes
	Resyncs   int       `json:"resyncs"`         // (re)connections since the hub started
}

// State returns the link's state.
func (b *Bridge) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Run drives the queue with the link's events until ctx ends. It returns
// the link's configuration error, or nil once ctx ended.
func (b *Bridge) Run(ctx context.Context) error {
	if err := b.seed(ctx); err != nil {
		return err
	}
	linkCtx, stopLink := context.WithCancel(ctx)
	defer stopLink()
	linkDone := make(chan error, 1)
	go func() { linkDone <- b.o.Link.Run(linkCtx, b.emit) }()
	changes, unwatch := b.h.Watch()
	defer unwatch()
	b.sync(ctx)
	for {
		var retry <-chan time.Time
		var timer *time.Timer
		if !b.retryAt.IsZero() {
			timer = time.NewTimer(time.Until(b.retryAt))
			retry = timer.C
		}
		select {
		case <-ctx.Done():
			<-linkDone
			return nil
		case err := <-linkDone:
			if ctx.Err() != nil {
				return nil
			}
			b.log.Error("telephony: the link stopped", "err", err)
			return fmt.Errorf("telephony link: %w", err)
		case ev := <-b.events:
			b.handle(ctx, ev)
			for more := true; more; {
				select {
				case ev := <-b.events:
					b.handle(ctx, ev)
				default:
					more = false
				}
			}
		case <-changes:
		case r := <-b.reqs:
			r(ctx)
		case <-retry:
			b.retryAt = time.Time{}
		}
		if timer != nil {
			timer.Stop()
		}
		b.sync(ctx)
	}
}

// emit takes the link's events, in order.
func (b *Bridge) emit(e telephony.Event) { b.events <- e }

// owned runs fn on the owner goroutine and waits for it.
func (b *Bridge) owned(ctx context.Context, fn func(ctx context.Context) error) error {
	done := make(chan error, 1)
	select {
	case b.reqs <- func(ctx context.Context) { done <- fn(ctx) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do runs one engine operation through the hub (durable when it returns);
// a refusal is returned as the engine's *queue.Error.
func (b *Bridge) do(ctx context.Context, name string, run func(e *queue.Engine, by queue.By) ([]queue.Event, error)) ([]queue.Event, error) {
	r, err := b.h.Do(ctx, "", actor, hub.Action{Name: name, Run: run}, noBody)
	if err != nil {
		return nil, err
	}
	if !r.Done() {
		return nil, &queue.Error{Code: r.Code, Message: r.Message}
	}
	return r.Events, nil
}

func noBody(hub.Outcome, json.RawMessage) []byte { return nil }

// refusal reports whether err is the engine's refusal with that code.
func refusal(err error, code string) bool {
	var qe *queue.Error
	return errors.As(err, &qe) && qe.Code == code
}

// liveCall returns the live ticket of a call.
func (b *Bridge) liveCall(id telephony.CallID) (queue.Ticket, bool) {
	var t queue.Ticket
	var ok bool
	b.h.Read(func(e *queue.Engine) { t, ok = e.LiveCall(string(id)) })
	return t, ok
}

// setState updates what supervision sees of the link.
func (b *Bridge) setState(fn func(s *State)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fn(&b.state)
	b.state.Calls = len(b.tickets)
}
