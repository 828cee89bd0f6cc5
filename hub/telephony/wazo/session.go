package wazo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	tel "guichet/hub/telephony"
	"guichet/hub/telephony/ami"
)

// subscriptions are the event names the adapter asks websocketd for: the
// queue events wazo-amid relays from Asterisk (what ami.Translator reads),
// and calld's call_answered and call_ended (click-to-call outcomes).
var subscriptions = []string{
	"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon",
	"AgentCalled", "AgentRingNoAnswer", "AgentDump", "AgentConnect", "AgentComplete",
	"DialEnd", "Hangup",
	"QueueMemberStatus", "QueueMemberPause", "QueueMemberAdded", "QueueMemberRemoved",
	"QueueMemberPenalty", "QueueMemberRinginuse",
	"call_answered", "call_ended",
}

// errBehind: frames came faster than the adapter translated them.
var errBehind = errors.New("wazo: more events waiting than the backlog holds; resynchronising")

// session runs one connection; up reports whether it got as far as the
// Resync.
func (a *Adapter) session(ctx context.Context, emit func(tel.Event)) (up bool, err error) {
	tok, err := a.auth.current(ctx)
	if err != nil {
		return false, err
	}
	ws, err := a.dial(ctx, tok)
	if err != nil {
		return false, err
	}
	defer ws.close()
	stop := context.AfterFunc(ctx, ws.close)
	defer stop()
	if err := ws.handshake(subscriptions); err != nil {
		return false, fmt.Errorf("websocketd handshake: %w", err)
	}
	// From here events queue in frames while the lists are read.
	frames := make(chan []byte, a.cfg.Backlog)
	readErr := make(chan error, 1)
	go func() {
		for {
			b, err := ws.read()
			if err != nil {
				readErr <- err
				return
			}
			select {
			case frames <- b:
			default:
				readErr <- errBehind
				ws.close()
				return
			}
		}
	}()
	tr, members, err := a.resync(ctx)
	if err != nil {
		return false, fmt.Errorf("resync: %w", err)
	}
	snap := tr.Snapshot()
	a.log.Info("wazo: connected to Wazo", "url", a.cfg.URL, "calls", len(snap.Calls), "agents", len(snap.Agents))
	a.setUp(true)
	defer a.setUp(false)
	emit(tel.Resync{Snapshot: snap})

	d := decoder{log: a.log}
	ping := time.NewTicker(a.cfg.PingInterval)
	defer ping.Stop()
	renew := time.NewTimer(a.untilRenewal())
	defer renew.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case err := <-readErr:
			if ctx.Err() == nil {
				emit(tel.LinkDown{Err: err.Error()})
			}
			return true, err
		case e := <-a.results:
			emit(e)
		case <-ping.C:
			if err := ws.send("ping", map[string]string{"payload": "guichet"}); err != nil {
				emit(tel.LinkDown{Err: err.Error()})
				return true, err
			}
		case <-renew.C:
			if err := a.renewOnSocket(ctx, ws); err != nil {
				emit(tel.LinkDown{Err: err.Error()})
				return true, err
			}
			renew.Reset(a.untilRenewal())
		case b := <-frames:
			ev, ok := d.decode(b)
			if !ok {
				continue
			}
			if ev.packet != nil {
				if n := newAgent(ev.packet, members, a.cfg.Mapping, a.told); n != "" {
					err := fmt.Errorf("wazo: agent %s is in a queue but was not in agentd's list at connection; reconnecting to learn it", n)
					emit(tel.LinkDown{Err: err.Error()})
					return true, err
				}
				tr.Handle(ev.packet, emit)
				continue
			}
			a.callOutcome(ev, emit)
		}
	}
}

// untilRenewal is the wait before the token is renewed on the websocket.
func (a *Adapter) untilRenewal() time.Duration {
	return max(a.auth.due().Sub(a.cfg.Now()), 10*time.Millisecond)
}

// renewOnSocket takes a new token and gives it to websocketd ("token" op),
// which otherwise closes the connection (4003) when the old one expires.
func (a *Adapter) renewOnSocket(ctx context.Context, ws *wsConn) error {
	tok, err := a.auth.fresh(ctx, "")
	if err != nil {
		return err
	}
	a.log.Debug("wazo: token renewed on the websocket")
	return ws.send("token", map[string]string{"token": tok})
}

// resync reads what Wazo has now: the agents' ids by number (agentd's
// GET /agents; Wazo makes agent N's queue member "Local/id-N@agentcallback",
// agentd's login.py), then Asterisk's QueueStatus and CoreShowChannels
// through amid (POST /api/amid/1.0/action/{action}, whose answer is the
// list of the action's messages as JSON objects).
func (a *Adapter) resync(ctx context.Context) (*ami.Translator, map[string]string, error) {
	var agents []struct {
		ID     int    `json:"id"`
		Number string `json:"number"`
	}
	if err := a.call(ctx, "GET", "/api/agentd/1.0/agents", nil, &agents); err != nil {
		return nil, nil, fmt.Errorf("agentd agents: %w", err)
	}
	members := map[string]string{} // member interface → hub agent
	for _, ag := range agents {
		if hub, ok := a.cfg.Mapping.Members[ag.Number]; ok {
			members[memberInterface(ag.ID)] = hub
		}
	}
	if len(members) < len(a.cfg.Mapping.Members) {
		a.log.Warn("wazo: some mapped agent numbers are not Wazo agents", "mapped", len(a.cfg.Mapping.Members), "found", len(members))
	}
	status, err := a.action(ctx, "QueueStatus")
	if err != nil {
		return nil, nil, err
	}
	channels, err := a.action(ctx, "CoreShowChannels")
	if err != nil {
		return nil, nil, err
	}
	tr := ami.NewTranslator(tel.Mapping{Queues: a.cfg.Mapping.Queues, Members: members}, a.cfg.Now, a.log)
	tr.Reset(status, channels)
	return tr, members, nil
}

func memberInterface(agentID int) string {
	return "Local/id-" + strconv.Itoa(agentID) + "@agentcallback"
}

// action runs an AMI list action through amid and returns its items.
func (a *Adapter) action(ctx context.Context, name string) ([]ami.Packet, error) {
	var msgs []map[string]any
	if err := a.call(ctx, "POST", "/api/amid/1.0/action/"+name, map[string]string{}, &msgs); err != nil {
		return nil, fmt.Errorf("amid %s: %w", name, err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("amid %s: an empty answer", name)
	}
	if r, _ := msgs[0]["Response"].(string); r != "" && r != "Success" {
		msg, _ := msgs[0]["Message"].(string)
		return nil, fmt.Errorf("amid %s: Asterisk answered %s: %s", name, r, excerpt([]byte(msg)))
	}
	out := make([]ami.Packet, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, packetOf(m))
	}
	return out, nil
}

// newAgent returns the number of a mapped agent an event shows in a queue
// (MemberName "Agent/N", as agentd names them) whose interface the
// adapter did not learn at connection, once per number (a number agentd
// still does not list after the reconnect is not worth another); ""
// otherwise.
func newAgent(p ami.Packet, members map[string]string, m tel.Mapping, told map[string]bool) string {
	iface := p.Get("Interface")
	if iface == "" || members[iface] != "" {
		return ""
	}
	name := p.Get("MemberName")
	if len(name) < 7 || name[:6] != "Agent/" {
		return ""
	}
	n := name[6:]
	if _, mapped := m.Members[n]; !mapped || told[n] {
		return ""
	}
	told[n] = true
	return n
}
