// Package server assembles a whole hub — store, queue, device registry,
// MQTT (embedded broker or an external one) and the HTTP API — from its
// options. The guichet command and the end-to-end tests start hubs with it.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"guichet/cloud"
	"guichet/hub"
	"guichet/hub/admin"
	"guichet/hub/alerts"
	"guichet/hub/api"
	"guichet/hub/audit"
	"guichet/hub/auth"
	"guichet/hub/auth/signin"
	"guichet/hub/broker"
	"guichet/hub/bus"
	"guichet/hub/calls"
	"guichet/hub/citizens"
	"guichet/hub/config"
	"guichet/hub/console"
	"guichet/hub/crm"
	"guichet/hub/devices"
	"guichet/hub/httpapi"
	"guichet/hub/queue"
	"guichet/hub/stats"
	"guichet/hub/store"
	"guichet/hub/telephony"
	"guichet/hub/updates"
	"guichet/hub/web"
	"guichet/internal/entropy"
)

// Options configures a hub.
type Options struct {
	Config *config.Config
	Site   queue.Site
	Data   string // data directory
	HTTP   string // HTTP listen address; "" for none (HTTPS only)
	Log    *slog.Logger
	Out    io.Writer // what a person reads once (a new admin token); stdout if nil

	HTTPTLS    string      // HTTPS listen address, optional
	HTTPTLSCfg *tls.Config // certificate of the HTTPS listener
	// TrustedProxies are reverse proxies whose X-Forwarded-For names the
	// client (for the API's lockout of failed authentications).
	TrustedProxies []netip.Prefix
	// AuthClock is the identity layer's clock (sessions, sign-in limits);
	// time.Now if nil. Tests of the limits freeze it.
	AuthClock func() time.Time

	MQTT     string      // embedded broker listen address
	MQTTTLS  string      // embedded broker TLS listen address, optional
	TLS      *tls.Config // certificate of the TLS listener
	MQTTURL  string      // external broker instead of the embedded one
	MQTTPass string      // the hub's password on the external broker
	// Telephony, when set, is the telephony link instead of the one the
	// site file names (tests), with TelephonyMapping as its mapping.
	Telephony        telephony.Link
	TelephonyMapping *telephony.Mapping
	// With an external Mosquitto: keep its passwd and acl files in this
	// directory, and make the process of this pid file reload them.
	MosquittoDir, MosquittoPID string

	// Clock is the time of the queue's events: a simulated day's in the
	// demo (internal/clock), time.Now if nil. Housekeeping (sessions,
	// idempotency replies, snapshots) keeps the wall clock.
	Clock func() time.Time
}

// Server is a running hub.
type Server struct {
	Hub         *hub.Hub
	Store       *store.Store
	Devices     *devices.Registry
	Bus         *bus.Bus
	Outbox      *cloud.Outbox // the connectors outward: the bus's events, webhooks, CRM…
	Auth        *auth.Service
	API         *httpapi.Server
	Updates     *updates.Shelf // the signed update bundles served (DATA/updates); nil without a data directory
	Pages       *web.Pages
	Admin       *admin.Pages
	Console     *console.Pages
	Stats       *stats.Projection // the statistics, followed from the log
	Alerts      *alerts.Monitor   // the supervision's alerts
	CRM         *crm.Store
	Audit       *audit.Log
	Citizens    *citizens.Service
	Calls       *calls.Bridge
	HTTPURL     string // http://host:port, or the HTTPS URL when there is no plain HTTP
	HTTPSURL    string // https://host:port with Options.HTTPTLS
	MQTTURL     string // tcp://host:port
	Token       string // admin API token
	Topics      api.Topics
	srv         *http.Server
	srvTLS      *http.Server
	broker      *broker.Broker
	external    *bus.External
	deadLetters *cloud.DeadLetters
	cancel      context.CancelFunc
	workers     sync.WaitGroup // the statistics' and the alerts' goroutines
	links       sync.WaitGroup // the citizen file's and the telephony's goroutines
	log         *slog.Logger
	closing     sync.Once
	closeErr    error
}

