package citizens

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"guichet/hub"
	"guichet/hub/audit"
	"guichet/hub/crm"
	"guichet/hub/queue"
)

// The functions the HTTP API and the console will call. Each takes the
// caller's identity as the citizen file knows it (crm.Viewer: the account,
// its role, the sectors of its services, the client's address), built by
// the API layer from the signed-in account; the citizen file checks rights
// and writes the audit entry. Errors are the citizen file's: ErrNotFound
// (a denied read too), ErrInvalid and ErrPhone, ErrTooLarge, ErrForbidden,
// ErrRestricted.

// Search finds citizens by name, phone number (any writing) or e-mail.
func (s *Service) Search(ctx context.Context, v crm.Viewer, q string, limit int) ([]crm.Match, error) {
	return s.crm.Search(ctx, v, q, limit)
}

// File is a citizen's file as the console shows it beside the ticket.
type File struct {
	Citizen  crm.Citizen   `json:"citizen"`
	Timeline []crm.Entry   `json:"timeline"` // the newest entries the viewer may see
	Requests []crm.Request `json:"requests"` // those of the viewer's sectors
}

// File returns who a citizen is, their newest timeline entries (at most
// limit, 50 if zero) and their requests, as v may see them.
func (s *Service) File(ctx context.Context, v crm.Viewer, citizen string, limit int) (File, error) {
	var f File
	var err error
	if f.Citizen, err = s.crm.Citizen(ctx, v, citizen); err != nil {
		return File{}, err
	}
	if f.Timeline, err = s.crm.Timeline(ctx, v, f.Citizen.ID, limit); err != nil {
		return File{}, err
	}
	if f.Requests, err = s.crm.Requests(ctx, v, f.Citizen.ID); err != nil {
		return File{}, err
	}
	return f, nil
}

// CreateCitizen files a new citizen (created at the counter in a few
// keystrokes, or from the screen pop of an unknown number), with the files
// that may be the same person.
func (s *Service) CreateCitizen(ctx context.Context, v crm.Viewer, c crm.Citizen) (crm.Citizen, []crm.Duplicate, error) {
	return s.crm.CreateCitizen(ctx, v, c)
}

// Timeline returns a citizen's newest timeline entries v may see.
func (s *Service) Timeline(ctx context.Context, v crm.Viewer, citizen string, limit int) ([]crm.Entry, error) {
	return s.crm.Timeline(ctx, v, citizen, limit)
}

// AddNote writes an agent's note in one of their sectors.
func (s *Service) AddNote(ctx context.Context, v crm.Viewer, citizen string, sector crm.Sector, text string) (crm.Entry, error) {
	return s.crm.AddNote(ctx, v, citizen, sector, text)
}

// Requests returns a citizen's requests v may see.
func (s *Service) Requests(ctx context.Context, v crm.Viewer, citizen string) ([]crm.Request, error) {
	return s.crm.Requests(ctx, v, citizen)
}

// Attach attaches a ticket to a citizen's file: v must be able to read the
// file (the read is audited); the queue then records the ticket as that
// citizen's (ticket.citizen_attached, an opaque id), and the ticket's visit
// or call is filed in the timeline when it ends (or at once, if it has).
func (s *Service) Attach(ctx context.Context, v crm.Viewer, ticket, citizen string) error {
	c, err := s.crm.Citizen(ctx, v, citizen)
	if err != nil {
		return err
	}
	_, err = s.do(ctx, v.ID, "attach_citizen", func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		return e.AttachCitizen(by, ticket, c.ID)
	})
	return err
}

