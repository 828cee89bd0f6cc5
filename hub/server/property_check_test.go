package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"guichet/hub/api"
	"guichet/hub/devices"
	"guichet/hub/queue"
	"guichet/internal/sitetest"
)

// check verifies, after a step, that every view encodes and the queue's
// invariants hold:
//   - GET tickets, queue, board, services, agents, counters, every
//     counter and its explain answer JSON, the queue, board and counters
//     as devices read them (api.Parse…);
//   - every ticket's page (the API's and the citizen's), every 20 steps,
//     and the newest otherwise;
//   - the engine's invariants (queue.Engine.Check): no ticket twice in the
//     waiting lanes, a called ticket held by exactly one open counter…;
//   - numbers unique per service and day over the whole run;
//   - the retained topics the devices read decode as devices decode them.
func (p *propertyRun) check() {
	p.t.Helper()
	var list struct{ Tickets []api.Ticket }
	p.mustGet("/api/v1/tickets", &list)
	_, b := p.call("GET", "/api/v1/queue", "")
	if _, err := api.ParseQueue(b); err != nil {
		p.fail("the queue view is refused by devices: %v", err)
	}
	_, b = p.call("GET", "/api/v1/board", "")
	if _, err := api.ParseBoard(b); err != nil {
		p.fail("the board view is refused by devices: %v", err)
	}
	p.mustGet("/api/v1/services", nil)
	p.mustGet("/api/v1/agents", nil)
	var counters struct{ Counters []api.Counter }
	p.mustGet("/api/v1/counters", &counters)
	for _, c := range counters.Counters {
		_, b := p.call("GET", "/api/v1/counters/"+url.PathEscape(c.ID), "")
		if _, err := api.ParseCounter(b, c.ID); err != nil {
			p.fail("counter %s is refused by devices: %v", c.ID, err)
		}
		p.call("GET", "/api/v1/counters/"+url.PathEscape(c.ID)+"/explain", "")
	}
	tickets := list.Tickets
	if p.step%20 != 0 && len(tickets) > 3 {
		tickets = tickets[len(tickets)-3:]
	}
	for _, tk := range tickets {
		p.mustGet("/api/v1/tickets/"+url.PathEscape(tk.ID), nil)
		if tk.Token != "" {
			if status, _ := p.call("GET", "/t/"+tk.Token, ""); status != 200 {
				p.fail("the page of ticket %s answers %d", tk.Number, status)
			}
			p.call("GET", "/t/"+tk.Token+"/state", "")
		}
	}
	var err error
	var held []queue.Ticket
	p.s.Hub.Read(func(e *queue.Engine) {
		err = e.Check()
		held = e.Tickets("", "")
	})
	if err != nil {
		p.fail("the queue's invariants: %v", err)
	}
	for _, tk := range held {
		key := fmt.Sprintf("%s %s %d", tk.Prefix, tk.Day, tk.Number)
		if other, dup := p.numbers[key]; dup && other != tk.ID {
			p.fail("number %s given to tickets %s and %s", key, other, tk.ID)
		}
		p.numbers[key] = tk.ID
	}
	p.checkRetained()
}

func (p *propertyRun) mustGet(path string, v any) {
	p.t.Helper()
	status, b := p.call("GET", path, "")
	if status != 200 {
		p.fail("GET %s answers %d: %.300s", path, status, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			p.fail("GET %s: %v", path, err)
		}
	}
}

