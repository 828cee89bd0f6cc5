package calls

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/hub/telephony"
)

// pbx is a model of a PBX's queues that the property test drives: calls
// wait in its queues in order, it offers the oldest call of an agent's
// queues to an agent whose membership is not paused and who is not in a
// call (as Asterisk does, ringinuse off), and it follows the pauses and
// unpauses the hub asks for.
type pbx struct {
	mapping telephony.Mapping
	paused  map[string]bool // by agent
	calls   map[telephony.CallID]*mcall
	order   []telephony.CallID
	down    bool
}

type mcall struct {
	c     telephony.Call
	agent string // connected to
}

func newPBX(m telephony.Mapping) *pbx {
	p := &pbx{mapping: m, paused: map[string]bool{}, calls: map[telephony.CallID]*mcall{}}
	return p
}

func (p *pbx) Run(ctx context.Context, emit func(telephony.Event)) error {
	<-ctx.Done()
	return ctx.Err()
}

func (p *pbx) Pause(_ context.Context, agent, _ string) error              { return p.set(agent, true) }
func (p *pbx) Unpause(_ context.Context, agent string) error               { return p.set(agent, false) }
func (p *pbx) Originate(context.Context, telephony.OriginateRequest) error { return nil }

func (p *pbx) set(agent string, paused bool) error {
	if p.down {
		return telephony.ErrNotConnected
	}
	if _, ok := p.mapping.Member(agent); !ok {
		return telephony.ErrUnknownAgent
	}
	p.paused[agent] = paused
	return nil
}

func (p *pbx) connectedTo(agent string) *mcall {
	for _, id := range p.order {
		if c := p.calls[id]; c.agent == agent {
			return c
		}
	}
	return nil
}

func (p *pbx) waiting() []*mcall {
	var out []*mcall
	for _, id := range p.order {
		if c := p.calls[id]; c.agent == "" {
			out = append(out, c)
		}
	}
	return out
}

func (p *pbx) connected() []*mcall {
	var out []*mcall
	for _, id := range p.order {
		if c := p.calls[id]; c.agent != "" {
			out = append(out, c)
		}
	}
	return out
}

func (p *pbx) remove(id telephony.CallID) {
	delete(p.calls, id)
	p.order = slices.DeleteFunc(p.order, func(x telephony.CallID) bool { return x == id })
}

func (p *pbx) snapshot() telephony.Snapshot {
	var s telephony.Snapshot
	for _, id := range p.order {
		c := p.calls[id]
		x := c.c
		if c.agent != "" {
			member, _ := p.mapping.Member(c.agent)
			x.State, x.Agent, x.Member = telephony.Connected, c.agent, member
		}
		s.Calls = append(s.Calls, x)
	}
	return s
}

func propertySeeds() int {
	if n, err := strconv.Atoi(os.Getenv("GUICHET_PROPERTY_SEEDS")); err == nil {
		return n
	}
	if testing.Short() {
		return 3
	}
	return 8
}

// Over random interleavings of walk-ins, calls joining, call next,
// offers answered or not, hang-ups, pauses, sign-ins and outs and cuts of
// the link (with a PBX that forgets its pauses): an agent never has a call
// and a visitor at once; the queue always holds exactly the calls the PBX
// has; every call ends logged exactly once; every call given up past the
// threshold with a number gives exactly one callback, and no other does.
func TestPropertyBlendingKeepsCallsAndVisitorsApartAndLogsEveryCallOnce(t *testing.T) {
	for seed := range propertySeeds() {
		t.Run(strconv.Itoa(seed), func(t *testing.T) { runProperty(t, uint64(seed), 200) })
	}
}

