// Package live serves the devices' local pages: a view streamed as
// server-sent events whenever it changes, and the check that only the page
// itself may press its buttons.
package live

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// keepAlive is how often an idle stream sends a comment, so that proxies
// and browsers do not close it.
var keepAlive = 15 * time.Second

// Final is the last view of a stream: Stream sends it (if it changed) and
// ends the stream. A finished ticket's page has nothing more to hear.
type Final struct{ View any }

// Stream sends view() as JSON in a server-sent event at once, then each
// time it changes: when changes fires, and at least every poll (which
// catches views that say nothing when they change). It returns when the
// client goes, or after a Final view.
func Stream(w http.ResponseWriter, r *http.Request, changes <-chan struct{}, poll time.Duration, view func() any) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not hold events back
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var last []byte
	var wrote time.Time
	for {
		v := view()
		f, final := v.(Final)
		if final {
			v = f.View
		}
		b, _ := json.Marshal(v)
		var out []byte
		switch {
		case !bytes.Equal(b, last):
			out, last = append(append([]byte("data: "), b...), '\n', '\n'), b
		case time.Since(wrote) >= keepAlive:
			out = []byte(": ping\n\n")
		}
		if out != nil {
			if _, err := w.Write(out); err != nil || rc.Flush() != nil {
				return
			}
			wrote = time.Now()
		}
		if final {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-changes:
		case <-tick.C:
		}
	}
}

// SameOrigin reports whether r comes from a page of the same site: another
// site open in the same browser (the kiosk's, the screen's) may not press
// its buttons.
func SameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

// Notifier tells its watchers that something changed. A watcher that has
// not yet read the last signal gets no second one: it reads the state once
// for all the changes it missed.
type Notifier struct {
	mu       sync.Mutex
	watchers map[chan struct{}]struct{}
}

// Notify signals every watcher.
func (n *Notifier) Notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for c := range n.watchers {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// Watch returns a channel signalled after each change, and the func that
// stops it.
func (n *Notifier) Watch() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	n.mu.Lock()
	if n.watchers == nil {
		n.watchers = map[chan struct{}]struct{}{}
	}
	n.watchers[c] = struct{}{}
	n.mu.Unlock()
	return c, func() {
		n.mu.Lock()
		delete(n.watchers, c)
		n.mu.Unlock()
	}
}

// Part is a named part of a view streamed by StreamParts: a section of a
// page that changes on its own.
type Part struct {
	Name  string
	Value any
}

// StreamParts streams a view made of parts, as one JSON object per
// server-sent event whose members are the parts by name. The first event
// has every part (a page that connects, or connects again, gets the whole
// view); each next one only the parts whose JSON changed, so that a page
// merges it into what it has and redraws only those. Like Stream, it makes
// the view again when changes fires and at least every poll; it makes it
// at most once every gap (signals in between coalesce into one view), so a
// busy queue does not send the page more than it can draw. It returns when
// the client goes.
func StreamParts(w http.ResponseWriter, r *http.Request, changes <-chan struct{}, poll, gap time.Duration, view func() []Part) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	tick := time.NewTicker(poll)
	defer tick.Stop()
	last := map[string][]byte{}
	var wrote, made time.Time
	var out bytes.Buffer
	for {
		if wait := gap - time.Since(made); gap > 0 && wait > 0 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(wait):
			}
		}
		made = time.Now()
		out.Reset()
		for _, p := range view() {
			b, err := json.Marshal(p.Value)
			if err != nil || bytes.Equal(b, last[p.Name]) {
				continue
			}
			last[p.Name] = b
			if out.Len() == 0 {
				out.WriteString("data: {")
			} else {
				out.WriteByte(',')
			}
			name, _ := json.Marshal(p.Name)
			out.Write(name)
			out.WriteByte(':')
			out.Write(b)
		}
		switch {
		case out.Len() > 0:
			out.WriteString("}\n\n")
		case time.Since(wrote) >= keepAlive:
			out.WriteString(": ping\n\n")
		}
		if out.Len() > 0 {
			if _, err := w.Write(out.Bytes()); err != nil || rc.Flush() != nil {
				return
			}
			wrote = time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-changes:
		case <-tick.C:
		}
	}
}
