package broker

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the sqlite3 driver
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/packets"
)

// The sessions file, broker.db: its tables, how a batch of changes is
// written, and how mochi reads it back at start (sessions.go says why it
// exists and when it is written).

const sessionsSchema = `
CREATE TABLE IF NOT EXISTS sessions (client TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (client TEXT NOT NULL, filter TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (client, filter));
CREATE TABLE IF NOT EXISTS inflight (client TEXT NOT NULL, id INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (client, id));`

// openSessions opens (or creates, readable by its owner only) the
// sessions file at path. A file it cannot read is set aside, with an error
// logged, and a new one started: it holds only deliveries in progress,
// which consumers can read again over HTTP, and the hub must start.
func openSessions(path string, log *slog.Logger) (*sessions, error) {
	s, err := openSessionsFile(path, log)
	if err == nil {
		return s, nil
	}
	aside := path + ".unreadable-" + time.Now().UTC().Format("20060102T150405")
	for _, ext := range []string{"-wal", "-shm", ""} {
		if rerr := os.Rename(path+ext, aside+ext); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return nil, errors.Join(err, rerr)
		}
	}
	log.Error("broker.db unreadable: set aside; persistent sessions start empty", "file", path, "aside", aside, "err", err)
	return openSessionsFile(path, log)
}

func openSessionsFile(path string, log *slog.Logger) (*sessions, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) // SQLite gives its WAL the same mode
	if err != nil {
		return nil, fmt.Errorf("broker sessions %s: %w", path, err)
	}
	f.Close()
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_synchronous=FULL")
	if err != nil {
		return nil, fmt.Errorf("broker sessions %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s := &sessions{db: db, log: log, committed: make(chan struct{}), wake: make(chan struct{}, 1),
		now: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), onDisk: map[string]map[uint16]bool{}}
	if err := s.load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("broker sessions %s: %w", path, err)
	}
	go s.writer()
	return s, nil
}

// load checks the file, creates its tables and notes which messages it holds.
func (s *sessions) load() error {
	var check string
	if err := s.db.QueryRow(`PRAGMA quick_check`).Scan(&check); err != nil {
		return err
	}
	if check != "ok" {
		return fmt.Errorf("quick_check: %s", check)
	}
	if _, err := s.db.Exec(sessionsSchema); err != nil {
		return err
	}
	rows, err := s.db.Query(`SELECT client, id FROM inflight`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var client string
		var id uint16
		if err := rows.Scan(&client, &id); err != nil {
			return err
		}
		s.mark(client, id, true)
	}
	return rows.Err()
}

func sessionData(cl *mqtt.Client) []byte {
	p := cl.Properties.Props
	c := storage.Client{ID: cl.ID, T: storage.ClientKey, Listener: cl.Net.Listener, Username: cl.Properties.Username,
		Clean: cl.Properties.Clean, ProtocolVersion: cl.Properties.ProtocolVersion,
		Properties: storage.ClientProperties{SessionExpiryInterval: p.SessionExpiryInterval, SessionExpiryIntervalFlag: p.SessionExpiryIntervalFlag,
			ReceiveMaximum: p.ReceiveMaximum, TopicAliasMaximum: p.TopicAliasMaximum, MaximumPacketSize: p.MaximumPacketSize,
			RequestProblemInfo: p.RequestProblemInfo, RequestProblemInfoFlag: p.RequestProblemInfoFlag, RequestResponseInfo: p.RequestResponseInfo}}
	// No will: it belongs to a connection, and a restored session has none.
	b, _ := c.MarshalBinary()
	return b
}

func messageData(client string, pk packets.Packet) []byte {
	m := storage.Message{T: storage.InflightKey, Client: client, Origin: pk.Origin, FixedHeader: pk.FixedHeader,
		TopicName: pk.TopicName, Payload: pk.Payload, Created: pk.Created, PacketID: pk.PacketID,
		Properties: storage.MessageProperties{PayloadFormat: pk.Properties.PayloadFormat, PayloadFormatFlag: pk.Properties.PayloadFormatFlag,
			MessageExpiryInterval: pk.Properties.MessageExpiryInterval, ContentType: pk.Properties.ContentType,
			ResponseTopic: pk.Properties.ResponseTopic, CorrelationData: pk.Properties.CorrelationData, User: pk.Properties.User}}
	b, _ := m.MarshalBinary()
	return b
}

