package citizens

import (
	"context"
	"errors"
	"time"

	"guichet/hub/api"
	"guichet/hub/crm"
	"guichet/hub/queue"
)

// cursorName is the follower's place in the event log (hub/store's cursors).
const cursorName = "crm-timeline"

// saveEvery is how often the cursor is written while it moves: a crash
// reads the last second's events again, which files nothing twice (the
// citizen file files a ticket's visit or call once).
const saveEvery = time.Second

// follow reads the event log from where it stopped and files in the
// timeline what the events say, until ctx ends.
func (s *Service) follow(ctx context.Context) {
	st := s.h.Store()
	changes, cancel := s.h.Watch()
	defer cancel()
	seq, err := st.Cursor(cursorName)
	for err != nil {
		s.log.Error("citizens: read the timeline's cursor; trying again", "err", err)
		if !sleep(ctx, 5*time.Second) {
			return
		}
		seq, err = st.Cursor(cursorName)
	}
	saved, savedAt := seq, time.Now()
	save := func(force bool) {
		if seq == saved || !force && time.Since(savedAt) < saveEvery {
			return
		}
		if err := st.SetCursor(cursorName, seq); err != nil {
			s.log.Warn("citizens: save the timeline's cursor", "err", err)
			return
		}
		saved, savedAt = seq, time.Now()
	}
	defer save(true)
	tick := time.NewTicker(saveEvery)
	defer tick.Stop()
	for {
		s.retryTombstones(ctx)
		s.retryRequests(ctx)
		evs, err := st.Events(ctx, seq, 500)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("citizens: read the event log", "err", err)
		}
		for _, ev := range evs {
			if err := s.project(ctx, ev); err != nil {
				if ctx.Err() == nil {
					s.log.Warn("citizens: file an event in the timeline; trying again", "seq", ev.Seq, "type", ev.Type, "err", err)
					sleep(ctx, time.Second)
				}
				break
			}
			seq = ev.Seq
		}
		save(false)
		if len(evs) == 500 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-changes:
		case <-tick.C:
		}
	}
}

// project files one event. It returns an error only for a failure worth
// trying again (the citizen file unavailable); an event that cannot be
// filed (its citizen's file erased) is logged and passed.
func (s *Service) project(ctx context.Context, ev queue.Event) error {
	var err error
	switch ev.Type {
	case queue.TicketServed:
		err = s.served(ctx, ev.Ticket)
	case queue.CitizenAttached:
		err = s.attached(ctx, ev.Ticket)
	default:
		return nil
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, crm.ErrNotFound), errors.Is(err, crm.ErrInvalid), errors.Is(err, crm.ErrForbidden):
		s.log.Info("citizens: not filed in a timeline", "seq", ev.Seq, "type", ev.Type, "ticket", ev.Ticket, "why", err)
		return nil
	}
	return err
}

// served files the visit (or the callback or hand-typed call) of a served
// ticket attached to a citizen. A call of the telephony link is filed by
// the bridge when it ends.
func (s *Service) served(ctx context.Context, ticket string) error {
	f, err := s.facts(ctx, ticket)
	if err != nil || !crm.IsCitizenID(f.citizen) || f.call != "" || f.state != queue.Done {
		return err // a citizen typed at issue (the town's records' id, free text) is no file: not asked for
	}
	return s.file(ctx, f)
}

// attached files a ticket attached to a citizen after it ended: its visit,
// or its call (the bridge filed it under the number, or nowhere).
func (s *Service) attached(ctx context.Context, ticket string) error {
	f, err := s.facts(ctx, ticket)
	if err != nil || !crm.IsCitizenID(f.citizen) {
		return err
	}
	if f.call != "" {
		_, err := s.crm.AttachCall(ctx, system, ticket, f.citizen, s.sector(f.service))
		return err
	}
	if f.state != queue.Done {
		return nil // its end files it
	}
	return s.file(ctx, f)
}

// file writes a served ticket in its citizen's timeline, once.
func (s *Service) file(ctx context.Context, f facts) error {
	sec := s.sector(f.service)
	at := f.called
	if at.IsZero() {
		at = f.issued
	}
	if f.channel == queue.Phone {
		outcome := "answered"
		if f.callback != "" {
			outcome = "callback"
		}
		_, err := s.crm.RecordCall(ctx, system, f.citizen, sec, at, crm.Call{Number: f.display, Outcome: outcome,
			Wait: max(f.called.Sub(f.issued), 0), Talk: max(f.ended.Sub(f.called), 0), Agent: f.agent, Ticket: f.id})
		return err
	}
	_, err := s.crm.RecordVisit(ctx, system, f.citizen, sec, at, crm.Visit{TicketID: f.id, Number: f.display, Service: f.service,
		Counter: f.counter, IssuedAt: f.issued, CalledAt: f.called, FinishedAt: f.ended, Agent: f.agent})
	return err
}

// facts is what the log says of one ticket.
type facts struct {
	id, service, citizen, call, callback, display, counter, agent string
	channel                                                       queue.Channel
	state                                                         queue.State
	issued, called, ended                                         time.Time
}

// facts folds a ticket's history from the log: it holds even after the
// queue let the ticket go.
func (s *Service) facts(ctx context.Context, ticket string) (facts, error) {
	evs, err := s.h.Store().TicketEvents(ctx, ticket)
	if err != nil {
		return facts{}, err
	}
	f := facts{id: ticket}
	for _, ev := range evs {
		switch ev.Type {
		case queue.TicketIssued:
			f.service, f.citizen, f.call, f.callback, f.channel = ev.Service, ev.Citizen, ev.Call, ev.Callback, ev.Channel
			f.display, f.issued, f.state = api.FormatNumber(ev.Service, ev.Number), ev.At, queue.Waiting
			if !ev.IssuedAt.IsZero() && ev.IssuedAt.Before(ev.At) {
				f.issued = ev.IssuedAt
			}
		case queue.TicketCalled:
			f.called, f.counter, f.agent, f.state = ev.At, ev.Counter, ev.Agent, queue.Called
		case queue.TicketTransferred:
			f.service, f.state = ev.Service, queue.Waiting
		case queue.TicketServed:
			f.ended, f.state = ev.At, queue.Done
		case queue.TicketCancelled, queue.TicketNoShow:
			f.ended, f.state = ev.At, queue.Cancelled
		case queue.CitizenAttached:
			f.citizen = ev.Citizen
		case queue.CitizenErased:
			if f.citizen == ev.Citizen {
				f.citizen = ""
			}
		}
	}
	return f, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
