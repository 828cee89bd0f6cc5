// Package lockout slows down whoever guesses credentials: it counts failed
// authentications per client address and locks out an address that fails
// too often, for as long as its failures take to be forgiven.
//
// The rule, as the code runs it: each client has a bucket of Burst
// failures, refilled by one every Every (by default 10, and one more every
// 6 s: 10 wrong tokens in a row, then 10 a minute). A failure takes one
// from the bucket; a client whose bucket holds less than one is refused
// before its credentials are even looked at — a right token too, or a
// guesser would learn from the lockout which guess was right — until the
// bucket holds one again (Retry-After). A success changes nothing.
//
// Memory is bounded: at most MaxClients buckets are kept; a full bucket
// says nothing and is dropped when room is needed; a client that finds no
// room shares one overflow bucket with every other such client, so an
// attacker with more addresses than MaxClients gains no more tries than
// MaxClients addresses would give. An IPv6 client is its /64, which one
// home or server is given; an IPv4 client is its address.
package lockout

import (
	"net/netip"
	"sync"
	"time"
)

// Options configures a Limiter; zero fields take the defaults.
type Options struct {
	Burst      int              // failures in a row before a lockout; 10
	Every      time.Duration    // one failure forgiven every Every; 6 s
	MaxClients int              // buckets kept; 10,000
	Clock      func() time.Time // time.Now if nil
}

// Limiter counts failures per client. It is safe for concurrent use.
type Limiter struct {
	burst float64
	every time.Duration
	max   int
	clock func() time.Time

	mu       sync.Mutex
	clients  map[string]*bucket
	overflow bucket
	swept    time.Time // sweeps are at most one an Every: each is a pass over every bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
	locked bool      // locked out since the last Fail that emptied it
}

// New returns a Limiter.
func New(o Options) *Limiter {
	l := &Limiter{burst: float64(o.Burst), every: o.Every, max: o.MaxClients, clock: o.Clock, clients: map[string]*bucket{}}
	if l.burst <= 0 {
		l.burst = 10
	}
	if l.every <= 0 {
		l.every = 6 * time.Second
	}
	if l.max <= 0 {
		l.max = 10_000
	}
	if l.clock == nil {
		l.clock = time.Now
	}
	l.overflow = bucket{tokens: l.burst}
	return l
}

// Client is the key of an address: an IPv4 address, or an IPv6 /64.
func Client(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// Allow reports whether client may try to authenticate now and, when it
// may not, how long until it may.
func (l *Limiter) Allow(client string) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.find(client, false)
	if b == nil {
		return true, 0
	}
	now := l.clock()
	l.refill(b, now)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.every))
}

// Fail records a failed authentication of client. It reports whether this
// failure locked the client out (once per lockout: for one log line).
func (l *Limiter) Fail(client string) (lockedOut bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.find(client, true)
	now := l.clock()
	l.refill(b, now)
	b.tokens = max(b.tokens-1, 0)
	if b.tokens < 1 && !b.locked {
		b.locked = true
		return true
	}
	return false
}

// Tracked returns how many clients have a bucket of their own.
func (l *Limiter) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+float64(d)/float64(l.every))
		b.at = now
	}
	if b.tokens >= 1 {
		b.locked = false
	}
}

// find returns client's bucket; with create, a new one (or the overflow
// bucket when there is no room), else nil for a client without failures.
func (l *Limiter) find(client string, create bool) *bucket {
	if b := l.clients[client]; b != nil {
		return b
	}
	if !create {
		if len(l.clients) >= l.max {
			return &l.overflow // a stranger now may be one of many
		}
		return nil
	}
	if now := l.clock(); len(l.clients) >= l.max && now.Sub(l.swept) >= l.every {
		l.swept = now
		l.sweep(now)
	}
	if len(l.clients) >= l.max {
		return &l.overflow
	}
	b := &bucket{tokens: l.burst, at: l.clock()}
	l.clients[client] = b
	return b
}

// sweep drops the buckets that are full again: they hold no failure.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.clients {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.clients, k)
		}
	}
}