func runProperty(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 13))
	model := newPBX(testMapping())
	for _, a := range testMapping().Members {
		model.paused[a] = r.IntN(2) == 0
	}
	e := newEnv(t, model, nil)
	ctx := e.ctx
	numbers := []string{"06 12 34 56 78", "+33699887766", "0033 1 43 98 65 00", "0655443322", ""}
	citizens := map[string]string{} // e164 → citizen
	for i, n := range numbers[:2] {
		c, _, err := e.crm.CreateCitizen(ctx, agentEC, crm.Citizen{FamilyName: fmt.Sprintf("Citoyen%d", i), Phones: []string{n}})
		if err != nil {
			t.Fatal(err)
		}
		citizens[c.Phones[0]] = c.ID
	}
	e.start()
	e.step(telephony.Resync{Snapshot: model.snapshot()})
	e.open("8", "efournier")
	e.open("2", "mlefebvre")
	e.open("1", "tnguyen")
	counters := []string{"1", "2", "8"}
	agents := []string{"efournier", "mlefebvre", "tnguyen", "jmartin"}
	gone := map[telephony.CallID]leftCall{}
	n := 0
	for step := range steps {
		e.clock.add(time.Duration(r.IntN(90)) * time.Second)
		now := e.clock.now()
		what := ""
		switch k := r.IntN(100); {
		case k < 12:
			what = "walk-in"
			e.walkIn([]string{"A", "E", "P"}[r.IntN(3)])
		case k < 27:
			what = "call joins"
			n++
			q := []string{"accueil", "etat-civil"}[r.IntN(2)]
			c := call(fmt.Sprintf("c%d", n), q, numbers[r.IntN(len(numbers))], now)
			if !model.down {
				model.calls[c.ID] = &mcall{c: c}
				model.order = append(model.order, c.ID)
				e.step(telephony.CallWaiting{Call: c})
			}
		case k < 47:
			what = "call next"
			e.op(api.OpCallNext, counters[r.IntN(len(counters))], nil)
		case k < 62:
			what = "offer"
			if model.down {
				break
			}
			for _, a := range agents {
				member, mapped := model.mapping.Member(a)
				w := model.waiting()
				if !mapped || model.paused[a] || model.connectedTo(a) != nil || len(w) == 0 {
					continue
				}
				c := w[0]
				e.step(telephony.CallOffered{ID: c.c.ID, Agent: a, Member: member})
				if r.IntN(4) == 0 {
					e.step(telephony.OfferEnded{ID: c.c.ID, Agent: a, Member: member, Reason: telephony.OfferNoAnswer})
				} else {
					c.agent = a
					e.step(telephony.CallConnected{ID: c.c.ID, Agent: a, Member: member, Wait: now.Sub(c.c.JoinedAt), At: now})
				}
				break
			}
		case k < 72:
			what = "caller gives up"
			if w := model.waiting(); len(w) > 0 && !model.down {
				c := w[r.IntN(len(w))]
				wait := now.Sub(c.c.JoinedAt)
				model.remove(c.c.ID)
				gone[c.c.ID] = leftCall{wait: wait, number: c.c.Number, abandoned: true}
				e.step(telephony.CallAbandoned{ID: c.c.ID, Wait: wait, Reason: telephony.AbandonHungUp})
			}
		case k < 82:
			what = "call ends"
			if cs := model.connected(); len(cs) > 0 && !model.down {
				c := cs[r.IntN(len(cs))]
				model.remove(c.c.ID)
				gone[c.c.ID] = leftCall{number: c.c.Number}
				e.step(telephony.CallEnded{ID: c.c.ID, Agent: c.agent, By: telephony.EndedByCaller, Talk: time.Minute})
			}
		case k < 87:
			what = "pause or resume"
			c := counters[r.IntN(len(counters))]
			if e.op(api.OpPause, c, &api.PauseArgs{Reason: "café"}) != nil {
				e.op(api.OpResume, c, nil)
			}
		case k < 92:
			what = "finish"
			e.op(api.OpFinish, counters[r.IntN(len(counters))], nil)
		case k < 96:
			what = "sign in or out"
			c, a := counters[r.IntN(len(counters))], agents[r.IntN(len(agents))]
			if e.op(api.OpClose, c, nil) != nil {
				e.op(api.OpOpen, c, &api.OpenArgs{Agent: a})
			}
		default:
			what = "link cut"
			if model.down {
				model.down = false
				if r.IntN(2) == 0 { // the PBX restarted: its pauses are gone
					for a := range model.paused {
						model.paused[a] = false
					}
				}
				e.step(telephony.Resync{Snapshot: model.snapshot()})
			} else {
				model.down = true
				e.step(telephony.LinkDown{Err: "cut"})
			}
		}
		checkApart(t, e, model, seed, step, what)
	}
	if model.down {
		model.down = false
		e.step(telephony.Resync{Snapshot: model.snapshot()})
	}
	checkQueueIsThePBX(t, e, model, seed, steps)
	checkEveryCallLoggedOnce(t, e, gone, citizens, seed)
	stats := map[string]int{}
	e.engine(func(en *queue.Engine) {
		for _, tk := range en.Tickets("", "") {
			stats[string(tk.Channel)+" "+string(tk.State)]++
			if tk.Callback != "" {
				stats["callbacks"]++
			}
		}
	})
	t.Logf("seed %d: %d calls left the PBX; tickets %v", seed, len(gone), stats)
}

