package link

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
)

// The cache of retained topics is written behind: a payload is readable at
// once, only the newest per topic is kept, and closing writes what is left.
func TestCacheIsWrittenBehindAndKeptAcrossAReboot(t *testing.T) {
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
	if err := o.add("c1", "issue_ticket", []byte(`{}`)); err != nil { // the journal shares the file
		t.Fatal(err)
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
