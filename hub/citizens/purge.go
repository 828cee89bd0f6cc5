package citizens

import (
	"context"
	"fmt"
	"time"

	"guichet/hub/audit"
	"guichet/hub/crm"
)

// The daily purge. Every day at the site's purge time the hub applies the
// retention rules: the citizen file's (crm.Purge: tickets detached from
// visits and calls, contact history, call records with callers' numbers,
// sectors' records, files without interaction, pending imports), each rule
// that removed something leaving its elimination record; then the audit
// log's (entries older than its retention, an anchor keeping the chain
// verifiable), with its own elimination record. A purge that fails is
// logged and tried again at the next day's time; the DPO can run one at
// any time (Purge).

// PurgeReport is what a purge did.
type PurgeReport struct {
	At    time.Time     `json:"at"`
	CRM   crm.PurgePlan `json:"crm"`
	Audit int64         `json:"audit_entries"` // audit entries removed
	Error string        `json:"error,omitempty"`
}

// daily runs the purge at the site's purge time every day until ctx ends.
func (s *Service) daily(ctx context.Context) {
	loc := s.crm.Site().Location
	for {
		now := s.h.Now()
		next := NextPurge(now, loc, s.o.PurgeHour, s.o.PurgeMinute)
		if !sleep(ctx, next.Sub(now)) {
			return
		}
		r, err := s.purge(ctx, system)
		if err != nil {
			s.log.Error("citizens: the daily purge failed; tried again tomorrow", "err", err)
			continue
		}
		s.log.Info("citizens: daily purge done", "audit_entries", r.Audit, "rules", len(r.CRM.Items))
	}
}

// Purge applies the retention rules now, as the daily purge does: for the
// DPO (v's role is checked by the citizen file, and audited).
func (s *Service) Purge(ctx context.Context, v crm.Viewer) (PurgeReport, error) {
	return s.purge(ctx, v)
}

// LastPurge returns what the last purge since the hub started did.
func (s *Service) LastPurge() PurgeReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPurge
}

func (s *Service) purge(ctx context.Context, v crm.Viewer) (PurgeReport, error) {
	r := PurgeReport{At: s.h.Now()}
	defer func() {
		s.mu.Lock()
		s.lastPurge = r
		s.mu.Unlock()
	}()
	plan, err := s.crm.Purge(ctx, v, false)
	r.CRM = plan
	if err != nil {
		r.Error = err.Error()
		return r, fmt.Errorf("purge the citizen file: %w", err)
	}
	before := r.At.Add(-s.crm.Site().Retention.Audit)
	n, err := s.o.Audit.Purge(ctx, before, audit.Entry{Actor: v.ID, Role: string(v.Role), Addr: v.Addr})
	r.Audit = n
	if err != nil {
		r.Error = err.Error()
		return r, fmt.Errorf("purge the audit log: %w", err)
	}
	if n > 0 {
		if err := s.crm.RecordElimination(ctx, v, "audit", "entrées du journal d'audit", int(n)); err != nil {
			r.Error = err.Error()
			return r, fmt.Errorf("record the audit log's elimination: %w", err)
		}
	}
	return r, nil
}