// apply writes a batch in one transaction. A change to a row that a later
// change of the batch replaces is skipped: a message queued and
// acknowledged within the batch costs nothing.
func (s *sessions) apply(batch []op) error {
	last := make(map[opKey]int, len(batch))
	for i, o := range batch {
		last[opKey{o.table, o.client, o.key, o.id}] = i
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, o := range batch {
		cascade := o.table == tSession && !o.put() // ends the client's rows in every table: never skipped
		if !cascade && last[opKey{o.table, o.client, o.key, o.id}] != i {
			continue
		}
		if o.table == tMsg {
			if o.keep {
				pk, ok := s.unacknowledged(o.client, o.id)
				if !ok {
					continue // acknowledged since: its delete follows
				}
				o.data = messageData(o.client, pk)
			} else if !s.onDisk[o.client][o.id] {
				continue // never written
			}
			s.mark(o.client, o.id, o.put())
		}
		if cascade {
			delete(s.onDisk, o.client)
		}
		if err := applyOp(tx, o); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// unacknowledged returns message id of client if the broker still holds
// it, not yet acknowledged.
func (s *sessions) unacknowledged(client string, id uint16) (packets.Packet, bool) {
	if s.srv == nil {
		return packets.Packet{}, false
	}
	cl, ok := s.srv.Clients.Get(client)
	if !ok {
		return packets.Packet{}, false
	}
	pk, ok := cl.State.Inflight.Get(id)
	return pk, ok && pk.FixedHeader.Type == packets.Publish
}

// mark records whether message id of client is in the file.
func (s *sessions) mark(client string, id uint16, on bool) {
	ids := s.onDisk[client]
	if on {
		if ids == nil {
			ids = map[uint16]bool{}
			s.onDisk[client] = ids
		}
		ids[id] = true
		return
	}
	delete(ids, id)
	if len(ids) == 0 {
		delete(s.onDisk, client)
	}
}

func applyOp(tx *sql.Tx, o op) error {
	var err error
	switch {
	case o.table == tSession && !o.put():
		for _, t := range []string{tMsg, tSub, tSession} {
			if _, err = tx.Exec(`DELETE FROM `+t+` WHERE client = ?`, o.client); err != nil {
				break
			}
		}
	case o.table == tSession:
		_, err = tx.Exec(`INSERT OR REPLACE INTO sessions (client, data) VALUES (?, ?)`, o.client, o.data)
	case o.table == tSub && !o.put():
		_, err = tx.Exec(`DELETE FROM subscriptions WHERE client = ? AND filter = ?`, o.client, o.key)
	case o.table == tSub:
		_, err = tx.Exec(`INSERT OR REPLACE INTO subscriptions (client, filter, data) VALUES (?, ?, ?)`, o.client, o.key, o.data)
	case !o.put():
		_, err = tx.Exec(`DELETE FROM inflight WHERE client = ? AND id = ?`, o.client, o.id)
	default:
		_, err = tx.Exec(`INSERT OR REPLACE INTO inflight (client, id, data) VALUES (?, ?, ?)`, o.client, o.id, o.data)
	}
	return err
}

// rewriteAll replaces the file's content with the persistent sessions the
// broker holds in memory.
func (s *sessions) rewriteAll() error {
	if s.srv == nil {
		return errors.New("no broker to read the sessions from")
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range []string{tMsg, tSub, tSession} {
		if _, err := tx.Exec(`DELETE FROM ` + t); err != nil {
			return err
		}
	}
	s.onDisk = map[string]map[uint16]bool{} // as written below, or rebuilt by the next rewrite if this one fails
	for _, cl := range s.srv.Clients.GetAll() {
		if !persistent(cl) {
			continue
		}
		ops := []op{{table: tSession, client: cl.ID, data: sessionData(cl)}}
		for f, sub := range cl.State.Subscriptions.GetAll() {
			data, _ := storage.Subscription{Client: cl.ID, Filter: f, Qos: sub.Qos, Identifier: sub.Identifier, NoLocal: sub.NoLocal,
				RetainHandling: sub.RetainHandling, RetainAsPublished: sub.RetainAsPublished}.MarshalBinary()
			ops = append(ops, op{table: tSub, client: cl.ID, key: f, data: data})
		}
		for _, pk := range cl.State.Inflight.GetAll(false) {
			if pk.FixedHeader.Type == packets.Publish {
				ops = append(ops, op{table: tMsg, client: cl.ID, id: pk.PacketID, data: messageData(cl.ID, pk)})
				s.mark(cl.ID, pk.PacketID, true)
			}
		}
		for _, o := range ops {
			if err := applyOp(tx, o); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

func (s *sessions) StoredClients() ([]storage.Client, error) {
	var out []storage.Client
	err := s.each(`SELECT data FROM sessions`, func(b []byte) error {
		var c storage.Client
		if err := c.UnmarshalBinary(b); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func (s *sessions) StoredSubscriptions() ([]storage.Subscription, error) {
	var out []storage.Subscription
	err := s.each(`SELECT data FROM subscriptions`, func(b []byte) error {
		var c storage.Subscription
		if err := c.UnmarshalBinary(b); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func (s *sessions) StoredInflightMessages() ([]storage.Message, error) {
	var out []storage.Message
	err := s.each(`SELECT data FROM inflight ORDER BY rowid`, func(b []byte) error {
		var c storage.Message
		if err := c.UnmarshalBinary(b); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// each calls fn with the data of every row of query. A row fn cannot
// decode is skipped, with a log line: one bad row loses one delivery, not
// the broker.
func (s *sessions) each(query string, fn func([]byte) error) error {
	rows, err := s.db.Query(query)
	if err != nil {
		return fmt.Errorf("read broker sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return fmt.Errorf("read broker sessions: %w", err)
		}
		if err := fn(b); err != nil {
			s.log.Error("broker.db: a row that cannot be read is skipped", "query", query, "bytes", len(b), "err", err)
		}
	}
	return rows.Err()
}
