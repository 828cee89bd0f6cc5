package broker

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/packets"
)

// sessions is a mochi storage hook that keeps the persistent sessions —
// the client, its subscriptions, and the QoS 1 messages not yet
// acknowledged by it — in an SQLite file of their own, broker.db, so that
// a consumer that was away when the hub restarted (or was killed) gets
// what was published for it. Clean sessions are not kept, nor retained
// messages: the hub publishes its own again when it starts, and each
// device its state when it connects.
//
// Why SQLite, and a file of its own. The appliance already ships SQLite
// (one engine, one way to inspect and back up); mochi's bolt hook is kept
// only "for historical compatibility", badger and pebble bring LSM engines
// with their own memory and compaction to tune, and redis is a server to
// run. The session queue churns — a row per message, deleted at its PUBACK
// — so it stays out of guichet.db, away from the event log's single
// writer and from its backups: losing broker.db loses only deliveries not
// yet made, which a consumer can read again with GET /api/v1/events.
//
// Writes go behind, in order, in batches of up to half a second: mochi
// calls the hook on the paths that deliver messages, and most messages are
// acknowledged within milliseconds. A batch writes only the messages still
// unacknowledged when it is written (read from the broker then), and
// deletes only those it wrote: a message acknowledged within the batch
// costs no SQL at all. What must be durable is made so by Sync: the bus
// calls it before it moves its place in the event log, so an event the
// log says was published is either in the consumer's hands or in
// broker.db (a crash in between publishes it again: at least once). A new
// subscription is written before the broker acknowledges it.
type sessions struct {
	mqtt.HookBase
	db  *sql.DB
	log *slog.Logger
	srv *mqtt.Server // what is still unacknowledged, and a full rewrite after a failed batch

	// The writer's own.
	onDisk map[string]map[uint16]bool // client → ids of the messages in the file

	mu        sync.Mutex
	pending   []op
	queued    uint64        // ops queued since open
	written   uint64        // ops applied to the database (or superseded by a rewrite)
	rewrite   bool          // a batch failed: rewrite every session from memory
	committed chan struct{} // closed, and replaced, after each batch
	urgent    bool          // someone waits in Sync: no batching delay
	wake      chan struct{} // something is queued
	now       chan struct{} // someone waits in Sync
	stop      chan struct{}
	done      chan struct{}
}

// op is one change to broker.db; without data (or keep), it deletes.
type op struct {
	table  string // tSession, tSub, tMsg
	client string
	key    string // a subscription's filter
	id     uint16 // a message's packet id
	keep   bool   // a message to keep: the writer reads it from the broker, if still unacknowledged then
	data   []byte // a session, a subscription (or a message, when rewriting all)
}

func (o op) put() bool { return o.data != nil || o.keep }

// opKey names the row an op changes.
type opKey struct {
	table, client, key string
	id                 uint16
}

const (
	tSession = "sessions"
	tSub     = "subscriptions"
	tMsg     = "inflight"

	batchDelay = 500 * time.Millisecond // gather a batch: most messages are acknowledged within it
	syncWait   = 5 * time.Second        // Sync's patience
)

func (s *sessions) ID() string { return "guichet-sessions" }

func (s *sessions) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnSubscribed, mqtt.OnUnsubscribed,
		mqtt.OnQosPublish, mqtt.OnQosComplete, mqtt.OnQosDropped, mqtt.OnClientExpired,
		mqtt.StoredClients, mqtt.StoredSubscriptions, mqtt.StoredInflightMessages}, []byte{b})
}

// persistent reports whether cl's session outlives its connection.
func persistent(cl *mqtt.Client) bool {
	if cl.Net.Inline {
		return false
	}
	if cl.Properties.ProtocolVersion == 5 {
		return cl.Properties.Props.SessionExpiryInterval > 0
	}
	return !cl.Properties.Clean
}

func (s *sessions) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	if cl.Net.Inline {
		return
	}
	if !persistent(cl) { // a clean start ends the session kept under this id, if any
		s.queue(op{table: tSession, client: cl.ID})
		return
	}
	s.queue(op{table: tSession, client: cl.ID, data: sessionData(cl)})
}

func (s *sessions) OnDisconnect(cl *mqtt.Client, _ error, expire bool) {
	if expire && !cl.IsTakenOver() && !cl.Net.Inline {
		s.queue(op{table: tSession, client: cl.ID})
	}
}

func (s *sessions) OnClientExpired(cl *mqtt.Client) {
	s.queue(op{table: tSession, client: cl.ID})
}

