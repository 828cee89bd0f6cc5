//go:build !device

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"guichet/display"
	"guichet/firmware/counter"
	"guichet/firmware/health"
	"guichet/firmware/link"
	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/config"
	"guichet/hub/devices"
	"guichet/hub/queue"
	"guichet/hub/server"
	"guichet/hub/store"
	"guichet/hub/web"
	"guichet/hw/printer"
	"guichet/hw/printer/virtual"
	"guichet/internal/boardpage"
	"guichet/internal/clock"
	"guichet/internal/sim"
	"guichet/kiosk"
)

// runDemo runs a whole site in one process: the hub with its embedded
// broker and SQLite, and the site's devices on virtual hardware: a kiosk
// printing PNGs, a waiting-room display announcing into WAVE files (and
// aloud with --sound), a counter terminal with virtual buttons per counter;
// with --simulate, a day at the town hall plays on them.
func runDemo(ctx context.Context, args []string) error {
	var f hubFlags
	var sf soundFlags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	f.register(fs)
	sf.register(fs, false)
	simulate := fs.Bool("simulate", false, "play a day at the town hall: citizens arrive, agents call and serve")
	speed := fs.Float64("speed", 1, "with --simulate: play the day this many times faster than real time")
	rates := fs.String("rates", "", "with --simulate: visits per hour by service, as A=20,E=8 (default: three quarters of an agent per service)")
	seed := fs.Uint64("seed", 0, "with --simulate: random seed, to replay the same day (default: a new one)")
	authFile := fs.String("auth", "", "a YAML file holding an auth: section, whose OpenID Connect or CAS providers the sign-in page offers (see docs/accounts.md)")
	fs.StringVar(&f.phones, "public-url", "lan", "the address phones reach the demo at, for the tickets' QR codes (lan: this machine's address on the local network)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *simulate {
		if *speed < 0.1 || *speed > 3600 {
			return fmt.Errorf("--speed %g: from 0.1 to 3600", *speed)
		}
		if err := freshSimulation(fs, &f.data); err != nil {
			return err
		}
	}
	cfg, site, err := config.Parse("sample.yaml", config.Sample)
	if err != nil {
		return err
	}
	site.Policy.IgnoreHours = true // the demo's services are open around the clock
	if *simulate {
		// One clock for the simulated day: the hub records its events at
		// its time, so the waits, service times and estimates are the
		// day's, whatever the speed.
		// A kept directory (--data) goes on from the morning after its
		// log's last event: the simulated time never goes back.
		last, err := store.LastEventAt(f.data)
		if err != nil {
			return err
		}
		f.clock = clock.NewAfter(site.Location, *speed, last)
	}
	if *authFile != "" {
		data, err := os.ReadFile(*authFile)
		if err != nil {
			return fmt.Errorf("--auth: %w", err)
		}
		if cfg.Auth, err = config.ParseAuth(*authFile, data); err != nil {
			return err
		}
	}
	log, err := newLogger(os.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	rateMap, err := sim.ParseRates(*rates)
	if err != nil {
		return err
	}
	var phone *demoPhone
	if *simulate {
		// The simulated day's calls come through a signed-webhook telephony.
		if phone, err = newDemoPhone(site, f.data, *speed); err != nil {
			return err
		}
		cfg.Telephony = phone.tel
	}
	ds, err := openDemo(ctx, log, cfg, site, f, &sf, true)
	if err != nil {
		return err
	}
	defer ds.close()
	s := ds.s
	tickets := filepath.Join(f.data, "tickets")
	if *simulate {
		people, err := ds.seedCitizens(ctx, max(*seed, 1))
		if err != nil {
			return err
		}
		ds.files = &demoFiles{ds: ds, r: rand.New(rand.NewPCG(*seed, 7)), citizens: people}
		ds.switchboard = phone.start(ctx, s.HTTPURL, *speed, *seed, people)
		sm, err := ds.simulation(*speed, rateMap, *seed)
		if err != nil {
			return err
		}
		go sm.Run(ctx)
		go showSimulatedTime(ctx, s.Hub, sm)
	}

	accts, err := demoAccounts(ctx, s.Auth, &ds.site, ds.staff)
	if err != nil {
		return err
	}
	mode := ""
	if *simulate {
		mode = fmt.Sprintf("  (journée simulée, ×%g ; appels par une téléphonie simulée qui poste sur %s%s ; %d citoyens dans le dossier)",
			*speed, s.HTTPURL, config.WebhookPath, demoCitizens)
	}
	fmt.Printf(`
Guichet — démo : %s%s
  Accueil             %s/
  Borne à tickets     %s/kiosk/        (tickets imprimés en PNG dans %s)
  Écran d'affichage   %s/screen/       (annonces vocales en WAV dans %s)
  Écran servi par le hub, pour TV connectées et Xibo : %s/display/
  Guichets            %s/desks/        (boutons virtuels des terminaux)
  Console de l'agent  %s/agent        (connexion avec un compte agent, ci-dessous)
  Supervision         %s/supervision  (compte superviseur ; statistiques : %s/supervision/stats ; prévision : %s/supervision/forecast)
  Administration      %s/admin/        (connexion avec un compte admin, ci-dessous)
  File d'attente      %s/api/v1/queue
  API                 %s/api/v1/   (OpenAPI : %s/api/v1/openapi.json)
  Tickets sur mobile  %s/t/…     (l'adresse des QR codes)
  Broker MQTT         %s
  Jeton admin         %s
Essayez :
  curl -s --json '{"service":"E"}' -H "Authorization: Bearer %s" %s/api/v1/tickets
`, site.Name, mode, s.HTTPURL, s.HTTPURL, tickets, s.HTTPURL, filepath.Join(f.data, "announcements"), s.HTTPURL, s.HTTPURL,
		s.HTTPURL, s.HTTPURL, s.HTTPURL, s.HTTPURL, s.HTTPURL, s.HTTPURL, s.HTTPURL, s.HTTPURL, ds.phones, s.MQTTURL, s.Token, s.Token, s.HTTPURL)
	printDemoAccounts(os.Stdout, s.HTTPURL, accts)
	fmt.Println("Ctrl-C pour arrêter.")
	<-ctx.Done()
	return nil
}

// demoPage declares a page of the demo's virtual devices: public, as the
// devices they stand for are within reach of whoever is in the room.
func demoPage(rt auth.Registrar, pattern, about string, h http.Handler, methods ...string) {
	for _, m := range methods {
		rt.Add(auth.Route{Method: m, Pattern: pattern, Access: auth.Public, Kind: auth.Page, About: about, Handler: h})
	}
}

// phoneURL is the address the tickets' QR codes give. A demo listening on
// every interface (the default, :8080) gives the machine's address on the
// local network, so that a visitor's phone on the same Wi-Fi opens its
// ticket; a demo listening on one address gives the hub's own URL.
func phoneURL(listen, hubURL string, addrs []net.Addr) string {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host != "" && !net.ParseIP(host).IsUnspecified() {
		return hubURL
	}
	u, err := url.Parse(hubURL)
	if err != nil {
		return hubURL
	}
	var pick net.IP
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.To4() == nil || !n.IP.IsGlobalUnicast() {
			continue
		}
		if n.IP.IsPrivate() { // a home or office network: the one phones are on
			pick = n.IP
			break
		}
		if pick == nil {
			pick = n.IP
		}
	}
	if pick == nil {
		return hubURL
	}
	u.Host = net.JoinHostPort(pick.String(), u.Port())
	return u.String()
}

