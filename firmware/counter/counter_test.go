package counter_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"guichet/firmware/counter"
	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hw/deskscreen"
)

// fakeLink is the device link without a network, for virtual time: it
// records what the terminal journals; the test says when the hub answers.
type fakeLink struct {
	mu      sync.Mutex
	follow  map[string]func([]byte)
	replies []func(link.Entry, api.Reply)
	box     []link.Entry
	sent    []string // every op journaled, in order
	online  bool
	problem link.Problem
}

func newFakeLink() *fakeLink { return &fakeLink{follow: map[string]func([]byte){}, online: true} }

func (f *fakeLink) Topics() api.Topics { return api.Topics{Site: "test"} }
func (f *fakeLink) Follow(topic string, fn func([]byte)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.follow[topic] = fn
}
func (f *fakeLink) OnReply(fn func(link.Entry, api.Reply)) { f.replies = append(f.replies, fn) }
func (f *fakeLink) OnConnection(func(bool))                {}
func (f *fakeLink) Connected() bool                        { f.mu.Lock(); defer f.mu.Unlock(); return f.online }
func (f *fakeLink) Problem() link.Problem                  { f.mu.Lock(); defer f.mu.Unlock(); return f.problem }
func (f *fakeLink) Enqueue(id, op string, args any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.box = append(f.box, link.Entry{ID: id, Op: op})
	f.sent = append(f.sent, op)
	return nil
}
func (f *fakeLink) setOnline(up bool) { f.mu.Lock(); f.online = up; f.mu.Unlock() }
func (f *fakeLink) PendingEntries() []link.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]link.Entry(nil), f.box...)
}

// answer replies to every pending command, as the hub would.
func (f *fakeLink) answer(r api.Reply) {
	f.mu.Lock()
	box := f.box
	f.box = nil
	f.mu.Unlock()
	for _, e := range box {
		for _, fn := range f.replies {
			fn(e, r)
		}
	}
}

func (f *fakeLink) ops() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.sent, ",")
}

// counterState delivers the hub's retained counter message.
func (f *fakeLink) counterState(v api.Counter) {
	b, _ := json.Marshal(v)
	f.mu.Lock()
	fn := f.follow[f.Topics().Counter("3")]
	f.mu.Unlock()
	fn(b)
}

// screen records the frames shown.
type screen struct {
	mu     sync.Mutex
	frames []deskscreen.Frame
}

func (s *screen) Show(f deskscreen.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frames = append(s.frames, f)
	return nil
}

func (s *screen) last() deskscreen.Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.frames) == 0 {
		return deskscreen.Frame{}
	}
	return s.frames[len(s.frames)-1]
}

type rig struct {
	link *fakeLink
	term *counter.Terminal
	pins map[string]*gpiotest.Pin
	led  *gpiotest.Pin
	scr  *screen
}

// start runs a terminal on fake pins; it stops with the test's bubble.
func start(t *testing.T) (*rig, func()) {
	r := &rig{link: newFakeLink(), pins: map[string]*gpiotest.Pin{}, scr: &screen{},
		led: &gpiotest.Pin{N: "GPIO5"}}
	pins := map[string]gpio.PinIn{}
	for i, b := range counter.Buttons {
		p := &gpiotest.Pin{N: "GPIO" + string(rune('a'+i)), L: gpio.High, EdgesChan: make(chan gpio.Level, 64)}
		r.pins[b], pins[b] = p, p
	}
	term, err := counter.New(counter.Options{Link: r.link, Counter: "3", Pins: pins, LED: r.led, Screen: r.scr,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.term = term
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- term.Run(ctx) }()
	synctest.Wait()
	return r, func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func (r *rig) level(b string, l gpio.Level) {
	r.pins[b].EdgesChan <- l
	synctest.Wait()
}

// press presses and releases a button, its contacts bouncing both ways.
func (r *rig) press(b string) {
	for _, l := range []gpio.Level{gpio.Low, gpio.High} {
		for i := 0; i < 4; i++ {
			r.level(b, l)
			time.Sleep(200 * time.Microsecond)
			r.level(b, !l)
			time.Sleep(200 * time.Microsecond)
		}
		r.level(b, l)
		time.Sleep(80 * time.Millisecond)
	}
}

var serving = api.Counter{ID: "3", Name: "Guichet 3", Open: true, Agent: "ana", AgentState: "serving",
	Ticket: &api.Ticket{Number: "A042", State: "called"}}

func TestABouncingPressIsOneCommand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, stop := start(t)
		defer stop()
		r.link.counterState(api.Counter{ID: "3", Name: "Guichet 3", Open: true, Agent: "ana", AgentState: "available"})
		r.press(counter.Next)
		time.Sleep(time.Second)
		if got := r.link.ops(); got != "call_next" {
			t.Fatalf("journaled %q for one press", got)
		}
	})
}

