package audit

import (
	"fmt"
	"time"
)

// run is the writer: it takes the entries waiting, chains them and commits
// them in one transaction, then answers. A purge runs alone, in order.
func (l *Log) run() {
	defer close(l.done)
	batch := make([]*op, 0, l.max)
	for {
		batch = batch[:0]
		select {
		case o := <-l.ops:
			batch = append(batch, o)
		case <-l.stop:
			for {
				select {
				case o := <-l.ops:
					o.result <- ErrClosed
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < l.max {
			select {
			case o := <-l.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		var entries []*op
		for _, o := range batch {
			if o.purge != nil {
				l.commit(entries)
				entries = entries[:0]
				o.result <- l.purge(o.purge)
				continue
			}
			entries = append(entries, o)
		}
		l.commit(entries)
	}
}

// commit chains and writes entries; on failure the head stays where it was.
func (l *Log) commit(ops []*op) {
	if len(ops) == 0 {
		return
	}
	err := l.write(ops)
	for _, o := range ops {
		o.result <- err
	}
	if err != nil {
		l.log.Error("audit: commit failed", "entries", len(ops), "err", err)
	}
}

func (l *Log) write(ops []*op) error {
	tx, err := l.db.W.Begin()
	if err != nil {
		return fmt.Errorf("audit: begin: %w", err)
	}
	defer tx.Rollback()
	ins, err := tx.Prepare(`INSERT INTO entries(seq, at, actor, role, addr, action, object, object_id, outcome, detail, prev, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer ins.Close()
	seq, prev := l.last, l.lastHash
	now := l.clock()
	for _, o := range ops {
		e := o.entry
		seq++
		e.Seq, e.Prev = seq, prev
		if e.At.IsZero() {
			e.At = now
		}
		e.At = e.At.UTC().Round(0)
		e.Hash = e.hash()
		if _, err := ins.Exec(e.Seq, e.At.UnixNano(), e.Actor, e.Role, e.Addr, e.Action, e.Object, e.ObjectID,
			string(e.Outcome), e.Detail, e.Prev, e.Hash); err != nil {
			return fmt.Errorf("audit: append %s: %w", e.Action, err)
		}
		prev = e.Hash
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit: commit: %w", err)
	}
	l.last, l.lastHash = seq, prev
	return nil
}

// purge deletes the entries older than p.before and appends the anchor that
// records the hash of the last one deleted, in one transaction.
func (l *Log) purge(p *purgeReq) error {
	var through int64
	var hash []byte
	err := l.db.W.QueryRow(`SELECT seq, hash FROM entries WHERE at < ? ORDER BY seq DESC LIMIT 1`, p.before.UnixNano()).Scan(&through, &hash)
	if err != nil {
		// Nothing old enough: nothing to do.
		return nil
	}
	tx, err := l.db.W.Begin()
	if err != nil {
		return fmt.Errorf("audit purge: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.Exec(`DELETE FROM entries WHERE seq <= ?`, through)
	if err != nil {
		return fmt.Errorf("audit purge: %w", err)
	}
	n, _ := res.RowsAffected()
	anchor := p.by
	anchor.Action, anchor.Object, anchor.ObjectID, anchor.Outcome = ActionPurged, "audit", "", Allowed
	anchor.Detail = fmt.Sprintf("through=%d hash=%x count=%d before=%s", through, hash, n, p.before.UTC().Format(time.RFC3339))
	anchor.Seq, anchor.Prev = l.last+1, l.lastHash
	if anchor.At.IsZero() {
		anchor.At = l.clock()
	}
	anchor.At = anchor.At.UTC().Round(0)
	anchor.Hash = anchor.hash()
	if _, err := tx.Exec(`INSERT INTO entries(seq, at, actor, role, addr, action, object, object_id, outcome, detail, prev, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, anchor.Seq, anchor.At.UnixNano(), anchor.Actor, anchor.Role, anchor.Addr,
		anchor.Action, anchor.Object, anchor.ObjectID, string(anchor.Outcome), anchor.Detail, anchor.Prev, anchor.Hash); err != nil {
		return fmt.Errorf("audit purge: anchor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit purge: %w", err)
	}
	l.last, l.lastHash = anchor.Seq, anchor.Hash
	p.n = n
	if err := l.db.Checkpoint(); err != nil {
		l.log.Warn("audit purge: checkpoint", "err", err)
	}
	l.log.Info("audit entries purged", "count", n, "through", through)
	return nil
}