// checkApart: no agent has a call at the PBX while their counter holds a
// visitor or a callback; and call next gives such an agent nothing.
func checkApart(t *testing.T, e *env, model *pbx, seed uint64, step int, what string) {
	t.Helper()
	e.engine(func(en *queue.Engine) {
		for _, c := range model.connected() {
			st, _ := en.AgentStatus(c.agent)
			if st.State == queue.AgentOffline {
				continue
			}
			cs, _ := en.CounterState(st.Counter)
			if tk, ok := en.Ticket(cs.Ticket); ok && tk.Call == "" {
				t.Fatalf("seed %d step %d (%s): agent %s is in call %s at the PBX while counter %s holds %s (%s, callback %q)",
					seed, step, what, c.agent, c.c.ID, cs.ID, tk.Display(), tk.Channel, tk.Callback)
			}
		}
	})
	if !model.down {
		checkQueueIsThePBX(t, e, model, seed, step)
	}
}

// checkQueueIsThePBX: the queue's live calls are the PBX's, once each, and
// a connected call is in progress.
func checkQueueIsThePBX(t *testing.T, e *env, model *pbx, seed uint64, step int) {
	t.Helper()
	e.engine(func(en *queue.Engine) {
		live := en.LiveCalls()
		if len(live) != len(model.calls) {
			t.Fatalf("seed %d step %d: %d live calls in the queue, the PBX has %d", seed, step, len(live), len(model.calls))
		}
		for _, tk := range live {
			c := model.calls[telephony.CallID(tk.Call)]
			if c == nil {
				t.Fatalf("seed %d step %d: call %s is live in the queue, not at the PBX", seed, step, tk.Call)
			}
			if c.agent != "" && tk.State != queue.Serving {
				t.Fatalf("seed %d step %d: call %s is connected at the PBX, %s in the queue", seed, step, tk.Call, tk.State)
			}
		}
	})
}

// leftCall is a call that left the PBX during the property test.
type leftCall struct {
	wait      time.Duration
	number    string
	abandoned bool
}

// checkEveryCallLoggedOnce: each call that left the PBX has one ticket and
// one ended record, filed once in the timeline of the citizen its number
// is; a callback for exactly those given up past the threshold with a
// number.
func checkEveryCallLoggedOnce(t *testing.T, e *env, gone map[telephony.CallID]leftCall, citizens map[string]string, seed uint64) {
	t.Helper()
	dpo := crm.Viewer{ID: "dpo", Role: crm.RoleDPO}
	recs, err := e.crm.CallRecords(e.ctx, dpo, time.Time{}, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	byCall := map[string][]crm.CallRecord{}
	for _, r := range recs {
		byCall[r.CallID] = append(byCall[r.CallID], r)
	}
	var tickets []queue.Ticket
	e.engine(func(en *queue.Engine) { tickets = en.Tickets("", "") })
	perCall, callbacks := map[string]int{}, map[string]int{}
	for _, tk := range tickets {
		if tk.Call != "" {
			perCall[tk.Call]++
		}
		if tk.Callback != "" {
			callbacks[tk.Callback]++
		}
	}
	filed := map[string]int{} // citizen → calls filed there
	for id, g := range gone {
		rs := byCall[string(id)]
		if len(rs) != 1 || perCall[string(id)] != 1 {
			t.Fatalf("seed %d: call %s has %d records and %d tickets, want one each", seed, id, len(rs), perCall[string(id)])
		}
		r := rs[0]
		want := map[bool]string{true: "abandoned", false: "answered"}[g.abandoned]
		if r.EndedAt.IsZero() || r.Outcome != want {
			t.Fatalf("seed %d: call %s's record %+v, want ended %s", seed, id, r, want)
		}
		wantCB := 0
		if g.abandoned && g.wait >= time.Minute && g.number != "" {
			wantCB = 1
		}
		if callbacks[r.Ticket] != wantCB {
			t.Fatalf("seed %d: call %s (waited %s, number given: %t) has %d callbacks, want %d", seed, id, g.wait, g.number != "", callbacks[r.Ticket], wantCB)
		}
		if e164, err := crm.NormalizePhone(g.number); err == nil && citizens[e164] != "" {
			filed[citizens[e164]]++
			if r.Citizen != citizens[e164] {
				t.Fatalf("seed %d: call %s filed in %q, want %s", seed, id, r.Citizen, citizens[e164])
			}
		}
	}
	for _, c := range citizens {
		tl, err := e.crm.Timeline(e.ctx, dpo, c, 5000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, en := range tl {
			if en.Kind == crm.EntryCall {
				n++
			}
		}
		if n != filed[c] {
			t.Fatalf("seed %d: %d calls in %s's timeline, want %d", seed, n, c, filed[c])
		}
	}
}