// Start starts a hub. On error, whatever was started is stopped.
func Start(o Options) (_ *Server, err error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Config == nil {
		o.Config = &config.Config{}
	}
	if t := strings.TrimSpace(os.Getenv("GUICHET_ADMIN_TOKEN")); t != "" {
		if err := entropy.Check("GUICHET_ADMIN_TOKEN", t); err != nil {
			return nil, err // before anything is created
		}
	}
	s := &Server{log: o.Log, Topics: api.Topics{Site: o.Site.ID}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	// The data directory first: a hub on the wrong or a damaged database
	// stops here, before anything is written or listened to.
	if s.Store, err = store.OpenDir(o.Data, store.DirOptions{Site: o.Site.ID, Create: true, Exclusive: true, Log: o.Log}); err != nil {
		return nil, err
	}
	token, created, err := AdminToken(o.Data, o.Log)
	if err != nil {
		return nil, err
	}
	if created {
		// Shown once the hub is up; a hub that fails to start forgets it,
		// and the next start makes and shows a new one.
		defer func() {
			if err != nil {
				os.Remove(filepath.Join(o.Data, "admin-token"))
				return
			}
			fmt.Fprintf(o.Out, "Admin API token (shown once; kept in %s):\n  %s\n", filepath.Join(o.Data, "admin-token"), token)
		}()
	}
	s.Token = token
	hash := o.Config.Hash
	if hash != "" && o.Site.Policy.IgnoreHours {
		hash += "/always-open" // the demo's: not the same site as the file's
	}
	if s.Hub, err = hub.New(hub.Options{Site: o.Site, SiteHash: hash, Store: s.Store, Log: o.Log, OnSite: s.siteChanged, Clock: o.Clock}); err != nil {
		return nil, err
	}
	var site queue.Site
	s.Hub.Read(func(e *queue.Engine) { site = e.Site().Clone() })
	if err := s.recordFacts(site); err != nil {
		return nil, err
	}
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.openCitizens(ctx, o); err != nil {
		return nil, err
	}
	s.Devices = devices.New(s.Store, func(c string) bool {
		found := false
		s.Hub.Read(func(e *queue.Engine) { found = e.Counter(c) != nil })
		return found
	}, o.Log)
	go s.Devices.Watch(ctx, 2*time.Second)
	s.Bus = bus.New(bus.Options{Hub: s.Hub, Devices: s.Devices, Log: o.Log, OfflineNumbers: site.Policy.OfflineNumbers})
	if err := s.startMQTT(o); err != nil {
		return nil, err
	}
	if err := s.startOutbox(o); err != nil {
		return nil, err
	}
	if o.AuthClock != nil {
		s.Devices.SetClock(o.AuthClock)
	}
	s.Auth = auth.New(auth.Options{Store: s.Store, AdminToken: token, Log: o.Log, TrustedProxies: o.TrustedProxies, Clock: o.AuthClock})
	if err := s.Auth.SyncAgents(site.Agents); err != nil {
		return nil, err
	}
	if err := s.addProviders(ctx, o); err != nil {
		return nil, err
	}
	if err := s.startSupervision(ctx, o, site); err != nil {
		return nil, err
	}
	if o.Data != "" {
		s.Updates = &updates.Shelf{Dir: filepath.Join(o.Data, "updates")}
	}
	s.API = httpapi.New(httpapi.Options{Hub: s.Hub, Auth: s.Auth, Log: o.Log, Devices: s.Devices, State: s.Bus.State, Stats: s.Stats, Outbox: s.Outbox,
		CRM: httpapi.CitizenFile{Service: s.Citizens, Calls: func() *calls.Bridge { return s.Calls },
			Sectors: o.Config.SectorOf(&o.Site), DPO: o.Config.DPOAccounts()},
		Enrollment: s.enrollment(o), Updates: s.Updates})
	s.Pages = web.New(s.Hub, o.Log)
	s.Admin = admin.New(admin.Options{Hub: s.Hub, Devices: s.Devices, Log: o.Log, MQTTURL: s.MQTTURL,
		State: func(id string) bool { st, ok := s.Bus.State(id); return ok && st.Online }})
	s.Admin.Register(s.API)
	s.Pages.AddLink(web.Link{Name: "Administration", Href: "/admin/", About: "Services, guichets, agents, motifs de pause, appareils et réglages du site (compte admin)."})
	s.Console = console.New(console.Options{Hub: s.Hub, Devices: s.Devices, State: s.Bus.State, StateChanges: s.Bus.WatchStates,
		Alerts: s.Alerts, Stats: s.Stats, Log: o.Log, AdminPath: "/admin/", Destinations: s.destinations,
		Sectors: o.Config.SectorOf(&o.Site), DPO: o.Config.DPOAccounts(), NewestUpdate: s.newestUpdate})
	s.Console.Register(s.API)
	s.Pages.AddLink(web.Link{Name: "Console de l'agent", Href: "/agent", About: "Pour les agents : ouvrir un guichet ou un poste téléphonique, appeler, transférer, terminer."})
	s.Pages.AddLink(web.Link{Name: "Supervision", Href: "/supervision", About: "Pour la responsable de l'accueil : files, agents, appareils et alertes, en direct."})
	s.Pages.AddLink(web.Link{Name: "Statistiques", Href: "/supervision/stats", About: "Attentes, durées, tickets par heure, par service, agent et canal ; export CSV."})
	s.Pages.Register(s.API)
	signin.New(s.Auth, o.Site.Name, o.Log).Register(s.API)
	if err := s.startTelephony(ctx, o); err != nil {
		return nil, err
	}
	if err := s.listenHTTP(o); err != nil {
		return nil, err
	}
	o.Log.Info("hub ready", "site", o.Site.ID, "http", s.HTTPURL, "mqtt", s.MQTTURL, "https", s.HTTPSURL)
	return s, nil
}

// recordFacts keeps in the database what commands run without the hub
// need of the site (store.SiteFacts).
func (s *Server) recordFacts(site queue.Site) error {
	facts := store.SiteFacts{Timezone: site.Location.String()}
	for _, c := range site.Counters {
		facts.Counters = append(facts.Counters, c.ID)
	}
	return s.Store.SetSiteFacts(facts)
}

// siteChanged follows a change of the site made while the hub runs: the
// facts commands read, and an account for every new agent.
func (s *Server) siteChanged(site queue.Site) {
	if err := s.recordFacts(site); err != nil {
		s.log.Warn("record the site's facts", "err", err)
	}
	if s.Auth != nil {
		if err := s.Auth.SyncAgents(site.Agents); err != nil {
			s.log.Warn("accounts of the site's agents", "err", err)
		}
	}
}

// startSupervision opens the statistics (stats.db beside the hub's
// database) and starts following the log with them, and starts the
// supervision's alerts; both stop with the hub.
func (s *Server) startSupervision(ctx context.Context, o Options, site queue.Site) error {
	var err error
	if s.Stats, err = stats.Open(ctx, stats.Options{Store: s.Store, Site: &site, Log: o.Log, Clock: s.Hub.Now}); err != nil {
		return err
	}
	s.Alerts = alerts.New(alerts.Options{Hub: s.Hub, Devices: s.Devices, State: s.Bus.State, StateChanges: s.Bus.WatchStates, Log: o.Log})
	if err := s.Alerts.Start(ctx); err != nil {
		return err
	}
	changes, stop := s.Hub.Watch()
	s.workers.Add(3)
	// The statistics follow the log at most every second: a report catches
	// up first anyway, and a busy hub changes many times a second.
	slow := make(chan struct{}, 1)
	go func() {
		defer s.workers.Done()
		defer stop()
		throttle(ctx, changes, slow, time.Second)
	}()
	go func() {
		defer s.workers.Done()
		s.Stats.Run(ctx, slow)
	}()
	go func() {
		defer s.workers.Done()
		s.Alerts.Run(ctx)
	}()
	return nil
}

// throttle passes the signals of in on to out at most once every d, the
// last of a burst included, until ctx ends.
func throttle(ctx context.Context, in <-chan struct{}, out chan<- struct{}, d time.Duration) {
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-in:
		}
		if wait := d - time.Since(last); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		last = time.Now()
		select {
		case out <- struct{}{}:
		default:
		}
	}
}

