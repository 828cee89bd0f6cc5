package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"periph.io/x/conn/v3/gpio"

	"guichet/firmware/counter"
	"guichet/firmware/watchdog"
	"guichet/hw/deskscreen"
)

func runCounter(ctx context.Context, args []string) error {
	var f deviceFlags
	fs := flag.NewFlagSet("counter", flag.ContinueOnError)
	f.register(fs, "counter")
	counterID := fs.String("counter", "", "the counter this terminal sits at, as registered on the hub (required)")
	agent := fs.String("agent", "", "open the counter for this agent at start, if it is closed")
	buttons := fs.String("buttons", "next=GPIO17,recall=GPIO27,noshow=GPIO22,finish=GPIO23,pause=GPIO24", "a push button per action (next, recall, noshow, finish, pause), to ground")
	led := fs.String("led", "", "the LED lit while a ticket is held: GPIO5")
	screen := fs.String("screen", "", "desk display: ssd1306:1 (OLED on I²C bus 1; ?addr=0x3D, ?w=128&h=32), ht16k33:1?addr=0x70 (4 characters)")
	lang := fs.String("lang", "fr", "language of the desk display: fr or en")
	reason := fs.String("pause-reason", "pause", "the reason the pause button gives")
	httpAddr := fs.String("http", "", "a desk on any PC: serve a page with the terminal's display and buttons (keys 1 to 5) on this address, as 127.0.0.1:8081, instead of GPIO buttons")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(os.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	if *counterID == "" {
		return errors.New("--counter is required: the counter this terminal sits at")
	}
	o := counter.Options{Counter: *counterID, Agent: *agent, Lang: *lang, PauseReason: *reason, Log: log, Pins: map[string]gpio.PinIn{}}
	gpioButtons := *httpAddr == ""
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "buttons" {
			gpioButtons = true
		}
	})
	if *httpAddr != "" && gpioButtons && *buttons != "" {
		return errors.New("--http gives the terminal the page's buttons: leave --buttons out (or --buttons \"\" with --led and --screen)")
	}
	if gpioButtons {
		pins, err := pinMap(*buttons)
		if err != nil {
			return fmt.Errorf("%w (on a PC without GPIO pins, run the terminal as a page: --http 127.0.0.1:8081)", err)
		}
		for b, p := range pins {
			o.Pins[b] = p
		}
	}
	if *led != "" {
		if o.LED, err = pinByName(*led); err != nil {
			return err
		}
	}
	scr, closer, err := deskscreen.Open(*screen)
	if err != nil {
		return err
	}
	if closer != nil {
		defer closer.Close()
	}
	o.Screen = scr
	l, err := f.open("counter", log)
	if err != nil {
		return err
	}
	defer l.Close()
	o.Link = l
	if *httpAddr == "" {
		t, err := counter.New(o)
		if err != nil {
			return err
		}
		log.Info("counter terminal ready", "device", f.device, "counter", *counterID)
		svc := f.service(log)
		svc.ready(ctx, "counter terminal ready", func(context.Context) error { l.Pending(); return nil }) // pings while the outbox answers
		defer svc.stop()
		return t.Run(ctx)
	}
	// The page's buttons press virtual pins: the same debounce, outbox and
	// link as a finger on a real button.
	v, err := counter.NewVirtual(o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("--http %s: %w", *httpAddr, err)
	}
	page := counter.NewDeskPage([]*counter.Virtual{v}, log)
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	log.Info("counter terminal ready", "device", f.device, "counter", *counterID, "page", "http://"+ln.Addr().String()+"/")
	svc := f.service(log)
	svc.ready(ctx, "counter terminal ready", watchdog.HandlerAnswers(page, "/")) // pings while the desk page answers
	defer svc.stop()
	return v.Run(ctx)
}
