package stdwebhook

import (
	"fmt"
	"sync"
	"time"
)

// Replay remembers the ids of the messages a receiver took, for as long as
// their timestamp could still pass Verify (twice the tolerance, both ways
// of the clock), so that the same message cannot be taken twice. It holds
// at most Max ids: beyond, new messages are refused until old ones expire,
// rather than forget one that could still be replayed. Safe for concurrent
// use.
type Replay struct {
	// Window is how long an id is kept: 2 × DefaultTolerance when zero.
	Window time.Duration
	// Max is the most ids kept: 100,000 when zero.
	Max int

	mu   sync.Mutex
	seen map[string]time.Time // id → when it may be forgotten
	next time.Time            // when to sweep next
}

// Take records id as taken at now. It fails with ErrReplayed if it was
// taken already within the window, or when Max ids are kept.
func (r *Replay) Take(id string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	window := r.Window
	if window <= 0 {
		window = 2 * DefaultTolerance
	}
	if exp, ok := r.seen[id]; ok && now.Before(exp) {
		return fmt.Errorf("%w: %s", ErrReplayed, id)
	}
	if now.After(r.next) || len(r.seen) >= r.max() {
		for k, exp := range r.seen {
			if !now.Before(exp) {
				delete(r.seen, k)
			}
		}
		r.next = now.Add(window / 4)
	}
	if len(r.seen) >= r.max() {
		return fmt.Errorf("%w: %d messages within %s, more than this receiver keeps", ErrReplayed, len(r.seen), window)
	}
	r.seen[id] = now.Add(window)
	return nil
}

// Forget drops id, so that a message refused after Take (its content was
// bad, or the receiver was busy) may be sent again with the same id.
func (r *Replay) Forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.seen, id)
}

func (r *Replay) max() int {
	if r.Max <= 0 {
		return 100_000
	}
	return r.Max
}
