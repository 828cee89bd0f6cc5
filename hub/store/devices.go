package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Device is a registered device's row: its role and credential hashes,
// never its secret.
type Device struct {
	ID            string
	Role          string
	Counter       string
	SecretHash    []byte // SHA-256 of the secret
	MosquittoHash string // the same secret in Mosquitto's password-file format
	Disabled      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ErrNoDevice is returned for an unknown device id.
var ErrNoDevice = errors.New("unknown device")

// ErrDeviceExists is returned when adding a device id already registered.
var ErrDeviceExists = errors.New("device already registered")

// AddDevice registers a new device.
func (s *Store) AddDevice(d *Device) error {
	now := time.Now()
	_, err := s.w.Exec(`INSERT INTO devices(id, role, counter, secret_hash, mosquitto_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Role, d.Counter, d.SecretHash, d.MosquittoHash, d.Disabled, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		if _, e := s.Device(d.ID); e == nil {
			return ErrDeviceExists
		}
		return fmt.Errorf("add device %s: %w", d.ID, err)
	}
	d.CreatedAt, d.UpdatedAt = now, now
	return nil
}

// UpdateDevice changes a device's credentials and disabled flag.
func (s *Store) UpdateDevice(d *Device) error {
	now := time.Now()
	res, err := s.w.Exec(`UPDATE devices SET secret_hash = ?, mosquitto_hash = ?, disabled = ?, updated_at = ? WHERE id = ?`,
		d.SecretHash, d.MosquittoHash, d.Disabled, now.UnixMilli(), d.ID)
	if err != nil {
		return fmt.Errorf("update device %s: %w", d.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNoDevice
	}
	d.UpdatedAt = now
	return nil
}

const deviceCols = `id, role, counter, secret_hash, mosquitto_hash, disabled, created_at, updated_at`

func scanDevice(sc interface{ Scan(...any) error }) (*Device, error) {
	var d Device
	var created, updated int64
	if err := sc.Scan(&d.ID, &d.Role, &d.Counter, &d.SecretHash, &d.MosquittoHash, &d.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return &d, nil
}

// Device returns one device.
func (s *Store) Device(id string) (*Device, error) {
	d, err := scanDevice(s.r.QueryRow(`SELECT `+deviceCols+` FROM devices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoDevice
	}
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", id, err)
	}
	return d, nil
}

// Devices returns every device, by id.
func (s *Store) Devices() ([]*Device, error) {
	rows, err := s.r.Query(`SELECT ` + deviceCols + ` FROM devices ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	defer rows.Close()
	var out []*Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Cursor returns where the publisher name stands in the log (0 if new).
func (s *Store) Cursor(name string) (int64, error) {
	var seq int64
	err := s.r.QueryRow(`SELECT seq FROM cursors WHERE name = ?`, name).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// SetCursor records that the publisher name has published up to seq.
func (s *Store) SetCursor(name string, seq int64) error {
	_, err := s.w.Exec(`INSERT INTO cursors(name, seq) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq`, name, seq)
	return err
}
