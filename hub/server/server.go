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
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/broker"
	"guichet/hub/bus"
	"guichet/hub/config"
	"guichet/hub/devices"
	"guichet/hub/httpapi"
	"guichet/hub/queue"
	"guichet/hub/store"
	"guichet/hub/web"
)

// Options configures a hub.
type Options struct {
	Config *config.Config
	Site   queue.Site
	Data   string // data directory
	HTTP   string // HTTP listen address
	Log    *slog.Logger
	Out    io.Writer // what a person reads once (a new admin token); stdout if nil

	MQTT     string      // embedded broker listen address
	MQTTTLS  string      // embedded broker TLS listen address, optional
	TLS      *tls.Config // certificate of the TLS listener
	MQTTURL  string      // external broker instead of the embedded one
	MQTTPass string      // the hub's password on the external broker
	// With an external Mosquitto: keep its passwd and acl files in this
	// directory, and make the process of this pid file reload them.
	MosquittoDir, MosquittoPID string
}

// Server is a running hub.
type Server struct {
	Hub      *hub.Hub
	Store    *store.Store
	Devices  *devices.Registry
	Bus      *bus.Bus
	API      *httpapi.Server
	Pages    *web.Pages
	HTTPURL  string // http://host:port
	MQTTURL  string // tcp://host:port
	Token    string // admin API token
	Topics   api.Topics
	srv      *http.Server
	broker   *broker.Broker
	external *bus.External
	cancel   context.CancelFunc
	log      *slog.Logger
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
	if err := os.MkdirAll(o.Data, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	token, created, err := AdminToken(o.Data)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(o.Out, "Admin API token (shown once; kept in %s):\n  %s\n", filepath.Join(o.Data, "admin-token"), token)
	}
	s := &Server{Token: token, log: o.Log, Topics: api.Topics{Site: o.Site.ID}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Store, err = store.Open(filepath.Join(o.Data, "guichet.db"), o.Log); err != nil {
		return nil, err
	}
	if s.Hub, err = hub.New(hub.Options{Site: o.Site, Store: s.Store, Log: o.Log}); err != nil {
		return nil, err
	}
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	s.Devices = devices.New(s.Store, func(c string) bool {
		return slices.ContainsFunc(o.Site.Counters, func(x queue.Counter) bool { return x.ID == c })
	}, o.Log)
	go s.Devices.Watch(ctx, 2*time.Second)
	s.Bus = bus.New(bus.Options{Hub: s.Hub, Devices: s.Devices, Log: o.Log, PublicURL: o.Config.Site.PublicURL,
		Info: api.Names(o.Config.Site.Info), OfflineNumbers: o.Config.OfflineNumbers()})
	if err := s.startMQTT(o); err != nil {
		return nil, err
	}
	s.API = httpapi.New(httpapi.Options{Hub: s.Hub, AdminToken: token, Log: o.Log, Devices: s.Devices, State: s.Bus.State})
	s.Pages = web.New(s.Hub, o.Log)
	s.Pages.SetInfo(api.Names(o.Config.Site.Info))
	s.Pages.Register(s.API)
	ln, err := net.Listen("tcp", o.HTTP)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", o.HTTP, err)
	}
	s.srv = &http.Server{Handler: s.API, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	s.HTTPURL = "http://" + HostPort(ln.Addr())
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Log.Error("http server", "err", err)
		}
	}()
	o.Log.Info("hub ready", "site", o.Site.ID, "http", s.HTTPURL, "mqtt", s.MQTTURL)
	return s, nil
}

func (s *Server) startMQTT(o Options) error {
	if o.MQTTURL == "" {
		b, err := broker.Start(broker.Options{Bus: s.Bus, Log: s.log, Addr: o.MQTT, TLSAddr: o.MQTTTLS, TLS: o.TLS,
			Sessions: filepath.Join(o.Data, "broker.db")})
		if err != nil {
			return err
		}
		s.broker, s.MQTTURL = b, "tcp://"+HostPort(b.Addr())
		return nil
	}
	if o.MQTTPass == "" {
		return errors.New("an external broker needs the hub's password (GUICHET_MQTT_PASSWORD)")
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

// Close stops the hub: HTTP, MQTT, then the queue (which saves a snapshot).
func (s *Server) Close() error {
	var errs []error
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errs = append(errs, s.srv.Shutdown(ctx))
	}
	if s.broker != nil {
		errs = append(errs, s.broker.Close())
	}
	if s.external != nil {
		errs = append(errs, s.external.Close())
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.Hub != nil {
		errs = append(errs, s.Hub.Close())
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	s.log.Info("hub stopped")
	return errors.Join(errs...)
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
// directory, or a new one it keeps there (created reports that case).
func AdminToken(dir string) (token string, created bool, err error) {
	if t := strings.TrimSpace(os.Getenv("GUICHET_ADMIN_TOKEN")); t != "" {
		if len(t) < 16 {
			return "", false, errors.New("GUICHET_ADMIN_TOKEN must be at least 16 characters")
		}
		return t, false, nil
	}
	path := filepath.Join(dir, "admin-token")
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
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
