package sitetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/stdwebhook"
)

// Receiver is a webhook endpoint as a town's CRM would run it: it verifies
// each request's Standard Webhooks signature, reads CloudEvents in
// structured or batched mode, and records each event's id in the order of
// first arrival. Behave, when set, answers a request instead (to fail).
type Receiver struct {
	T      testing.TB
	Addr   string // 127.0.0.1:port
	URL    string // http://Addr/hook
	Secret stdwebhook.Secret

	mu       sync.Mutex
	srv      *http.Server
	order    []string // ids, first arrival
	seqs     []int64  // their sequences
	seen     map[string]int
	events   map[string]api.CloudEvent
	requests int
	bad      []string // requests refused: why
	behave   func(w http.ResponseWriter, r *http.Request, n int) bool
	changed  chan struct{}
}

// NewReceiver returns a receiver on a free port, not listening yet: the
// destination is down until Start.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{T: t, Secret: stdwebhook.NewSecret(), seen: map[string]int{}, events: map[string]api.CloudEvent{}, changed: make(chan struct{}, 1)}
	r.Addr = fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	r.URL = "http://" + r.Addr + "/hook"
	t.Cleanup(r.Stop)
	return r
}

// Behave sets what answers the n-th request (from 1) before the receiver
// does; it returns true if it answered.
func (r *Receiver) Behave(f func(w http.ResponseWriter, req *http.Request, n int) bool) {
	r.mu.Lock()
	r.behave = f
	r.mu.Unlock()
}

// Start listens.
func (r *Receiver) Start() {
	r.T.Helper()
	ln, err := net.Listen("tcp", r.Addr)
	if err != nil {
		r.T.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

// Stop stops listening (the destination is down).
func (r *Receiver) Stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	r.mu.Lock()
	r.requests++
	n, behave := r.requests, r.behave
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body)) // for behave
	if behave != nil && behave(w, req, n) {
		return
	}
	if _, err := (stdwebhook.Verifier{Secrets: []stdwebhook.Secret{r.Secret}}).Verify(req.Header, body); err != nil {
		r.refuse(w, "signature: "+err.Error())
		return
	}
	var evs []api.CloudEvent
	switch ct := req.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/cloudevents-batch+json"):
		err = json.Unmarshal(body, &evs)
	case strings.HasPrefix(ct, "application/cloudevents+json"):
		var ce api.CloudEvent
		err = json.Unmarshal(body, &ce)
		evs = []api.CloudEvent{ce}
	default:
		err = fmt.Errorf("content type %q", ct)
	}
	if err != nil {
		r.refuse(w, err.Error())
		return
	}
	r.mu.Lock()
	for _, ce := range evs {
		if r.seen[ce.ID] == 0 {
			seq, _ := strconv.ParseInt(ce.Sequence, 10, 64)
			r.order, r.seqs = append(r.order, ce.ID), append(r.seqs, seq)
			r.events[ce.ID] = ce
		}
		r.seen[ce.ID]++
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *Receiver) refuse(w http.ResponseWriter, why string) {
	r.mu.Lock()
	r.bad = append(r.bad, why)
	r.mu.Unlock()
	http.Error(w, why, http.StatusBadRequest)
}

// WaitFor waits until every id arrived, then checks that they arrived in
// order (by sequence, counting first arrivals) and that no request was
// refused.
func (r *Receiver) WaitFor(ids []string, timeout time.Duration) {
	r.T.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		var missing []string
		for _, id := range ids {
			if r.seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		bad := append([]string(nil), r.bad...)
		r.mu.Unlock()
		if len(bad) > 0 {
			r.T.Fatalf("receiver refused %d requests: %v", len(bad), bad[:min(len(bad), 5)])
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			sort.Strings(missing)
			r.T.Fatalf("receiver: %d of %d events never arrived: %s", len(missing), len(ids), strings.Join(missing[:min(len(missing), 20)], " "))
		}
		select {
		case <-r.changed:
		case <-time.After(50 * time.Millisecond):
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 1; i < len(r.seqs); i++ {
		if r.seqs[i] <= r.seqs[i-1] {
			r.T.Fatalf("receiver: event %s arrived after %s, out of order", r.order[i], r.order[i-1])
		}
	}
}

// Event returns an event received, by id.
func (r *Receiver) Event(id string) (api.CloudEvent, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ce, ok := r.events[id]
	return ce, ok
}

// Received returns the ids received, in the order of first arrival.
func (r *Receiver) Received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.order...)
}

// Repeats counts the deliveries beyond the first of each event.
func (r *Receiver) Repeats() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.seen {
		n += c - 1
	}
	return n
}

// Requests counts the requests received.
func (r *Receiver) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// CloudEventIDs returns the ids of the log's events after seq that leave
// the hub (the account events do not), and the last sequence read, over
// HTTP from GET /api/v1/cloudevents.
func CloudEventIDs(t testing.TB, base, token string, after int64) ([]string, int64) {
	t.Helper()
	var ids []string
	for {
		var p api.CloudEventsPage
		if err := getJSON(base+fmt.Sprintf("/api/v1/cloudevents?after=%d&limit=1000", after), token, &p); err != nil {
			t.Fatal(err)
		}
		for _, ce := range p.Events {
			ids = append(ids, ce.ID)
		}
		if p.Next == after {
			return ids, after
		}
		after = p.Next
	}
}
