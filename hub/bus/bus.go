// Package bus is the hub's side of MQTT, whatever the broker: it turns a
// device's command into a hub action (for that device only) and its reply,
// and publishes the retained state (board, queue, config, counters, leases)
// and a CloudEvent per logged event. The embedded broker (hub/broker) and an
// external broker (External) both feed it.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/devices"
	"guichet/hub/queue"
)

// Publisher sends a message with QoS 1.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool) error
}

// Options configures a Bus.
type Options struct {
	Hub       *hub.Hub
	Devices   *devices.Registry
	Log       *slog.Logger
	PublicURL string
	Info      api.Names
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
	site    api.SiteInfo
	refresh time.Duration
	offline int

	mu           sync.Mutex
	last         map[string][]byte          // retained payloads as last published
	asserted     bool                       // the retained topics were published since Run started
	unheard      map[string]bool            // topics heard before they were, to judge then (reassert.go)
	echoes       map[string][][]byte        // own retained publications not yet heard back, in order
	reassert     map[string]bool            // retained topics someone else changed (reassert.go)
	reassertedAt map[string]time.Time       // when each was last published again
	states       map[string]api.DeviceState // device states as last heard
	kick         chan struct{}

	kioskList   []string // the enabled kiosks, sorted
	kiosksStale bool     // the registry changed since kioskList was read
}

// New returns the bus of the hub's site.
func New(o Options) *Bus {
	b := &Bus{hub: o.Hub, reg: o.Devices, log: o.Log, refresh: o.Refresh, offline: o.OfflineNumbers,
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
		b.topics = api.Topics{Site: s.ID}
		b.site = api.SiteInfo{ID: s.ID, Name: s.Name, Timezone: s.Location.String(), PublicURL: o.PublicURL, Info: o.Info}
	})
	return b
}

// SetPublicURL changes the address citizens' phones reach the hub at (for
// the QR codes), and republishes the configuration.
func (b *Bus) SetPublicURL(u string) {
	b.mu.Lock()
	b.site.PublicURL = u
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
		return encodeReply(api.ErrorReply(cmd.ID, api.CodeBadRequest, err.Error()))
	}
	if ia, ok := args.(*api.IssueArgs); ok && ia.Replaces != "" {
		b.supersede(&act, d, ia.Replaces)
	}
	rep, err := b.hub.Do(ctx, "mqtt:"+d.ID+":"+cmd.ID, d.ID, act, replyEncoder(cmd.ID))
	if err != nil {
		b.log.Warn("command not done", "device", d.ID, "op", cmd.Op, "err", err)
		return encodeReply(api.ErrorReply(cmd.ID, api.CodeUnavailable, "the hub could not store the command; send it again with the same id"))
	}
	return rep.Body
}

// Foreign answers device d, which published on another device's command
// topic: refused, logged, nothing done.
func (b *Bus) Foreign(d *devices.Device, topic string, payload []byte) []byte {
	b.log.Warn("command for another device refused", "device", d.ID, "topic", topic)
	return encodeReply(api.ErrorReply(commandID(payload), api.CodeForbidden, "a device acts only for itself: publish on "+b.topics.Cmd(d.ID)))
}

// commandID reads the id of a command that will not be run, to answer it.
func commandID(payload []byte) string {
	var probe struct {
		ID string `json:"id"`
	}
	json.Unmarshal(payload, &probe)
	if len(probe.ID) > 64 || strings.ContainsFunc(probe.ID, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return ""
	}
	return probe.ID
}

var tokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

