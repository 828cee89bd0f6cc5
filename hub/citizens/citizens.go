// Package citizens is the hub's side of the citizen file (hub/crm): it
// follows the event log into citizens' timelines (the visit of a ticket
// attached to a citizen, once it is served; a call attached after it
// ended), runs the daily purge of the citizen file and of the audit log
// with their elimination records, records each erasure in the event log as
// a tombstone (citizen.erased, ids only) for the central CRM, and offers
// the API layer the file's functions, each with the caller's identity.
//
// The queue engine knows a citizen only by an opaque id on a ticket; what
// the file holds stays in crm.db. One goroutine follows the log, from a
// durable cursor; the citizen file's own writer makes every change.
package citizens

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"guichet/hub"
	"guichet/hub/audit"
	"guichet/hub/crm"
)

// Options sets the service up.
type Options struct {
	Hub   *hub.Hub
	Store *crm.Store
	Audit *audit.Log
	// Sectors: service → the sector its visits are filed under (accueil
	// for a service it does not name).
	Sectors map[string]crm.Sector
	// PurgeHour and PurgeMinute: the local time of the daily purge.
	PurgeHour, PurgeMinute int
	Log                    *slog.Logger
}

// system is the hub in the citizen file.
var system = crm.Viewer{ID: "hub", Role: crm.RoleSystem}

// Service is the hub's side of one site's citizen file.
type Service struct {
	o   Options
	h   *hub.Hub
	crm *crm.Store
	log *slog.Logger

	mu         sync.Mutex
	tombstones []crm.Tombstone // erasures whose tombstone the log has not taken yet
	lastPurge  PurgeReport

	reqMu      sync.Mutex     // from a request's change in crm.db to its event in the log (requests.go)
	reqPending []pendingEvent // request events the log has not taken yet, in order
	reqMark    int64          // the requests' mark (requests.go), in ms
}

// New returns the service; Run starts its goroutines.
func New(o Options) (*Service, error) {
	if o.Hub == nil || o.Store == nil || o.Audit == nil {
		return nil, errors.New("citizens: a hub, the citizen file and the audit log are required")
	}
	if o.PurgeHour < 0 || o.PurgeHour > 23 || o.PurgeMinute < 0 || o.PurgeMinute > 59 {
		return nil, fmt.Errorf("citizens: purge time %02d:%02d is not a time of day", o.PurgeHour, o.PurgeMinute)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Service{o: o, h: o.Hub, crm: o.Store, log: o.Log}, nil
}

// Run follows the event log and runs the daily purge until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if err := s.repairRequests(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("citizens: repair the request events a stop lost", "err", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.follow(ctx) }()
	go func() { defer wg.Done(); s.daily(ctx) }()
	wg.Wait()
	return nil
}

// sector returns the sector of a service's visits.
func (s *Service) sector(service string) crm.Sector {
	if sec, ok := s.o.Sectors[service]; ok {
		return sec
	}
	return crm.SectorAccueil
}

// NextPurge returns when the daily purge runs next after now: at the set
// time of day in loc, today if it is still ahead, tomorrow otherwise (a
// day of a clock change included: the time of day is kept).
func NextPurge(now time.Time, loc *time.Location, hour, minute int) time.Time {
	local := now.In(loc)
	at := time.Date(local.Year(), local.Month(), local.Day(), hour, minute, 0, 0, loc)
	if !at.After(now) {
		at = time.Date(local.Year(), local.Month(), local.Day()+1, hour, minute, 0, 0, loc)
	}
	return at
}
