package hub

import (
	"context"
	"fmt"
	"strings"

	"guichet/hub/queue"
	"guichet/hub/store"
)

// Which site wins at start. The site file seeds the site; what is changed
// in the browser is an event, and wins over the file for as long as the
// file stays as it was. The log records the file's hash with the site it
// loaded (site.loaded), and at each start:
//
//   - a log that records no file (a new database, or one an older build
//     wrote) loads the file as it is;
//   - the same file as last loaded changes nothing: the site is the log's,
//     with every change made in the browser since;
//   - a changed file is loaded whole (site.loaded): it replaces the site,
//     and what the browser had changed since the last load is lost; a
//     warning lists those changes.
//
// Without a hash (a hub started from a site built in code) the log's site
// wins whatever the site given.

// seedSite applies the rule above, before the writer starts.
func (h *Hub) seedSite(site queue.Site, hash string) error {
	recorded := h.eng.SiteHash()
	if recorded == hash {
		h.log.Info("site: the file is unchanged since it was last loaded; the site is the log's, with the changes made in the browser")
		return nil
	}
	if recorded != "" {
		changes, err := h.st.SiteChangesSinceLoad(context.Background())
		if err != nil {
			return fmt.Errorf("read the site's changes: %w", err)
		}
		if len(changes) > 0 {
			h.log.Warn("site: the site file changed since it was last loaded: it replaces the site, and these changes made in the browser are overridden (make them again, or in the file)",
				"changes", len(changes), "overridden", describeChanges(h.eng, changes))
		} else {
			h.log.Info("site: the site file changed since it was last loaded: loaded")
		}
	}
	evs, err := h.eng.LoadSite(queue.By{At: h.clock().Round(0), Actor: "file"}, site, hash)
	if err != nil {
		return fmt.Errorf("load the site file: %w", err)
	}
	if err := h.st.Append([]*store.Record{{Events: evs}}); err != nil {
		return fmt.Errorf("record the site file: %w", err)
	}
	return nil
}

// describeChanges writes changes for a person: "service.saved A by admin
// at 2026-12-01 10:02".
func describeChanges(e *queue.Engine, evs []queue.Event) string {
	parts := make([]string, 0, len(evs))
	for _, ev := range evs {
		what := ev.Service + ev.Counter + ev.Agent
		if what != "" {
			what = " " + what
		}
		parts = append(parts, fmt.Sprintf("%s%s by %s at %s", ev.Type, what, ev.Actor,
			ev.At.In(e.Site().Location).Format("2006-01-02 15:04")))
	}
	return strings.Join(parts, "; ")
}
