package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"guichet/hub/telephony/webhook"
	"guichet/internal/stdwebhook"
)

// Switchboard is the simulated day's telephone system, a hosted telephony
// that posts signed webhooks to the hub (hub/telephony/webhook): callers
// join its queues (call.waiting), some give up after their patience
// (call.abandoned); it offers a waiting call to an agent whose line the
// hub opens (agent.unpause), who answers it (call.connected) or lets it
// ring out now and then (call.offer_ended); the caller hangs up after a
// talk (call.ended); a click-to-call the hub asks for (call.originate) is
// answered (call.originate_result). It serves the hub's actions as its
// action URL (ServeHTTP), checking their signatures.
type Switchboard struct {
	// Immutable.
	hub    *webhook.Sender
	verify stdwebhook.Verifier
	queues map[string]string // service → the switchboard's queue
	agents map[string]string // the switchboard's agent id → hub agent
	speed  float64
	log    *slog.Logger
	number func() string // a caller's number: one of a citizen's, a stranger's, or withheld

	mu      sync.Mutex
	rng     *rand.Rand
	n       int
	waiting []*simCall        // in the order they joined
	lines   map[string]bool   // the switchboard's agent ids whose line is open
	busy    map[string]string // agent → the call they are on (or ringing)
	ctx     context.Context
}

type simCall struct {
	id, queue, number string
	joined            time.Time
	patience          time.Duration // simulated
	ringing           bool
	mean              time.Duration // the talk's mean, simulated
}

// SwitchboardOptions set a switchboard up.
type SwitchboardOptions struct {
	HubURL string            // where the hub takes the telephony's webhooks
	Secret stdwebhook.Secret // shared with the hub, both ways
	Queues map[string]string // service → queue
	Agents map[string]string // the switchboard's agent id → hub agent
	Speed  float64           // as the simulated day's
	Seed   uint64
	// Number gives each caller's number; "" is a withheld number.
	Number func(r *rand.Rand) string
	Log    *slog.Logger
}

// NewSwitchboard returns a switchboard; Run plays its callers' patience.
func NewSwitchboard(o SwitchboardOptions) *Switchboard {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	sw := &Switchboard{hub: &webhook.Sender{URL: o.HubURL, Secret: o.Secret}, verify: stdwebhook.Verifier{Secrets: []stdwebhook.Secret{o.Secret}},
		queues: o.Queues, agents: o.Agents, speed: o.Speed, log: o.Log, rng: rand.New(rand.NewPCG(o.Seed, o.Seed>>3)),
		lines: map[string]bool{}, busy: map[string]string{}, ctx: context.Background()}
	sw.number = func() string {
		if o.Number == nil {
			return ""
		}
		return o.Number(sw.rng)
	}
	return sw
}

// Run gives up the calls of callers whose patience ran out, until ctx ends.
func (sw *Switchboard) Run(ctx context.Context) {
	sw.mu.Lock()
	sw.ctx = ctx
	sw.mu.Unlock()
	t := time.NewTicker(time.Duration(float64(10*time.Second) / sw.speed))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var gone []*simCall
		sw.mu.Lock()
		keep := sw.waiting[:0]
		for _, c := range sw.waiting {
			if !c.ringing && sw.simulated(now.Sub(c.joined)) > c.patience {
				gone = append(gone, c)
				continue
			}
			keep = append(keep, c)
		}
		sw.waiting = keep
		sw.mu.Unlock()
		for _, c := range gone {
			sw.post(ctx, webhook.TypeCallAbandoned, webhook.Call{CallID: c.id, Reason: "hung_up"})
		}
	}
}

// simulated converts a real duration to simulated time.
func (sw *Switchboard) simulated(d time.Duration) time.Duration {
	return time.Duration(float64(d) * sw.speed)
}

// after runs fn once d of simulated time has passed.
func (sw *Switchboard) after(d time.Duration, fn func()) {
	time.AfterFunc(time.Duration(float64(d)/sw.speed), fn)
}

// Call is a caller joining the queue of service; mean is the expected
// talk once an agent answers.
func (sw *Switchboard) Call(ctx context.Context, service string, mean time.Duration) error {
	q, ok := sw.queues[service]
	if !ok {
		return fmt.Errorf("switchboard: no queue for service %s", service)
	}
	sw.mu.Lock()
	sw.n++
	c := &simCall{id: fmt.Sprintf("sim-%d-%d", time.Now().Unix(), sw.n), queue: q, number: sw.number(), joined: time.Now(),
		patience: time.Duration(-math.Log(1-sw.rng.Float64()) * float64(10*time.Minute)), mean: mean}
	sw.waiting = append(sw.waiting, c)
	sw.mu.Unlock()
	err := sw.hub.Send(ctx, webhook.TypeCallWaiting, time.Time{}, webhook.Call{CallID: c.id, Queue: q, Number: c.number})
	if err != nil {
		sw.mu.Lock()
		sw.drop(c)
		sw.mu.Unlock()
	}
	return err
}

