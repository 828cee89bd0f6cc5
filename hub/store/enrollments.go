package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoEnrollment is returned for an enrollment code that is unknown,
// already used or expired: the same error for all three.
var ErrNoEnrollment = errors.New("no such enrollment code")

// SetEnrollment records the hash of a device's one-time enrollment code,
// replacing the one the device had.
func (s *Store) SetEnrollment(device string, codeHash []byte, created, expires time.Time) error {
	tx, err := s.w.Begin()
	if err != nil {
		return fmt.Errorf("enrollment of %s: %w", device, err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM enrollments WHERE device = ?`, device); err != nil {
		return fmt.Errorf("enrollment of %s: %w", device, err)
	}
	if _, err := tx.Exec(`INSERT INTO enrollments(code_hash, device, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		codeHash, device, created.UnixMilli(), expires.UnixMilli()); err != nil {
		return fmt.Errorf("enrollment of %s: %w", device, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("enrollment of %s: %w", device, err)
	}
	return nil
}

// TakeEnrollment uses the code of hash codeHash at now: it is deleted, used
// or not, and its device returned when it had not expired. A code is taken
// once: of two callers at the same time, one gets ErrNoEnrollment.
func (s *Store) TakeEnrollment(codeHash []byte, now time.Time) (device string, err error) {
	var expires int64
	err = s.w.QueryRow(`DELETE FROM enrollments WHERE code_hash = ? RETURNING device, expires_at`, codeHash).Scan(&device, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNoEnrollment
	}
	if err != nil {
		return "", fmt.Errorf("take enrollment: %w", err)
	}
	if !now.Before(time.UnixMilli(expires)) {
		return "", ErrNoEnrollment
	}
	return device, nil
}
