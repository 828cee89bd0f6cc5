// Package devices registers the site's devices (kiosks, displays, counter
// terminals, integrations), issues their MQTT credentials, and holds the
// rules of what each may publish, read and do. Only hashes of secrets are
// stored; a secret is shown once, when it is created.
package devices

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/hub/store"
)

// Device is a registered device.
type Device = store.Device

// Audit events the registry appends to the log.
const (
	Added         queue.EventType = "device.added"
	Disabled      queue.EventType = "device.disabled"
	Enabled       queue.EventType = "device.enabled"
	SecretRotated queue.EventType = "device.secret_rotated"
)

// Errors callers branch on.
var (
	ErrInvalid     = errors.New("invalid device")
	ErrNotFound    = store.ErrNoDevice
	ErrExists      = store.ErrDeviceExists
	ErrBadSecret   = errors.New("wrong secret")
	ErrDeviceOff   = errors.New("device disabled")
	errNoSuchCount = errors.New("unknown counter")
)

// Registry is the site's device registry.
type Registry struct {
	st      *store.Store
	counter func(id string) bool // reports whether a counter exists
	log     *slog.Logger
	clock   func() time.Time // of enrollment codes; time.Now if nil

	mu       sync.Mutex
	onChange []func(id string, revoked bool)
	seen     map[string]seenDevice // as last polled
}

// New returns the registry kept in st. counterExists checks a counter
// terminal's counter.
func New(st *store.Store, counterExists func(string) bool, log *slog.Logger) *Registry {
	return &Registry{st: st, counter: counterExists, log: log, seen: map[string]seenDevice{}}
}

// NewSecret returns a new device secret: 256 random bits.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Add registers a device and returns its secret, the only time it is shown.
func (r *Registry) Add(id, role, counter, actor string) (secret string, err error) {
	if !api.ValidDeviceID(id) {
		return "", fmt.Errorf("%w: id %q: use 1 to 64 lower-case letters, digits, '-', '_' or '.'", ErrInvalid, id)
	}
	if id == HubUser {
		return "", fmt.Errorf("%w: id %q is the hub's own user on an external broker", ErrInvalid, id)
	}
	if !slices.Contains(api.Roles, role) {
		return "", fmt.Errorf("%w: role %q: one of %v", ErrInvalid, role, api.Roles)
	}
	switch {
	case role == api.RoleCounter && counter == "":
		return "", fmt.Errorf("%w: a counter terminal needs its counter", ErrInvalid)
	case role == api.RoleCounter && !r.counter(counter):
		return "", fmt.Errorf("%w: %w %q", ErrInvalid, errNoSuchCount, counter)
	case role != api.RoleCounter && counter != "":
		return "", fmt.Errorf("%w: only a counter terminal has a counter", ErrInvalid)
	}
	secret = NewSecret()
	d := &Device{ID: id, Role: role, Counter: counter, SecretHash: hashSecret(secret), MosquittoHash: MosquittoHash(secret)}
	if err := r.st.AddDevice(d); err != nil {
		return "", err
	}
	r.changed(id, false)
	r.audit(Added, id, actor, role+" "+counter)
	r.log.Info("device added", "device", id, "role", role, "counter", counter, "by", actor)
	return secret, nil
}

// Authenticate checks a device's credentials; it reads the registry each
// time, so a device added or disabled by another process counts at once.
func (r *Registry) Authenticate(id, secret string) (*Device, error) {
	d, err := r.st.Device(id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(hashSecret(secret), d.SecretHash) != 1 {
		return nil, ErrBadSecret
	}
	if d.Disabled {
		return nil, ErrDeviceOff
	}
	return d, nil
}

// Get returns a device.
func (r *Registry) Get(id string) (*Device, error) { return r.st.Device(id) }

// List returns every device.
func (r *Registry) List() ([]*Device, error) { return r.st.Devices() }

// SetDisabled disables or enables a device; disabling revokes it at once.
func (r *Registry) SetDisabled(id string, disabled bool, actor string) error {
	d, err := r.st.Device(id)
	if err != nil {
		return err
	}
	d.Disabled = disabled
	if err := r.st.UpdateDevice(d); err != nil {
		return err
	}
	typ := Enabled
	if disabled {
		typ = Disabled
	}
	r.changed(id, disabled)
	r.audit(typ, id, actor, "")
	r.log.Info(string(typ), "device", id, "by", actor)
	return nil
}

// Rotate gives a device a new secret and revokes the old one.
func (r *Registry) Rotate(id, actor string) (string, error) {
	d, err := r.st.Device(id)
	if err != nil {
		return "", err
	}
	secret := NewSecret()
	d.SecretHash, d.MosquittoHash = hashSecret(secret), MosquittoHash(secret)
	if err := r.st.UpdateDevice(d); err != nil {
		return "", err
	}
	r.changed(id, true)
	r.audit(SecretRotated, id, actor, "")
	r.log.Info("device secret rotated", "device", id, "by", actor)
	return secret, nil
}

// OnChange registers fn, called with a device id when it is added or
// changed; revoked is true when its sessions must be cut off (disabled, or
// given a new secret).
func (r *Registry) OnChange(fn func(id string, revoked bool)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onChange = append(r.onChange, fn)
}

func (r *Registry) changed(id string, revoked bool) {
	r.mu.Lock()
	fns := slices.Clone(r.onChange)
	if d, err := r.st.Device(id); err == nil {
		r.seen[id] = seenOf(d)
	}
	r.mu.Unlock()
	for _, fn := range fns {
		fn(id, revoked)
	}
}

// Watch polls the registry for changes made by another process (the device
// CLI): devices added there are announced, devices changed there revoked.
func (r *Registry) Watch(ctx context.Context, every time.Duration) {
	r.poll(false)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.poll(true)
		}
	}
}

// seenDevice is what a poll compares of a device: its time of change, and
// what a change revokes (a change within the same millisecond as the one
// seen before has the same time, but not the same state or secret).
type seenDevice struct {
	updated  time.Time
	disabled bool
	secret   string
}

func seenOf(d *Device) seenDevice {
	return seenDevice{d.UpdatedAt, d.Disabled, string(d.SecretHash)}
}

func (r *Registry) poll(notify bool) {
	devs, err := r.st.Devices()
	if err != nil {
		r.log.Warn("poll devices", "err", err)
		return
	}
	for _, d := range devs {
		r.mu.Lock()
		prev, known := r.seen[d.ID]
		now := seenOf(d)
		r.seen[d.ID] = now
		r.mu.Unlock()
		switch {
		case !notify:
		case !known:
			// Added (and perhaps already disabled) since the last poll.
			r.log.Info("device added elsewhere", "device", d.ID, "disabled", d.Disabled)
			r.changed(d.ID, d.Disabled)
		case now != prev:
			r.log.Info("device changed elsewhere", "device", d.ID, "disabled", d.Disabled)
			r.changed(d.ID, true) // disabled, or a new secret: sessions must authenticate again
		}
	}
}

func (r *Registry) audit(typ queue.EventType, id, actor, reason string) {
	ev := queue.Event{At: time.Now(), Type: typ, Actor: actor, Device: id, Reason: reason}
	if err := r.st.Append([]*store.Record{{Events: []queue.Event{ev}}}); err != nil {
		r.log.Error("audit device change", "device", id, "err", err)
	}
}