// demoSite is a running demo: the hub and its devices on virtual hardware.
type demoSite struct {
	*demo
	site   queue.Site
	kiosk  *kiosk.Kiosk
	screen *display.Display
	desks  map[string]*counter.Virtual // by counter
	staff  map[string]string           // counter → the agent at it
	phones string                      // the hub's address in the tickets' QR codes
	// With --simulate: the simulated telephony, and what agents do with
	// the citizen file (demophone.go).
	switchboard *sim.Switchboard
	files       *demoFiles
}

// openDemo starts a hub on site and its devices: a kiosk printing PNGs
// (page /kiosk/), a waiting-room display (page /screen/; its announcements
// in WAVE files if wav, and aloud as sf says), a counter terminal on virtual
// pins at every counter (page /desks/), opened for an agent who can serve it.
func openDemo(ctx context.Context, log *slog.Logger, cfg *config.Config, site queue.Site, f hubFlags, sf *soundFlags, wav bool) (*demoSite, error) {
	s, err := startHub(log, cfg, site, f)
	if err != nil {
		return nil, err
	}
	ds := &demoSite{demo: &demo{s: s, log: log, data: f.data, clock: f.clock}, site: site, staff: sim.Staff(&site), phones: f.phones}
	switch f.phones {
	case "":
		ds.phones = s.HTTPURL
	case "lan":
		addrs, _ := net.InterfaceAddrs()
		ds.phones = phoneURL(f.http, s.HTTPURL, addrs)
	}
	s.Bus.SetPublicURL(ds.phones) // before the kiosk starts: every QR code leads there
	ds.closes = append(ds.closes, s.Close)
	ctx, cancel := context.WithCancel(ctx)
	fail := func(err error) (*demoSite, error) { cancel(); ds.close(); return nil, err }
	if ds.kiosk, err = ds.startKiosk(ctx); err != nil {
		return fail(err)
	}
	demoPage(s.API, "/kiosk/", "the demo's kiosk (virtual buttons)", http.StripPrefix("/kiosk", kiosk.NewPage(ds.kiosk)), "GET", "POST")
	if ds.screen, err = ds.display(ctx, sf, wav); err != nil {
		return fail(err)
	}
	demoPage(s.API, "/screen/", "the demo's waiting-room display", http.StripPrefix("/screen", boardpage.Handler(ds.screen, log)), "GET")
	if ds.desks, err = ds.startDesks(ctx, site, ds.staff); err != nil {
		return fail(err)
	}
	var virtual []*counter.Virtual
	for _, c := range site.Counters {
		virtual = append(virtual, ds.desks[c.ID])
	}
	demoPage(s.API, "/desks/", "the demo's counter terminals (virtual buttons)", http.StripPrefix("/desks", counter.NewDeskPage(virtual, log)), "GET", "POST")
	tickets := filepath.Join(f.data, "tickets")
	s.Pages.AddLink(web.Link{Name: "Borne à tickets", Href: "/kiosk/", About: "Touchez un service : le ticket s'imprime (en PNG) dans " + tickets + "."})
	s.Pages.AddLink(web.Link{Name: "Écran de la salle d'attente", Href: "/screen/", About: "L'appareil d'affichage : derniers appels, attentes ; annonces vocales dans " + filepath.Join(f.data, "announcements") + "."})
	s.Pages.AddLink(web.Link{Name: "Terminaux de guichet", Href: "/desks/", About: "Les boutons des guichets (appel suivant, rappel, absent, terminé, pause) et leur petit écran."})
	ds.closes = append(ds.closes, func() error { cancel(); return nil }) // closing, the devices stop before their links close
	return ds, nil
}

