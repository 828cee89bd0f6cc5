package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"guichet/firmware/health"
	"guichet/firmware/link"
)

// deviceFlags are the flags every device role takes.
type deviceFlags struct {
	hub, site, device, secretFile, data, tlsCA, logLevel, version string
	updates                                                       updateFlags
}

func (f *deviceFlags) register(fs *flag.FlagSet, role string) {
	fs.StringVar(&f.hub, "hub", "tcp://localhost:1883", "the hub's MQTT broker (tcp://host:1883, ssl://host:8883)")
	fs.StringVar(&f.site, "site", "", "the site id of the hub's configuration (required)")
	fs.StringVar(&f.device, "device", "", "this device's id, as registered on the hub (required)")
	fs.StringVar(&f.secretFile, "secret-file", "", "file holding the device's secret (else GUICHET_DEVICE_SECRET)")
	fs.StringVar(&f.data, "data", "data-"+role, "data directory: outbox, cache, journal")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "CA certificate (PEM) of the hub, for ssl:// brokers")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	f.updates.register(fs)
}

// service is the role's link with systemd, which also starts the device's
// updates once the role serves.
func (f *deviceFlags) service(log *slog.Logger) *roleService {
	s := newRoleService(log)
	s.updates = &f.updates
	return s
}

// open checks the flags and opens the device's link to the hub.
func (f *deviceFlags) open(role string, log *slog.Logger) (*link.Link, error) {
	if f.site == "" || f.device == "" {
		return nil, errors.New("--site and --device are required")
	}
	if err := link.CheckBroker(f.hub); err != nil {
		return nil, err
	}
	secret := strings.TrimSpace(os.Getenv("GUICHET_DEVICE_SECRET"))
	if f.secretFile != "" {
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		return nil, errors.New("the device's secret: --secret-file FILE or GUICHET_DEVICE_SECRET")
	}
	if err := os.MkdirAll(f.data, 0o750); err != nil {
		return nil, err
	}
	if err := f.updates.launch(f.data, f.device, secret, log); err != nil {
		return nil, err
	}
	o := link.Options{Broker: f.hub, Site: f.site, Device: f.device, Secret: secret, Role: role, Version: version, DataDir: f.data, Log: log,
		Health: health.Reader{DataDir: f.data, Update: f.updates.status}.Read}
	if f.tlsCA != "" {
		pem, err := os.ReadFile(f.tlsCA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", f.tlsCA)
		}
		o.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	l, err := link.Open(o)
	f.updates.link = l
	return l, err
}

var hostOnce struct {
	done bool
	err  error
}

// pinByName returns a GPIO pin of the board ("GPIO17"), initialising
// periph's host drivers the first time.
func pinByName(name string) (gpio.PinIO, error) {
	if !hostOnce.done {
		_, hostOnce.err = host.Init()
		hostOnce.done = true
	}
	if hostOnce.err != nil {
		return nil, fmt.Errorf("GPIO: %w", hostOnce.err)
	}
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("GPIO: no pin %q on this board", name)
	}
	return p, nil
}

// pinMap reads "A=GPIO17,E=GPIO27" into pins by key.
func pinMap(spec string) (map[string]gpio.PinIO, error) {
	out := map[string]gpio.PinIO{}
	if spec == "" {
		return out, nil
	}
	for _, part := range strings.Split(spec, ",") {
		k, name, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" || name == "" {
			return nil, fmt.Errorf("%q: write SERVICE=PIN, as A=GPIO17", part)
		}
		p, err := pinByName(name)
		if err != nil {
			return nil, err
		}
		out[k] = p
	}
	return out, nil
}
