package display

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"guichet/hub/api"
)

// Announcement is a call to announce.
type Announcement struct {
	Ticket   string // "A042"
	Counter  string // its id, "3"
	Name     string // its name, "Guichet 3"
	Recall   bool
	CalledAt time.Time
}

// Voice turns text into speech.
type Voice interface {
	Speak(ctx context.Context, text, lang string) (PCM, error)
}

// Player plays a WAVE file through the device's own audio.
type Player interface {
	Play(ctx context.Context, wav []byte) error
}

// Espeak speaks with espeak-ng, offline.
type Espeak struct {
	Path  string // "espeak-ng" if empty
	Speed int    // words per minute, 140 if zero
}

// Speak implements Voice.
func (e Espeak) Speak(ctx context.Context, text, lang string) (PCM, error) {
	path, speed := e.Path, e.Speed
	if path == "" {
		path = "espeak-ng"
	}
	if speed == 0 {
		speed = 140
	}
	voice := "fr-fr"
	if lang == "en" {
		voice = "en-gb"
	}
	out, err := exec.CommandContext(ctx, path, "-v", voice, "-s", strconv.Itoa(speed), "--stdout", text).Output()
	if err != nil {
		return nil, fmt.Errorf("espeak-ng: %w", err)
	}
	return ParseWAV(out)
}

// Command plays with a native player: the WAVE file's path replaces the
// argument "{}", or is appended ("aplay -q", "paplay", "play -q").
type Command struct{ Args []string }

// Play implements Player.
func (c Command) Play(ctx context.Context, wav []byte) error {
	f, err := os.CreateTemp("", "guichet-*.wav")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(wav); err != nil {
		f.Close()
		return err
	}
	f.Close()
	args := append([]string(nil), c.Args[1:]...)
	placed := false
	for i, a := range args {
		if a == "{}" {
			args[i], placed = f.Name(), true
		}
	}
	if !placed {
		args = append(args, f.Name())
	}
	if out, err := exec.CommandContext(ctx, c.Args[0], args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", c.Args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Announcer says calls aloud, one after the other: a chime, then the voice
// in each language. Announcements wait their turn; none overlaps another.
type Announcer struct {
	Voice  Voice
	Player Player
	Langs  []string // languages, in order: ["fr"], ["fr", "en"]
	Volume int      // 0 to 100
	// Quiet is when nothing is said: "20:00-08:00" (the screen still shows).
	Quiet string
	Log   *slog.Logger
	Clock func() time.Time

	queue chan Announcement
	muted error // the player's failure while it keeps failing: said once
}

// NewAnnouncer returns an announcer; Run plays what Announce queues. A nil
// log discards its lines.
func NewAnnouncer(v Voice, p Player, log *slog.Logger) *Announcer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Announcer{Voice: v, Player: p, Langs: []string{"fr"}, Volume: 80, Log: log, Clock: time.Now, queue: make(chan Announcement, 64)}
}

// Announce queues a call.
func (a *Announcer) Announce(x Announcement) {
	select {
	case a.queue <- x:
	default:
		a.Log.Warn("announcement queue full: dropped", "ticket", x.Ticket)
	}
}

// Run plays queued announcements in order until ctx ends.
func (a *Announcer) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case x := <-a.queue:
			if a.quiet(a.Clock()) {
				a.Log.Debug("quiet hours: not announced", "ticket", x.Ticket)
				continue
			}
			wav, err := a.Render(ctx, x)
			if err != nil {
				a.Log.Error("announcement", "ticket", x.Ticket, "err", err)
				continue
			}
			a.played(x, a.Player.Play(ctx, wav), ctx)
		}
	}
}

// played logs how an announcement played: a screen with no sound card
// says once that its sound is off (and again when it comes back), not an
// ALSA error at every call.
func (a *Announcer) played(x Announcement, err error, ctx context.Context) {
	switch {
	case ctx.Err() != nil:
	case err != nil && a.muted == nil:
		a.muted = err
		a.Log.Error("sound is off: announcements are not heard (the screen still shows the calls); check the sound card and the player", "err", err)
	case err != nil:
		a.Log.Debug("announcement not played: sound still off", "ticket", x.Ticket, "err", err)
	case a.muted != nil:
		a.muted = nil
		a.Log.Info("sound is back: announcements are heard again")
	}
}

