package telephony

import (
	"context"
	"fmt"
	"sync"
)

// Fake is a Link for tests of what drives a link: the test sends the events
// a PBX would cause (Send), and reads back the actions asked of it
// (Actions). It checks agents against its Mapping as an adapter does.
type Fake struct {
	Mapping Mapping

	mu      sync.Mutex
	events  chan Event
	actions []FakeAction
	down    bool
	refuse  error
}

// FakeAction is an action asked of a Fake.
type FakeAction struct {
	Op     string // "pause", "unpause", "originate"
	Agent  string
	Member string
	Reason string
	Ref    string
	Number string
}

// NewFake returns a Fake with this mapping.
func NewFake(m Mapping) *Fake {
	return &Fake{Mapping: m, events: make(chan Event, 256)}
}

// Run delivers what Send queues, in order, until ctx ends.
func (f *Fake) Run(ctx context.Context, emit func(Event)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-f.events:
			emit(e)
		}
	}
}

// Send queues events for Run to deliver. It blocks when 256 are pending.
func (f *Fake) Send(events ...Event) {
	for _, e := range events {
		f.events <- e
	}
}

// SetDown makes the actions fail with ErrNotConnected (true) or succeed.
func (f *Fake) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// Refuse makes the actions fail with err (nil: succeed).
func (f *Fake) Refuse(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = err
}

// Actions returns the actions asked so far, in order.
func (f *Fake) Actions() []FakeAction {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeAction(nil), f.actions...)
}

// Pause records a pause.
func (f *Fake) Pause(ctx context.Context, agent, reason string) error {
	return f.act(FakeAction{Op: "pause", Agent: agent, Reason: reason})
}

// Unpause records an unpause.
func (f *Fake) Unpause(ctx context.Context, agent string) error {
	return f.act(FakeAction{Op: "unpause", Agent: agent})
}

// Originate records a click-to-call.
func (f *Fake) Originate(ctx context.Context, r OriginateRequest) error {
	return f.act(FakeAction{Op: "originate", Agent: r.Agent, Ref: r.Ref, Number: r.Number})
}

func (f *Fake) act(a FakeAction) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return fmt.Errorf("%s %s: %w", a.Op, a.Agent, ErrNotConnected)
	}
	if f.refuse != nil {
		return fmt.Errorf("%s %s: %w", a.Op, a.Agent, f.refuse)
	}
	member, ok := f.Mapping.Member(a.Agent)
	if !ok {
		return fmt.Errorf("%s %s: %w", a.Op, a.Agent, ErrUnknownAgent)
	}
	a.Member = member
	f.actions = append(f.actions, a)
	return nil
}

var _ Link = (*Fake)(nil)
