package bus

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/queue"
)

// Offline numbers: every enabled kiosk holds, for each service taking
// visits, today and tomorrow, at least half of Options.OfflineNumbers
// numbers the hub will never hand out itself, granted that many at a time.

// DefaultOfflineNumbers is a kiosk's reserve per service and day.
const DefaultOfflineNumbers = 50

type grant struct{ device, service, day string }

// maintainLeases grants the kiosks the numbers they are short of; false if
// a grant failed.
func (b *Bus) maintainLeases(ctx context.Context, kiosks []string) bool {
	now := b.hub.Now()
	var need []grant
	b.hub.Read(func(e *queue.Engine) {
		days := leaseDays(e, now)
		for _, id := range kiosks {
			leases := e.Leases(id)
			for _, s := range e.Site().Services {
				if !s.Takes(queue.Visit) {
					continue
				}
				for _, day := range days {
					free := 0
					for _, l := range leases {
						if l.Service == s.ID && l.Day == day {
							free += l.Free()
						}
					}
					if free < b.offline/2 {
						need = append(need, grant{id, s.ID, day})
					}
				}
			}
		}
	})
	ok := true
	for _, g := range need {
		if _, err := b.hub.Do(ctx, "", "hub", hub.GrantLease(g.device, g.service, g.day, b.offline), discard); err != nil {
			b.log.Warn("grant lease", "device", g.device, "service", g.service, "day", g.day, "err", err)
			ok = false
		}
	}
	return ok
}

func discard(hub.Outcome, json.RawMessage) []byte { return nil }

// leaseDays are today and tomorrow, local to the site.
func leaseDays(e *queue.Engine, now time.Time) []string {
	t := now.In(e.Site().Location)
	tomorrow := time.Date(t.Year(), t.Month(), t.Day()+1, 12, 0, 0, 0, t.Location())
	return []string{e.Day(t), e.Day(tomorrow)}
}

// leaseView is the retained lease/{device} message.
func leaseView(e *queue.Engine, device string) api.Leases {
	v := api.Leases{Device: device, Blocks: []api.Block{}}
	for _, l := range e.Leases(device) {
		blk := api.Block{Service: l.Service, Day: l.Day, From: l.From, To: l.To}
		for n := range l.Used {
			blk.Used = append(blk.Used, n)
		}
		slices.Sort(blk.Used)
		v.Blocks = append(v.Blocks, blk)
	}
	return v
}