// Render makes an announcement's audio: the chime, then the words in each
// language, at the announcer's volume.
func (a *Announcer) Render(ctx context.Context, x Announcement) ([]byte, error) {
	audio := append(Chime(), Silence(250*time.Millisecond)...)
	for i, lang := range a.Langs {
		speech, err := a.Voice.Speak(ctx, Words(lang, x), lang)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			audio = append(audio, Silence(400*time.Millisecond)...)
		}
		audio = append(audio, speech...)
	}
	return audio.Gain(a.Volume).WAV(), nil
}

// Words is what is said for a call: "Ticket A 42, guichet 3".
func Words(lang string, x Announcement) string {
	letter, number := x.Ticket, ""
	if p, n, ok := api.ParseNumber(x.Ticket); ok {
		letter, number = p, strconv.Itoa(n)
	}
	if lang == "en" {
		s := fmt.Sprintf("Ticket %s %s, desk %s", letter, number, x.Counter)
		if x.Recall {
			s = "Reminder. " + s
		}
		return s
	}
	where := api.ShortCounterName(x.Name)
	if where == "" {
		where = "guichet " + x.Counter
	}
	first, size := utf8.DecodeRuneInString(where)
	s := fmt.Sprintf("Ticket %s %s, %s", letter, number, string(unicode.ToLower(first))+where[size:])
	if x.Recall {
		s = "Rappel. " + s
	}
	return s
}

// Check tells what is wrong with the announcer's settings.
func (a *Announcer) Check() error {
	if a.Volume < 0 || a.Volume > 100 {
		return fmt.Errorf("volume %d: from 0 to 100", a.Volume)
	}
	for _, l := range a.Langs {
		if l != "fr" && l != "en" {
			return fmt.Errorf("language %q: fr or en", l)
		}
	}
	if len(a.Langs) == 0 {
		return errors.New("no language to announce in")
	}
	if _, _, ok := quietHours(a.Quiet); a.Quiet != "" && !ok {
		return fmt.Errorf("quiet hours %q: write HH:MM-HH:MM, as 19:00-08:30", a.Quiet)
	}
	return nil
}

// quiet reports whether t falls in the quiet hours.
func (a *Announcer) quiet(t time.Time) bool {
	fm, um, ok := quietHours(a.Quiet)
	if !ok {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	if fm <= um {
		return m >= fm && m < um
	}
	return m >= fm || m < um // across midnight
}

// quietHours reads "HH:MM-HH:MM" as minutes of the day; ok false if it
// cannot.
func quietHours(s string) (from, to int, ok bool) {
	a, b, ok := strings.Cut(s, "-")
	f, err1 := time.Parse("15:04", strings.TrimSpace(a))
	u, err2 := time.Parse("15:04", strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return f.Hour()*60 + f.Minute(), u.Hour()*60 + u.Minute(), true
}

// NativePlayer returns the first native player installed: aplay (ALSA),
// paplay (PulseAudio, PipeWire) or sox's play; false if none is.
func NativePlayer() (Command, bool) {
	for _, args := range [][]string{{"aplay", "-q"}, {"paplay"}, {"play", "-q"}} {
		if _, err := exec.LookPath(args[0]); err == nil {
			return Command{Args: args}, true
		}
	}
	return Command{}, false
}

// Files is a virtual loudspeaker: it writes each announcement to a WAVE
// file in Dir (the demo's, to listen to afterwards), keeping the last Keep.
type Files struct {
	Dir   string
	Keep  int              // 50 if zero
	Clock func() time.Time // names the files; time.Now if nil
	mu    sync.Mutex
}

// Play implements Player.
func (f *Files) Play(_ context.Context, wav []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(f.Dir, 0o750); err != nil {
		return err
	}
	now := time.Now
	if f.Clock != nil {
		now = f.Clock
	}
	name := filepath.Join(f.Dir, now().Format("20060102-150405.000")+".wav")
	if err := os.WriteFile(name, wav, 0o640); err != nil {
		return err
	}
	keep := f.Keep
	if keep <= 0 {
		keep = 50
	}
	old, _ := filepath.Glob(filepath.Join(f.Dir, "*.wav"))
	sort.Strings(old)
	for len(old) > keep {
		os.Remove(old[0])
		old = old[1:]
	}
	return nil
}

// Both plays through each player in turn.
type Both []Player

// Play implements Player.
func (b Both) Play(ctx context.Context, wav []byte) error {
	var errs []error
	for _, p := range b {
		errs = append(errs, p.Play(ctx, wav))
	}
	return errors.Join(errs...)
}
