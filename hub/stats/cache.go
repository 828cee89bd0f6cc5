package stats

import (
	"context"
	"fmt"
	"sync"
	"time"

	"guichet/hub/queue"
)

// cache keeps the projection's rows of the days reports asked for in
// memory, compactly (about 140 bytes a ticket: 38 MB for a year of 260,000),
// so that a report of a year reads no SQL once warm. CatchUp drops the days
// whose tickets it wrote; a projection written by another process (its
// cursor moved under this one) drops them all.
type cache struct {
	mu    sync.Mutex
	gen   uint64 // changes at every drop: a load that started before does not store
	days  map[string][]row
	names []string // interned strings: services, agents, counters, devices…
	index map[string]uint16
}

// row is a finished ticket in the cache; strings are indexes into names,
// times milliseconds since the epoch (0: none).
type row struct {
	id                                                string
	issued, received, called1, called, started, ended int64
	number                                            int32
	prefix, serviceIn, service, agent, counter        uint16
	device, channel, priority, outcome                uint16
	transfers, recalls                                uint16
	hour                                              uint8
	offline                                           bool
}

func newCache() *cache {
	return &cache{days: map[string][]row{}, index: map[string]uint16{}}
}

// intern returns the index of s; the caller holds mu.
func (c *cache) intern(s string) uint16 {
	if i, ok := c.index[s]; ok {
		return i
	}
	if len(c.names) == 1<<16-1 {
		return 0 // a site does not have 65,535 names; "" then
	}
	c.names = append(c.names, s)
	i := uint16(len(c.names) - 1)
	c.index[s] = i
	return i
}

// drop forgets days (all if nil).
func (c *cache) drop(days map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if days == nil {
		clear(c.days)
		return
	}
	for d := range days {
		delete(c.days, d)
	}
}

func (c *cache) put(t *Ticket) row {
	return row{id: t.ID, number: int32(t.Number), hour: uint8(t.Hour),
		issued: ms(t.Issued), received: ms(t.Received), called1: ms(t.FirstCalled), called: ms(t.Called),
		started: ms(t.Started), ended: ms(t.Ended),
		prefix: c.intern(t.Prefix), serviceIn: c.intern(t.ServiceIn), service: c.intern(t.Service),
		agent: c.intern(t.Agent), counter: c.intern(t.Counter), device: c.intern(t.device),
		channel: c.intern(string(t.Channel)), priority: c.intern(string(t.Priority)), outcome: c.intern(string(t.Outcome)),
		transfers: uint16(min(t.Transfers, 1<<16-1)), recalls: uint16(min(t.Recalls, 1<<16-1)), offline: t.Offline}
}

// get fills t from r; the caller holds mu (names only grow, so a read
// under the lock at the time of the call is enough).
func (c *cache) get(r *row, day string, t *Ticket) {
	n := c.names
	*t = Ticket{ID: r.id, Prefix: n[r.prefix], Number: int(r.number), ServiceIn: n[r.serviceIn], Service: n[r.service],
		Channel: queue.Channel(n[r.channel]), Priority: queue.Priority(n[r.priority]), Agent: n[r.agent], Counter: n[r.counter],
		Day: day, Hour: int(r.hour),
		Issued: fromMS(r.issued), Received: fromMS(r.received), FirstCalled: fromMS(r.called1), Called: fromMS(r.called),
		Started: fromMS(r.started), Ended: fromMS(r.ended), Outcome: Outcome(n[r.outcome]),
		Transfers: int(r.transfers), Recalls: int(r.recalls), Offline: r.offline, device: n[r.device]}
}

// each calls fn with each finished ticket q selects, by day then issue
// time. The ticket is reused from one call to the next.
func (p *Projection) each(ctx context.Context, q Query, fn func(*Ticket)) error {
	days, err := q.dayList()
	if err != nil {
		return err
	}
	extra, err := p.warm(ctx, days)
	if err != nil {
		return err
	}
	c := p.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	svc, agent, ch := -1, -1, -1
	if q.Service != "" {
		svc = int(c.intern(q.Service))
	}
	if q.Agent != "" {
		agent = int(c.intern(q.Agent))
	}
	if q.Channel != "" {
		ch = int(c.intern(string(q.Channel)))
	}
	var t Ticket
	for _, d := range days {
		rows, ok := c.days[d]
		if !ok {
			rows = extra[d]
		}
		for i := range rows {
			r := &rows[i]
			if svc >= 0 && int(r.service) != svc && int(r.serviceIn) != svc ||
				agent >= 0 && int(r.agent) != agent || ch >= 0 && int(r.channel) != ch {
				continue
			}
			c.get(r, d, &t)
			fn(&t)
		}
	}
	return nil
}

// warm loads the days the cache lacks, in one query. It returns them
// when the projection changed while they were read: they are not kept.
func (p *Projection) warm(ctx context.Context, days []string) (map[string][]row, error) {
	c := p.cache
	c.mu.Lock()
	var missing []string
	for _, d := range days {
		if _, ok := c.days[d]; !ok {
			missing = append(missing, d)
		}
	}
	gen := c.gen
	c.mu.Unlock()
	if len(missing) == 0 {
		return nil, nil
	}
	all := Query{From: missing[0], To: missing[len(missing)-1]}
	loaded := map[string][]row{}
	for _, d := range missing {
		loaded[d] = []row{}
	}
	err := p.scan(ctx, all, func(t *Ticket) {
		if rows, ok := loaded[t.Day]; ok {
			c.mu.Lock()
			loaded[t.Day] = append(rows, c.put(t))
			c.mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		// The projection changed meanwhile: what was loaded serves this
		// report only.
		return loaded, nil
	}
	if len(c.days)+len(loaded) > maxCachedDays {
		clear(c.days) // a bound on memory: the days asked for now stay
	}
	for d, rows := range loaded {
		c.days[d] = rows
	}
	return nil, nil
}

// maxCachedDays bounds the cache: two reports of the longest range.
const maxCachedDays = 2 * MaxDays

// dayList lists the days of q, in order.
func (q Query) dayList() ([]string, error) {
	f, err := time.Parse(time.DateOnly, q.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	n := q.Days()
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, f.AddDate(0, 0, i).Format(time.DateOnly))
	}
	return out, nil
}
