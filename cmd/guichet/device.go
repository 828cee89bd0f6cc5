//go:build !device

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/hub/devices"
	"guichet/hub/queue"
	"guichet/hub/server"
	"guichet/hub/store"
	"guichet/internal/entropy"
)

const deviceUsage = `usage:
  guichet device add ID --role kiosk|display|counter|integration [--counter N] [--data DIR] [--config FILE]
  guichet device list                [--data DIR]
  guichet device disable|enable ID   [--data DIR]
  guichet device secret ID           [--data DIR]      give the device a new secret
They work on the data directory, whether the hub runs or not; a running hub
takes the change into account within two seconds.`

// runDevice manages devices in the data directory's registry.
func runDevice(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(deviceUsage)
	}
	verb, rest := args[0], args[1:]
	var id string
	if len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		id, rest = rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("device "+verb, flag.ContinueOnError)
	data := fs.String("data", "data", "data directory of the hub")
	role := fs.String("role", "", "kiosk, display, counter or integration")
	counter := fs.String("counter", "", "the counter of a counter terminal")
	cfgPath := fs.String("config", "", "site configuration, to check the counter")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	counterOK := func(c string) bool { return c != "" }
	var siteID string
	if *cfgPath != "" {
		_, site, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		siteID = site.ID
		counterOK = func(c string) bool {
			return slices.ContainsFunc(site.Counters, func(x queue.Counter) bool { return x.ID == c })
		}
	}
	st, err := store.OpenDir(*data, store.DirOptions{Site: siteID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer st.Close()
	// Without the site file, what the hub recorded of its site checks the
	// counter and gives the time zone.
	loc := time.Local
	if facts, ok, err := st.SiteFacts(); err != nil {
		return err
	} else if ok {
		if *cfgPath == "" {
			counterOK = func(c string) bool { return slices.Contains(facts.Counters, c) }
		}
		if l, err := time.LoadLocation(facts.Timezone); err == nil {
			loc = l
		}
	}
	reg := devices.New(st, counterOK, slog.New(slog.NewTextHandler(io.Discard, nil)))
	actor := "cli:" + os.Getenv("USER")
	switch {
	case verb == "add" && id != "":
		secret, err := reg.Add(id, *role, *counter, actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Device %s (%s) registered.\nMQTT username: %s\nMQTT password (shown once, keep it on the device): %s\n", id, *role, id, secret)
	case verb == "list":
		devs, err := reg.List()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tCOUNTER\tDISABLED\tCREATED")
		for _, d := range devs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", d.ID, d.Role, d.Counter, d.Disabled, d.CreatedAt.In(loc).Format("2006-01-02 15:04"))
		}
		tw.Flush()
	case (verb == "disable" || verb == "enable") && id != "":
		if err := reg.SetDisabled(id, verb == "disable", actor); err != nil {
			return err
		}
		fmt.Fprintf(out, "Device %s %sd.\n", id, verb)
	case verb == "secret" && id != "":
		secret, err := reg.Rotate(id, actor)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Device %s has a new secret; the old one no longer works.\nMQTT password (shown once): %s\n", id, secret)
	default:
		return errors.New(deviceUsage)
	}
	return nil
}

// runMosquitto writes Mosquitto's passwd, acl and conf files for the site's devices.
func runMosquitto(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mosquitto", flag.ContinueOnError)
	data := fs.String("data", "data", "data directory of the hub")
	cfgPath := fs.String("config", "", "site configuration file")
	dir := fs.String("out", "mosquitto", "directory to write passwd, acl and guichet.conf into")
	listen := fs.String("listen", "1883", "listener line of the conf file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return errors.New("usage: guichet mosquitto --config FILE [--data DIR] [--out DIR]; the hub's password in GUICHET_MQTT_PASSWORD")
	}
	_, site, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	password := os.Getenv("GUICHET_MQTT_PASSWORD")
	if password == "" {
		return errors.New("set GUICHET_MQTT_PASSWORD: the password the hub will use on the broker (for example: openssl rand -base64 24)")
	}
	if err := entropy.Check("GUICHET_MQTT_PASSWORD", password); err != nil {
		return err
	}
	st, err := store.OpenDir(*data, store.DirOptions{Site: site.ID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer st.Close()
	reg := devices.New(st, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := server.WriteMosquittoFiles(reg, api.Topics{Site: site.ID}, *dir, password); err != nil {
		return err
	}
	conf := filepath.Join(*dir, "guichet.conf")
	abs, _ := filepath.Abs(*dir)
	if err := os.WriteFile(conf, []byte(devices.MosquittoConf(abs, *listen)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s/passwd, %s/acl and %s.\nInclude the conf in mosquitto.conf, then run the hub with --mqtt-url and --mosquitto-dir %s.\n", *dir, *dir, conf, *dir)
	return nil
}
