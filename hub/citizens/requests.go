package citizens

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"guichet/hub/crm"
	"guichet/hub/queue"
)

// Every change of a request — registered, moved on a step or a status,
// suspended for missing documents, documents received, decided, imported
// from another platform — is written to the event log once crm.db holds it
// (request.registered, request.status_changed: ids and facts only, see
// queue.RequestFacts), so that the central CRM and the GRU follow the
// town's requests as they follow its tickets.
//
// Order: reqMu is held from the change in crm.db to its event in the log,
// so the log has a request's changes in the order crm.db made them. If
// the log refuses the event (the disk full), the event waits in memory and
// is written, in order and before any later one, as soon as the log takes
// events again. If the hub dies between the two writes, the change is in
// crm.db and not in the log: the hub keeps, as a cursor in guichet.db
// (requestMark), the time of the last change whose event the log took;
// at start it logs request.status_changed, with the request as it now
// stands, for every request crm.db changed after that mark
// (repairRequests).

// OpenRequest registers a request (at the counter, from a letter or an
// e-mail) with its legal dates, and logs request.registered.
func (s *Service) OpenRequest(ctx context.Context, v crm.Viewer, citizen string, r crm.NewRequest) (crm.Request, error) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	out, err := s.crm.OpenRequest(ctx, v, citizen, r)
	if err != nil {
		return out, err
	}
	s.logRequest(ctx, v.ID, queue.RequestRegistered, out, "")
	return out, nil
}

// UpdateRequest moves a request on (its status, its step) and logs
// request.status_changed when something changed.
func (s *Service) UpdateRequest(ctx context.Context, v crm.Viewer, id string, c crm.Change) (crm.Request, error) {
	return s.change(ctx, v, id, func() (crm.Request, error) { return s.crm.UpdateRequest(ctx, v, id, c) })
}

// AskDocuments suspends a request for missing documents, to come by due.
func (s *Service) AskDocuments(ctx context.Context, v crm.Viewer, id, pieces string, due time.Time) (crm.Request, error) {
	return s.change(ctx, v, id, func() (crm.Request, error) { return s.crm.AskDocuments(ctx, v, id, pieces, due) })
}

// DocumentsReceived records that the missing documents came at at.
func (s *Service) DocumentsReceived(ctx context.Context, v crm.Viewer, id string, at time.Time) (crm.Request, error) {
	return s.change(ctx, v, id, func() (crm.Request, error) { return s.crm.DocumentsReceived(ctx, v, id, at) })
}

// Kinds lists the kinds of request v may register (their sectors'), with
// their regime and delay: the console's choice.
func (s *Service) Kinds(v crm.Viewer) []crm.Kind { return s.crm.KindsFor(v) }

// Location is the site's time zone: the civil days of the legal dates.
func (s *Service) Location() *time.Location { return s.crm.Site().Location }

// change runs a change of request id and logs it if the request moved.
func (s *Service) change(ctx context.Context, v crm.Viewer, id string, fn func() (crm.Request, error)) (crm.Request, error) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	before, err := s.crm.RequestForLog(ctx, system, id)
	if err != nil && !errors.Is(err, crm.ErrNotFound) {
		return crm.Request{}, err
	}
	out, err := fn()
	if err != nil {
		return out, err
	}
	if moved(before, out) {
		s.logRequest(ctx, v.ID, queue.RequestStatusChanged, out, "")
	}
	return out, nil
}

// moved tells whether a change made request a into b: its state, its
// suspensions, or its last change's time (to the millisecond crm.db
// keeps).
func moved(a, b crm.Request) bool {
	sa, _ := json.Marshal(a.Suspensions)
	sb, _ := json.Marshal(b.Suspensions)
	return a.Status != b.Status || a.Step != b.Step || a.StepNo != b.StepNo || a.MaxSteps != b.MaxSteps ||
		!bytes.Equal(sa, sb) || a.UpdatedAt.UnixMilli() != b.UpdatedAt.UnixMilli()
}

// Import takes a request another platform pushes (our JSON or a Lutece GRU
// notification); v is the platform's system identity. A body over
// crm.MaxImportBody is refused unread. A request created or changed is
// logged with its source, and with origin "lutece" when the body was a
// Lutece notification (the Lutece connector does not send it back).
func (s *Service) Import(ctx context.Context, v crm.Viewer, platform string, body []byte) (crm.ImportResult, error) {
	if len(body) > crm.MaxImportBody {
		return crm.ImportResult{}, crm.ErrTooLarge
	}
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	res, err := s.crm.Import(ctx, v, platform, body)
	if err != nil {
		return res, err
	}
	s.logImported(ctx, v.ID, res, luteceBody(body))
	return res, nil
}

// ResolvePending files a pending import in the file an agent chose (a new
// file from its identity when citizen is empty), and logs the request.
func (s *Service) ResolvePending(ctx context.Context, v crm.Viewer, pending, citizen string) (crm.ImportResult, error) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	res, err := s.crm.ResolvePending(ctx, v, pending, citizen)
	if err != nil {
		return res, err
	}
	s.logImported(ctx, v.ID, res, "")
	return res, nil
}

