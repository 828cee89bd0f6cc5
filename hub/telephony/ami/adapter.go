package ami

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	randv2 "math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tel "guichet/hub/telephony"
	"guichet/hub/telephony/redial"
)

// Config sets an Adapter up.
type Config struct {
	// Addr is Asterisk's AMI address, "pbx.mairie.local:5038".
	Addr string
	// Username and Secret: a manager.conf user with read = call,agent and
	// write = call,agent,reporting,originate (Asterisk lets an action in
	// when the user may write one of the classes it is registered with:
	// QueuePause agent, CoreShowChannels system|reporting, Originate
	// originate, in app_queue.c and manager.c).
	Username, Secret string
	// Events is Login's event mask: "call,agent" (default) brings what the
	// adapter reads and spares it the dialplan's events.
	Events  string
	Mapping tel.Mapping

	// OriginateContext is the dialplan context where the agent's answered
	// phone dials the citizen's number (FreePBX: "from-internal");
	// click-to-call is off when empty.
	OriginateContext string
	// OriginateCallerID is the caller id set on a click-to-call, as
	// `"Mairie" <0140000000>`; none when empty.
	OriginateCallerID string
	// OriginateTimeout is how long the agent's phone rings (30 s).
	OriginateTimeout time.Duration

	// MinBackoff and MaxBackoff bound the wait between two connection
	// attempts (1 s, 30 s): it doubles from Min after each failure, with
	// jitter (half of it random), and starts again from Min once a
	// connection is up.
	MinBackoff, MaxBackoff time.Duration
	// Conn holds the connection's settings (keep-alive, bounds); its
	// Username, Secret, Events and Log are taken from this Config.
	Conn Options

	// Dial opens the TCP connection (net.Dialer to Addr if nil).
	Dial func(ctx context.Context) (net.Conn, error)
	Now  func() time.Time // time.Now if nil
	// Jitter returns a number in [0, 1) (math/rand/v2 if nil).
	Jitter func() float64
	Log    *slog.Logger
}

// Adapter is the telephony.Link of an Asterisk-based PBX over AMI.
type Adapter struct {
	cfg     Config
	log     *slog.Logger
	tracker *tracker
	token   string // distinguishes this adapter's Originate ActionIDs from other AMI clients'
	seq     atomic.Uint64

	mu         sync.Mutex
	conn       *Conn // nil while down
	originates map[string]origination
}

type origination struct {
	ref string
	at  time.Time
}

// originateTTL is how long an Originate's outcome is waited for.
const originateTTL = 10 * time.Minute