func TestFiftyPressesWhileTheHubIsSilentCallOneCitizen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, stop := start(t)
		defer stop()
		r.link.counterState(api.Counter{ID: "3", Name: "Guichet 3", Open: true, Agent: "ana", AgentState: "available"})
		r.link.setOnline(false)
		for i := 0; i < 50; i++ { // fifty presses over a minute: the agent insists
			r.press(counter.Next)
			time.Sleep(time.Second)
		}
		if got := r.link.ops(); got != "call_next" {
			t.Fatalf("fifty presses during a cut journaled %q", got)
		}
		synctest.Wait()
		if f := r.scr.last(); !strings.Contains(f.Top, "hors ligne") || f.Bottom != "1 à envoyer au retour" {
			t.Fatalf("desk display during the cut: %+v", f)
		}
		// The hub answers: the next presses are commands again, one per press.
		r.link.setOnline(true)
		r.link.answer(api.Reply{OK: true})
		for i := 0; i < 50; i++ {
			r.press(counter.Next)
			r.link.answer(api.Reply{OK: true})
			time.Sleep(700 * time.Millisecond)
		}
		if n := strings.Count(r.link.ops(), "call_next"); n != 51 {
			t.Fatalf("%d call_next for 1 + 50 answered presses", n)
		}
		// Hammering faster than the press window counts once per window.
		before := strings.Count(r.link.ops(), "call_next")
		for i := 0; i < 50; i++ {
			r.level(counter.Next, gpio.Low)
			time.Sleep(10 * time.Millisecond)
			r.level(counter.Next, gpio.High)
			time.Sleep(40 * time.Millisecond)
			r.link.answer(api.Reply{OK: true})
		}
		if n := strings.Count(r.link.ops(), "call_next") - before; n < 3 || n > 4 {
			t.Fatalf("%d commands from fifty taps in 2.5 s (a 700 ms window allows 3 or 4)", n)
		}
	})
}

func TestPauseTogglesAndNextResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, stop := start(t)
		defer stop()
		r.link.counterState(api.Counter{ID: "3", Name: "Guichet 3", Open: true, Agent: "ana", AgentState: "available"})
		r.press(counter.Pause)
		time.Sleep(time.Second)
		r.press(counter.Pause) // still pending: the toggle reads the outbox
		time.Sleep(time.Second)
		r.link.answer(api.Reply{OK: true})
		r.link.counterState(api.Counter{ID: "3", Name: "Guichet 3", Open: true, Agent: "ana", AgentState: "paused", PauseReason: "pause"})
		synctest.Wait()
		if f := r.scr.last(); f.Bottom != "En pause" || f.Short != "PAUS" {
			t.Fatalf("paused: %+v", f)
		}
		r.press(counter.Next) // back at the desk: resume, then call
		if got := r.link.ops(); got != "pause,resume,resume,call_next" {
			t.Fatalf("journaled %q", got)
		}
	})
}

func TestLEDAndDisplayFollowTheCounter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, stop := start(t)
		defer stop()
		if f := r.scr.last(); f.Bottom != "En attente du serveur" {
			t.Fatalf("before the hub's state: %+v", f)
		}
		r.link.counterState(serving)
		synctest.Wait()
		if r.led.Read() != gpio.High {
			t.Fatal("LED off while a ticket is held")
		}
		if f := r.scr.last(); f.Big != "A042" || f.Short != "A042" || f.Top != "Guichet 3" || f.Bottom != "Appelé" {
			t.Fatalf("called: %+v", f)
		}
		s := serving
		tk := *s.Ticket
		tk.State, tk.Recalls = "serving", 1
		s.Ticket = &tk
		r.link.counterState(s)
		synctest.Wait()
		if f := r.scr.last(); f.Bottom != "Au guichet · rappel 1" {
			t.Fatalf("serving: %+v", f)
		}
		// A refusal shows a few seconds, inverted, then goes.
		r.press(counter.Next)
		r.link.answer(api.Reply{Error: &api.Error{Code: "queue_empty", Message: "nobody"}})
		synctest.Wait()
		if f := r.scr.last(); !f.Alert || f.Bottom != "Personne en attente" || f.Short != "VIDE" {
			t.Fatalf("after a refusal: %+v", f)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if f := r.scr.last(); f.Alert || f.Bottom != "Au guichet · rappel 1" {
			t.Fatalf("the refusal did not go: %+v", f)
		}
		r.link.counterState(api.Counter{ID: "3", Name: "Guichet 3", Open: true, Agent: "ana", AgentState: "available"})
		synctest.Wait()
		if r.led.Read() != gpio.Low || r.scr.last().Bottom != "Libre" {
			t.Fatalf("free: LED %v, %+v", r.led.Read(), r.scr.last())
		}
	})
}

