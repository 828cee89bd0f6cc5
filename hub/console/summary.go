package console

import (
	"sync"
	"time"

	"guichet/hub/queue"
)

// summaries keeps the queue summary of the engine's current state: every
// open console makes its view again at each change of the queue, and the
// summary, the same for all of them, is what a view costs most (the
// capacity of every service from every counter). It is made once per
// state of the engine (its count of applied events) and minute (opening
// hours turn at minutes). The longest waits it gives are from its own
// time: views show when the longest wait began (now − longest wait), which
// does not move with time.
type summaries struct {
	mu      sync.Mutex
	applied int64
	minute  int64
	at      time.Time
	list    []queue.ServiceSummary
}

// get returns the summary of e at now (or of a moment ago in the same
// state and minute) and the time it was made at. The caller holds the
// hub's read lock.
func (c *summaries) get(e *queue.Engine, now time.Time) ([]queue.ServiceSummary, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := now.Unix() / 60; c.list == nil || c.applied != e.Applied() || c.minute != m {
		c.list, c.at, c.applied, c.minute = e.Summary(now), now, e.Applied(), m
	}
	return c.list, c.at
}
