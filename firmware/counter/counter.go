// Package counter is the counter terminal's role: push buttons on the desk
// (call next, recall, no-show, finish, pause), an LED lit while the agent
// holds a ticket, a small display with the current number. Every press goes
// through the device's outbox, so a press during a Wi-Fi cut is done once
// the link is back; the hub acts on the counter the device is registered
// for, whatever the terminal believes.
package counter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hw/button"
	"guichet/hw/deskscreen"
	"guichet/internal/live"
)

// The buttons of a counter terminal.
const (
	Next   = "next"   // call the next citizen (finishing the current one)
	Recall = "recall" // call the current ticket again
	NoShow = "noshow" // the called citizen did not come
	Finish = "finish" // the visit is over
	Pause  = "pause"  // pause, or resume when paused
)

// Buttons lists the buttons in the order of the desk.
var Buttons = []string{Next, Recall, NoShow, Finish, Pause}

// Link is what the terminal needs of the device's link to the hub.
type Link interface {
	Topics() api.Topics
	Follow(topic string, fn func(payload []byte))
	OnReply(fn func(link.Entry, api.Reply))
	OnConnection(fn func(up bool))
	Connected() bool
	Problem() link.Problem // why it cannot work with the hub, if it cannot
	Enqueue(id, op string, args any) error
	PendingEntries() []link.Entry
}

// Options set a terminal up.
type Options struct {
	Link    Link
	Counter string // the counter it sits at, as registered on the hub
	// Agent, if set, opens the counter for this agent when it is closed.
	Agent       string
	Pins        map[string]gpio.PinIn // button → its pin
	LED         gpio.PinOut           // lit while a ticket is held; nil: none
	Screen      deskscreen.Screen     // nil: none
	Lang        string                // "fr" (default) or "en"
	PauseReason string                // "pause" if empty
	// Window is the shortest time between two presses of one button: 700 ms
	// if zero.
	Window time.Duration
	// Log receives the terminal's log lines; nil discards them.
	Log *slog.Logger
	// Clock returns the time: time.Now if nil.
	Clock func() time.Time
}

// Terminal is a counter terminal.
type Terminal struct {
	o       Options
	log     *slog.Logger
	texts   texts
	changed chan struct{}

	mu        sync.Mutex // serialises presses: a press reads the outbox, then adds to it
	view      api.Counter
	known     bool
	opened    bool   // the counter was opened for Options.Agent, or found open
	note      string // the last refusal, shown a few seconds
	noteShort string
	noteUntil time.Time
	wrong     string // the counter the hub says this device is registered for, if not Options.Counter
	shown     live.Notifier
}

