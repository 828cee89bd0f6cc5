package display

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder plays through a real native tool (sox reads and decodes the
// file) and notes when each announcement started and ended.
type recorder struct {
	sox   Command
	mu    sync.Mutex
	plays []played
}

type played struct {
	start, end time.Time
	audio      PCM
}

func (r *recorder) Play(ctx context.Context, wav []byte) error {
	start := time.Now()
	audio, err := ParseWAV(wav)
	if err != nil {
		return err
	}
	if err := r.sox.Play(ctx, wav); err != nil {
		return err
	}
	r.mu.Lock()
	r.plays = append(r.plays, played{start, time.Now(), audio})
	r.mu.Unlock()
	return nil
}

func TestTenCallsAreAnnouncedInOrderWithoutOverlap(t *testing.T) {
	rec := &recorder{sox: Command{Args: []string{"sox", "-q", "{}", "-n"}}}
	a := NewAnnouncer(Espeak{}, rec, quiet)
	var said []string
	voice := Espeak{}
	a.Voice = voiceFunc(func(ctx context.Context, text, lang string) (PCM, error) {
		said = append(said, text)
		return voice.Speak(ctx, text, lang)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	for i := 1; i <= 10; i++ { // ten calls within a second
		a.Announce(Announcement{Ticket: "A0" + string(rune('0'+i/10)) + string(rune('0'+i%10)), Counter: "3", Name: "Guichet 3"})
		time.Sleep(50 * time.Millisecond)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.plays)
		rec.mu.Unlock()
		if n == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d announcements played", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, p := range rec.plays {
		if i > 0 && p.start.Before(rec.plays[i-1].end) {
			t.Fatalf("announcement %d started before %d ended", i, i-1)
		}
		if d := p.audio.Duration(); d < 2*time.Second || d > 8*time.Second {
			t.Fatalf("announcement %d lasts %s", i, d)
		}
		voice := p.audio[len(Chime())+len(Silence(250*time.Millisecond)):]
		if voice.RMS() < 500 {
			t.Fatalf("announcement %d: the voice is silent (RMS %.0f)", i, voice.RMS())
		}
	}
	for i, s := range said {
		want := "Ticket A " + []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}[i] + ", guichet 3"
		if s != want {
			t.Fatalf("announcement %d said %q, want %q", i, s, want)
		}
	}
}

type voiceFunc func(ctx context.Context, text, lang string) (PCM, error)

func (f voiceFunc) Speak(ctx context.Context, text, lang string) (PCM, error) {
	return f(ctx, text, lang)
}

func TestWords(t *testing.T) {
	for _, c := range []struct {
		lang string
		x    Announcement
		want string
	}{
		{"fr", Announcement{Ticket: "A042", Counter: "3", Name: "Guichet 3"}, "Ticket A 42, guichet 3"},
		{"fr", Announcement{Ticket: "E007", Counter: "3", Name: "Guichet 3", Recall: true}, "Rappel. Ticket E 7, guichet 3"},
		{"fr", Announcement{Ticket: "S100", Counter: "5", Name: "Bureau 5 — Social"}, "Ticket S 100, bureau 5"},
		{"fr", Announcement{Ticket: "A901", Counter: "8"}, "Ticket A 901, guichet 8"},
		{"fr", Announcement{Ticket: "E010", Counter: "9", Name: "Étage 2 — Élections"}, "Ticket E 10, étage 2"},
		{"en", Announcement{Ticket: "A042", Counter: "3", Name: "Guichet 3"}, "Ticket A 42, desk 3"},
	} {
		if got := Words(c.lang, c.x); got != c.want {
			t.Errorf("Words(%s, %+v) = %q, want %q", c.lang, c.x, got, c.want)
		}
	}
}

func TestSettingsAreChecked(t *testing.T) {
	for _, a := range []*Announcer{{Langs: []string{"fr"}, Volume: 101}, {Langs: []string{"de"}}, {}, {Langs: []string{"fr"}, Quiet: "20h-8h"}} {
		if a.Check() == nil {
			t.Errorf("%+v accepted", a)
		}
	}
	if err := (&Announcer{Langs: []string{"fr", "en"}, Volume: 60, Quiet: "19:30-08:00"}).Check(); err != nil {
		t.Fatal(err)
	}
}

func TestQuietHours(t *testing.T) {
	a := &Announcer{Quiet: "20:00-08:00"}
	for h, want := range map[int]bool{7: true, 8: false, 12: false, 19: false, 20: true, 23: true} {
		if got := a.quiet(time.Date(2026, 11, 23, h, 30, 0, 0, time.UTC)); got != want {
			t.Errorf("%d h 30: quiet %v", h, got)
		}
	}
	if (&Announcer{}).quiet(time.Now()) {
		t.Fatal("no quiet hours, yet quiet")
	}
}

func TestChimeThenVoiceAtTheVolume(t *testing.T) {
	a := NewAnnouncer(Espeak{}, nil, quiet)
	a.Langs = []string{"fr", "en"}
	loud, err := a.Render(context.Background(), Announcement{Ticket: "A042", Counter: "3", Name: "Guichet 3"})
	if err != nil {
		t.Fatal(err)
	}
	a.Volume = 20
	soft, _ := a.Render(context.Background(), Announcement{Ticket: "A042", Counter: "3", Name: "Guichet 3"})
	pl, _ := ParseWAV(loud)
	ps, _ := ParseWAV(soft)
	if r := ps.RMS() / pl.RMS(); r < 0.2 || r > 0.3 {
		t.Fatalf("volume 20 against 80: loudness ratio %.2f, want 0.25", r)
	}
	fr, _ := Espeak{}.Speak(context.Background(), "Ticket A 42, guichet 3", "fr")
	if pl.Duration() < Chime().Duration()+fr.Duration()+time.Second {
		t.Fatalf("French and English announcement of %s: too short", pl.Duration())
	}
}

func TestWAVRoundTrip(t *testing.T) {
	p := Chime()
	got, err := ParseWAV(p.WAV())
	if err != nil || len(got) != len(p) || got[1000] != p[1000] {
		t.Fatalf("round trip: %d samples of %d, %v", len(got), len(p), err)
	}
}

// flaky is a loudspeaker that fails while off, counting what it was given.
type flaky struct {
	mu     sync.Mutex
	off    bool
	played int
	done   chan struct{}
}

func (f *flaky) Play(context.Context, []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer func() { f.done <- struct{}{} }()
	if f.off {
		return errors.New("aplay: main:831: audio open error: No such file or directory")
	}
	f.played++
	return nil
}

type silent struct{}

func (silent) Speak(context.Context, string, string) (PCM, error) {
	return Silence(10 * time.Millisecond), nil
}

// A screen with no sound card says once that its sound is off, and once
// that it is back, not an ALSA error at every call.
func TestNoSoundCardIsSaidOnce(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(b) }), nil))
	p := &flaky{off: true, done: make(chan struct{}, 16)}
	a := NewAnnouncer(silent{}, p, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	for i := range 5 {
		a.Announce(Announcement{Ticket: fmt.Sprintf("A%03d", i+1), Counter: "1"})
		<-p.done
	}
	p.mu.Lock()
	p.off = false
	p.mu.Unlock()
	a.Announce(Announcement{Ticket: "A006", Counter: "1"})
	<-p.done
	// The announcer logs after the player returns: wait for its last line.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		back := strings.Contains(logs.String(), "sound is back")
		mu.Unlock()
		if back || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "sound is off"); n != 1 {
		t.Fatalf("%d lines saying the sound is off, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "audio open error"); n != 1 {
		t.Fatalf("the player's error logged %d times at info and above, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "sound is back") || p.played != 1 {
		t.Fatalf("played %d; logs:\n%s", p.played, logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