// listenHTTP starts the HTTP listener, the HTTPS one, or both.
func (s *Server) listenHTTP(o Options) error {
	if o.HTTP == "" && o.HTTPTLS == "" {
		return errors.New("no HTTP listener: give an HTTP address, an HTTPS one, or both")
	}
	serve := func(srv *http.Server, ln net.Listener, tls bool) {
		var err error
		if tls {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server", "tls", tls, "err", err)
		}
	}
	if o.HTTPTLS != "" {
		if o.HTTPTLSCfg == nil || len(o.HTTPTLSCfg.Certificates) == 0 && o.HTTPTLSCfg.GetCertificate == nil {
			return errors.New("an HTTPS listener needs a certificate and its key")
		}
		ln, err := net.Listen("tcp", o.HTTPTLS)
		if err != nil {
			return inUse(fmt.Errorf("listen %s: %w", o.HTTPTLS, err), "--http-tls")
		}
		s.srvTLS = s.httpServer()
		s.srvTLS.TLSConfig = o.HTTPTLSCfg.Clone()
		s.HTTPSURL = "https://" + HostPort(ln.Addr())
		go serve(s.srvTLS, ln, true)
	}
	if o.HTTP != "" {
		ln, err := net.Listen("tcp", o.HTTP)
		if err != nil {
			return inUse(fmt.Errorf("listen %s: %w", o.HTTP, err), "--http")
		}
		s.srv = s.httpServer()
		s.HTTPURL = "http://" + HostPort(ln.Addr())
		go serve(s.srv, ln, false)
	} else {
		s.HTTPURL = s.HTTPSURL
	}
	return nil
}

func (s *Server) httpServer() *http.Server {
	return &http.Server{Handler: s.API, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)} // TLS handshake noise from scanners: debug
}

