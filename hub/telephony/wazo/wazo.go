// Package wazo is the hub's telephony link to a Wazo Platform PBX, through
// Wazo's own APIs rather than a raw AMI connection:
//
//   - a token from wazo-auth (POST /api/auth/0.1/token, basic auth of a web
//     service user), renewed before it expires and whenever a service
//     answers 401;
//   - events from wazo-websocketd (/api/websocketd/, protocol version 2:
//     "init", one "subscribe" per event name, "start", then "event"
//     frames; "token" to renew the token on the open connection; "ping");
//   - after every (re)connection, a resync from agentd's agent list and
//     Asterisk's queue and channel lists through wazo-amid;
//   - pause and unpause through wazo-agentd, click-to-call through
//     wazo-calld.
//
// Which events. wazo-calld's call_created, call_answered and call_ended
// describe channels (the caller's trunk channel, each phone's) and carry no
// queue; agentd's agent_paused carries one queue's pause. The queue's life
// (a caller joins, a phone rings, an agent answers, the caller gives up)
// is published on Wazo's bus only as the Asterisk events wazo-amid relays
// there, under their AMI names (QueueCallerJoin, AgentConnect…, the "AMI
// events" of Wazo's message bus documentation). So the adapter subscribes
// to those and translates them with the AMI adapter's own rules
// (ami.Translator), and uses call_answered and call_ended for what they
// tell best: the outcome of a click-to-call it asked calld for.
//
// Sources, read for this code (Wazo Platform, 2026): wazo-websocketd
// (wazo_websocketd/session.py, protocol.py, bus.py), wazo-bus
// (resources/calls/event.py, resources/ami/event.py, mixins.py), wazo-auth
// (plugins/http/tokens/api.yml), wazo-agentd (plugins/agent/api.yml,
// plugins/agents/api.yml, service/action/login.py), wazo-amid
// (plugins/api/api.yml, plugins/actions/http.py, bus/client.py),
// wazo-calld (plugins/calls/api.yml, notifier.py, stasis.py), and
// wazo-platform.org's uc-doc/api_sdk/websocket.md and message_bus.md.
//
// Relayed AMI events carry no tenant, so wazo-websocketd forwards them only
// to tokens of the master tenant, and wazo-amid's actions require the
// master tenant too: the web service user belongs to it (docs/telephony.md).
package wazo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	randv2 "math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	tel "guichet/hub/telephony"
	"guichet/hub/telephony/redial"
)

// Config sets an Adapter up.
type Config struct {
	// URL is the Wazo server's HTTPS address, "https://wazo.mairie.local";
	// its nginx serves every service under /api.
	URL string
	// Username and Password: a web service user of the master tenant (see
	// docs/telephony.md for its ACLs).
	Username, Password string
	// TokenExpiration is the lifetime asked for each token (1 h); the
	// adapter renews it at four fifths of its life.
	TokenExpiration time.Duration
	// Mapping: Wazo queue name → service; Wazo agent number → hub agent.
	Mapping tel.Mapping
	// Users: hub agent → the Wazo user UUID whose phone rings for a
	// click-to-call; OriginateContext is the context where that phone's
	// call to the citizen's number is placed (the user's internal
	// context, whose outgoing routes apply). Click-to-call is off when
	// either is missing.
	Users            map[string]string
	OriginateContext string

	// MinBackoff and MaxBackoff bound the wait between two connection
	// attempts (1 s, 30 s; doubling, half of it random).
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how often the adapter pings websocketd (30 s);
	// ReadTimeout, how long without a frame before the connection is
	// taken for dead (75 s; websocketd pings every 60 s too).
	PingInterval, ReadTimeout time.Duration
	// Backlog is how many frames may wait for translation (10,000):
	// beyond, the connection is dropped and resynchronised rather than
	// grow without bound.
	Backlog int
	// MaxFrame bounds one websocket frame (256 KiB): a longer one drops
	// the connection (and a resync follows).
	MaxFrame int64

	HTTPClient *http.Client      // REST calls; a 10 s timeout when nil
	Dialer     *websocket.Dialer // websocket; TLS settings go here
	Now        func() time.Time
	Jitter     func() float64 // in [0, 1); math/rand/v2 when nil
	Log        *slog.Logger
}