// simulation sets a simulated day up on the demo's kiosk and staffed desks.
func (ds *demoSite) simulation(speed float64, rates map[string]float64, seed uint64) (*sim.Sim, error) {
	desks := map[string]sim.Desk{}
	for id, v := range ds.desks {
		if ds.staff[id] != "" {
			desks[id] = v
		}
	}
	return sim.New(sim.Options{Site: &ds.site, Kiosk: ds.kiosk, Console: console{base: ds.s.HTTPURL, token: ds.s.Token,
		site: &ds.site, switchboard: ds.switchboard, demoFiles: ds.files},
		Desks: desks, Speed: speed, Clock: ds.clock, Rates: rates, Seed: seed, Log: ds.log})
}

// console is what the simulated agents do from the web console, and the
// telephony link's calls: through the hub's HTTP API, and the simulated
// telephony when there is one.
type console struct {
	base, token string
	site        *queue.Site
	switchboard *sim.Switchboard
	*demoFiles
}

func (c console) post(ctx context.Context, path string, body any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s: %d %s", path, res.StatusCode, msg)
	}
	return nil
}

func (c console) Transfer(ctx context.Context, counterID, service string) error {
	return c.post(ctx, "/api/v1/counters/"+url.PathEscape(counterID)+"/transfer", map[string]string{"service": service})
}

func (c console) Phone(ctx context.Context, service string) error {
	if c.switchboard != nil {
		mean := 5 * time.Minute
		if s := c.site.Service(service); s != nil && s.ServiceTime > 0 {
			mean = s.ServiceTime * 2 / 3
		}
		return c.switchboard.Call(ctx, service, mean)
	}
	return c.post(ctx, "/api/v1/tickets", map[string]string{"service": service, "channel": "phone"})
}

// demo holds the demo's devices.
type demo struct {
	s      *server.Server
	log    *slog.Logger
	data   string
	clock  *clock.Day // the simulated day's, nil in real time
	closes []func() error
}

// siteTime is the time of day at the site: the simulated day's when one
// runs, else now, in the site's zone.
func (d *demo) siteTime() time.Time {
	var loc *time.Location
	d.s.Hub.Read(func(e *queue.Engine) { loc = e.Site().Location })
	if c := d.s.Hub.SimClock(); c != nil {
		return c.Sim.Add(time.Duration(float64(time.Since(c.Real)) * c.Speed)).In(loc)
	}
	return time.Now().In(loc)
}

