package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/hub/queue"
)

// The supervision's alerts are read back at every start from among the
// whole log: AlertEvents gives them alone, in order, after a sequence, and
// SQLite finds them through their index, not by reading every event.
func TestAlertEventsAreFoundThroughTheirIndex(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hub.db"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var evs []queue.Event
	for i := range 50 {
		evs = append(evs, queue.Event{At: at, Type: queue.TicketIssued, Ticket: "t" + string(rune('a'+i%26))})
		if i%20 == 5 {
			evs = append(evs, queue.Event{At: at, Type: "alert.raised", Reason: "device_offline", Device: "screen"})
		}
		if i%20 == 15 {
			evs = append(evs, queue.Event{At: at, Type: "alert.cleared", Reason: "device_offline", Device: "screen"})
		}
	}
	if err := s.Append([]*Record{{Events: evs}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AlertEvents(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range got {
		types = append(types, string(ev.Type))
	}
	if strings.Join(types, " ") != "alert.raised alert.cleared alert.raised alert.cleared alert.raised" {
		t.Fatalf("alert events: %v", types)
	}
	if after, _ := s.AlertEvents(context.Background(), got[2].Seq); len(after) != 2 || after[0].Seq != got[3].Seq {
		t.Fatalf("after %d: %+v", got[2].Seq, after)
	}
	var plan strings.Builder
	rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+alertEvents, 0)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, parent, unused int
		var detail string
		rows.Scan(&id, &parent, &unused, &detail)
		plan.WriteString(detail + "\n")
	}
	rows.Close()
	if !strings.Contains(plan.String(), "events_alerts") {
		t.Fatalf("the alerts are not read through their index:\n%s", plan.String())
	}
}