// OnSubscribed writes the subscriptions before the broker acknowledges
// them: a consumer told it is subscribed must stay so after a crash.
func (s *sessions) OnSubscribed(cl *mqtt.Client, pk packets.Packet, codes []byte) {
	if !persistent(cl) {
		return
	}
	for i, f := range pk.Filters {
		if i >= len(codes) || codes[i] >= packets.ErrUnspecifiedError.Code {
			continue
		}
		sub := storage.Subscription{Client: cl.ID, Filter: f.Filter, Qos: codes[i], Identifier: f.Identifier,
			NoLocal: f.NoLocal, RetainHandling: f.RetainHandling, RetainAsPublished: f.RetainAsPublished}
		data, _ := sub.MarshalBinary()
		s.queue(op{table: tSub, client: cl.ID, key: f.Filter, data: data})
	}
	if err := s.Sync(); err != nil {
		s.log.Warn("subscription not yet on disk", "client", cl.ID, "err", err)
	}
}

func (s *sessions) OnUnsubscribed(cl *mqtt.Client, pk packets.Packet) {
	if !persistent(cl) || cl.IsTakenOver() {
		return
	}
	for _, f := range pk.Filters {
		s.queue(op{table: tSub, client: cl.ID, key: f.Filter})
	}
}

// OnQosPublish keeps a message sent (or queued) to a persistent session
// until it is acknowledged.
func (s *sessions) OnQosPublish(cl *mqtt.Client, pk packets.Packet, _ int64, _ int) {
	if !persistent(cl) || pk.FixedHeader.Type != packets.Publish {
		return
	}
	s.queue(op{table: tMsg, client: cl.ID, id: pk.PacketID, keep: true})
}

func (s *sessions) OnQosComplete(cl *mqtt.Client, pk packets.Packet) {
	if persistent(cl) {
		s.queue(op{table: tMsg, client: cl.ID, id: pk.PacketID})
	}
}

// OnQosDropped forgets a message dropped from a session — but not those of
// a session taken over by a new connection, which carries them on.
func (s *sessions) OnQosDropped(cl *mqtt.Client, pk packets.Packet) {
	if persistent(cl) && !cl.IsTakenOver() {
		s.queue(op{table: tMsg, client: cl.ID, id: pk.PacketID})
	}
}

// forget removes a session for good (its device was disabled).
func (s *sessions) forget(client string) { s.queue(op{table: tSession, client: client}) }

func (s *sessions) queue(o op) {
	s.mu.Lock()
	s.pending = append(s.pending, o)
	s.queued++
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Sync returns once every change queued before it is on disk.
func (s *sessions) Sync() error {
	s.mu.Lock()
	target := s.queued
	s.urgent = true
	s.mu.Unlock()
	for _, ch := range []chan struct{}{s.wake, s.now} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	deadline := time.After(syncWait)
	for {
		s.mu.Lock()
		written, rewrite, committed := s.written, s.rewrite, s.committed
		s.mu.Unlock()
		switch {
		case rewrite: // a batch failed: it is being written again, but not yet
			return errors.New("broker sessions: the last changes could not be written; retrying")
		case written >= target:
			return nil
		}
		select {
		case <-committed:
		case <-s.done:
			return errors.New("broker sessions closed")
		case <-deadline:
			return fmt.Errorf("broker sessions: %d changes not on disk after %s", target-written, syncWait)
		}
	}
}

// writer applies the queued changes, a batch per transaction.
func (s *sessions) writer() {
	defer close(s.done)
	backoff := time.Second
	for {
		select {
		case <-s.wake:
		case <-s.stop:
			s.flush() // what is queued at shutdown
			return
		}
		s.mu.Lock()
		urgent := s.urgent
		s.mu.Unlock()
		if !urgent { // gather: a message and its acknowledgement cancel out
			t := time.NewTimer(batchDelay)
			select {
			case <-t.C:
			case <-s.now:
				t.Stop()
			case <-s.stop:
				t.Stop()
			}
		}
		if !s.flush() {
			select { // try again later; Sync reports the delay meanwhile
			case <-time.After(backoff):
			case <-s.stop:
			}
			backoff = min(2*backoff, time.Minute)
			s.poke()
			continue
		}
		backoff = time.Second
	}
}

func (s *sessions) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// flush writes what is pending; after a failure it rewrites every session
// from the broker's memory instead. It reports success.
func (s *sessions) flush() bool {
	s.mu.Lock()
	batch, upTo, rewrite := s.pending, s.queued, s.rewrite
	s.pending, s.urgent = nil, false
	s.mu.Unlock()
	var err error
	if rewrite {
		err = s.rewriteAll() // supersedes the batch: memory is newer than its changes
	} else if len(batch) > 0 {
		err = s.apply(batch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if !s.rewrite {
			s.log.Error("broker sessions not written: they will be written again whole", "err", err)
		}
		s.rewrite = true
		return false
	}
	if rewrite {
		s.log.Info("broker sessions written again whole")
	}
	s.rewrite, s.written = false, upTo
	close(s.committed)
	s.committed = make(chan struct{})
	return true
}

// Stop writes what is queued and closes the file.
func (s *sessions) Stop() error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	close(s.stop)
	<-s.done
	return s.db.Close()
}
