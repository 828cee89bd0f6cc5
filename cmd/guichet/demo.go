package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/hub/devices"
	"guichet/hub/server"
	"guichet/hub/web"
	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/kiosk"
)

// runDemo runs a whole site in one process: the hub with its embedded
// broker and SQLite, and the site's devices on virtual hardware.
func runDemo(ctx context.Context, args []string) error {
	var f hubFlags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, site, err := config.Parse("sample.yaml", config.Sample)
	if err != nil {
		return err
	}
	site.Policy.IgnoreHours = true // the demo's services are open around the clock
	log, err := newLogger(os.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	s, err := startHub(log, cfg, site, f)
	if err != nil {
		return err
	}
	defer s.Close()
	s.Bus.SetPublicURL(s.HTTPURL) // QR codes lead to this hub

	d := &demo{s: s, log: log, data: f.data}
	defer d.close()
	k, err := d.kiosk(ctx)
	if err != nil {
		return err
	}
	s.API.Handle("/kiosk/", http.StripPrefix("/kiosk", kiosk.NewPage(k)))
	s.Pages.AddLink(web.Link{Name: "Borne à tickets", Href: "/kiosk/", About: "Touchez un service : le ticket s'imprime (en PNG) dans " + filepath.Join(f.data, "tickets") + "."})

	fmt.Printf(`
Guichet — démo : %s
  Accueil             %s/
  Borne à tickets     %s/kiosk/        (tickets imprimés en PNG dans %s)
  File d'attente      %s/api/v1/queue
  API                 %s/api/v1/   (OpenAPI : %s/api/v1/openapi.json)
  Broker MQTT         %s
  Jeton admin         %s
Essayez :
  curl -s --json '{"service":"E"}' -H "Authorization: Bearer %s" %s/api/v1/tickets
Ctrl-C pour arrêter.
`, site.Name, s.HTTPURL, s.HTTPURL, filepath.Join(f.data, "tickets"), s.HTTPURL, s.HTTPURL, s.HTTPURL, s.MQTTURL, s.Token, s.Token, s.HTTPURL)
	<-ctx.Done()
	return nil
}

// demo holds the demo's devices.
type demo struct {
	s      *server.Server
	log    *slog.Logger
	data   string
	closes []func() error
}

func (d *demo) close() {
	for i := len(d.closes) - 1; i >= 0; i-- {
		d.closes[i]()
	}
}

// link registers a demo device (or gives it a new secret) and opens its
// link to the hub.
func (d *demo) link(id, role, counter string) (*link.Link, error) {
	secret, err := d.s.Devices.Add(id, role, counter, "demo")
	if errors.Is(err, devices.ErrExists) {
		if err := d.s.Devices.SetDisabled(id, false, "demo"); err != nil {
			return nil, err
		}
		secret, err = d.s.Devices.Rotate(id, "demo")
	}
	if err != nil {
		return nil, fmt.Errorf("demo device %s: %w", id, err)
	}
	l, err := link.Open(link.Options{Broker: d.s.MQTTURL, Site: d.s.Topics.Site, Device: id, Secret: secret, Role: role,
		Version: version, DataDir: filepath.Join(d.data, "devices", id), Log: d.log.With("device", id)})
	if err != nil {
		return nil, err
	}
	d.closes = append(d.closes, l.Close)
	return l, nil
}

// kiosk starts the demo's kiosk, printing PNGs into <data>/tickets.
func (d *demo) kiosk(ctx context.Context) (*kiosk.Kiosk, error) {
	if err := os.MkdirAll(filepath.Join(d.data, "devices", "kiosk-demo"), 0o750); err != nil {
		return nil, err
	}
	l, err := d.link("kiosk-demo", api.RoleKiosk, "")
	if err != nil {
		return nil, err
	}
	pr, err := virtual.New(filepath.Join(d.data, "tickets"), 80)
	if err != nil {
		return nil, err
	}
	k, err := kiosk.New(kiosk.Options{Link: l, Printer: pr, DataDir: filepath.Join(d.data, "devices", "kiosk-demo"),
		Log: d.log.With("device", "kiosk-demo"), Layout: kiosk.Layout{PaperMM: 80, CodePage: printer.WPC1252}})
	if err != nil {
		return nil, err
	}
	d.closes = append(d.closes, k.Close)
	go k.Run(ctx)
	return k, nil
}
