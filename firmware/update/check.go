package update

import (
	"context"
	"encoding/json"
	"fmt"
	"guichet/internal/release"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"guichet/hub/api"
)

// maxManifest bounds the hub's manifest answer.
const maxManifest = 64 << 10

// Checker asks the hub for the newest bundle of the device's architecture
// and installs it when it is newer. It authenticates as the device (HTTP
// Basic: its id and secret, as on MQTT).
type Checker struct {
	Device   *Device
	Hub      string // the hub's web address, https://hub.mairie.local
	DeviceID string
	Secret   string
	Client   *http.Client // http.DefaultClient if nil
	// refused is the last bundle refused (version and hash), not fetched
	// again at every check.
	refused string
}

func (c *Checker) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return http.DefaultClient
}

// SafeHub says why the device's secret must not be sent to hub (nil: it
// may): plain http is refused unless the hub is this machine (loopback),
// the secret would cross the network in clear.
func SafeHub(hub string) error {
	u, err := url.Parse(hub)
	if err != nil {
		return release.Refuse(release.ReasonInsecure, "the hub's address: %w", err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return release.Refuse(release.ReasonInsecure, "%s is plain http: the device's secret would be sent in clear (use https)", u.Host)
	}
	return release.Refuse(release.ReasonInsecure, "the hub's address %.60q: https:// expected", hub)
}

// isLoopback reports whether host is this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (c *Checker) get(ctx context.Context, path string) (*http.Response, error) {
	u, err := url.Parse(strings.TrimSuffix(c.Hub, "/"))
	if err != nil {
		return nil, err
	}
	u = u.JoinPath(path)
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.DeviceID, c.Secret)
	return c.client().Do(req)
}

// Check asks once. It returns true when a new version was installed: the
// process should then exit for the launcher to start it.
func (c *Checker) Check(ctx context.Context) (bool, error) {
	d := c.Device
	st, err := d.State()
	if err != nil {
		return false, err
	}
	if st.Trial != nil {
		return false, nil // the trial is settled first
	}
	if err := SafeHub(c.Hub); err != nil {
		// The device's secret would cross the network in clear at every
		// check: nothing is asked.
		if c.refused != c.Hub {
			c.refused = c.Hub
			d.Log.Error("update: the hub's address is refused; no update is checked", "reason", release.Reason(err), "err", err)
			d.record(Status{State: StateFailed, Reason: release.Reason(err)})
		}
		return false, err
	}
	res, err := c.get(ctx, "/api/v1/updates/"+d.arch())
	if err != nil {
		return false, release.Fail(release.ReasonDownload, err)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxManifest))
	res.Body.Close()
	switch {
	case err != nil:
		return false, release.Fail(release.ReasonDownload, err)
	case res.StatusCode == http.StatusNotFound:
		return false, nil // nothing published
	case res.StatusCode != http.StatusOK:
		return false, release.Refuse(release.ReasonDownload, "the hub answered %s", res.Status)
	}
	var m api.UpdateManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return false, release.Refuse(release.ReasonDownload, "the hub's manifest: %w", err)
	}
	hint, _, err := release.PeekManifest([]byte(m.Signature))
	if err != nil {
		return false, c.fail(hint, err)
	}
	key := hint.Version + " " + hint.SHA256
	if key == c.refused {
		return false, nil
	}
	if err := d.Decide(st, hint); err != nil {
		switch release.Reason(err) {
		case release.ReasonOldVersion, release.ReasonBadVersion, release.ReasonOffline:
			return false, nil // the usual answer (nothing newer), a version already rolled back (said then), or one to try later
		}
		c.refused = key
		return false, c.fail(hint, err)
	}
	if !strings.HasPrefix(m.Download, "/") {
		return false, c.fail(hint, release.Refuse(release.ReasonDownload, "the manifest's download path %.60q", m.Download))
	}
	d.record(Status{State: StateDownloading, Version: hint.Version})
	d.Log.Info("update: downloading", "version", hint.Version, "size", hint.Size)
	res, err = c.get(ctx, m.Download)
	if err != nil {
		return false, c.fail(hint, release.Fail(release.ReasonDownload, err))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false, c.fail(hint, release.Refuse(release.ReasonDownload, "the hub answered %s for the binary", res.Status))
	}
	if _, err := d.Install(io.LimitReader(res.Body, release.MaxBinary+1), []byte(m.Signature)); err != nil {
		if release.Reason(err) != release.ReasonDownload {
			c.refused = key
		}
		d.Log.Warn("update refused", "version", hint.Version, "reason", release.Reason(err), "err", err)
		return false, err
	}
	return true, nil
}

func (c *Checker) fail(m release.Manifest, err error) error {
	c.Device.record(Status{State: StateFailed, Version: m.Version, Reason: release.Reason(err)})
	c.Device.Log.Warn("update refused", "version", m.Version, "reason", release.Reason(err), "err", err)
	return err
}

// Run checks after a short random delay (devices started together do not
// all ask at once), then every interval, until ctx ends or a version is
// installed: it then calls installed (which should make the process exit).
func (c *Checker) Run(ctx context.Context, every time.Duration, installed func()) {
	wait := time.Duration(rand.Int64N(int64(min(every, time.Minute))/4 + 1))
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = every
		ok, err := c.Check(ctx)
		if err != nil && ctx.Err() == nil {
			c.Device.Log.Debug("update check", "err", fmt.Sprint(err))
		}
		if ok {
			installed()
			return
		}
	}
}

// Status is the device's update state as it reports it.
func (d *Device) Status() *api.DeviceUpdate {
	st, err := d.State()
	if err != nil {
		return &api.DeviceUpdate{State: StateFailed, Reason: release.ReasonDisk}
	}
	s := st.Last
	if st.Trial != nil {
		s = Status{State: StateTrial, Version: st.Trial.Version}
	}
	if s.State == "" {
		s.State = StateIdle
	}
	return &api.DeviceUpdate{State: s.State, Version: s.Version, Reason: s.Reason}
}
