package display_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"guichet/display"
	"guichet/firmware/link"
	"guichet/hub/api"
)

// fakeLink is the device link without a network: it delivers the retained
// payloads a test gives, even those a real hub never sends.
type fakeLink struct {
	mu      sync.Mutex
	follows map[string][]func([]byte)
	problem link.Problem
}

var topics = api.Topics{Site: "test"}

func (f *fakeLink) Topics() api.Topics { return topics }
func (f *fakeLink) Follow(topic string, fn func([]byte)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.follows == nil {
		f.follows = map[string][]func([]byte){}
	}
	f.follows[topic] = append(f.follows[topic], fn)
}
func (f *fakeLink) OnConnection(func(bool)) {}
func (f *fakeLink) Connected() bool         { return true }
func (f *fakeLink) Problem() link.Problem   { return f.problem }

func (f *fakeLink) deliver(topic, payload string) {
	f.mu.Lock()
	fns := append([]func([]byte){}, f.follows[topic]...)
	f.mu.Unlock()
	for _, fn := range fns {
		fn([]byte(payload))
	}
}

// A payload that does not decode changes nothing on the screen, and a
// screen made without a logger logs nothing instead of panicking.
func TestAnUnreadablePayloadKeepsTheScreensLastGoodOne(t *testing.T) {
	f := &fakeLink{}
	d := display.New(display.Options{Link: f}) // no logger
	f.deliver(topics.Config(), `{"site":{"name":"Mairie de Test","timezone":"Europe/Paris"},
		"services":[{"id":"A","name":{"fr":"Accueil"},"channels":["visit"],"open":true}]}`)
	f.deliver(topics.Queue(), `{"services":[{"service":"A","waiting":4}]}`)
	f.deliver(topics.Board(), `{"calls":[{"ticket":"A001","service":"A","counter":"1","counter_name":"Guichet 1","at":"2026-03-02T10:00:00+01:00"}]}`)
	good := d.View("fr")
	if good.Site != "Mairie de Test" || len(good.Calls) != 1 || len(good.Services) != 1 {
		t.Fatalf("the screen shows %+v", good)
	}

	f.deliver(topics.Config(), `{"site":{"name":"Faux"},"services":"none"}`)
	f.deliver(topics.Queue(), `{"services":[{"service":"A","waiting":99},{"service":"E","waiting":"many"}]}`)
	f.deliver(topics.Board(), `{"calls":[{"ticket":"X999","at":"yesterday"}]}`)
	if v := d.View("fr"); v.Site != good.Site || len(v.Calls) != 1 || len(v.Services) != 1 || v.Services[0] != good.Services[0] {
		t.Fatalf("after unreadable payloads the screen shows %+v, before %+v", v, good)
	}
}

// played records what the loudspeaker played.
type played struct {
	mu sync.Mutex
	n  int
}

func (p *played) Play(context.Context, []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	return nil
}

func (p *played) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

type quiet struct{}

func (quiet) Speak(context.Context, string, string) (display.PCM, error) {
	return display.Silence(10 * time.Millisecond), nil
}

// A screen tells a new call from an old one by its own clock: it announces
// a call made just before it started, and none made long before (its clock
// was read from the machine, whatever it was given).
func TestAScreenTellsNewCallsByItsOwnClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		paris, _ := time.LoadLocation("Europe/Paris")
		now := time.Date(2020, 6, 1, 10, 0, 0, 0, paris)
		f := &fakeLink{}
		speaker := &played{}
		ann := display.NewAnnouncer(quiet{}, speaker, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go ann.Run(ctx)
		display.New(display.Options{Link: f, Announcer: ann, Clock: func() time.Time { return now }})
		f.deliver(topics.Board(), `{"calls":[
			{"ticket":"A002","counter":"1","counter_name":"Guichet 1","at":"2020-06-01T09:59:50+02:00"},
			{"ticket":"A001","counter":"1","counter_name":"Guichet 1","at":"2020-06-01T09:00:00+02:00"}]}`)
		synctest.Wait()
		if n := speaker.count(); n != 1 {
			t.Fatalf("%d announcements at start, want 1: the call of ten seconds ago", n)
		}
	})
}

// The virtual loudspeaker names its files by the clock it is given.
func TestFilesAreNamedByTheDisplaysClock(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2020, 6, 1, 10, 0, 0, 0, time.UTC)
	f := &display.Files{Dir: dir, Clock: func() time.Time { return at }}
	if err := f.Play(context.Background(), display.Silence(10*time.Millisecond).WAV()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "20200601-100000.000.wav")); err != nil {
		t.Fatal(err)
	}
}

// A screen that cannot reach its hub says why, in its notice.
func TestAScreenSaysWhyItCannotReachItsHub(t *testing.T) {
	f := &fakeLink{problem: link.ProblemCredentials}
	d := display.New(display.Options{Link: f})
	v := d.View("fr")
	if v.Online || !strings.Contains(v.Problem, "Identifiants refusés") {
		t.Fatalf("view %+v: want offline with the problem said", v)
	}
	f.problem = link.ProblemSite
	if v := d.View("en"); !strings.Contains(v.Problem, `unknown site "test"`) {
		t.Fatalf("problem %q", v.Problem)
	}
}

// A board that is not the hub's is refused whole: sixty calls (a site's
// board holds fifty at most, and each fresh call is announced), or a call
// of a "ticket" that is a sentence for the voice to read.
func TestAForgedBoardIsRefusedWhole(t *testing.T) {
	f := &fakeLink{}
	d := display.New(display.Options{Link: f})
	good := `{"calls":[{"ticket":"A001","service":"A","counter":"1","counter_name":"Guichet 1","at":"2026-03-02T10:00:00+01:00"}]}`
	f.deliver(topics.Board(), good)
	var many []string
	for i := 0; i < 60; i++ {
		many = append(many, fmt.Sprintf(`{"ticket":"A%03d","service":"A","counter":"1","at":"2026-03-02T10:%02d:00+01:00"}`, i+2, i))
	}
	for _, forged := range []string{
		`{"calls":[` + strings.Join(many, ",") + `]}`,
		`{"calls":[{"ticket":"Rendez-vous tous au guichet 1","service":"A","counter":"1","at":"2026-03-02T10:00:00+01:00"}]}`,
	} {
		f.deliver(topics.Board(), forged)
		if v := d.View("fr"); len(v.Calls) != 1 || v.Calls[0].Ticket != "A001" {
			t.Fatalf("after a forged board the screen shows %d calls, the first %+v", len(v.Calls), v.Calls[0])
		}
	}
}
