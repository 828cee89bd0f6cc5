package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"guichet/display"
	"guichet/firmware/watchdog"
	"guichet/internal/boardpage"
)

// soundFlags set a display's announcements.
type soundFlags struct {
	on                   bool
	player, voice, langs string
	quiet                string
	volume               int
}

func (f *soundFlags) register(fs *flag.FlagSet, on bool) {
	fs.BoolVar(&f.on, "sound", on, "announce calls aloud: a chime, then the voice (espeak-ng)")
	fs.StringVar(&f.player, "player", "", `native audio player, the WAVE file's path appended: "aplay -q -D hw:0" (default: aplay, paplay or play, whichever is installed)`)
	fs.StringVar(&f.voice, "voice", "espeak-ng", "espeak-ng's path")
	fs.StringVar(&f.langs, "langs", "fr", "languages of the announcements, in order: fr, or fr,en")
	fs.IntVar(&f.volume, "volume", 80, "volume of the announcements, 0 to 100")
	fs.StringVar(&f.quiet, "quiet", "", "quiet hours, when nothing is said (the screen still shows): 19:00-08:30")
}

// announcer returns the announcer the flags describe, playing aloud if
// sound is on and through extra if not nil; nil if there is nothing to play
// through or no voice (said in the log).
func (f *soundFlags) announcer(log *slog.Logger, extra display.Player) (*display.Announcer, error) {
	// Wrong settings are refused even where nothing would be said.
	langs := strings.Split(f.langs, ",")
	if err := (&display.Announcer{Langs: langs, Volume: f.volume, Quiet: f.quiet}).Check(); err != nil {
		return nil, fmt.Errorf("sound: %w", err)
	}
	var players display.Both
	if extra != nil {
		players = append(players, extra)
	}
	if f.on {
		if f.player != "" {
			players = append(players, display.Command{Args: strings.Fields(f.player)})
		} else if p, ok := display.NativePlayer(); ok {
			players = append(players, p)
		} else {
			log.Warn("no audio player: calls are not said aloud (apt-get install alsa-utils)")
		}
	}
	if len(players) == 0 {
		return nil, nil
	}
	if _, err := exec.LookPath(f.voice); err != nil {
		log.Warn("no voice: calls are not announced (apt-get install espeak-ng)", "voice", f.voice)
		return nil, nil
	}
	a := display.NewAnnouncer(display.Espeak{Path: f.voice}, players, log)
	a.Langs, a.Volume, a.Quiet = langs, f.volume, f.quiet
	return a, nil
}

func runDisplay(ctx context.Context, args []string) error {
	var f deviceFlags
	var sf soundFlags
	fs := flag.NewFlagSet("display", flag.ContinueOnError)
	f.register(fs, "display")
	sf.register(fs, true)
	httpAddr := fs.String("http", "127.0.0.1:8082", "address of the board page, for the screen's browser in kiosk mode")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(os.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	ann, err := sf.announcer(log, nil)
	if err != nil {
		return err
	}
	l, err := f.open("display", log)
	if err != nil {
		return err
	}
	defer l.Close()
	if ann != nil {
		go ann.Run(ctx)
	}
	d := display.New(display.Options{Link: l, Announcer: ann, Log: log})
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("board page: %w", err)
	}
	page := boardpage.Handler(d, log)
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	log.Info("display ready", "device", f.device, "page", "http://"+ln.Addr().String()+"/", "sound", ann != nil)
	svc := f.service(log)
	svc.ready(ctx, "display ready", watchdog.HandlerAnswers(page, "/")) // pings while the board page answers
	defer svc.stop()
	<-ctx.Done()
	return nil
}
