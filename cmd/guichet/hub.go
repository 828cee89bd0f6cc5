//go:build !device

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"guichet/firmware/watchdog"
	"guichet/hub/config"
	"guichet/hub/queue"
	"guichet/hub/server"
	"guichet/internal/clock"
)

type hubFlags struct {
	config, data, http, mqtt, logLevel  string
	mqttURL, mqttTLS, mqttCert, mqttKey string
	httpTLS, httpCert, httpKey          string
	trustedProxies                      string
	mosquittoDir, mosquittoPID          string
	out                                 io.Writer  // where a new admin token is shown; stdout if nil
	phones                              string     // the demo's address for phones: a URL, "lan", or "" for the hub's URL
	clock                               *clock.Day // the demo's simulated day, the queue's time; the real clock if nil
}

func (f *hubFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", "data", "data directory (SQLite database, admin token)")
	fs.StringVar(&f.http, "http", ":8080", `HTTP listen address; "off" with --http-tls to serve HTTPS only`)
	fs.StringVar(&f.httpTLS, "http-tls", "", "also listen for HTTPS on this address (:8443), with --http-cert and --http-key")
	fs.StringVar(&f.httpCert, "http-cert", "", "TLS certificate (PEM, with its chain) of the HTTPS listener")
	fs.StringVar(&f.httpKey, "http-key", "", "TLS private key (PEM) of the HTTPS listener")
	fs.StringVar(&f.trustedProxies, "trusted-proxy", "", "reverse proxies in front of the hub (CIDRs or addresses, comma-separated): their X-Forwarded-For names the client")
	fs.StringVar(&f.mqtt, "mqtt", ":1883", "MQTT listen address of the embedded broker")
	fs.StringVar(&f.mqttURL, "mqtt-url", "", "use this external broker instead of the embedded one (tcp://host:1883, ssl://host:8883); password in GUICHET_MQTT_PASSWORD")
	fs.StringVar(&f.mqttTLS, "mqtt-tls", "", "also listen for MQTT over TLS on this address (:8883), with --mqtt-cert and --mqtt-key")
	fs.StringVar(&f.mqttCert, "mqtt-cert", "", "TLS certificate (PEM) of the MQTT TLS listener")
	fs.StringVar(&f.mqttKey, "mqtt-key", "", "TLS private key (PEM) of the MQTT TLS listener")
	fs.StringVar(&f.mosquittoDir, "mosquitto-dir", "", "with --mqtt-url: keep Mosquitto's passwd and acl files in this directory up to date")
	fs.StringVar(&f.mosquittoPID, "mosquitto-pid", "", "with --mosquitto-dir: Mosquitto's pid file, to make it reload the files (SIGHUP)")
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
	cfg, site, err := config.Load(f.config)
	if err != nil {
		return err
	}
	log, err := newLogger(os.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	for _, p := range LaneProblems(&site) {
		log.Warn("nobody can serve this lane: its tickets would wait forever (guichet config check)", "lane", p)
	}
	s, err := startHub(log, cfg, site, f)
	if err != nil {
		return err
	}
	svc := newRoleService(log)
	svc.ready(ctx, "hub ready on "+s.HTTPURL, watchdog.HandlerAnswers(s.API, "/healthz")) // pings while /healthz answers
	defer svc.stop()
	<-ctx.Done()
	return s.Close()
}

// startHub starts a hub from the command's flags.
func startHub(log *slog.Logger, cfg *config.Config, site queue.Site, f hubFlags) (*server.Server, error) {
	o := server.Options{Config: cfg, Site: site, Data: f.data, HTTP: f.http, Log: log, MQTT: f.mqtt,
		MQTTURL: f.mqttURL, MQTTPass: os.Getenv("GUICHET_MQTT_PASSWORD"), MosquittoDir: f.mosquittoDir, MosquittoPID: f.mosquittoPID, Out: f.out}
	if f.clock != nil {
		o.Clock = f.clock.Now
	}
	if o.HTTP == "off" {
		o.HTTP = ""
	}
	if f.httpTLS != "" {
		if f.httpCert == "" || f.httpKey == "" {
			return nil, errors.New("--http-tls needs --http-cert and --http-key")
		}
		cert, err := tls.LoadX509KeyPair(f.httpCert, f.httpKey)
		if err != nil {
			return nil, fmt.Errorf("HTTPS certificate: %w", err)
		}
		o.HTTPTLS, o.HTTPTLSCfg = f.httpTLS, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	} else if o.HTTP == "" {
		return nil, errors.New(`--http off needs --http-tls: the hub must serve HTTP or HTTPS`)
	}
	proxies, err := parsePrefixes(f.trustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxy: %w", err)
	}
	o.TrustedProxies = proxies
	if f.mqttTLS != "" {
		cert, err := tls.LoadX509KeyPair(f.mqttCert, f.mqttKey)
		if err != nil {
			return nil, fmt.Errorf("MQTT TLS certificate: %w", err)
		}
		o.MQTTTLS, o.TLS = f.mqttTLS, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return server.Start(o)
}

// parsePrefixes reads "10.0.0.0/8,192.0.2.1,::1" into prefixes (an
// address alone is its own /32 or /128).
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(list, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
