// Package bus is the hub's side of MQTT, whatever the broker: it turns a
// device's command into a hub action (for that device only) and its reply,
// and publishes the retained state (board, queue, config, counters,
// leases). The log's events go out through the outbox (cloud.Bus), one
// destination among others. The embedded broker (hub/broker) and an
// external broker (External) both feed it.
package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/devices"
	"guichet/hub/queue"
	"guichet/internal/live"
)

// Publisher sends a message with QoS 1.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool) error
}

// Options configures a Bus.
type Options struct {
	Hub     *hub.Hub
	Devices *devices.Registry
	Log     *slog.Logger
	// PublicURL, if set, is the address citizens' phones reach instead of
	// the site's (the demo's address on the local network).
	PublicURL string
	Refresh   time.Duration // republish the queue summary at least this often; 30 s if zero
	// OfflineNumbers is how many numbers each kiosk may print per service
	// and day when the hub does not answer: DefaultOfflineNumbers if zero.
	OfflineNumbers int
}

// Bus is the hub's MQTT side.
type Bus struct {
	// Immutable.
	hub     *hub.Hub
	reg     *devices.Registry
	log     *slog.Logger
	topics  api.Topics
	siteID  string
	refresh time.Duration
	offline int

	mu           sync.Mutex
	publicURL    string                     // overrides the site's (SetPublicURL)
	last         map[string][]byte          // retained payloads as last published
	asserted     bool                       // the retained topics were published since Run started
	unheard      map[string]bool            // topics heard before they were, to judge then (reassert.go)
	echoes       map[string][][]byte        // own retained publications not yet heard back, in order
	reassert     map[string]bool            // retained topics someone else changed (reassert.go)
	reassertedAt map[string]time.Time       // when each was last published again
	states       map[string]api.DeviceState // device states as last heard
	kick         chan struct{}

	stateChanges live.Notifier // told when a device's state changes (supervision)

	kioskList   []string // the enabled kiosks, sorted
	kiosksStale bool     // the registry changed since kioskList was read
}

// New returns the bus of the hub's site.
func New(o Options) *Bus {
	b := &Bus{hub: o.Hub, reg: o.Devices, log: o.Log, refresh: o.Refresh, offline: o.OfflineNumbers, publicURL: o.PublicURL,
		last: map[string][]byte{}, reassertedAt: map[string]time.Time{}, states: map[string]api.DeviceState{}, kick: make(chan struct{}, 1), kiosksStale: true}
	if b.refresh <= 0 {
		b.refresh = 30 * time.Second
	}
	if b.offline <= 0 {
		b.offline = DefaultOfflineNumbers
	}
	o.Devices.OnChange(func(string, bool) { // a new kiosk needs its leases now
		b.mu.Lock()
		b.kiosksStale = true
		b.mu.Unlock()
		b.Kick()
	})
	o.Hub.Read(func(e *queue.Engine) {
		s := e.Site()
		b.topics, b.siteID = api.Topics{Site: s.ID}, s.ID
	})
	return b
}

// SetPublicURL changes the address citizens' phones reach the hub at (for
// the QR codes), and republishes the configuration.
func (b *Bus) SetPublicURL(u string) {
	b.mu.Lock()
	b.publicURL = u
	b.mu.Unlock()
	b.Kick()
}

// Topics returns the site's topics.
func (b *Bus) Topics() api.Topics { return b.topics }

// Devices returns the device registry.
func (b *Bus) Devices() *devices.Registry { return b.reg }

// HandleCommand runs a command published by device d on its own cmd topic
// and returns the reply to publish on reply/{d}. It never fails: a bad
// command gets an error reply, and a log line.
func (b *Bus) HandleCommand(ctx context.Context, d *devices.Device, payload []byte) []byte {
	cmd, args, perr := api.ParseCommand(payload)
	if perr != nil {
		b.log.Warn("command refused", "device", d.ID, "code", perr.Code, "err", perr.Message, "bytes", len(payload))
		return encodeReply(api.ErrorReply(perr.ID, perr.Code, perr.Message))
	}
	if !devices.CanDo(d, cmd.Op) {
		b.log.Warn("command refused", "device", d.ID, "role", d.Role, "op", cmd.Op, "code", api.CodeForbidden)
		return encodeReply(api.ErrorReply(cmd.ID, api.CodeForbidden, fmt.Sprintf("a %s may not %s", d.Role, cmd.Op)))
	}
	act, err := b.action(d, cmd.Op, args)
	if err != nil {
		b.log.Warn("command refused", "device", d.ID, "op", cmd.Op, "code", api.CodeBadRequest, "err", err)
		return encodeReply(api.ErrorReply(cmd.ID, api.CodeBadRequest, err.Error()))
	}
	rep, err := b.hub.Do(ctx, commandKey(d.ID, cmd.ID), d.ID, act, replyEncoder(cmd.ID))
	if err != nil {
		b.log.Warn("command not done", "device", d.ID, "op", cmd.Op, "err", err)
		return encodeReply(api.ErrorReply(cmd.ID, api.CodeUnavailable, "the hub could not store the command; send it again with the same id"))
	}
	switch {
	case rep.Done() || rep.Replayed:
	case badInput[rep.Code]:
		// The engine's messages name no citizen and quote no free text.
		b.log.Warn("command refused", "device", d.ID, "op", cmd.Op, "code", rep.Code, "err", rep.Message)
	default: // the queue's state: nobody waiting, a closed counter…
		b.log.Debug("command refused", "device", d.ID, "op", cmd.Op, "code", rep.Code)
	}
	return rep.Body
}

