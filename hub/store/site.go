package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"guichet/hub/queue"
)

// SiteFacts is what the hub last said of its site, kept in the database so
// that commands run without the site file (guichet device) can check a
// counter and show times in the site's zone.
type SiteFacts struct {
	Timezone string   `json:"timezone"`
	Counters []string `json:"counters"`
}

// SetSiteFacts records the site's facts; the hub calls it at every start.
func (s *Store) SetSiteFacts(f SiteFacts) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if _, err := s.w.Exec(`INSERT INTO meta(key, value) VALUES ('site_facts', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, string(b)); err != nil {
		return fmt.Errorf("record the site's facts: %w", err)
	}
	return nil
}

// SiteFacts returns what the hub last recorded of its site; ok is false
// when no hub has started on the database since the facts were kept.
func (s *Store) SiteFacts() (f SiteFacts, ok bool, err error) {
	v, err := s.meta("site_facts")
	if err != nil || v == "" {
		return f, false, err
	}
	if err := json.Unmarshal([]byte(v), &f); err != nil {
		return f, false, fmt.Errorf("read the site's facts: %w", err)
	}
	return f, true, nil
}

// SiteChangesSinceLoad returns the changes of the site (queue.IsSiteChange)
// logged after the last site.loaded, in order: what was changed in the
// browser since the site file was last loaded.
func (s *Store) SiteChangesSinceLoad(ctx context.Context) ([]queue.Event, error) {
	types := []string{}
	args := []any{string(queue.SiteLoaded)}
	for _, t := range []queue.EventType{queue.SettingsSaved, queue.PauseReasonsSaved, queue.ServiceSaved, queue.ServiceRemoved,
		queue.ServiceClosed, queue.ServiceReopened, queue.CounterSaved, queue.CounterRemoved, queue.AgentSaved,
		queue.AgentRemoved, queue.BoardMessageSet} {
		types = append(types, "?")
		args = append(args, string(t))
	}
	return s.query(ctx, `SELECT seq, payload FROM events WHERE seq > COALESCE((SELECT MAX(seq) FROM events WHERE type = ?), 0)
		AND type IN (`+strings.Join(types, ",")+`) ORDER BY seq`, args...)
}