// Export returns everything held about a citizen (the DPO), with the
// audit log's entries about the file, the files merged into it, its
// requests and its calls: who read or changed what, when (this export
// included).
func (s *Service) Export(ctx context.Context, v crm.Viewer, citizen string) (crm.Export, error) {
	x, err := s.crm.Export(ctx, v, citizen)
	if err != nil {
		return x, err
	}
	objects := append([]string{x.Citizen.ID}, x.Merged...)
	for _, r := range x.Requests {
		objects = append(objects, r.ID)
	}
	for _, c := range x.Calls {
		objects = append(objects, c.Ticket)
	}
	seen := map[int64]bool{}
	var all []audit.Entry
	for _, id := range objects {
		es, err := s.o.Audit.Entries(ctx, audit.Filter{ObjectID: id, Limit: 10_000})
		if err != nil {
			return crm.Export{}, fmt.Errorf("export %s: its audit entries: %w", x.Citizen.ID, err)
		}
		for _, e := range es {
			if !seen[e.Seq] {
				seen[e.Seq] = true
				all = append(all, e)
			}
		}
	}
	slices.SortFunc(all, func(a, b audit.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range all {
		x.Accesses = append(x.Accesses, crm.Access{At: e.At, Actor: e.Actor, Role: e.Role, Action: e.Action,
			Object: e.Object, ObjectID: e.ObjectID, Outcome: string(e.Outcome)})
	}
	return x, nil
}

// Erase erases a citizen's file (the DPO) and records its tombstone in the
// event log (citizen.erased: the ids of the file and of the files merged
// into it, nothing else), so that the central CRM erases too. If the log
// cannot take the tombstone now, the file is erased all the same and the
// tombstone is written as soon as the log takes it again (while the hub
// runs).
func (s *Service) Erase(ctx context.Context, v crm.Viewer, citizen string) (crm.Tombstone, error) {
	t, err := s.crm.Erase(ctx, v, citizen)
	if err != nil {
		return crm.Tombstone{}, err
	}
	if err := s.tombstone(ctx, t); err != nil {
		s.log.Error("citizens: the erasure's tombstone could not be written; tried again", "citizen", t.Citizen, "err", err)
		s.mu.Lock()
		s.tombstones = append(s.tombstones, t)
		s.mu.Unlock()
	}
	return t, nil
}

func (s *Service) tombstone(ctx context.Context, t crm.Tombstone) error {
	ids := append([]string{t.Citizen}, t.Merged...)
	_, err := s.do(ctx, t.By, "erase_citizen", func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
		return e.EraseCitizen(by, ids...)
	})
	return err
}

// retryTombstones writes the tombstones the log could not take.
func (s *Service) retryTombstones(ctx context.Context) {
	s.mu.Lock()
	pending := s.tombstones
	s.tombstones = nil
	s.mu.Unlock()
	for i, t := range pending {
		if err := s.tombstone(ctx, t); err != nil {
			s.mu.Lock()
			s.tombstones = append(s.tombstones, pending[i:]...)
			s.mu.Unlock()
			return
		}
		s.log.Info("citizens: a delayed tombstone was written", "citizen", t.Citizen)
	}
}

// do runs an engine operation through the hub for actor.
func (s *Service) do(ctx context.Context, actor, name string, run func(e *queue.Engine, by queue.By) ([]queue.Event, error)) ([]queue.Event, error) {
	r, err := s.h.Do(ctx, "", actor, hub.Action{Name: name, Run: run}, func(hub.Outcome, json.RawMessage) []byte { return nil })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !r.Done() {
		return nil, &queue.Error{Code: r.Code, Message: r.Message}
	}
	return r.Events, nil
}

// Acknowledge writes a request's acknowledgement of receipt (recorded as
// issued the first time), for the printable page or the PDF.
func (s *Service) Acknowledge(ctx context.Context, v crm.Viewer, request string) (crm.Ack, error) {
	return s.crm.Acknowledge(ctx, v, request)
}

// DueWithin lists the open requests of v's sectors whose implicit
// decision is born within d: the supervision's list.
func (s *Service) DueWithin(ctx context.Context, v crm.Viewer, d time.Duration) ([]crm.Request, error) {
	return s.crm.DueWithin(ctx, v, d)
}

// PurgePlan lists what a purge would remove now, removing nothing (the
// DPO's dry run).
func (s *Service) PurgePlan(ctx context.Context, v crm.Viewer) (crm.PurgePlan, error) {
	return s.crm.Purge(ctx, v, true)
}

// UpdateCitizen changes who a citizen is (the fields given replace the
// stored ones).
func (s *Service) UpdateCitizen(ctx context.Context, v crm.Viewer, c crm.Citizen) (crm.Citizen, error) {
	return s.crm.UpdateCitizen(ctx, v, c)
}

// Duplicates lists the files that may be the same person as citizen.
func (s *Service) Duplicates(ctx context.Context, v crm.Viewer, citizen string) ([]crm.Duplicate, error) {
	return s.crm.Duplicates(ctx, v, citizen)
}

// Merge merges the file away into keep (an agent's decision).
func (s *Service) Merge(ctx context.Context, v crm.Viewer, keep, away string) (crm.Citizen, error) {
	return s.crm.Merge(ctx, v, keep, away)
}

// PendingImports lists the imported requests no single citizen matched.
func (s *Service) PendingImports(ctx context.Context, v crm.Viewer) ([]crm.PendingImport, error) {
	return s.crm.PendingImports(ctx, v)
}

// WrapUpCall writes the wrap-up of the call of ticket (outcome, note) as
// v, the site agent agent ("" for none): see crm.Store.WrapUpCall.
func (s *Service) WrapUpCall(ctx context.Context, v crm.Viewer, agent, ticket string, w crm.WrapUp, note string) (crm.CallRecord, error) {
	return s.crm.WrapUpCall(ctx, v, agent, ticket, w, note)
}