// badInput are the refusals of what a device sent, rather than of the
// queue's state: each is logged as a warning.
var badInput = map[string]bool{api.CodeInvalid: true, api.CodeBadRequest: true, api.CodeUnknownField: true,
	api.CodeLease: true, api.CodeForbidden: true, api.CodeInternal: true}

// Foreign answers device d, which published on another device's command
// topic: refused, logged, nothing done.
func (b *Bus) Foreign(d *devices.Device, topic string, payload []byte) []byte {
	b.log.Warn("command for another device refused", "device", d.ID, "topic", topic)
	return encodeReply(api.ErrorReply(api.CommandID(payload), api.CodeForbidden, "a device acts only for itself: publish on "+b.topics.Cmd(d.ID)))
}

// commandKey is the idempotency key of device's command id.
func commandKey(device, id string) string { return "mqtt:" + device + ":" + id }

// action turns device d's command into the hub's action, d acting for
// itself only: its tickets, its own counter.
func (b *Bus) action(d *devices.Device, op string, args any) (hub.Action, error) {
	switch a := args.(type) {
	case *api.IssueArgs:
		if a.Replaces != "" && a.OfflineNumber != 0 {
			return hub.IssueOffline(*a, d.ID, b.replacing(d, a.Replaces)), nil
		}
		return hub.IssueTicket(*a, d.ID), nil
	case *api.CheckinArgs:
		return hub.CheckIn(*a, d.ID), nil
	case *api.CancelArgs:
		return hub.VoidTicket(*a, d.ID), nil
	}
	// The other operations act on the device's own counter.
	return hub.CounterAction(op, d.Counter, args)
}

// replacing is the request old of device d that a ticket it printed
// offline replaces: the request got no answer in time.
func (b *Bus) replacing(d *devices.Device, old string) hub.Replacing {
	return hub.Replacing{
		Key:        commandKey(d.ID, old),
		Superseded: encodeReply(api.ErrorReply(old, api.CodeSuperseded, "replaced by the ticket printed offline")),
		TicketOf: func(body []byte) string {
			var r api.Reply
			var t api.Ticket
			if json.Unmarshal(body, &r) != nil || !r.OK || json.Unmarshal(r.Result, &t) != nil {
				return ""
			}
			return t.ID
		},
	}
}

// replyEncoder answers command id on reply/{device}.
func replyEncoder(id string) hub.Encoder {
	return func(o hub.Outcome, result json.RawMessage) []byte {
		if !o.Done() {
			return encodeReply(api.ErrorReply(id, o.Code, o.Message))
		}
		return encodeReply(api.Reply{ID: id, OK: true, Result: result})
	}
}

func encodeReply(r api.Reply) []byte {
	b, _ := json.Marshal(r)
	return b
}

// DeviceState records what a device published on its state topic (or what
// its last will said). A state the hub would not take (devices.ParseState:
// too large, not an object, not UTF-8) is not kept, and the topic is
// cleared: the embedded broker refuses such a publish, but an external one
// cannot read payloads and would keep it retained for every reader.
func (b *Bus) DeviceState(id string, payload []byte) {
	if len(payload) == 0 {
		b.mu.Lock()
		delete(b.states, id)
		b.mu.Unlock()
		b.stateChanges.Notify()
		return
	}
	st, err := devices.ParseState(payload)
	if err != nil {
		b.log.Warn("device state refused: the topic is cleared", "device", id, "bytes", len(payload), "err", err)
		b.mu.Lock()
		delete(b.states, id)
		if b.reassert == nil {
			b.reassert = map[string]bool{}
		}
		b.reassert[b.topics.DeviceState(id)] = true
		b.mu.Unlock()
		b.Kick()
		return
	}
	b.mu.Lock()
	prev, known := b.states[id]
	b.states[id] = st
	b.mu.Unlock()
	b.stateChanges.Notify()
	if !known || prev.Online != st.Online {
		b.log.Info("device", "device", id, "online", st.Online, "role", st.Role, "version", st.Version)
	}
	if st.Printer != nil && (!known || prev.Printer == nil || *prev.Printer != *st.Printer) && !st.Printer.OK {
		b.log.Warn("printer fault", "device", id, "paper_out", st.Printer.PaperOut, "paper_low", st.Printer.PaperLow,
			"cover_open", st.Printer.CoverOpen, "offline", st.Printer.Offline)
	}
}

// State returns a device's last known state.
func (b *Bus) State(id string) (api.DeviceState, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.states[id]
	return st, ok
}

// WatchStates returns a channel signalled after a device's state changes
// (signals coalesce, as Hub.Watch's do); cancel releases it.
func (b *Bus) WatchStates() (ch <-chan struct{}, cancel func()) { return b.stateChanges.Watch() }

// Kick asks Run to republish now.
func (b *Bus) Kick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}