// A terminal that cannot work with its hub says why on its display.
func TestTheDisplaySaysWhyTheTerminalCannotReachItsHub(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, stop := start(t)
		defer stop()
		r.link.mu.Lock()
		r.link.problem, r.link.online = link.ProblemCredentials, false
		r.link.mu.Unlock()
		time.Sleep(time.Second) // the terminal looks again every second
		synctest.Wait()
		if f := r.scr.last(); !f.Alert || f.Bottom != "Identifiants refusés" {
			t.Fatalf("wrong credentials: %+v", f)
		}
		r.link.mu.Lock()
		r.link.problem = link.ProblemSite
		r.link.mu.Unlock()
		time.Sleep(time.Second)
		synctest.Wait()
		if f := r.scr.last(); f.Bottom != "Site inconnu" {
			t.Fatalf("wrong site: %+v", f)
		}
	})
}

func TestUnknownButtonIsRefused(t *testing.T) {
	_, err := counter.New(counter.Options{Link: newFakeLink(), Counter: "3", Pins: map[string]gpio.PinIn{"explode": &gpiotest.Pin{}}})
	if err == nil || !strings.Contains(err.Error(), "explode") {
		t.Fatalf("err %v", err)
	}
	if _, err := counter.New(counter.Options{Link: newFakeLink()}); err == nil {
		t.Fatal("a terminal without a counter")
	}
	term, _ := counter.New(counter.Options{Link: newFakeLink(), Counter: "3"})
	if err := term.Press("explode"); err == nil {
		t.Fatal("an unknown button pressed")
	}
}

// Await wakes when the terminal shows something new, not by polling, and
// gives up at its deadline.
func TestAwaitWakesOnWhatTheTerminalShows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, stop := start(t)
		defer stop()
		held := func(st counter.State) bool { return st.Counter.Ticket != nil }
		got := make(chan counter.State, 1)
		go func() {
			st, ok := r.term.Await(t.Context(), time.Minute, held)
			if !ok {
				t.Error("Await gave up although a ticket came")
			}
			got <- st
		}()
		synctest.Wait() // Await is waiting
		time.Sleep(10 * time.Second)
		r.link.counterState(serving)
		select {
		case st := <-got:
			if st.Counter.Ticket.Number != "A042" || st.Frame.Big != "A042" {
				t.Fatalf("woke with %+v", st)
			}
		case <-time.After(50 * time.Millisecond):
			t.Fatal("Await did not wake when the ticket was shown")
		}
		start := time.Now()
		if _, ok := r.term.Await(t.Context(), 3*time.Second, func(st counter.State) bool { return st.Counter.Ticket == nil }); ok {
			t.Fatal("Await says the ticket went, it did not")
		}
		if waited := time.Since(start); waited != 3*time.Second {
			t.Fatalf("Await gave up after %v, want its 3 s deadline", waited)
		}
	})
}

// A refusal shows for four seconds of the terminal's clock (it read the
// machine's, whatever clock it was given).
func TestARefusalShowsForFourSecondsOfTheTerminalsClock(t *testing.T) {
	now := time.Date(2020, 6, 1, 10, 0, 0, 0, time.UTC)
	f := newFakeLink()
	term, err := counter.New(counter.Options{Link: f, Counter: "3", Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f.counterState(api.Counter{ID: "3", Name: "Guichet 3", Open: true, Agent: "ana", AgentState: "available"})
	if err := term.Press(counter.Next); err != nil {
		t.Fatal(err)
	}
	f.answer(api.Reply{Error: &api.Error{Code: "queue_empty", Message: "nobody"}})
	if st := term.State(); !st.Frame.Alert {
		t.Fatalf("no refusal shown: %+v", st.Frame)
	}
	now = now.Add(3 * time.Second)
	if st := term.State(); !st.Frame.Alert {
		t.Fatalf("the refusal went after 3 s: %+v", st.Frame)
	}
	now = now.Add(2 * time.Second)
	if st := term.State(); st.Frame.Alert || st.Frame.Bottom != "Libre" {
		t.Fatalf("the refusal stays after 5 s: %+v", st.Frame)
	}
}

// The terminal shows only its own counter's state, with a ticket number
// the hub can have given: another counter's state, or a "number" of a
// thousand characters, forged on the counter's topic, is refused whole.
func TestAForgedCounterStateIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, stop := start(t)
		defer stop()
		r.link.counterState(serving)
		synctest.Wait()
		for _, forged := range []api.Counter{
			{ID: "4", Name: "Guichet 4", Open: true, Agent: "bob", AgentState: "available"},
			{ID: "3", Name: "Guichet 3", Open: true, Agent: "ana", AgentState: "serving",
				Ticket: &api.Ticket{Number: strings.Repeat("A", 1000), State: "called"}},
		} {
			r.link.counterState(forged)
			synctest.Wait()
			if f := r.scr.last(); f.Big != "A042" || f.Bottom != "Appelé" {
				t.Fatalf("after a forged state of counter %s: %+v", forged.ID, f)
			}
		}
	})
}
