package link

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// The outbox counts its journal in memory, and writes its cache of retained
// topics behind: a payload is readable at once, only the newest per topic is
// kept, and closing writes what is left.
func TestOutboxCountsItsJournalAndWritesItsCacheBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "link.db")
	o, err := openOutbox(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	topics := []string{"board", "queue", "config"}
	for i := range 1000 {
		tp := topics[i%len(topics)]
		o.cache(tp, fmt.Appendf(nil, "%s %d", tp, i))
		if p, ok := o.cached(tp); !ok || string(p) != fmt.Sprintf("%s %d", tp, i) {
			t.Fatalf("cached(%s) = %q right after caching %d", tp, p, i)
		}
	}
	// The journal shares the file; its count is kept in memory.
	steps := []struct {
		what string
		do   func() error
		want int
	}{
		{"add c1", func() error { return o.add("c1", "issue_ticket", []byte(`{}`)) }, 1},
		{"add c1 again", func() error {
			if o.add("c1", "issue_ticket", []byte(`{}`)) == nil {
				return fmt.Errorf("a repeated id was journaled twice")
			}
			return nil
		}, 1},
		{"replace c1 by c2", func() error { _, err := o.replace("c1", "c2", "issue_ticket", []byte(`{}`)); return err }, 1},
		{"replace c1 (gone)", func() error { _, err := o.replace("c1", "c3", "issue_ticket", []byte(`{}`)); return err }, 1},
		{"done c2", func() error { _, err := o.done("c2"); return err }, 0},
		{"done c2 again", func() error { _, err := o.done("c2"); return err }, 0},
		{"add c4", func() error { return o.add("c4", "call_next", []byte(`{}`)) }, 1},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		if n := o.count(); n != st.want {
			t.Fatalf("%s: count %d, want %d", st.what, n, st.want)
		}
	}
	if err := o.close(); err != nil {
		t.Fatal(err)
	}
	o, err = openOutbox(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	for i, want := range []string{"board 999", "queue 997", "config 998"} {
		if p, ok := o.cached(topics[i]); !ok || string(p) != want {
			t.Errorf("after a reboot cached(%s) = %q, want %q", topics[i], p, want)
		}
	}
	if n := o.count(); n != 1 {
		t.Errorf("%d commands in the journal after a reboot, want 1", n)
	}
}

// An SD card wears with every write: a retained payload the same as the
// last is not written again, and a lazy topic (the queue summary) waits
// for the lazy tick or close — then it is there after a reboot.
func TestCacheSkipsARepeatedPayloadAndDefersALazyTopic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "link.db")
	o, err := openOutbox(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	o.setLazy("q")
	o.cache("cfg", []byte("v1"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		o.mu.Lock()
		pending := len(o.unwritten)
		o.mu.Unlock()
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cache was not written")
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	o.cache("cfg", []byte("v1"))
	o.cache("q", []byte("3 waiting"))
	o.mu.Lock()
	cfgAgain, q, woken := o.unwritten["cfg"], o.unwritten["q"], len(o.wake)
	o.mu.Unlock()
	if cfgAgain || !q || woken != 0 {
		t.Fatalf("repeated payload to write %v, lazy topic kept %v, writer woken %d", cfgAgain, q, woken)
	}
	if err := o.close(); err != nil {
		t.Fatal(err)
	}
	o, err = openOutbox(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	if p, ok := o.cached("q"); !ok || string(p) != "3 waiting" {
		t.Fatalf("the lazy topic after a reboot: %q %v", p, ok)
	}
}