// checkRetained decodes the last retained payloads the devices received,
// as they decode them.
func (p *propertyRun) checkRetained() {
	t := p.s.Topics
	for _, c := range []*client{p.kiosk, p.screen} {
		for topic, parse := range map[string]func([]byte) error{
			t.Board():  func(b []byte) error { _, err := api.ParseBoard(b); return err },
			t.Queue():  func(b []byte) error { _, err := api.ParseQueue(b); return err },
			t.Config(): func(b []byte) error { _, err := api.ParseConfig(b); return err },
		} {
			if b := c.get(topic); b != nil {
				if err := parse(b); err != nil {
					p.fail("%s reads %s: %v", c.id, topic, err)
				}
			}
		}
	}
	if b := p.kiosk.get(t.Lease("kiosk-p")); b != nil {
		if _, err := api.ParseLeases(b, "kiosk-p"); err != nil {
			p.fail("the kiosk's lease: %v", err)
		}
	}
	if b := p.desk.get(t.Counter("1")); len(b) > 0 {
		if _, err := api.ParseCounter(b, "1"); err != nil {
			p.fail("the desk's counter: %v", err)
		}
	}
}

// settle waits for the replies to every command sent, so that the hub has
// nothing in flight.
func (p *propertyRun) settle() {
	for _, s := range p.sent {
		if _, ok := s.c.reply(s.id); !ok {
			p.await(s.c, s.id)
		}
	}
	p.sent = p.sent[:0]
}

// eventsAfter returns the log's events after seq.
func (p *propertyRun) eventsAfter(seq int64) []queue.Event {
	var out []queue.Event
	for {
		evs, err := p.s.Store.Events(context.Background(), seq, 1000)
		if err != nil {
			p.fail("read the log: %v", err)
		}
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
		seq = evs[len(evs)-1].Seq
	}
}

// checkLog checks that the live queue is the log's: an engine that
// applies every event of the log from the start, as a hub at a restart
// without a snapshot, reaches the same state.
func (p *propertyRun) checkLog() {
	var live queue.Snapshot
	var site queue.Site
	var evs []queue.Event
	sitetest.Eventually(p.t, 10*time.Second, "the log holds what the engine applied", func() bool {
		var applied int64
		p.s.Hub.Read(func(e *queue.Engine) { live, applied, site = e.Snapshot(), e.Applied(), *e.Site() })
		evs = p.eventsAfter(0)
		n := int64(0)
		for _, ev := range evs {
			if ev.Type.Queue() {
				n++
			}
		}
		return n == applied
	})
	rebuilt, err := queue.New(site)
	if err != nil {
		p.fail("%v", err)
	}
	for _, ev := range evs {
		rebuilt.Apply(ev)
	}
	a, _ := json.Marshal(live)
	b, _ := json.Marshal(rebuilt.Snapshot())
	if string(a) != string(b) {
		p.fail("the live queue is not the log's:\nlive    %.3000s\nrebuilt %.3000s", a, b)
	}
}

// checkRetainedMatch checks that the screen ends up showing the hub's
// board, and the desk its counter, whatever was forged meanwhile.
func (p *propertyRun) checkRetainedMatch() {
	sameJSON := func(a, b []byte, v func() any) bool {
		x, y := v(), v()
		if json.Unmarshal(a, x) != nil || json.Unmarshal(b, y) != nil {
			return false
		}
		ja, _ := json.Marshal(x)
		jb, _ := json.Marshal(y)
		return string(ja) == string(jb)
	}
	sitetest.Eventually(p.t, 10*time.Second, fmt.Sprintf("seed %d: the screen shows the hub's board", p.seed), func() bool {
		_, b := p.s.Call("GET", "/api/v1/board", "")
		return sameJSON(b, p.screen.get(p.s.Topics.Board()), func() any { return &api.Board{} })
	})
	sitetest.Eventually(p.t, 10*time.Second, fmt.Sprintf("seed %d: the kiosk's retained state is one the hub takes", p.seed), func() bool {
		b := p.crm.get(p.s.Topics.DeviceState("kiosk-p"))
		_, err := devices.ParseState(b)
		return len(b) == 0 || err == nil
	})
	sitetest.Eventually(p.t, 10*time.Second, fmt.Sprintf("seed %d: the desk shows its counter", p.seed), func() bool {
		_, b := p.s.Call("GET", "/api/v1/counters/1", "")
		return sameJSON(b, p.desk.get(p.s.Topics.Counter("1")), func() any { return &api.Counter{} })
	})
}
