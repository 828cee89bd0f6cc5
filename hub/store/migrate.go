package store

import "fmt"

// migrations are applied in order; PRAGMA user_version records how many ran.
// Never edit one that has shipped: append a new one.
var migrations = []string{
	// 1: the event log, snapshots and idempotent replies.
	`CREATE TABLE events (
		seq     INTEGER PRIMARY KEY,
		at      INTEGER NOT NULL,
		type    TEXT NOT NULL,
		ticket  TEXT NOT NULL DEFAULT '',
		actor   TEXT NOT NULL DEFAULT '',
		payload BLOB NOT NULL
	);
	CREATE INDEX events_ticket ON events(ticket) WHERE ticket != '';
	CREATE TABLE snapshots (
		seq   INTEGER PRIMARY KEY,
		at    INTEGER NOT NULL,
		state BLOB NOT NULL
	);
	CREATE TABLE replies (
		key    TEXT PRIMARY KEY,
		at     INTEGER NOT NULL,
		status INTEGER NOT NULL,
		body   BLOB NOT NULL
	);
	CREATE INDEX replies_at ON replies(at);`,
	// 2: devices and their credentials; cursors of publishers over the log.
	`CREATE TABLE devices (
		id             TEXT PRIMARY KEY,
		role           TEXT NOT NULL,
		counter        TEXT NOT NULL DEFAULT '',
		secret_hash    BLOB NOT NULL,
		mosquitto_hash TEXT NOT NULL,
		disabled       INTEGER NOT NULL DEFAULT 0,
		created_at     INTEGER NOT NULL,
		updated_at     INTEGER NOT NULL
	);
	CREATE TABLE cursors (
		name TEXT PRIMARY KEY,
		seq  INTEGER NOT NULL
	);`,
	// 3: what the database is: a random store id, given once, that the data
	// directory's marker file repeats (see dir.go); the site it serves.
	`CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);
	INSERT INTO meta(key, value) VALUES
		('store_id', lower(hex(randomblob(16)))),
		('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));`,
	// 4: accounts of people, their sessions and personal API tokens (see
	// hub/auth). Only hashes: argon2id of passwords, SHA-256 of session
	// ids and tokens.
	`CREATE TABLE accounts (
		id            TEXT PRIMARY KEY,
		name          TEXT NOT NULL DEFAULT '',
		role          TEXT NOT NULL,
		agent         TEXT NOT NULL DEFAULT '',
		password_hash TEXT NOT NULL DEFAULT '',
		must_change   INTEGER NOT NULL DEFAULT 0,
		disabled      INTEGER NOT NULL DEFAULT 0,
		created_at    INTEGER NOT NULL,
		updated_at    INTEGER NOT NULL
	);
	CREATE TABLE sessions (
		hash       BLOB PRIMARY KEY,
		account    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
		csrf       TEXT NOT NULL,
		via        TEXT NOT NULL,
		provider   TEXT NOT NULL DEFAULT '',
		sso_ref    TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		seen_at    INTEGER NOT NULL
	);
	CREATE INDEX sessions_account ON sessions(account);
	CREATE TABLE tokens (
		id         TEXT PRIMARY KEY,
		account    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
		name       TEXT NOT NULL,
		role       TEXT NOT NULL,
		hash       BLOB NOT NULL UNIQUE,
		created_at INTEGER NOT NULL,
		used_at    INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX tokens_account ON tokens(account);`,
	// 5: the supervision's alerts (hub/alerts), raised and cleared as
	// events, are read back at every start: a partial index finds them
	// without reading the whole log (AlertEvents). IF NOT EXISTS: a
	// database adopted from an older schema (dir_test.go) may have it.
	`CREATE INDEX IF NOT EXISTS events_alerts ON events(seq) WHERE type GLOB 'alert.*';`,
	// 6: one-time enrollment codes of devices (hub/devices): the SHA-256
	// of the code only, at most one per device, used once. IF NOT EXISTS:
	// see 5.
	`CREATE TABLE IF NOT EXISTS enrollments (
		code_hash  BLOB PRIMARY KEY,
		device     TEXT NOT NULL UNIQUE REFERENCES devices(id),
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);`,
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

func (s *Store) migrate() error {
	var v int
	if err := s.w.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema %d is newer than this build (%d): upgrade guichet", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := s.w.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		s.log.Info("database migrated", "version", i+1)
	}
	return nil
}