// New checks the configuration and returns an adapter; Run connects it.
func New(cfg Config) (*Adapter, error) {
	var errs []error
	if cfg.Addr == "" && cfg.Dial == nil {
		errs = append(errs, errors.New("no AMI address"))
	}
	if cfg.Username == "" {
		errs = append(errs, errors.New("no AMI username"))
	}
	if err := cfg.Mapping.Validate(); err != nil {
		errs = append(errs, err)
	}
	for iface := range cfg.Mapping.Members {
		if tech, res, ok := strings.Cut(iface, "/"); !ok || tech == "" || res == "" {
			errs = append(errs, fmt.Errorf("member %q is not an Asterisk interface such as PJSIP/101 or Local/101@agents/n", iface))
		}
	}
	if strings.ContainsAny(cfg.OriginateContext+cfg.OriginateCallerID+cfg.Username+cfg.Secret+cfg.Events, "\r\n") {
		errs = append(errs, errors.New("a setting holds a line break"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("ami: configuration: %w", err)
	}
	if cfg.Events == "" {
		cfg.Events = "call,agent"
	}
	if cfg.OriginateTimeout <= 0 {
		cfg.OriginateTimeout = 30 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.Dial == nil {
		addr := cfg.Addr
		cfg.Dial = func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = randv2.Float64
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Conn.Username, cfg.Conn.Secret, cfg.Conn.Events, cfg.Conn.Log = cfg.Username, cfg.Secret, cfg.Events, cfg.Log
	var tok [4]byte
	rand.Read(tok[:])
	return &Adapter{
		cfg: cfg, log: cfg.Log, tracker: newTracker(cfg.Mapping, cfg.Now, cfg.Log),
		token: hex.EncodeToString(tok[:]), originates: map[string]origination{},
	}, nil
}

// Run connects to Asterisk and keeps connecting until ctx ends: after each
// login it lists the queues (QueueStatus) and the channels
// (CoreShowChannels), emits a Resync with the calls present, then
// translates every event. Events that arrive while the lists are read wait
// in the connection's queue and are applied after the Resync; those the
// snapshot already holds change nothing (see tracker).
func (a *Adapter) Run(ctx context.Context, emit func(tel.Event)) error {
	session := func(ctx context.Context) (bool, error) { return a.session(ctx, emit) }
	return redial.Run(ctx, a.backoff(), session, func(err error, wait time.Duration) {
		level := slog.LevelWarn
		if errors.Is(err, ErrLogin) {
			level = slog.LevelError
		}
		a.log.Log(ctx, level, "ami: connection to Asterisk lost or refused; retrying", "addr", a.cfg.Addr, "err", err, "in", wait)
	})
}

// backoff is the wait between two connection attempts, from the Config.
func (a *Adapter) backoff() redial.Backoff {
	return redial.Backoff{Min: a.cfg.MinBackoff, Max: a.cfg.MaxBackoff, Jitter: a.cfg.Jitter}
}

// session runs one connection; up reports whether it got as far as the
// Resync.
func (a *Adapter) session(ctx context.Context, emit func(tel.Event)) (up bool, err error) {
	nc, err := a.cfg.Dial(ctx)
	if err != nil {
		return false, fmt.Errorf("dial: %w", err)
	}
	conn, err := Open(ctx, nc, a.cfg.Conn)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	status, err := conn.List(ctx, QueueStatus(""))
	if err != nil {
		return false, fmt.Errorf("resync: %w", err)
	}
	channels, err := conn.List(ctx, CoreShowChannels())
	if err != nil {
		return false, fmt.Errorf("resync: %w", err)
	}
	a.tracker.reset(status.Items, channels.Items)
	snap := a.tracker.snapshot()
	a.log.Info("ami: connected to Asterisk", "addr", a.cfg.Addr, "greeting", conn.Banner(), "calls", len(snap.Calls), "agents", len(snap.Agents))
	// Actions work from the Resync on: a consumer repairing its view may
	// pause agents at once.
	a.setConn(conn)
	defer a.setConn(nil)
	emit(tel.Resync{Snapshot: snap})
	for {
		p, err := conn.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				emit(tel.LinkDown{Err: err.Error()})
			}
			return true, err
		}
		a.handle(p, emit)
	}
}

func (a *Adapter) handle(p Packet, emit func(tel.Event)) {
	if p.Event() == "OriginateResponse" {
		a.originated(p, emit)
		return
	}
	a.tracker.handle(p, emit)
}

func (a *Adapter) setConn(c *Conn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn = c
}

func (a *Adapter) current() *Conn {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conn
}

// Pause pauses the agent's member in every queue (QueuePause without
// Queue), with reason.
func (a *Adapter) Pause(ctx context.Context, agent, reason string) error {
	return a.pause(ctx, agent, true, reason)
}

// Unpause unpauses the agent's member in every queue.
func (a *Adapter) Unpause(ctx context.Context, agent string) error {
	return a.pause(ctx, agent, false, "")
}

func (a *Adapter) pause(ctx context.Context, agent string, paused bool, reason string) error {
	op := "unpause"
	if paused {
		op = "pause"
	}
	member, ok := a.cfg.Mapping.Member(agent)
	if !ok {
		return fmt.Errorf("%s agent %q: %w", op, agent, tel.ErrUnknownAgent)
	}
	conn := a.current()
	if conn == nil {
		return fmt.Errorf("%s agent %q: %w", op, agent, tel.ErrNotConnected)
	}
	if _, err := conn.Action(ctx, QueuePause(member, paused, reason, "")); err != nil {
		return a.actionError(conn, fmt.Sprintf("%s agent %q", op, agent), err)
	}
	return nil
}

func (a *Adapter) actionError(conn *Conn, what string, err error) error {
	if conn.Err() != nil && !errors.Is(err, tel.ErrRefused) {
		return fmt.Errorf("%s: %w: %w", what, tel.ErrNotConnected, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Originate rings the agent's member; when it answers, Asterisk dials the
// number in OriginateContext. The outcome comes as an OriginateResult
// event, matched by this Originate's ActionID (OriginateResponse may come
// before or after the events of the call it makes).
func (a *Adapter) Originate(ctx context.Context, r tel.OriginateRequest) error {
	what := fmt.Sprintf("originate %q for agent %q", r.Ref, r.Agent)
	if a.cfg.OriginateContext == "" {
		return fmt.Errorf("%s: %w: no originate context", what, tel.ErrNotConfigured)
	}
	member, ok := a.cfg.Mapping.Member(r.Agent)
	if !ok {
		return fmt.Errorf("%s: %w", what, tel.ErrUnknownAgent)
	}
	number, err := dialable(r.Number)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	conn := a.current()
	if conn == nil {
		return fmt.Errorf("%s: %w", what, tel.ErrNotConnected)
	}
	id := "guichet-" + a.token + "-o" + strconv.FormatUint(a.seq.Add(1), 10)
	p := Originate{
		Channel: member, Context: a.cfg.OriginateContext, Exten: number, CallerID: a.cfg.OriginateCallerID,
		Timeout: a.cfg.OriginateTimeout, Async: true, Variables: []string{"GUICHET_REF=" + r.Ref},
	}.Packet().with("ActionID", id)
	now := a.cfg.Now()
	a.mu.Lock()
	for k, o := range a.originates {
		if now.Sub(o.at) > originateTTL {
			a.log.Warn("ami: no outcome for an originate", "ref", o.ref)
			delete(a.originates, k)
		}
	}
	a.originates[id] = origination{ref: r.Ref, at: now}
	a.mu.Unlock()
	if _, err := conn.Action(ctx, p); err != nil {
		a.mu.Lock()
		delete(a.originates, id)
		a.mu.Unlock()
		return a.actionError(conn, what, err)
	}
	return nil
}

// originated turns an OriginateResponse of ours into an OriginateResult.
func (a *Adapter) originated(p Packet, emit func(tel.Event)) {
	a.mu.Lock()
	o, ok := a.originates[p.Get("ActionID")]
	delete(a.originates, p.Get("ActionID"))
	a.mu.Unlock()
	if !ok {
		return
	}
	res := tel.OriginateResult{Ref: o.ref, OK: strings.EqualFold(p.Get("Response"), "Success")}
	if res.OK {
		res.CallID = tel.CallID(p.Get("Uniqueid"))
	} else {
		res.Reason = originateReason(p.Get("Reason"))
	}
	emit(res)
}

// originateReason names Asterisk's outcome codes (AST_CONTROL_* values).
func originateReason(code string) string {
	switch code {
	case "0":
		return "failed"
	case "1":
		return "hung up"
	case "3":
		return "no answer"
	case "5":
		return "busy"
	case "8":
		return "congestion"
	}
	return "reason " + code
}

// dialable returns a number Asterisk may dial: digits, an optional leading
// +, * and #; spaces, dots, dashes and parentheses are dropped. Anything
// else is refused: a number is an extension in the dialplan.
func dialable(number string) (string, error) {
	var b strings.Builder
	for i, r := range number {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0 && strings.TrimLeft(number[:i], " ") == "":
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%w: it holds %q", tel.ErrBadNumber, r)
		}
	}
	if n := strings.TrimPrefix(b.String(), "+"); n == "" || len(n) > 20 {
		return "", fmt.Errorf("%w: %d digits", tel.ErrBadNumber, len(n))
	}
	return b.String(), nil
}

var _ tel.Link = (*Adapter)(nil)
