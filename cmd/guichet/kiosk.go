package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/hw/scanner"
	"guichet/kiosk"
)

// openPrinter opens the printer a --printer flag names.
func openPrinter(spec string) (printer.Printer, printer.Spec, error) {
	sp, err := printer.ParseSpec(spec)
	if err != nil {
		return nil, sp, err
	}
	if sp.Kind == "virtual" {
		p, err := virtual.NewFormat(sp.Addr, sp.Format)
		if err == nil {
			p.SetKeep(0) // the pages are on disk; none kept in memory
		}
		return p, sp, err
	}
	p, err := printer.Open(sp)
	return p, sp, err
}

func runKiosk(ctx context.Context, args []string) error {
	var f deviceFlags
	fs := flag.NewFlagSet("kiosk", flag.ContinueOnError)
	f.register(fs, "kiosk")
	printerSpec := fs.String("printer", "", printerFlagHelp+" (default virtual:DATA/tickets)")
	httpAddr := fs.String("http", "127.0.0.1:8081", "address of the touchscreen page (empty: none)")
	buttons := fs.String("buttons", "", "a push button per service: A=GPIO17,E=GPIO27")
	prio := fs.String("priority-button", "", "the priority-public button's pin: GPIO22")
	leds := fs.String("leds", "", "an LED per service: A=GPIO5,E=GPIO6")
	scan := fs.String("scanner", "", "code scanner: serial:/dev/ttyACM0?baud=9600")
	lang := fs.String("lang", "fr", "language of tickets from buttons and scans")
	timeout := fs.Duration("timeout", 800*time.Millisecond, "wait this long for the hub before printing from the lease")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(os.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	if *printerSpec == "" {
		*printerSpec = "virtual:" + filepath.Join(f.data, "tickets")
	}
	pr, sp, err := openPrinter(*printerSpec)
	if err != nil {
		return err
	}
	defer pr.Close()
	l, err := f.open("kiosk", log)
	if err != nil {
		return err
	}
	defer l.Close()
	svc := f.service(log)
	k, err := kiosk.New(kiosk.Options{Link: l, Printer: pr, DataDir: f.data, Log: log, Timeout: *timeout,
		Layout: kiosk.Layout{Format: sp.Format}, Beat: svc.Beat})
	if err != nil {
		return err
	}
	defer k.Close()
	// The kiosk's loops end before it, its link and its printer close.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { k.Run(ctx) })

	in := kiosk.Inputs{Buttons: map[string]gpio.PinIn{}, LEDs: map[string]gpio.PinOut{}, Lang: *lang}
	bs, err := pinMap(*buttons)
	if err != nil {
		return err
	}
	for s, p := range bs {
		in.Buttons[s] = p
	}
	ls, err := pinMap(*leds)
	if err != nil {
		return err
	}
	for s, p := range ls {
		in.LEDs[s] = p
	}
	if *prio != "" {
		if in.Priority, err = pinByName(*prio); err != nil {
			return err
		}
	}
	if *scan != "" {
		if in.Scanner, err = scanner.Parse(*scan); err != nil {
			return err
		}
	}
	inputs := make(chan error, 1)
	wg.Go(func() { inputs <- k.RunInputs(ctx, in) })

	if *httpAddr != "" {
		ln, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			return fmt.Errorf("touchscreen page: %w", err)
		}
		srv := &http.Server{Handler: kiosk.NewPage(k), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("kiosk ready", "device", f.device, "page", "http://"+ln.Addr().String()+"/", "printer", *printerSpec, "format", sp.Format.String())
	} else {
		log.Info("kiosk ready", "device", f.device, "printer", *printerSpec, "format", sp.Format.String())
	}
	svc.ready(ctx, "kiosk ready", nil) // pings while Run's loop turns
	defer svc.stop()
	select {
	case <-ctx.Done():
		return nil
	case err := <-inputs:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("inputs: %w", err)
		}
		<-ctx.Done()
		return nil
	}
}