func (s *Server) startMQTT(o Options) error {
	if o.MQTTURL == "" {
		b, err := broker.Start(broker.Options{Bus: s.Bus, Log: s.log, Addr: o.MQTT, TLSAddr: o.MQTTTLS, TLS: o.TLS,
			Sessions: filepath.Join(o.Data, "broker.db")})
		if err != nil {
			return inUse(err, "--mqtt (or --mqtt-tls)")
		}
		s.broker, s.MQTTURL = b, "tcp://"+HostPort(b.Addr())
		return nil
	}
	if o.MQTTPass == "" {
		return errors.New("an external broker needs the hub's password (GUICHET_MQTT_PASSWORD)")
	}
	if err := entropy.Check("GUICHET_MQTT_PASSWORD", o.MQTTPass); err != nil {
		return err
	}
	if o.MosquittoDir != "" {
		write := func() {
			if err := WriteMosquittoFiles(s.Devices, s.Topics, o.MosquittoDir, o.MQTTPass); err != nil {
				s.log.Error("mosquitto files", "err", err)
				return
			}
			ReloadMosquitto(o.MosquittoPID, s.log)
		}
		write()
		s.Devices.OnChange(func(string, bool) { write() })
	}
	x, err := bus.StartExternal(s.Bus, bus.ExternalOptions{URL: o.MQTTURL, Password: o.MQTTPass})
	if err != nil {
		return err
	}
	s.external, s.MQTTURL = x, o.MQTTURL
	return nil
}

// destinations is the outbox's destinations, for supervision.
func (s *Server) destinations() []api.Destination {
	if s.Outbox == nil {
		return nil
	}
	return s.Outbox.Destinations()
}

// Close stops the hub: HTTP, MQTT, then the queue (which saves a snapshot).
// Closing again does nothing.
func (s *Server) Close() error {
	s.closing.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Server) close() error {
	var errs []error
	for _, srv := range []*http.Server{s.srv, s.srvTLS} {
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			errs = append(errs, srv.Shutdown(ctx))
		}
	}
	errs = append(errs, s.closeOutbox()) // before the broker: the bus's cursor syncs its sessions
	if s.broker != nil {
		errs = append(errs, s.broker.Close())
	}
	if s.external != nil {
		errs = append(errs, s.external.Close())
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.workers.Wait()
	if s.Stats != nil {
		errs = append(errs, s.Stats.Close())
	}
	s.links.Wait()
	if s.Hub != nil {
		errs = append(errs, s.Hub.Close())
	}
	errs = append(errs, s.closeCitizens())
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	s.log.Info("hub stopped")
	return errors.Join(errs...)
}

// inUse adds to a listening error, when the port is taken, which flag
// chooses another.
func inUse(err error, flag string) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: another program uses this port; choose another with %s", err, flag)
	}
	return err
}

// HostPort names a listening address as a browser would reach it.
func HostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// AdminToken returns GUICHET_ADMIN_TOKEN, or the token kept in the data
// directory, or a new one it keeps there (created reports that case). A
// token that is short or easy to guess (see entropy.Check), in the variable
// or written into the file by hand, is refused; the hub's own is 192 random
// bits. A token file readable by others is made private, with a log line.
func AdminToken(dir string, log *slog.Logger) (token string, created bool, err error) {
	if t := strings.TrimSpace(os.Getenv("GUICHET_ADMIN_TOKEN")); t != "" {
		if err := entropy.Check("GUICHET_ADMIN_TOKEN", t); err != nil {
			return "", false, err
		}
		return t, false, nil
	}
	path := filepath.Join(dir, "admin-token")
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			if err := entropy.Check(path, t); err != nil {
				return "", false, err
			}
			if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
				if err := os.Chmod(path, 0o600); err != nil {
					return "", false, fmt.Errorf("%s is readable by others and could not be made private: %w", path, err)
				}
				log.Warn("admin token file was readable by others: made private", "file", path, "was", fi.Mode().Perm().String())
			}
			return t, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read admin token: %w", err)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", false, err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("store admin token: %w", err)
	}
	return token, true, nil
}

// WriteMosquittoFiles writes Mosquitto's passwd and acl files for the
// registry's devices.
func WriteMosquittoFiles(reg *devices.Registry, t api.Topics, dir, password string) error {
	devs, err := reg.List()
	if err != nil {
		return err
	}
	return devices.MosquittoFiles(dir, t, devs, password)
}

// ReloadMosquitto sends SIGHUP to the Mosquitto whose pid file is given.
func ReloadMosquitto(pidFile string, log *slog.Logger) {
	if pidFile == "" {
		return
	}
	b, err := os.ReadFile(pidFile)
	if err == nil {
		var pid int
		if pid, err = strconv.Atoi(string(bytes.TrimSpace(b))); err == nil {
			err = syscall.Kill(pid, syscall.SIGHUP)
		}
	}
	if err != nil {
		log.Warn("reload mosquitto", "pid_file", pidFile, "err", err)
		return
	}
	log.Info("mosquitto reloaded")
}
