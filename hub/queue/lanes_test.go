package queue

import (
	"slices"
	"testing"

	"guichet/hub/api"
)

func TestUnservedNamesLanesNoStaffingCanServe(t *testing.T) {
	site := testSite()
	if got := site.Unserved(nil); len(got) != 0 {
		t.Fatalf("test site: every lane can be served, got %v", got)
	}
	// Nobody is skilled for C: both its lanes are unserved whatever the staffing.
	for i := range site.Agents {
		delete(site.Agents[i].Skills, "C")
	}
	want := []Lane{{"C", Visit}, {"C", Phone}}
	if got := site.Unserved(nil); !slices.Equal(got, want) {
		t.Fatalf("Unserved(nil) = %v, want %v", got, want)
	}
	// No counter takes phone calls: every phone lane is unserved.
	site = testSite()
	site.Counters = site.Counters[:2]
	want = []Lane{{"A", Phone}, {"C", Phone}}
	if got := site.Unserved(nil); !slices.Equal(got, want) {
		t.Fatalf("without a phone position: %v, want %v", got, want)
	}
}

func TestUnservedWithAStaffing(t *testing.T) {
	site := testSite()
	// bob (B only) at the phone position: A and C by phone wait forever.
	staff := map[string]string{"1": "ana", "2": "carl", "9": "bob"}
	want := []Lane{{"A", Phone}, {"C", Phone}}
	if got := site.Unserved(staff); !slices.Equal(got, want) {
		t.Fatalf("Unserved = %v, want %v", got, want)
	}
	staff["9"] = "pat"
	if got := site.Unserved(staff); len(got) != 0 {
		t.Fatalf("with pat on the phone: %v, want none", got)
	}
}

func TestUnservedNowFollowsTheOpenCounters(t *testing.T) {
	h := newHarness(t, testSite())
	all := []Lane{{"A", Visit}, {"A", Phone}, {"B", Visit}, {"C", Visit}, {"C", Phone}}
	if got := h.e.UnservedNow(); !slices.Equal(got, all) {
		t.Fatalf("nobody signed in: %v, want %v", got, all)
	}
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "1", api.OpenArgs{Agent: "ana"}) })
	h.must(func(b By) ([]Event, error) { return h.e.OpenCounter(b, "9", api.OpenArgs{Agent: "pat"}) })
	want := []Lane{{"C", Visit}}
	if got := h.e.UnservedNow(); !slices.Equal(got, want) {
		t.Fatalf("ana at 1, pat on the phone: %v, want %v", got, want)
	}
}
