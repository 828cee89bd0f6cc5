package wazo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tel "guichet/hub/telephony"
)

// Pause and unpause go to agentd by agent number with the reason cleaned
// and bounded; Wazo's QueueMemberPause then comes back as the agent's
// state; agentd's refusals are ErrRefused.
func TestPauseAndUnpauseGoThroughAgentd(t *testing.T) {
	f := newFakeWazo(t)
	a, cons, _ := runAdapter(t, f, nil)
	ctx := context.Background()
	reason := "Accueil d'un visiteur\r\nX-Injected: 1 " + strings.Repeat("é", 100)
	if err := a.Pause(ctx, "alice", reason); err != nil {
		t.Fatal(err)
	}
	cons.await(t, "alice paused", func(c *consumer) bool {
		for _, s := range c.view.Snapshot().Agents {
			if s.Agent == "alice" && s.Paused {
				return true
			}
		}
		return false
	})
	f.mu.Lock()
	req := f.requests[len(f.requests)-1]
	got := f.agentByNumber("1001").Reason
	f.mu.Unlock()
	if !strings.HasPrefix(req, "POST /api/agentd/1.0/agents/by-number/1001/pause ") || strings.ContainsAny(got, "\r\n") || len([]rune(got)) != 80 || !strings.HasPrefix(got, "Accueil d'un visiteurX-Injected: 1 éé") {
		t.Errorf("agentd got %q, reason %q", req, got)
	}
	if err := a.Unpause(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	cons.await(t, "alice unpaused", func(c *consumer) bool {
		for _, s := range c.view.Snapshot().Agents {
			if s.Agent == "alice" && !s.Paused && s.LoggedIn {
				return true
			}
		}
		return false
	})
	if err := a.Pause(ctx, "carol", "x"); !errors.Is(err, tel.ErrRefused) || !strings.Contains(err.Error(), "409") {
		t.Errorf("pausing an agent who is not logged in: %v", err)
	}
	if err := a.Pause(ctx, "dave", "x"); !errors.Is(err, tel.ErrUnknownAgent) {
		t.Errorf("pausing an unmapped agent: %v", err)
	}
}

// Click-to-call asks calld for a call from the agent's user to the
// number; its outcome comes from that call's events, whichever of
// call_answered or call_ended comes first, even before calld's answer.
func TestClickToCallGoesThroughCalldAndItsOutcomeComesBack(t *testing.T) {
	f := newFakeWazo(t)
	a, cons, _ := runAdapter(t, f, nil)
	ctx := context.Background()
	if err := a.Originate(ctx, tel.OriginateRequest{Ref: "cb-1", Agent: "alice", Number: "+33 6 12.34-56-78"}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	req := f.requests[len(f.requests)-1]
	f.mu.Unlock()
	want := `POST /api/calld/1.0/calls {"destination":{"context":"ctx-mairie-internal","extension":"+33612345678","priority":1},"source":{"user":"` + aliceUUID + `"},"variables":{"GUICHET_REF":"cb-1"}}`
	if req != want {
		t.Fatalf("calld got\n%s\nwant\n%s", req, want)
	}
	f.publishCall("call_answered", map[string]any{"call_id": "1795400000.1", "status": "Up"})
	cons.await(t, "the answered outcome", func(c *consumer) bool {
		r, ok := c.events[len(c.events)-1].(tel.OriginateResult)
		return ok && r == tel.OriginateResult{Ref: "cb-1", OK: true, CallID: "1795400000.1"}
	})
	// The next call's end is published before calld answers the request.
	f.publishCall("call_ended", map[string]any{"call_id": "1795400000.2", "reason_code": 17})
	f.publishCall("call_answered", map[string]any{"call_id": "1795400000.2"}) // a late duplicate changes nothing
	if err := a.Originate(ctx, tel.OriginateRequest{Ref: "cb-2", Agent: "alice", Number: "0612345678"}); err != nil {
		t.Fatal(err)
	}
	cons.await(t, "the busy outcome", func(c *consumer) bool {
		r, ok := c.events[len(c.events)-1].(tel.OriginateResult)
		return ok && r == tel.OriginateResult{Ref: "cb-2", Reason: "busy"}
	})
	for _, c := range []struct {
		r    tel.OriginateRequest
		want error
	}{
		{tel.OriginateRequest{Ref: "x", Agent: "alice", Number: "0612;Dial(PJSIP/x)"}, tel.ErrBadNumber},
		{tel.OriginateRequest{Ref: "x", Agent: "bob", Number: "0612345678"}, tel.ErrNotConfigured},
	} {
		if err := a.Originate(ctx, c.r); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.r, err, c.want)
		}
	}
	f.mu.Lock()
	n := f.originated
	f.mu.Unlock()
	if n != 2 {
		t.Errorf("calld got %d originates, want 2", n)
	}
}

// Malformed frames and events are dropped with a log line naming the
// event; values lose their control characters; a frame over the limit
// drops the connection, which comes back with a resync; nothing crashes
// and the next good event goes through.
func TestMalformedEventsAreDroppedAndOversizedFramesResync(t *testing.T) {
	f := newFakeWazo(t)
	_, cons, log := runAdapter(t, f, func(c *Config) { c.MaxFrame = 16 << 10 })
	for _, raw := range []string{
		`not json`,
		`{"op":"event","code":0,"data":{"origin_uuid":"x","data":{}}}`,
		`{"op":"event","code":0,"data":{"name":"QueueCallerJoin","data":"a string"}}`,
		`{"op":"event","code":0,"data":{"name":"QueueCallerJoin","data":{"Uniqueid":42}}}`,
		`{"op":"event","code":0,"data":{"name":"QueueCallerJoin","data":{"Queue":"accueil","Uniqueid":"9.9","CallerIDName":"` + strings.Repeat("x", 5000) + `"}}}`,
		`{"op":"event","code":0,"data":{"name":"call_ended","data":{}}}`,
		`{"op":"teleport","code":0}`,
	} {
		f.publishRaw("QueueCallerJoin", []byte(raw))
	}
	f.publishRaw("call_ended", []byte(`{"op":"event","code":0,"data":{"name":"call_ended","data":{}}}`))
	// A caller's name with a line break, as JSON allows and AMI never does.
	f.join("3.1", "0611111111", "Jeanne\r\nMartin", "accueil")
	cons.await(t, "the good call", func(c *consumer) bool { return c.announced["3.1"] == 1 })
	cons.mu.Lock()
	c, _ := cons.view.Call("3.1")
	cons.mu.Unlock()
	if c.Name != "JeanneMartin" {
		t.Errorf("name %q kept its control characters", c.Name)
	}
	if n := strings.Count(log.String(), "event dropped"); n != 8 {
		t.Errorf("%d drops logged, want 8:\n%s", n, log)
	}
	if strings.Contains(log.String(), "xxxxxxxx") {
		t.Error("a dropped event's value is in the log")
	}
	// A frame over 16 KiB: the connection goes, the adapter resyncs.
	f.publishRaw("QueueCallerJoin", []byte(fmt.Sprintf(`{"op":"event","code":0,"data":{"name":"QueueCallerJoin","data":{"Pad":"%s"}}}`, strings.Repeat("y", 20<<10))))
	cons.await(t, "the resync after the oversized frame", func(c *consumer) bool { return c.resyncs == 2 })
	f.abandon("3.1")
	cons.await(t, "3.1's end", func(c *consumer) bool { return c.ended["3.1"] == 1 })
}