// now is the queue's time: the simulated day's when one runs.
func (d *demo) now() time.Time {
	if d.clock != nil {
		return d.clock.Now()
	}
	return time.Now()
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
	if err := os.MkdirAll(filepath.Join(d.data, "devices", id), 0o750); err != nil {
		return nil, err
	}
	l, err := link.Open(link.Options{Broker: d.s.MQTTURL, Site: d.s.Topics.Site, Device: id, Secret: secret, Role: role,
		Version: version, DataDir: filepath.Join(d.data, "devices", id), Log: d.log.With("device", id),
		Health: health.Reader{DataDir: filepath.Join(d.data, "devices", id)}.Read})
	if err != nil {
		return nil, err
	}
	d.closes = append(d.closes, l.Close)
	return l, nil
}

// startKiosk starts the demo's kiosk, printing PNGs into <data>/tickets.
func (d *demo) startKiosk(ctx context.Context) (*kiosk.Kiosk, error) {
	l, err := d.link("kiosk-demo", api.RoleKiosk, "")
	if err != nil {
		return nil, err
	}
	pr, err := virtual.New(filepath.Join(d.data, "tickets"), 80)
	if err != nil {
		return nil, err
	}
	k, err := kiosk.New(kiosk.Options{Link: l, Printer: pr, DataDir: filepath.Join(d.data, "devices", "kiosk-demo"),
		Log: d.log.With("device", "kiosk-demo"), Layout: kiosk.Layout{Format: printer.GenericFormat(80)}, Clock: d.now})
	if err != nil {
		return nil, err
	}
	d.closes = append(d.closes, k.Close)
	go k.Run(ctx)
	return k, nil
}

// display starts the demo's waiting-room display; its announcements go to
// <data>/announcements as WAVE files if wav, and aloud with --sound.
func (d *demo) display(ctx context.Context, sf *soundFlags, wav bool) (*display.Display, error) {
	l, err := d.link("screen-demo", api.RoleDisplay, "")
	if err != nil {
		return nil, err
	}
	var files display.Player
	if wav {
		// Named by the site's time of day (and the simulated day's, when
		// one runs), not the machine's zone.
		files = &display.Files{Dir: filepath.Join(d.data, "announcements"), Clock: d.siteTime}
	}
	ann, err := sf.announcer(d.log.With("device", "screen-demo"), files)
	if err != nil {
		return nil, err
	}
	if ann != nil {
		go ann.Run(ctx)
	}
	return display.New(display.Options{Link: l, Announcer: ann, Log: d.log.With("device", "screen-demo")}), nil
}

// startDesks starts a counter terminal on virtual pins at every counter; a
// staffed counter opens for its agent.
func (d *demo) startDesks(ctx context.Context, site queue.Site, staff map[string]string) (map[string]*counter.Virtual, error) {
	out := map[string]*counter.Virtual{}
	for _, c := range site.Counters {
		id := "desk-" + c.ID
		l, err := d.link(id, api.RoleCounter, c.ID)
		if err != nil {
			return nil, err
		}
		v, err := counter.NewVirtual(counter.Options{Link: l, Counter: c.ID, Agent: staff[c.ID], Log: d.log.With("device", id)})
		if err != nil {
			return nil, err
		}
		go v.Run(ctx)
		out[c.ID] = v
	}
	return out, nil
}

// showSimulatedTime gives the screens the simulated day's clock, again at
// every new simulated day (a day closes at 17:30 and the next opens at
// 08:30).
func showSimulatedTime(ctx context.Context, h *hub.Hub, sm *sim.Sim) {
	day := -1
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if d, _ := sm.Clock(); d != day {
			day = d
			real, simulated := sm.Epoch()
			h.SetSimClock(&api.SimClock{Real: real, Sim: simulated, Speed: sm.Speed()})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// freshSimulation gives a simulated day a data directory of its own, emptied
// at start, so that the previous run's tickets do not wait in the new day:
// data-simulation, unless --data names one (whose tickets then carry on, as
// it says).
func freshSimulation(fs *flag.FlagSet, data *string) error {
	explicit := false
	fs.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == "data" })
	if explicit {
		if entries, _ := os.ReadDir(*data); len(entries) > 0 {
			fmt.Printf("Journée simulée dans %s : les tickets qui s'y trouvent déjà continuent (sans --data, chaque journée simulée part de zéro).\n", *data)
		}
		return nil
	}
	*data = "data-simulation"
	if err := os.RemoveAll(*data); err != nil {
		return fmt.Errorf("empty %s for a fresh simulated day: %w", *data, err)
	}
	fmt.Printf("Journée simulée : données dans %s (vidé à chaque démarrage ; --data DIR pour garder une journée).\n", *data)
	return nil
}