func (b *Bus) action(d *devices.Device, op string, args any) (hub.Action, error) {
	switch a := args.(type) {
	case *api.IssueArgs:
		if a.OfflineNumber == 0 && (a.Token != "" || a.Replaces != "" || a.IssuedAt != nil) {
			return hub.Action{}, errors.New("token, replaces and issued_at come with an offline_number")
		}
		if a.Token != "" && !tokenRe.MatchString(a.Token) {
			return hub.Action{}, errors.New("a ticket token is 22 characters of base64url (128 random bits)")
		}
		ia := hub.IssueArgs{Service: a.Service, Channel: a.Channel, Priority: a.Priority, Lang: a.Lang,
			Device: d.ID, OfflineNumber: a.OfflineNumber, Token: a.Token}
		if a.AppointmentAt != nil {
			ia.AppointmentAt = *a.AppointmentAt
		}
		if a.IssuedAt != nil {
			ia.IssuedAt = *a.IssuedAt
		}
		return hub.IssueTicket(ia), nil
	case *api.CheckinArgs:
		return hub.CheckIn(a.Code, d.ID, a.Lang), nil
	case *api.CancelArgs:
		return hub.VoidTicket(d.ID, a.Ticket, a.Reason), nil
	case *api.TransferArgs:
		return hub.CounterAction(op, d.Counter, hub.CounterArgs{Service: a.Service})
	case *api.PauseArgs:
		return hub.CounterAction(op, d.Counter, hub.CounterArgs{Reason: a.Reason})
	case *api.OpenArgs:
		return hub.CounterAction(op, d.Counter, hub.CounterArgs{Agent: a.Agent})
	}
	// Counter operations without arguments act on the device's own counter.
	return hub.CounterAction(op, d.Counter, hub.CounterArgs{})
}

// supersede makes an offline ticket replace the request of the same kiosk
// that got no answer in time: if the hub did issue that request's ticket,
// the ticket is cancelled (the citizen holds the offline one); if it did
// not, the request will never be done.
func (b *Bus) supersede(act *hub.Action, d *devices.Device, old string) {
	var issued string
	act.Supersedes = "mqtt:" + d.ID + ":" + old
	act.Superseded = encodeReply(api.ErrorReply(old, api.CodeSuperseded, "replaced by the ticket printed offline"))
	act.Prior = func(status int, body []byte) {
		var r api.Reply
		var t api.Ticket
		if status == 200 && json.Unmarshal(body, &r) == nil && r.OK && json.Unmarshal(r.Result, &t) == nil {
			issued = t.ID
		}
	}
	run := act.Run
	act.Run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		// Issue first: if the hub refuses the offline ticket, nothing changes.
		evs, err := run(e, by)
		if err != nil {
			return nil, err
		}
		if t, ok := e.Ticket(issued); ok && (t.State == queue.Waiting || t.State == queue.Called) {
			// A waiting or called ticket can always be cancelled.
			if cancel, err := e.Cancel(by, issued, "replaced by the ticket printed offline"); err == nil {
				evs = append(evs, cancel...)
			}
		}
		return evs, nil
	}
}

func replyEncoder(id string) hub.Encoder {
	return func(result any, err error) (int, []byte) {
		if err != nil {
			var qe *queue.Error
			if errors.As(err, &qe) {
				return 409, encodeReply(api.ErrorReply(id, qe.Code, qe.Message))
			}
			return 500, encodeReply(api.ErrorReply(id, api.CodeInternal, "internal error"))
		}
		res, merr := json.Marshal(result)
		if merr != nil {
			return 500, encodeReply(api.ErrorReply(id, api.CodeInternal, "internal error"))
		}
		return 200, encodeReply(api.Reply{ID: id, OK: true, Result: res})
	}
}

func encodeReply(r api.Reply) []byte {
	b, _ := json.Marshal(r)
	return b
}

// DeviceState records what a device published on its state topic (or what
// its last will said).
func (b *Bus) DeviceState(id string, payload []byte) {
	var st api.DeviceState
	if len(payload) == 0 {
		b.mu.Lock()
		delete(b.states, id)
		b.mu.Unlock()
		return
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		b.log.Warn("device state unreadable", "device", id, "err", err)
		return
	}
	b.mu.Lock()
	prev, known := b.states[id]
	b.states[id] = st
	b.mu.Unlock()
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

// Kick asks Run to republish now.
func (b *Bus) Kick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}