// New makes a terminal; Run drives its pins and display.
func New(o Options) (*Terminal, error) {
	if o.Counter == "" {
		return nil, errors.New("counter terminal: which counter? (--counter)")
	}
	for b := range o.Pins {
		if !valid(b) {
			return nil, fmt.Errorf("counter terminal: unknown button %q (%v)", b, Buttons)
		}
	}
	if o.PauseReason == "" {
		o.PauseReason = "pause"
	}
	if o.Window <= 0 {
		o.Window = 700 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	t := &Terminal{o: o, log: o.Log, texts: textsFor(o.Lang), changed: make(chan struct{}, 1)}
	o.Link.Follow(o.Link.Topics().Counter(o.Counter), t.onCounter)
	o.Link.OnReply(t.onReply)
	o.Link.OnConnection(func(bool) { t.poke() })
	return t, nil
}

func valid(b string) bool {
	for _, x := range Buttons {
		if x == b {
			return true
		}
	}
	return false
}

func (t *Terminal) poke() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

func (t *Terminal) onCounter(p []byte) {
	v, err := api.ParseCounter(p, t.o.Counter)
	if err != nil {
		t.log.Warn("counter state unreadable", "err", err)
		return
	}
	t.mu.Lock()
	t.view, t.known = v, true
	// Opened once, at start: a counter the agent closes later stays closed.
	open := !v.Open && t.o.Agent != "" && !t.opened
	t.opened = true
	t.mu.Unlock()
	if open {
		t.log.Info("opening the counter", "counter", t.o.Counter, "agent", t.o.Agent)
		if err := t.o.Link.Enqueue(link.NewID(), api.OpOpen, api.OpenArgs{Agent: t.o.Agent}); err != nil {
			t.log.Error("open the counter", "err", err)
		}
	}
	t.poke()
}

// onReply shows a refusal on the desk display for a few seconds, and
// notices a terminal set up for another counter than the hub's registry.
func (t *Terminal) onReply(e link.Entry, r api.Reply) {
	t.mu.Lock()
	defer t.poke()
	defer t.mu.Unlock()
	if r.OK {
		var v api.Counter
		if json.Unmarshal(r.Result, &v) == nil && v.ID != "" && v.ID != t.o.Counter && t.wrong != v.ID {
			t.wrong = v.ID
			t.log.Error("this terminal is registered for another counter on the hub: its presses act there",
				"configured", t.o.Counter, "registered", v.ID)
		}
		return
	}
	code, msg := "error", ""
	if r.Error != nil {
		code, msg = r.Error.Code, r.Error.Message
	}
	t.log.Info("refused", "op", e.Op, "code", code, "message", msg)
	t.note, t.noteShort = t.texts.refusal(code)
	t.noteUntil = t.o.Clock().Add(4 * time.Second)
}

// Press does what a button does. It journals the command in the outbox and
// returns at once: the hub gets it now, or when the link is back. A press
// repeating a command still waiting for the hub is ignored (an agent who
// presses again because nothing happened during a cut calls one citizen,
// not five).
func (t *Terminal) Press(b string) error {
	if !valid(b) {
		return fmt.Errorf("unknown button %q", b)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	pending := t.o.Link.PendingEntries()
	paused := t.view.AgentState == "paused"
	for _, e := range pending {
		switch e.Op {
		case api.OpPause:
			paused = true
		case api.OpResume:
			paused = false
		}
	}
	type cmd struct {
		op   string
		args any
	}
	var cmds []cmd
	switch b {
	case Next:
		if paused {
			cmds = append(cmds, cmd{op: api.OpResume}) // back from a pause: next
		}
		cmds = append(cmds, cmd{op: api.OpCallNext})
	case Recall:
		cmds = append(cmds, cmd{op: api.OpRecall})
	case NoShow:
		cmds = append(cmds, cmd{op: api.OpNoShow})
	case Finish:
		cmds = append(cmds, cmd{op: api.OpFinish})
	case Pause:
		if paused {
			cmds = append(cmds, cmd{op: api.OpResume})
		} else {
			cmds = append(cmds, cmd{op: api.OpPause, args: api.PauseArgs{Reason: t.o.PauseReason}})
		}
	}
	if b != Pause {
		last := cmds[len(cmds)-1].op
		for _, e := range pending {
			if e.Op == last {
				t.log.Info("press ignored: the same command waits for the hub", "button", b, "op", last)
				return nil
			}
		}
	}
	for _, c := range cmds {
		if err := t.o.Link.Enqueue(link.NewID(), c.op, c.args); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		t.log.Info("press", "button", b, "op", c.op, "online", t.o.Link.Connected())
	}
	t.poke()
	return nil
}

// State is what the terminal shows.
type State struct {
	Frame   deskscreen.Frame `json:"frame"`
	LED     bool             `json:"led"`
	Online  bool             `json:"online"`
	Pending int              `json:"pending"`
	Counter api.Counter      `json:"counter"`
}

// State returns what the display and the LED show now.
func (t *Terminal) State() State {
	pending := len(t.o.Link.PendingEntries())
	online := t.o.Link.Connected()
	t.mu.Lock()
	defer t.mu.Unlock()
	v, x := t.view, t.texts
	st := State{Online: online, Pending: pending, Counter: v, LED: v.Ticket != nil}
	f := deskscreen.Frame{Top: api.ShortCounterName(v.Name), Big: "—", Short: "----"}
	if f.Top == "" {
		f.Top = x.counter + " " + t.o.Counter
	}
	if !online {
		f.Top += " · " + x.offline
	}
	switch {
	case !t.known:
		f.Bottom, f.Big, f.Short = x.waitingHub, "…", "    "
	case !v.Open:
		f.Bottom, f.Short = x.closed, x.closedShort
	case v.Ticket != nil:
		f.Big, f.Short = v.Ticket.Number, v.Ticket.Number
		f.Bottom = x.called
		if v.Ticket.State == "serving" {
			f.Bottom = x.serving
		}
		if v.Ticket.Recalls > 0 {
			f.Bottom += fmt.Sprintf(" · %s %d", x.recall, v.Ticket.Recalls)
		}
	case v.AgentState == "paused":
		f.Bottom, f.Short = x.paused, x.pausedShort
	default:
		f.Bottom = x.free
	}
	if pending > 0 && !online {
		f.Bottom = fmt.Sprintf(x.toSend, pending)
	}
	if p := t.o.Link.Problem(); p != link.NoProblem && p != link.ProblemUnreachable {
		// A terminal set up wrong (secret, site) says so, short enough for
		// the desk display (the log says it whole); a hub out of reach is
		// "hors ligne" on the top line, with the presses waiting to be sent.
		f.Bottom, f.Short, f.Alert = x.problems[p], "ERR ", true
	} else if t.wrong != "" {
		f.Bottom, f.Alert = fmt.Sprintf(x.wrong, t.wrong), true
	} else if t.o.Clock().Before(t.noteUntil) {
		f.Bottom, f.Short, f.Alert = t.note, t.noteShort, true
	}
	st.Frame = f
	return st
}

// Watch returns a channel signalled each time the terminal shows something
// new (its display or its LED changed), while Run runs.
func (t *Terminal) Watch() (<-chan struct{}, func()) { return t.shown.Watch() }

// Await waits, at most timeout, until cond holds on the terminal's state,
// reading it again each time the terminal shows something new (while Run
// runs). It returns the last state read and whether cond held.
func (t *Terminal) Await(ctx context.Context, timeout time.Duration, cond func(State) bool) (State, bool) {
	changed, stop := t.Watch()
	defer stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		st := t.State()
		if cond(st) {
			return st, true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return st, false
		case <-ctx.Done():
			return st, false
		}
	}
}

// Run reads the buttons and keeps the LED and the display up to date until
// ctx ends. It returns an error if a pin cannot be set up.
func (t *Terminal) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	presses := make(chan string, 8)
	errs := make(chan error, len(t.o.Pins))
	for name, pin := range t.o.Pins {
		ch := make(chan time.Time, 4)
		wg.Add(2)
		go func() {
			defer wg.Done()
			b := &button.Button{Pin: pin, Window: t.o.Window}
			if err := b.Run(ctx, ch); err != nil {
				errs <- fmt.Errorf("button %s: %w", name, err)
			}
		}()
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case <-ch:
					select {
					case presses <- name:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
	}
	var shown *State
	tick := time.NewTicker(time.Second) // notes expire, the link comes and goes
	defer tick.Stop()
	for {
		st := t.State()
		if shown == nil || st.Frame != shown.Frame || st.LED != shown.LED {
			t.show(st, shown)
			shown = &st
			t.shown.Notify()
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return err
		case b := <-presses:
			if err := t.Press(b); err != nil {
				t.log.Error("press", "button", b, "err", err)
			}
		case <-t.changed:
		case <-tick.C:
		}
	}
}

func (t *Terminal) show(st State, before *State) {
	if t.o.LED != nil && (before == nil || before.LED != st.LED) {
		l := gpio.Low
		if st.LED {
			l = gpio.High
		}
		if err := t.o.LED.Out(l); err != nil {
			t.log.Warn("LED", "err", err)
		}
	}
	if t.o.Screen != nil && (before == nil || before.Frame != st.Frame) {
		if err := t.o.Screen.Show(st.Frame); err != nil {
			t.log.Warn("desk display", "err", err)
		}
	}
}
