package live

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSameOrigin(t *testing.T) {
	for _, c := range []struct {
		name         string
		site, origin string
		want         bool
	}{
		{"a form of the page", "same-origin", "http://desk.local:8080", true},
		{"an old browser without the headers", "", "", true},
		{"typed in the address bar", "none", "", false},
		{"another site in the same browser", "cross-site", "http://evil.example", false},
		{"the same site, another port", "same-site", "http://desk.local:9999", false},
		{"an origin from elsewhere, no fetch metadata", "", "http://evil.example", false},
		{"a sandboxed frame", "", "null", true},
		{"an origin that is not a URL", "", "http://[::1", false},
	} {
		r := httptest.NewRequest("POST", "http://desk.local:8080/1/press/next", nil)
		if c.site != "" {
			r.Header.Set("Sec-Fetch-Site", c.site)
		}
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if got := SameOrigin(r); got != c.want {
			t.Errorf("%s: SameOrigin = %v, want %v", c.name, got, c.want)
		}
	}
}

// Stream sends the view at once, again when it changes (on a signal or at
// the poll), never twice the same, and keeps an idle stream alive.
func TestStreamSendsEachChangeOnce(t *testing.T) {
	keepAlive = 300 * time.Millisecond
	defer func() { keepAlive = 15 * time.Second }()
	var n atomic.Int64
	changes := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Stream(w, r, changes, 50*time.Millisecond, func() any { return map[string]int64{"n": n.Load()} })
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if l := sc.Text(); l != "" {
				lines <- l
			}
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(2 * time.Second):
			t.Fatal("no event")
		}
		return ""
	}
	if got := next(); got != `data: {"n":0}` {
		t.Fatalf("first event %q", got)
	}
	n.Store(1)
	changes <- struct{}{}
	if got := next(); got != `data: {"n":1}` {
		t.Fatalf("after a change: %q", got)
	}
	n.Store(2) // no signal: the poll finds it
	if got := next(); got != `data: {"n":2}` {
		t.Fatalf("after a silent change: %q", got)
	}
	// Nothing changes: only keep-alive comments, no repeated data.
	deadline := time.After(time.Second)
	pings := 0
	for {
		select {
		case l := <-lines:
			if !strings.HasPrefix(l, ":") {
				t.Fatalf("unchanged view sent again: %q", l)
			}
			pings++
			continue
		case <-deadline:
		}
		break
	}
	if pings < 2 || pings > 4 {
		t.Errorf("%d keep-alive comments in 1 s, want about 3", pings)
	}
}

// A watcher hears of changes, once for all it has not read yet; a stopped
// one hears nothing more.
func TestNotifier(t *testing.T) {
	var n Notifier
	n.Notify() // nobody watching: nothing to do
	a, stopA := n.Watch()
	b, stopB := n.Watch()
	n.Notify()
	n.Notify()
	for name, c := range map[string]<-chan struct{}{"a": a, "b": b} {
		select {
		case <-c:
		default:
			t.Fatalf("watcher %s not told", name)
		}
		select {
		case <-c:
			t.Fatalf("watcher %s told twice for changes it had not read", name)
		default:
		}
	}
	stopB()
	n.Notify()
	select {
	case <-b:
		t.Fatal("a stopped watcher was told")
	default:
	}
	select {
	case <-a:
	default:
		t.Fatal("the other watcher was not told")
	}
	stopA()
}

// A Final view is sent, and the stream ends: the client reads to the end.
// Each change is made once the client has read the view before it (read,
// not slept on: a change made before the stream sent the previous view
// would merge with it).
func TestStreamEndsAfterAFinalView(t *testing.T) {
	var n atomic.Int64
	changes := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Stream(w, r, changes, time.Hour, func() any {
			v := map[string]int64{"n": n.Load()}
			if n.Load() == 2 {
				return Final{View: v}
			}
			return v
		})
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	events := bufio.NewReader(res.Body)
	next := func() string {
		t.Helper()
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended early: %v", err)
		}
		if blank, _ := events.ReadString('\n'); blank != "\n" {
			t.Fatalf("event %q not followed by a blank line", line)
		}
		return line
	}
	for _, v := range []int64{1, 2} {
		if got, want := next(), fmt.Sprintf("data: {\"n\":%d}\n", v-1); got != want {
			t.Fatalf("event %q, want %q", got, want)
		}
		n.Store(v)
		changes <- struct{}{}
	}
	if got := next(); got != "data: {\"n\":2}\n" {
		t.Fatalf("final event %q", got)
	}
	ended := make(chan error, 1)
	go func() { _, err := events.ReadByte(); ended <- err }()
	select {
	case err := <-ended:
		if err != io.EOF {
			t.Fatalf("after the final view the stream goes on: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end after its final view")
	}
}

// StreamParts sends every part first, then only the parts that changed;
// a second connection (a page that reconnects) gets every part again.
func TestStreamPartsSendsOnlyThePartsThatChanged(t *testing.T) {
	var a, b atomic.Int64
	changes := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		StreamParts(w, r, changes, time.Hour, time.Millisecond, func() []Part {
			return []Part{{"a", a.Load()}, {"b", map[string]int64{"n": b.Load()}}, {"c", nil}}
		})
	}))
	t.Cleanup(srv.Close) // after the bodies are closed (cleanups run last first)
	open := func() func() string {
		res, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		lines := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				if l := sc.Text(); l != "" {
					lines <- l
				}
			}
			close(lines)
		}()
		return func() string {
			select {
			case l := <-lines:
				return l
			case <-time.After(2 * time.Second):
				t.Fatal("no event")
			}
			return ""
		}
	}
	next := open()
	if got := next(); got != `data: {"a":0,"b":{"n":0},"c":null}` {
		t.Fatalf("first event %q", got)
	}
	b.Store(1)
	changes <- struct{}{}
	if got := next(); got != `data: {"b":{"n":1}}` {
		t.Fatalf("after b changed: %q", got)
	}
	a.Store(2)
	b.Store(2)
	changes <- struct{}{}
	if got := next(); got != `data: {"a":2,"b":{"n":2}}` {
		t.Fatalf("after both changed: %q", got)
	}
	if got := open()(); got != `data: {"a":2,"b":{"n":2},"c":null}` {
		t.Fatalf("a new connection's first event %q", got)
	}
}
