package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	tel "guichet/hub/telephony"
	"guichet/internal/stdwebhook"
)

// Config sets an Adapter up.
type Config struct {
	// Secret is the shared secret, "whsec_<base64>" (24 to 64 bytes): it
	// checks what the provider posts and signs what the hub posts back.
	Secret string
	// PreviousSecret, while a secret is being rotated, is accepted too.
	PreviousSecret string
	// Mapping: the provider's queue → service, the provider's agent id →
	// hub agent.
	Mapping tel.Mapping
	// ActionURL is where Pause, Unpause and Originate are posted; they
	// fail with ErrNotConfigured when it is empty.
	ActionURL string
	Client    *http.Client // for ActionURL; a 10 s timeout when nil

	MaxBody   int64         // DefaultMaxBody when zero
	Tolerance time.Duration // stdwebhook.DefaultTolerance when zero
	// Backlog is how many events may wait for Run (10,000); beyond, the
	// webhook answers 503 and changes nothing.
	Backlog int
	Now     func() time.Time // time.Now when nil
	// Clock is the hub's clock: the time of a message that gives none (a
	// simulated day's in the demo, whose signatures are still checked at
	// Now). Now when nil.
	Clock func() time.Time
	Log   *slog.Logger
}

// Adapter is the telephony.Link of a telephony that posts webhooks, and
// the http.Handler it posts to.
type Adapter struct {
	cfg    Config
	log    *slog.Logger
	verify stdwebhook.Verifier
	replay stdwebhook.Replay
	out    *Sender

	mu        sync.Mutex
	book      *book
	listening bool        // a Run takes the events
	pending   []tel.Event // for Run, in order
	wake      chan struct{}
}

// New checks the configuration and returns an adapter.
func New(cfg Config) (*Adapter, error) {
	var errs []error
	secret, err := stdwebhook.ParseSecret(cfg.Secret)
	if err != nil {
		errs = append(errs, err)
	}
	secrets := []stdwebhook.Secret{secret}
	if cfg.PreviousSecret != "" {
		prev, err := stdwebhook.ParseSecret(cfg.PreviousSecret)
		if err != nil {
			errs = append(errs, fmt.Errorf("previous secret: %w", err))
		}
		secrets = append(secrets, prev)
	}
	if err := cfg.Mapping.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("webhook: configuration: %w", err)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = stdwebhook.DefaultTolerance
	}
	if cfg.Backlog <= 0 {
		cfg.Backlog = 10_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Clock == nil {
		cfg.Clock = cfg.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{
		cfg: cfg, log: cfg.Log, book: newBook(cfg.Mapping), wake: make(chan struct{}, 1),
		verify: stdwebhook.Verifier{Secrets: secrets, Tolerance: cfg.Tolerance, Now: cfg.Now},
		replay: stdwebhook.Replay{Window: 2 * cfg.Tolerance},
	}
	if cfg.ActionURL != "" {
		a.out = &Sender{URL: cfg.ActionURL, Secret: secret, Client: cfg.Client, Now: cfg.Now}
	}
	return a, nil
}

// Run takes the events of the webhooks received until ctx ends. It starts
// with a Resync of what the adapter holds (empty at first; what the
// provider said so far after a restart of Run), then emits every event in
// the order the webhooks were applied. While no Run is going, the webhook
// answers 503 (the provider sends again later) and changes nothing. Only
// one Run at a time.
func (a *Adapter) Run(ctx context.Context, emit func(tel.Event)) error {
	a.mu.Lock()
	if a.listening {
		a.mu.Unlock()
		return errors.New("webhook: Run is already going")
	}
	a.listening = true
	snap := a.book.snapshot()
	a.pending = nil
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.listening, a.pending = false, nil
		a.mu.Unlock()
	}()
	emit(tel.Resync{Snapshot: snap})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.wake:
		}
		a.mu.Lock()
		batch := a.pending
		a.pending = nil
		a.mu.Unlock()
		for _, e := range batch {
			emit(e)
		}
	}
}

// apply runs a message's change and queues its events for Run; nothing
// changes unless all of them have room.
func (a *Adapter) apply(decode func(*book, time.Time) (change, error), at time.Time) (change, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.listening {
		return change{}, errNotListening
	}
	ch, err := decode(a.book, at)
	if err != nil || ch.commit == nil {
		return ch, err
	}
	if len(a.pending)+len(ch.events) > a.cfg.Backlog {
		return change{}, errBacklog
	}
	ch.commit()
	a.pending = append(a.pending, ch.events...)
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return ch, nil
}

var (
	errNotListening = errors.New("the hub is not taking telephony events now")
	errBacklog      = errors.New("the hub is behind with telephony events")
)

var _ tel.Link = (*Adapter)(nil)
var _ http.Handler = (*Adapter)(nil)
