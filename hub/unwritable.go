package hub

import "time"

// What the hub does when its store fails a commit: the writer rolls the
// engine back in memory, and when the store refuses writes altogether (a
// full disk), the hub refuses every operation at once until a probe write
// succeeds. The writer goroutine (run, in hub.go) owns all of it.

// Health says whether the hub can store operations. While its store
// refuses writes (a full disk, an I/O error), the hub still answers every
// read, but refuses every operation at once with ErrUnavailable, without
// running it; a probe write every Options.ProbeEvery brings it back.
type Health struct {
	Writable bool
	Since    time.Time // when the store started refusing writes
	Err      string    // why, as the store said it
}

// Health says whether the hub can store operations now.
func (h *Hub) Health() Health {
	if d := h.down.Load(); d != nil {
		return *d
	}
	return Health{Writable: true}
}

// rollback puts the engine back to what the log holds after a failed
// commit: the checkpoint, and the events committed since, applied again —
// in memory, without reading the store (which may be failing). It costs a
// Restore of the state and fewer than SnapshotEvery events applied (see
// BenchmarkRollback), not a replay of the log from the store.
func (h *Hub) rollback() {
	start := time.Now()
	h.mu.Lock()
	h.eng.Restore(h.base)
	for _, ev := range h.since {
		h.eng.Apply(ev)
	}
	h.mu.Unlock()
	h.log.Info("queue rolled back to the last commit", "events_reapplied", len(h.since), "took", time.Since(start).Round(time.Microsecond))
}

// failed decides, after a failed commit, whether the store refuses writes
// altogether: one small write (a probe) right away. If the probe fails
// too, the hub goes down — every operation is refused at once until a
// probe succeeds — so that a full disk costs one rollback, not one per
// batch, and the engine is not touched while nothing can be stored.
func (h *Hub) failed(err error, ops int) {
	if perr := h.st.Probe(h.clock()); perr == nil {
		h.log.Error("commit failed; the database still takes writes: serving on", "err", err, "operations", ops)
		return
	}
	h.down.Store(&Health{Since: h.clock(), Err: err.Error()})
	h.metrics.writable.Set(0)
	h.log.Error("the database refuses writes: every operation is answered unavailable until it takes them again",
		"err", err, "operations", ops, "probe_every", h.probe)
}

// tryStore probes the store while it refuses writes, and brings the hub
// back when it takes them.
func (h *Hub) tryStore() {
	d := h.down.Load()
	if err := h.st.Probe(h.clock()); err != nil {
		h.log.Debug("the database still refuses writes", "err", err)
		return
	}
	h.down.Store(nil)
	h.metrics.writable.Set(1)
	h.log.Warn("the database takes writes again: serving", "down_for", h.clock().Sub(d.Since).Round(time.Second))
}

// refuse answers a batch while the store refuses writes: a repeated
// idempotency key gets its stored reply (reads still work), everything
// else ErrUnavailable, and nothing runs on the engine.
func (h *Hub) refuse(batch []*pending) {
	for _, p := range batch {
		p.err = ErrUnavailable
		if p.key != "" {
			if stored, err := h.st.Reply(p.key); err == nil && stored != nil {
				p.res, p.err = storedReply(stored), nil
				p.res.Replayed = true
			}
		}
		h.metrics.observeOp(p.act.Name, p.err)
		p.reply <- p.res
	}
}
