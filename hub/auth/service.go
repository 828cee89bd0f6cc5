package auth

import (
	"crypto/sha256"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"guichet/hub/lockout"
	"guichet/hub/queue"
	"guichet/hub/store"
)

// Events the identity layer appends to the log. Every one names the
// account concerned (Event.Account), who acted (Actor) and, for a request
// over HTTP, from where (Address). They all begin with "account.": hub/bus
// publishes none of them (see Personal).
const (
	SignedIn        queue.EventType = "account.signed_in"
	SignedOut       queue.EventType = "account.signed_out"       // Reason "all": every session of the account
	LockedOut       queue.EventType = "account.locked_out"       // a burst of wrong passwords: the account or address is slowed down
	AccountAdded    queue.EventType = "account.added"            // Reason: the role
	PasswordSet     queue.EventType = "account.password_set"     // by an admin; Reason "temporary" when it must be changed
	PasswordChanged queue.EventType = "account.password_changed" // by the account itself
	RoleChanged     queue.EventType = "account.role_changed"     // Reason: the new role
	AccountDisabled queue.EventType = "account.disabled"         //
	AccountEnabled  queue.EventType = "account.enabled"          //
	TokenCreated    queue.EventType = "account.token_created"    // Reason: the token's id, role and name
	TokenRevoked    queue.EventType = "account.token_revoked"    // Reason: the token's id
	AccountLinked   queue.EventType = "account.agent_linked"     // Reason: the site agent the account now is
	eventPrefix                     = "account."
)

// Personal reports whether ev is an event of the identity layer, which
// carries an agent's address and comings and goings: kept in the log for
// the audit, never published to screens or integrations.
func Personal(ev queue.Event) bool { return strings.HasPrefix(string(ev.Type), eventPrefix) }

// Options configures the identity layer.
type Options struct {
	Store      *store.Store
	AdminToken string // the hub's admin token ("" for none)
	Log        *slog.Logger
	Clock      func() time.Time // time.Now if nil
	// Addresses counts wrong bearer tokens per client address; nil:
	// lockout's defaults (10, then one every 6 s).
	Addresses *lockout.Limiter
	// SignIns counts wrong passwords per client address; nil: 30, then one
	// every 2 s — a town hall's agents share one address behind its NAT,
	// and their typos must not lock each other out.
	SignIns *lockout.Limiter
	// Accounts counts wrong passwords per account; nil: lockout's defaults
	// (10, then one every 6 s).
	Accounts *lockout.Limiter
	// TrustedProxies are the reverse proxies in front of the hub: from a
	// peer in one of them, the client's address is read from
	// X-Forwarded-For, and X-Forwarded-Proto says whether it used HTTPS.
	TrustedProxies []netip.Prefix
	// Idle ends a session unused this long (2 h); MaxAge ends any session
	// this long after its sign-in (12 h: a working day).
	Idle, MaxAge time.Duration
	// HashSlots is how many passwords are hashed at once (GOMAXPROCS, at
	// least 2): each takes 19 MiB.
	HashSlots int
}

// Service is the identity layer of one hub: accounts, sessions, tokens,
// and the guard of the route table.
type Service struct {
	st        *store.Store
	admin     []byte // SHA-256 of the admin token
	log       *slog.Logger
	clock     func() time.Time
	addresses *lockout.Limiter
	signIns   *lockout.Limiter
	accounts  *lockout.Limiter
	proxies   []netip.Prefix
	idle      time.Duration
	maxAge    time.Duration
	hasher    *hasher
	providers []Provider
	pending   *pending

	purgeMu  sync.Mutex
	purgedAt time.Time

	devices func(id, secret string) error // SetDevices
}

// SetDevices gives the guard how to check a device's id and secret (HTTP
// Basic) on Device routes; without it, only admins pass them.
func (s *Service) SetDevices(check func(id, secret string) error) { s.devices = check }

// New returns the identity layer kept in o.Store.
func New(o Options) *Service {
	s := &Service{st: o.Store, log: o.Log, clock: o.Clock, addresses: o.Addresses, signIns: o.SignIns, accounts: o.Accounts,
		proxies: o.TrustedProxies, idle: o.Idle, maxAge: o.MaxAge, hasher: newHasher(o.HashSlots), pending: newPending()}
	if o.AdminToken != "" {
		h := sha256.Sum256([]byte(o.AdminToken))
		s.admin = h[:]
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.addresses == nil {
		s.addresses = lockout.New(lockout.Options{Clock: s.clock})
	}
	if s.signIns == nil {
		s.signIns = lockout.New(lockout.Options{Burst: 30, Every: 2 * time.Second, Clock: s.clock})
	}
	if s.accounts == nil {
		s.accounts = lockout.New(lockout.Options{Clock: s.clock})
	}
	if s.idle <= 0 {
		s.idle = 2 * time.Hour
	}
	if s.maxAge <= 0 {
		s.maxAge = 12 * time.Hour
	}
	return s
}

// AddProvider offers an external sign-in on the sign-in page.
func (s *Service) AddProvider(p Provider) { s.providers = append(s.providers, p) }

// Providers returns the external sign-ins offered.
func (s *Service) Providers() []Provider { return s.providers }

// Provider returns the provider of that name.
func (s *Service) Provider(name string) (Provider, bool) {
	for _, p := range s.providers {
		if p.Name() == name {
			return p, true
		}
	}
	return nil, false
}

// By is who makes a change and from where, as the event log records it.
type By struct {
	Actor   string // an account id, AdminTokenID, "cli:<user>", "site"
	Address string // the client's address; "" off HTTP
}

// ByPrincipal is p acting from address addr.
func ByPrincipal(p *Principal, addr netip.Addr) By {
	b := By{Actor: p.Actor()}
	if addr.IsValid() {
		b.Address = addr.String()
	}
	return b
}

// audit appends an account event to the log.
func (s *Service) audit(typ queue.EventType, by By, account, reason string) {
	ev := queue.Event{At: s.clock(), Type: typ, Actor: by.Actor, Account: account, Address: by.Address, Reason: reason}
	if err := s.st.Append([]*store.Record{{Events: []queue.Event{ev}}}); err != nil {
		s.log.Error("audit account event", "type", string(typ), "account", account, "err", err)
	}
}
