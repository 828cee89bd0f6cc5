package forecast

import (
	"errors"
	"testing"
	"time"

	"guichet/hub/queue"
)

// The arrivals are the tickets issued (an offline one at the time it was
// printed); the waits end at the first call, given up when the ticket was
// cancelled before it or its citizen was not there; the log is read page by
// page until a short page.
func TestFromLogReadsArrivalsAndWaitsPageByPage(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	var log []queue.Event
	add := func(e queue.Event) { e.Seq = int64(len(log) + 1); log = append(log, e) }
	add(queue.Event{Type: queue.TicketIssued, Ticket: "a", Service: "A", At: m(0)})
	add(queue.Event{Type: queue.TicketIssued, Ticket: "b", Service: "A", At: m(5), IssuedAt: m(1)}) // printed offline at 9:01
	add(queue.Event{Type: queue.TicketIssued, Ticket: "c", Service: "E", At: m(2)})
	add(queue.Event{Type: queue.TicketCalled, Ticket: "a", At: m(10)})
	add(queue.Event{Type: queue.TicketCalled, Ticket: "a", At: m(12)}) // a recall: the wait ended at the first call
	add(queue.Event{Type: queue.TicketServed, Ticket: "a", At: m(20)})
	add(queue.Event{Type: queue.TicketCancelled, Ticket: "c", At: m(9)})
	add(queue.Event{Type: queue.TicketCalled, Ticket: "b", At: m(21)})
	add(queue.Event{Type: queue.TicketNoShow, Ticket: "b", At: m(23)})
	var pages int
	full := func(after int64, limit int) ([]queue.Event, error) {
		pages++
		var out []queue.Event
		for _, e := range log {
			if e.Seq > after && len(out) < limit {
				out = append(out, e)
			}
		}
		return out, nil
	}
	arrivals, waits, err := FromLog(full)
	if err != nil {
		t.Fatal(err)
	}
	want := []Arrival{{Service: "A", At: m(0)}, {Service: "A", At: m(1)}, {Service: "E", At: m(2)}}
	if len(arrivals) != len(want) {
		t.Fatalf("arrivals %v, want %v", arrivals, want)
	}
	for i := range want {
		if arrivals[i] != want[i] {
			t.Errorf("arrival %d = %v, want %v", i, arrivals[i], want[i])
		}
	}
	wantW := []Wait{{Service: "A", Waited: 10 * time.Minute}, {Service: "E", Waited: 7 * time.Minute, GaveUp: true}, {Service: "A", Waited: 20 * time.Minute, GaveUp: true}}
	if len(waits) != len(wantW) {
		t.Fatalf("waits %v, want %v", waits, wantW)
	}
	for i := range wantW {
		if waits[i] != wantW[i] {
			t.Errorf("wait %d = %v, want %v", i, waits[i], wantW[i])
		}
	}
	if pages != 1 {
		t.Errorf("%d pages read for a log shorter than a page", pages)
	}
	// A log longer than a page is read to its end.
	for n := range 6000 {
		add(queue.Event{Type: queue.TicketIssued, Ticket: "x" + string(rune('a'+n%26)) + time.Duration(n).String(), Service: "A", At: m(30)})
	}
	pages = 0
	if arrivals, _, err = FromLog(full); err != nil || len(arrivals) != 6003 || pages != 2 {
		t.Errorf("a log of two pages: %d arrivals in %d pages, %v", len(arrivals), pages, err)
	}
	refused := errors.New("disk")
	if _, _, err := FromLog(func(int64, int) ([]queue.Event, error) { return nil, refused }); !errors.Is(err, refused) {
		t.Errorf("a read error: %v", err)
	}
}
