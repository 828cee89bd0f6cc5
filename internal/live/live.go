// Package live serves the devices' local pages: a view streamed as
// server-sent events whenever it changes, and the check that only the page
// itself may press its buttons.
package live

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// keepAlive is how often an idle stream sends a comment, so that proxies
// and browsers do not close it.
var keepAlive = 15 * time.Second

// Stream sends view() as JSON in a server-sent event at once, then each
// time it changes: when changes fires, and at least every poll (which
// catches views that say nothing when they change). It returns when the
// client goes.
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
		b, _ := json.Marshal(view())
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
