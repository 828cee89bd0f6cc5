package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"guichet/hub"
	"guichet/hub/config"
	"guichet/hub/httpapi"
	"guichet/hub/queue"
	"guichet/hub/store"
)

type hubFlags struct {
	config, data, http, mqtt, logLevel string
}

func (f *hubFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "data", "data directory (SQLite database, admin token)")
	fs.StringVar(&f.http, "http", ":8080", "HTTP listen address")
	fs.StringVar(&f.mqtt, "mqtt", ":1883", "MQTT listen address of the embedded broker")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
}

func runHub(ctx context.Context, args []string) error {
	var f hubFlags
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	fs.StringVar(&f.config, "config", "", "site configuration file (YAML); see: guichet config sample")
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.config == "" {
		return errors.New("--config FILE is required (start from: guichet config sample > guichet.yaml)")
	}
	_, site, err := config.Load(f.config)
	if err != nil {
		return err
	}
	log, err := newLogger(os.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	h, err := startHub(ctx, log, site, f, os.Stdout)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return h.stop()
}

// runningHub is a started hub with its HTTP server.
type runningHub struct {
	hub     *hub.Hub
	store   *store.Store
	api     *httpapi.Server
	srv     *http.Server
	httpURL string
	token   string
	log     *slog.Logger
}

// startHub opens the store, rebuilds the queue and serves HTTP. out receives
// what a person must read once (the admin token when it is created).
func startHub(ctx context.Context, log *slog.Logger, site queue.Site, f hubFlags, out io.Writer) (*runningHub, error) {
	if err := os.MkdirAll(f.data, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	token, created, err := adminToken(f.data)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(out, "Admin API token (shown once; kept in %s):\n  %s\n", filepath.Join(f.data, "admin-token"), token)
	}
	st, err := store.Open(filepath.Join(f.data, "guichet.db"), log)
	if err != nil {
		return nil, err
	}
	h, err := hub.New(hub.Options{Site: site, Store: st, Log: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	api := httpapi.New(httpapi.Options{Hub: h, AdminToken: token, Log: log})
	ln, err := net.Listen("tcp", f.http)
	if err != nil {
		h.Close()
		st.Close()
		return nil, fmt.Errorf("listen %s: %w", f.http, err)
	}
	r := &runningHub{hub: h, store: st, api: api, token: token, log: log,
		srv:     &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute},
		httpURL: "http://" + hostPort(ln.Addr())}
	go func() {
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	log.Info("hub ready", "site", site.ID, "http", r.httpURL)
	return r, nil
}

func (r *runningHub) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	err = errors.Join(err, r.hub.Close(), r.store.Close())
	r.log.Info("hub stopped")
	return err
}

// hostPort names a listening address as a browser would reach it.
func hostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// adminToken returns GUICHET_ADMIN_TOKEN, or the token kept in the data
// directory, or a new one it keeps there (created reports that case).
func adminToken(dir string) (token string, created bool, err error) {
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

func runConfig(args []string, out io.Writer) error {
	if len(args) != 1 || args[0] != "sample" {
		return errors.New("usage: guichet config sample")
	}
	_, err := out.Write(config.Sample)
	return err
}