func (sw *Switchboard) drop(c *simCall) {
	for i, x := range sw.waiting {
		if x == c {
			sw.waiting = append(sw.waiting[:i], sw.waiting[i+1:]...)
			return
		}
	}
}

// ServeHTTP takes the hub's actions (agent.pause, agent.unpause,
// call.originate), signed with the shared secret.
func (sw *Switchboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "body", http.StatusBadRequest)
		return
	}
	if _, err := sw.verify.Verify(r.Header, body); err != nil {
		sw.log.Warn("switchboard: action refused", "err", err)
		http.Error(w, `{"error": {"code": "unauthorized", "message": "signature"}}`, http.StatusUnauthorized)
		return
	}
	var m webhook.Message
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, `{"error": {"code": "bad_request", "message": "not JSON"}}`, http.StatusBadRequest)
		return
	}
	switch m.Type {
	case webhook.TypeAgentPause, webhook.TypeAgentUnpause:
		var p webhook.Pause
		json.Unmarshal(m.Data, &p)
		sw.mu.Lock()
		sw.lines[p.Agent] = m.Type == webhook.TypeAgentUnpause
		sw.mu.Unlock()
		if m.Type == webhook.TypeAgentUnpause {
			go sw.offer(p.Agent)
		}
	case webhook.TypeCallOriginate:
		var o webhook.Originate
		json.Unmarshal(m.Data, &o)
		sw.after(8*time.Second, func() {
			sw.post(sw.context(), webhook.TypeOriginateResult, webhook.OriginateResult{Ref: o.Ref, OK: true, CallID: "out-" + o.Ref})
		})
	default:
		http.Error(w, `{"error": {"code": "bad_request", "message": "unknown action"}}`, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (sw *Switchboard) context() context.Context {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.ctx
}

// offer rings agent's phone for the oldest waiting call: most of the time
// they answer after a few rings, and the call lasts about its mean; now
// and then it rings out and waits again.
func (sw *Switchboard) offer(agent string) {
	ctx := sw.context()
	sw.mu.Lock()
	var c *simCall
	for _, x := range sw.waiting {
		if !x.ringing {
			c = x
			break
		}
	}
	if c == nil || !sw.lines[agent] || sw.busy[agent] != "" {
		sw.mu.Unlock()
		return
	}
	c.ringing, sw.busy[agent] = true, c.id
	answers := sw.rng.Float64() >= 0.1
	talk := time.Duration(float64(c.mean) * math.Exp(0.5*sw.rng.NormFloat64()-0.125))
	sw.mu.Unlock()
	sw.post(ctx, webhook.TypeCallOffered, webhook.Call{CallID: c.id, Agent: agent})
	sw.after(6*time.Second, func() {
		if !answers {
			sw.mu.Lock()
			c.ringing, sw.busy[agent] = false, ""
			sw.mu.Unlock()
			sw.post(ctx, webhook.TypeOfferEnded, webhook.Call{CallID: c.id, Agent: agent, Reason: "no_answer"})
			return
		}
		sw.mu.Lock()
		sw.drop(c)
		sw.mu.Unlock()
		sw.post(ctx, webhook.TypeCallConnected, webhook.Call{CallID: c.id, Agent: agent})
		sw.after(talk, func() {
			sw.mu.Lock()
			sw.busy[agent] = ""
			sw.mu.Unlock()
			sw.post(ctx, webhook.TypeCallEnded, webhook.Call{CallID: c.id, By: "caller"})
		})
	})
}

// post sends a message to the hub; the hub being away for a moment (503)
// is tried again a few times.
func (sw *Switchboard) post(ctx context.Context, typ string, data any) {
	for try := 0; try < 5; try++ {
		err := sw.hub.Send(ctx, typ, time.Time{}, data)
		var st *webhook.StatusError
		switch {
		case err == nil:
			return
		case errors.As(err, &st) && st.Status != http.StatusServiceUnavailable:
			sw.log.Debug("switchboard: the hub refused a message", "type", typ, "err", err)
			return
		case ctx.Err() != nil:
			return
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond) // the hub asked to send again later (503)
	}
}
