package queue

import (
	"encoding/json"
	"testing"
	"time"
)

// The hub keeps a snapshot in memory to roll its engine back after a failed
// commit, and may restore from it more than once: what the engine does
// after a Restore must not reach into the snapshot.
func TestRestoreLeavesTheSnapshotUntouched(t *testing.T) {
	h := newHarness(t, testSite())
	h.issue(issueReq{Service: "A"})
	h.must(func(b By) ([]Event, error) { return h.e.GrantLease(b, "kiosk-1", "A", "2026-11-17", 10) })
	snap := h.e.Snapshot()
	before, _ := json.Marshal(snap)

	h.e.Restore(snap)
	h.issue(issueReq{ID: "off-1", Service: "A", Device: "kiosk-1", OfflineNumber: OfflineFrom, IssuedAt: h.now.Add(-time.Minute)})
	if after, _ := json.Marshal(snap); string(after) != string(before) {
		t.Fatalf("using a number leased after Restore changed the snapshot restored:\nbefore %s\nafter  %s", before, after)
	}
}