// Adapter is the telephony.Link of a Wazo Platform PBX.
type Adapter struct {
	cfg  Config
	log  *slog.Logger
	base *url.URL
	auth *auth

	results chan tel.Event  // originate outcomes, for Run's goroutine
	told    map[string]bool // agent numbers that made a session reconnect; Run's goroutine only

	mu         sync.Mutex
	up         bool
	originates map[string]origination // calld call_id → the request
	early      map[string]outcome     // outcomes of calls not (yet) known as ours
}

type origination struct {
	ref string
	at  time.Time
}

type outcome struct {
	ok     bool
	reason string
	at     time.Time
}

const (
	originateTTL = 10 * time.Minute
	earlyTTL     = time.Minute
	maxEarly     = 256
)

var agentNumber = regexp.MustCompile(`^[0-9]{1,40}$`)

// New checks the configuration and returns an adapter; Run connects it.
func New(cfg Config) (*Adapter, error) {
	var errs []error
	base, err := url.Parse(cfg.URL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		errs = append(errs, fmt.Errorf("URL %q is not http(s)://host", cfg.URL))
	}
	if cfg.Username == "" || cfg.Password == "" {
		errs = append(errs, errors.New("no username or password for wazo-auth"))
	}
	if err := cfg.Mapping.Validate(); err != nil {
		errs = append(errs, err)
	}
	for number := range cfg.Mapping.Members {
		if !agentNumber.MatchString(number) {
			errs = append(errs, fmt.Errorf("member %q is not a Wazo agent number (digits)", number))
		}
	}
	for agent, user := range cfg.Users {
		if _, ok := cfg.Mapping.Member(agent); !ok {
			errs = append(errs, fmt.Errorf("user of agent %q: the agent is not in the mapping", agent))
		}
		if len(user) != 36 || strings.Trim(strings.ToLower(user), "0123456789abcdef-") != "" {
			errs = append(errs, fmt.Errorf("user of agent %q is not a Wazo user UUID", agent))
		}
	}
	if strings.ContainsAny(cfg.OriginateContext, "\r\n/ ") {
		errs = append(errs, errors.New("originate context holds a space, a slash or a line break"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("wazo: configuration: %w", err)
	}
	if cfg.TokenExpiration <= 0 {
		cfg.TokenExpiration = time.Hour
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 75 * time.Second
	}
	if cfg.Backlog <= 0 {
		cfg.Backlog = 10_000
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = 256 << 10
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
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
	a := &Adapter{
		cfg: cfg, log: cfg.Log, base: base, results: make(chan tel.Event, 64),
		originates: map[string]origination{}, early: map[string]outcome{}, told: map[string]bool{},
	}
	a.auth = &auth{a: a}
	return a, nil
}

// Run connects to Wazo and keeps connecting until ctx ends. After each
// connection it subscribes and starts the event stream, reads the agents
// (agentd) and the queues and channels (amid's QueueStatus and
// CoreShowChannels), emits a Resync, then translates every event. Events
// that arrive while the lists are read wait and are applied after the
// Resync; those the lists already hold change nothing.
func (a *Adapter) Run(ctx context.Context, emit func(tel.Event)) error {
	session := func(ctx context.Context) (bool, error) { return a.session(ctx, emit) }
	return redial.Run(ctx, a.backoff(), session, func(err error, wait time.Duration) {
		level := slog.LevelWarn
		if errors.Is(err, errAuth) {
			level = slog.LevelError
		}
		a.log.Log(ctx, level, "wazo: connection to Wazo lost or refused; retrying", "url", a.cfg.URL, "err", err, "in", wait)
	})
}

// backoff is the wait between two connection attempts, from the Config.
func (a *Adapter) backoff() redial.Backoff {
	return redial.Backoff{Min: a.cfg.MinBackoff, Max: a.cfg.MaxBackoff, Jitter: a.cfg.Jitter}
}

func (a *Adapter) setUp(up bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.up = up
}

func (a *Adapter) isUp() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.up
}

// endpoint returns the URL of a path under the server's base.
func (a *Adapter) endpoint(path string) string {
	u := *a.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	return u.String()
}

var _ tel.Link = (*Adapter)(nil)
