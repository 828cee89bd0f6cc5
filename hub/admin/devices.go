package admin

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/devices"
	"guichet/hub/queue"
)

// The devices: the registry's (hub/devices), which logs each change with
// who made it.

type deviceRow struct {
	*devices.Device
	Online bool
}

type devicesData struct {
	Devices  []deviceRow
	Roles    []string
	Counters []queue.Counter
	// What the add form had, shown again when refused.
	ID, Role, Counter string
}

func (p *Pages) devicesData() (devicesData, error) {
	d := devicesData{Roles: api.Roles, Role: api.RoleKiosk}
	list, err := p.o.Devices.List()
	if err != nil {
		return d, err
	}
	for _, dev := range list {
		row := deviceRow{Device: dev}
		if p.o.State != nil {
			row.Online = p.o.State(dev.ID)
		}
		d.Devices = append(d.Devices, row)
	}
	p.o.Hub.Read(func(e *queue.Engine) {
		for _, c := range e.Site().Counters {
			d.Counters = append(d.Counters, c.Clone())
		}
	})
	return d, nil
}

func (p *Pages) devices(w http.ResponseWriter, r *http.Request) {
	d, err := p.devicesData()
	if err != nil {
		p.log.Error("admin: list devices", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.render(w, r, http.StatusOK, "devices", page{Title: T(lang(r), "devices"), Nav: "devices", Data: d})
}

// deviceRefused shows the devices' page with the registry's refusal.
func (p *Pages) deviceRefused(w http.ResponseWriter, r *http.Request, err error, keep func(*devicesData)) {
	d, lerr := p.devicesData()
	if lerr != nil {
		p.log.Error("admin: list devices", "err", lerr)
	}
	if keep != nil {
		keep(&d)
	}
	msg := err.Error()
	if !errors.Is(err, devices.ErrInvalid) && !errors.Is(err, devices.ErrExists) && !errors.Is(err, devices.ErrNotFound) {
		p.log.Error("admin: devices", "err", err)
		msg = T(lang(r), "unavailable")
	}
	p.refused(w, r, "devices", "devices", msg, d)
}

func (p *Pages) addDevice(w http.ResponseWriter, r *http.Request) {
	id, role, counter := strings.TrimSpace(r.PostFormValue("id")), r.PostFormValue("role"), r.PostFormValue("counter")
	if role != api.RoleCounter {
		counter = ""
	}
	keep := func(d *devicesData) { d.ID, d.Role, d.Counter = id, role, counter }
	if !slices.Contains(api.Roles, role) {
		p.deviceRefused(w, r, fmt.Errorf("%w: role %.20q", devices.ErrInvalid, role), keep)
		return
	}
	secret, err := p.o.Devices.Add(id, role, counter, auth.From(r.Context()).Actor())
	if err != nil {
		p.deviceRefused(w, r, err, keep)
		return
	}
	p.showSecret(w, r, id, secret)
}

func (p *Pages) setDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := p.o.Devices.SetDisabled(r.PathValue("id"), disabled, auth.From(r.Context()).Actor()); err != nil {
			p.deviceRefused(w, r, err, nil)
			return
		}
		http.Redirect(w, r, "/admin/devices?ok=1", http.StatusSeeOther)
	}
}

func (p *Pages) newSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	secret, err := p.o.Devices.Rotate(id, auth.From(r.Context()).Actor())
	if err != nil {
		p.deviceRefused(w, r, err, nil)
		return
	}
	p.showSecret(w, r, id, secret)
}

// secretData is the page that shows a device's secret, once.
type secretData struct {
	ID, Secret, URL string
	QR              template.URL // a data: URL of the PNG, made here
}

// EnrollURL is what a device reads to enroll (issue 16's guichet enroll):
// the broker's address, the site, the device's id and its secret.
func EnrollURL(mqtt, site, device, secret string) string {
	q := url.Values{"mqtt": {mqtt}, "site": {site}, "device": {device}, "secret": {secret}}
	return "guichet://enroll?" + q.Encode()
}

// brokerFor is the broker's address as a device reaches it: a broker on
// every interface or on loopback is named by the host the administrator's
// browser reached the hub at.
func brokerFor(mqtt string, r *http.Request) string {
	u, err := url.Parse(mqtt)
	if err != nil {
		return mqtt
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return mqtt
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			u.Host = net.JoinHostPort(h, port)
		} else if r.Host != "" {
			u.Host = net.JoinHostPort(r.Host, port)
		}
	}
	return u.String()
}

func (p *Pages) showSecret(w http.ResponseWriter, r *http.Request, id, secret string) {
	var site string
	p.o.Hub.Read(func(e *queue.Engine) { site = e.Site().ID })
	d := secretData{ID: id, Secret: secret, URL: EnrollURL(brokerFor(p.o.MQTTURL, r), site, id, secret)}
	png, err := qrcode.Encode(d.URL, qrcode.Medium, 320)
	if err != nil {
		p.log.Error("admin: enrollment QR code", "err", err)
	} else {
		d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	p.render(w, r, http.StatusOK, "secret", page{Title: T(lang(r), "secret_title", id), Nav: "devices", Data: d})
}
