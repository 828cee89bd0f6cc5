package kiosk_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
)

// fakeLink is the device link without a network, for virtual time and for
// what a real hub never sends: it delivers the retained payloads a test
// gives, and answers commands as a small hub would (numbers per service,
// from 1), unless the test says the hub is silent.
type fakeLink struct {
	mu      sync.Mutex
	follows map[string][]func([]byte)
	onReply []func(link.Entry, api.Reply)
	online  bool
	silent  bool // the hub never answers
	box     []link.Entry
	numbers map[string]int
	issued  []api.IssueArgs // every ticket command the hub answered, offline ones too
	states  []api.DeviceState
	replies []api.Reply
}

func newFakeLink() *fakeLink {
	return &fakeLink{follows: map[string][]func([]byte){}, online: true, numbers: map[string]int{}}
}

var topics = api.Topics{Site: "test"}

func (f *fakeLink) Topics() api.Topics { return topics }
func (f *fakeLink) Device() string     { return "kiosk-test" }
func (f *fakeLink) Follow(topic string, fn func([]byte)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.follows[topic] = append(f.follows[topic], fn)
}
func (f *fakeLink) OnReply(fn func(link.Entry, api.Reply)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onReply = append(f.onReply, fn)
}
func (f *fakeLink) OnConnection(func(bool)) {}
func (f *fakeLink) Problem() link.Problem   { return link.NoProblem }

func (f *fakeLink) Connected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.online
}
func (f *fakeLink) SetState(st api.DeviceState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.states = append(f.states, st)
}
func (f *fakeLink) PendingEntries() []link.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.box)
}

func (f *fakeLink) Enqueue(id, op string, args any) error {
	b, err := json.Marshal(api.Command{ID: id, Op: op, Args: mustJSON(args)})
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.box = append(f.box, link.Entry{ID: id, Op: op, Payload: b})
	f.mu.Unlock()
	f.flush()
	return nil
}

func (f *fakeLink) SendID(ctx context.Context, id, op string, args any) (api.Reply, error) {
	if err := f.Enqueue(id, op, args); err != nil {
		return api.Reply{}, err
	}
	if r, ok := f.answered(id); ok {
		return r, nil
	}
	<-ctx.Done()
	return api.Reply{}, ctx.Err()
}

func (f *fakeLink) Replace(old, id, op string, args any) (bool, error) {
	b, err := json.Marshal(api.Command{ID: id, Op: op, Args: mustJSON(args)})
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	i := slices.IndexFunc(f.box, func(e link.Entry) bool { return e.ID == old })
	if i >= 0 {
		f.box[i] = link.Entry{ID: id, Op: op, Payload: b}
	}
	f.mu.Unlock()
	return i >= 0, nil
}

// deliver hands a retained payload to the topic's followers.
func (f *fakeLink) deliver(topic string, payload string) {
	f.mu.Lock()
	fns := slices.Clone(f.follows[topic])
	f.mu.Unlock()
	for _, fn := range fns {
		fn([]byte(payload))
	}
}

// set says whether the link is up and whether the hub answers; answers
// what waits if so.
func (f *fakeLink) set(online, silent bool) {
	f.mu.Lock()
	f.online, f.silent = online, silent
	f.mu.Unlock()
	f.flush()
}

// flush answers every command of the outbox when the hub is reachable.
func (f *fakeLink) flush() {
	for {
		f.mu.Lock()
		if !f.online || f.silent || len(f.box) == 0 {
			f.mu.Unlock()
			return
		}
		e := f.box[0]
		f.box = f.box[1:]
		rep := f.hub(e)
		fns := slices.Clone(f.onReply)
		f.replies = append(f.replies, rep)
		f.mu.Unlock()
		for _, fn := range fns {
			fn(e, rep)
		}
	}
}

// answered returns the reply to id if the hub answered it.
func (f *fakeLink) answered(id string) (api.Reply, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.replies {
		if r.ID == id {
			return r, true
		}
	}
	return api.Reply{}, false
}

// hub answers a command; under mu.
func (f *fakeLink) hub(e link.Entry) api.Reply {
	var c api.Command
	json.Unmarshal(e.Payload, &c)
	if c.Op != api.OpIssueTicket {
		return api.Reply{ID: c.ID, OK: true}
	}
	var a api.IssueArgs
	json.Unmarshal(c.Args, &a)
	f.issued = append(f.issued, a)
	n := a.OfflineNumber
	if n == 0 {
		f.numbers[a.Service]++
		n = f.numbers[a.Service]
	}
	t := api.Ticket{ID: c.ID, Number: api.FormatNumber(a.Service, n), Service: a.Service, Priority: a.Priority,
		IssuedAt: time.Now(), ServiceName: api.Names{"fr": "Service " + a.Service}}
	return api.Reply{ID: c.ID, OK: true, Result: mustJSON(t)}
}

func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// siteConfig is the hub's retained configuration: services A and E, open.
const siteConfig = `{"site":{"name":"Mairie de Test","timezone":"Europe/Paris"},
	"services":[{"id":"A","name":{"fr":"Accueil"},"channels":["visit"],"open":true},
	{"id":"E","name":{"fr":"État civil"},"channels":["visit"],"open":true}]}`