// logImported logs what an import did to a request.
func (s *Service) logImported(ctx context.Context, actor string, res crm.ImportResult, origin string) {
	typ := queue.RequestStatusChanged
	switch res.Outcome {
	case crm.ImportCreated:
		typ = queue.RequestRegistered
	case crm.ImportUpdated:
	default:
		return // unchanged, pending: nothing happened to a request
	}
	r, err := s.crm.RequestForLog(ctx, system, res.Request)
	if err != nil {
		s.log.Error("citizens: read an imported request for its event; not logged", "request", res.Request, "err", err)
		return
	}
	s.logRequest(ctx, actor, typ, r, origin)
}

// luteceBody tells whether an import's body is a Lutece GRU notification
// (as crm reads it: {"notification": …} or a bare notification with its
// demand).
func luteceBody(body []byte) string {
	var probe map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(body), &probe) != nil {
		return ""
	}
	if _, ok := probe["notification"]; ok {
		return "lutece"
	}
	if _, ok := probe["demand"]; ok {
		return "lutece"
	}
	return ""
}

// requestEvent is the log's event for request r as it now stands.
func requestEvent(typ queue.EventType, r crm.Request, origin string) queue.Event {
	return queue.Event{Type: typ, Citizen: r.Citizen, Request: &queue.RequestFacts{
		ID: r.ID, Kind: r.Kind, Sector: string(r.Sector), Channel: r.Channel, Status: string(r.Status),
		Step: r.Step, StepNo: r.StepNo, MaxSteps: r.MaxSteps, ReceivedAt: r.ReceivedAt, DecisionAt: r.Implicit.At,
		Regime: string(r.Implicit.Regime), ClosedAt: r.ClosedAt, Source: r.Source, Origin: origin}}
}

// pendingEvent is a request event the log has not taken yet, and the
// time of its change in crm.db.
type pendingEvent struct {
	actor   string
	ev      queue.Event
	updated time.Time
}

// requestMark is the cursor (hub/store) holding the time, in milliseconds,
// of the last request change whose event the log took.
const requestMark = "crm-request-events"

// repairRequests logs the request changes crm.db holds and the log does
// not (the hub died between the two writes). The first start after the
// feature came sets the mark to now: what was before is not sent.
func (s *Service) repairRequests(ctx context.Context) error {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	mark, err := s.h.Store().Cursor(requestMark)
	if err != nil {
		return fmt.Errorf("read the requests' mark: %w", err)
	}
	if mark == 0 {
		s.reqMark = s.h.Now().UnixMilli()
		if err := s.h.Store().SetCursor(requestMark, s.reqMark); err != nil {
			return fmt.Errorf("set the requests' mark: %w", err)
		}
		return nil
	}
	s.reqMark = mark
	for {
		rs, err := s.crm.ChangedSince(ctx, system, time.UnixMilli(s.reqMark), 500)
		if err != nil {
			return fmt.Errorf("requests changed since the mark: %w", err)
		}
		for _, r := range rs {
			s.log.Warn("citizens: a request's change was not in the log (the hub stopped between the two); logged now", "request", r.ID)
			s.reqPending = append(s.reqPending, pendingEvent{actor: system.ID, ev: requestEvent(queue.RequestStatusChanged, r, ""), updated: r.UpdatedAt})
		}
		before := s.reqMark
		s.flushRequests(ctx)
		if len(s.reqPending) > 0 {
			return errors.New("the log refuses events")
		}
		if len(rs) < 500 || s.reqMark == before {
			return nil
		}
	}
}

// logRequest writes a request's event after the ones still waiting; one
// the log refuses waits in memory (reqMu held).
func (s *Service) logRequest(ctx context.Context, actor string, typ queue.EventType, r crm.Request, origin string) {
	s.reqPending = append(s.reqPending, pendingEvent{actor: actor, ev: requestEvent(typ, r, origin), updated: r.UpdatedAt})
	s.flushRequests(ctx)
}

// flushRequests writes the waiting request events, in order (reqMu held).
func (s *Service) flushRequests(ctx context.Context) {
	for len(s.reqPending) > 0 {
		p := s.reqPending[0]
		_, err := s.do(ctx, p.actor, "log_request", func(_ *queue.Engine, by queue.By) ([]queue.Event, error) {
			ev := p.ev
			ev.At, ev.Actor = by.At, by.Actor
			return []queue.Event{ev}, nil
		})
		if err != nil {
			s.log.Error("citizens: a request's event could not be logged; tried again", "request", p.ev.Request.ID, "type", p.ev.Type, "err", err)
			return
		}
		s.reqPending = s.reqPending[1:]
		if m := p.updated.UnixMilli(); m > s.reqMark {
			if err := s.h.Store().SetCursor(requestMark, m); err != nil {
				s.log.Warn("citizens: save the requests' mark", "err", err)
				continue
			}
			s.reqMark = m
		}
	}
}

// retryRequests writes the request events the log could not take.
func (s *Service) retryRequests(ctx context.Context) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if len(s.reqPending) > 0 {
		s.flushRequests(ctx)
	}
}
