package wazo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeWazo is a Wazo server for tests, over real HTTP and real websockets
// on loopback, following Wazo's published documentation and code for
// exactly what the adapter uses:
//
//   - wazo-auth: POST /api/auth/0.1/token (basic auth, {"expiration"}) →
//     {"data": {"token", "expires_at", "utc_expires_at", …}}; 401 on bad
//     credentials (tokens/api.yml, http.py);
//   - wazo-websocketd: /api/websocketd/ with the token in ?token= or
//     X-Auth-Token, ?version=2; init, subscribe, start, token, ping; event
//     frames {"op":"event","code":0,"data":<bus message>}; close codes
//     4001–4004, 4003 when the token expires (session.py, protocol.py,
//     auth.py);
//   - bus messages {"name", "origin_uuid", "required_acl", "timestamp",
//     "data"} (wazo-bus mixins.py); relayed AMI events with the AMI
//     headers as data (wazo-amid bus/client.py, ami/parser.py);
//   - wazo-agentd: GET /agents, POST /agents/by-number/{n}/pause|unpause
//     (204, 404, 409), and the QueueMemberPause Asterisk then sends;
//   - wazo-amid: POST /action/QueueStatus|CoreShowChannels → the list of
//     the action's messages;
//   - wazo-calld: POST /calls → 201 {"call_id", …};
//   - every REST call: X-Auth-Token, 401 when it is not a live token.
//
// The queue's calls are its state: the scenario helpers change it and
// publish the events Wazo would, and the lists answer from it.
type fakeWazo struct {
	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	tokens     map[string]time.Time // live tokens → expiry (real time)
	issued     int
	tokenOps   int
	refuseWS   int // websocket upgrades to refuse (503) before accepting again
	dials      []time.Time
	conns      map[*fakeConn]bool
	agents     []*fakeAgent
	calls      map[string]*fakeCall
	order      []string
	requests   []string // "POST /api/agentd/… {body}"
	originated int
	changed    chan struct{}
}

type fakeAgent struct {
	ID     int
	Number string
	Logged bool
	Paused bool
	Reason string
	Queues []string
}

type fakeCall struct {
	uid, number, name, queue string
	joined                   time.Time
	agent                    *fakeAgent // connected to
	connected                time.Time
}

type fakeConn struct {
	c       *websocket.Conn
	token   string
	subs    map[string]bool
	started bool
	wmu     sync.Mutex
}

const (
	fakeUser, fakePass = "guichet-ws", "s3cret"
	originUUID         = "08c56466-8f29-45c7-9856-92bf1ba89b82"
)

func newFakeWazo(t testing.TB) *fakeWazo {
	f := &fakeWazo{t: t, tokens: map[string]time.Time{}, conns: map[*fakeConn]bool{}, calls: map[string]*fakeCall{}, changed: make(chan struct{}, 1)}
	f.agents = []*fakeAgent{
		{ID: 1, Number: "1001", Logged: true, Queues: []string{"accueil"}},
		{ID: 2, Number: "1002", Logged: true, Queues: []string{"accueil"}},
		{ID: 3, Number: "1003"}, // not logged in
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth/0.1/token", f.token)
	mux.HandleFunc("/api/websocketd/", f.websocket)
	mux.HandleFunc("GET /api/agentd/1.0/agents", f.rest(f.agentList))
	mux.HandleFunc("POST /api/agentd/1.0/agents/by-number/{number}/{op}", f.rest(f.pause))
	mux.HandleFunc("POST /api/amid/1.0/action/{action}", f.rest(f.action))
	mux.HandleFunc("POST /api/calld/1.0/calls", f.rest(f.originate))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.dropSockets()
		f.srv.Close()
	})
	go f.expire()
	return f
}

func (f *fakeWazo) notify() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// await waits until cond holds (under the lock), told by every change.
func (f *fakeWazo) await(what string, cond func() bool) {
	f.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		ok := cond()
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-f.changed:
		case <-time.After(20 * time.Millisecond):
		case <-timeout:
			f.t.Fatalf("fake Wazo: timed out waiting for %s", what)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeWazo) token(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != fakeUser || pass != fakePass {
		writeJSON(w, 401, map[string]any{"reason": []string{"Authentication Failed"}, "status_code": 401})
		return
	}
	var body struct {
		Expiration int `json:"expiration"`
	}
	body.Expiration = 7200
	json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("tok-%04d-%d", f.issued, time.Now().UnixNano())
	now := time.Now()
	exp := now.Add(time.Duration(body.Expiration) * time.Second)
	f.tokens[tok] = exp
	f.mu.Unlock()
	f.notify()
	writeJSON(w, 200, map[string]any{"data": map[string]any{
		"token": tok, "auth_id": "b6e8e1ab", "xivo_uuid": originUUID, "session_uuid": "c2c4", "acl": []string{"websocketd"},
		"metadata":  map[string]any{"uuid": "b6e8e1ab", "tenant_uuid": "master", "purpose": "external_api"},
		"issued_at": now.Format("2006-01-02T15:04:05.999999"), "utc_issued_at": now.UTC().Format("2006-01-02T15:04:05.999999"),
		"expires_at": exp.Format("2006-01-02T15:04:05.999999"), "utc_expires_at": exp.UTC().Format("2006-01-02T15:04:05.999999"),
	}})
}

func (f *fakeWazo) live(tok string) bool {
	exp, ok := f.tokens[tok]
	return ok && time.Now().Before(exp)
}

// revokeTokens forgets every token, as a restarted wazo-auth would.
func (f *fakeWazo) revokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]time.Time{}
}

// rest wraps a REST handler with the X-Auth-Token check.
func (f *fakeWazo) rest(h func(http.ResponseWriter, *http.Request, []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		ok := f.live(r.Header.Get("X-Auth-Token"))
		f.mu.Unlock()
		if !ok {
			writeJSON(w, 401, map[string]any{"reason": []string{"Unauthorized"}, "status_code": 401})
			return
		}
		var body []byte
		if r.Body != nil {
			body = make([]byte, 0, 256)
			buf := make([]byte, 4096)
			for {
				n, err := r.Body.Read(buf)
				body = append(body, buf[:n]...)
				if err != nil {
					break
				}
			}
		}
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path+" "+strings.TrimSpace(string(body)))
		f.mu.Unlock()
		h(w, r, body)
		f.notify()
	}
}

func (f *fakeWazo) agentList(w http.ResponseWriter, r *http.Request, _ []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, a := range f.agents {
		var qs []map[string]any
		for _, q := range a.Queues {
			qs = append(qs, map[string]any{"id": 1, "name": q, "display_name": q, "logged": a.Logged, "paused": a.Paused, "paused_reason": a.Reason})
		}
		out = append(out, map[string]any{"id": a.ID, "tenant_uuid": "master", "origin_uuid": originUUID, "number": a.Number,
			"logged": a.Logged, "paused": a.Paused, "paused_reason": a.Reason, "extension": nil, "context": nil,
			"state_interface": fmt.Sprintf("PJSIP/agent%d", a.ID), "queues": qs})
	}
	writeJSON(w, 200, out)
}

func (f *fakeWazo) agentByNumber(n string) *fakeAgent {
	for _, a := range f.agents {
		if a.Number == n {
			return a
		}
	}
	return nil
}

func (f *fakeWazo) pause(w http.ResponseWriter, r *http.Request, body []byte) {
	op := r.PathValue("op")
	if op != "pause" && op != "unpause" {
		writeJSON(w, 404, map[string]string{"error": "not found"})
		return
	}
	var req struct {
		Reason *string `json:"reason"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil || (req.Reason != nil && (len([]rune(*req.Reason)) < 1 || len([]rune(*req.Reason)) > 80)) {
			writeJSON(w, 400, map[string]string{"error": "invalid reason"})
			return
		}
	}
	f.mu.Lock()
	a := f.agentByNumber(r.PathValue("number"))
	switch {
	case a == nil:
		f.mu.Unlock()
		writeJSON(w, 404, map[string]string{"error": "no such agent"})
		return
	case !a.Logged:
		f.mu.Unlock()
		writeJSON(w, 409, map[string]string{"error": "agent not logged"})
		return
	}
	a.Paused, a.Reason = op == "pause", ""
	if a.Paused && req.Reason != nil {
		a.Reason = *req.Reason
	}
	f.mu.Unlock()
	w.WriteHeader(204)
	for _, q := range a.Queues {
		f.publishAMI("QueueMemberPause", f.memberEvent(a, q))
	}
}

func (f *fakeWazo) memberEvent(a *fakeAgent, q string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	inCall := "0"
	status := "1"
	for _, c := range f.calls {
		if c.agent == a {
			inCall, status = "1", "2"
		}
	}
	return map[string]any{"Privilege": "agent,all", "Queue": q, "MemberName": "Agent/" + a.Number,
		"Interface": fmt.Sprintf("Local/id-%d@agentcallback", a.ID), "StateInterface": fmt.Sprintf("PJSIP/agent%d", a.ID),
		"Membership": "dynamic", "Penalty": "0", "CallsTaken": "0", "LastCall": "0", "LastPause": "0", "LoginTime": "1795334981",
		"InCall": inCall, "Status": status, "Paused": b01(a.Paused), "PausedReason": a.Reason, "Ringinuse": "0", "Wrapuptime": "0"}
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func dur(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

func trunkChannel(uid string) string { return "PJSIP/trunk-" + strings.ReplaceAll(uid, ".", "") }

func (f *fakeWazo) action(w http.ResponseWriter, r *http.Request, _ []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	name := r.PathValue("action")
	out := []map[string]any{}
	switch name {
	case "QueueStatus":
		out = append(out, map[string]any{"Response": "Success", "ActionID": "amid-1", "EventList": "start", "Message": "Queue status will follow"})
		out = append(out, map[string]any{"Event": "QueueParams", "Queue": "accueil", "Max": "0", "Strategy": "ringall", "Calls": fmt.Sprint(len(f.calls)), "ActionID": "amid-1"})
		for _, a := range f.agents {
			if !a.Logged {
				continue
			}
			for _, q := range a.Queues {
				inCall, status := "0", "1"
				for _, c := range f.calls {
					if c.agent == a {
						inCall, status = "1", "2"
					}
				}
				out = append(out, map[string]any{"Event": "QueueMember", "Queue": q, "Name": "Agent/" + a.Number,
					"Location": fmt.Sprintf("Local/id-%d@agentcallback", a.ID), "StateInterface": fmt.Sprintf("PJSIP/agent%d", a.ID),
					"Membership": "dynamic", "Penalty": "0", "CallsTaken": "0", "LastCall": "0", "LastPause": "0", "LoginTime": "1795334981",
					"InCall": inCall, "Status": status, "Paused": b01(a.Paused), "PausedReason": a.Reason, "Wrapuptime": "0", "ActionID": "amid-1"})
			}
		}
		pos := 0
		for _, uid := range f.order {
			c := f.calls[uid]
			if c == nil || c.agent != nil {
				continue
			}
			pos++
			out = append(out, map[string]any{"Event": "QueueEntry", "Queue": c.queue, "Position": fmt.Sprint(pos), "Channel": trunkChannel(uid),
				"Uniqueid": uid, "CallerIDNum": c.number, "CallerIDName": c.name, "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>",
				"Wait": fmt.Sprint(int(now.Sub(c.joined) / time.Second)), "Priority": "0", "ActionID": "amid-1",
				"ChanVariable": map[string]string{"WAZO_TENANT_UUID": "master"}})
		}
		out = append(out, map[string]any{"Event": "QueueStatusComplete", "EventList": "Complete", "ListItems": fmt.Sprint(len(out) - 1), "ActionID": "amid-1"})
	case "CoreShowChannels":
		out = append(out, map[string]any{"Response": "Success", "ActionID": "amid-2", "EventList": "start", "Message": "Channels will follow"})
		for _, uid := range f.order {
			c := f.calls[uid]
			if c == nil {
				continue
			}
			bridge := ""
			if c.agent != nil {
				bridge = "br-" + uid
			}
			out = append(out, map[string]any{"Event": "CoreShowChannel", "Channel": trunkChannel(uid), "ChannelState": "6", "ChannelStateDesc": "Up",
				"CallerIDNum": c.number, "CallerIDName": c.name, "Uniqueid": uid, "Linkedid": uid, "Application": "Queue",
				"ApplicationData": c.queue + ",tT,,,60", "Duration": dur(now.Sub(c.joined)), "BridgeId": bridge, "ActionID": "amid-2"})
			if c.agent != nil {
				out = append(out, map[string]any{"Event": "CoreShowChannel", "Channel": fmt.Sprintf("Local/id-%d@agentcallback-0000000a;1", c.agent.ID),
					"ChannelState": "6", "ChannelStateDesc": "Up", "CallerIDNum": c.number, "Uniqueid": uid + "1", "Linkedid": uid,
					"Application": "AppQueue", "ApplicationData": "(Outgoing Line)", "Duration": dur(now.Sub(c.connected)), "BridgeId": bridge, "ActionID": "amid-2"})
			}
		}
		out = append(out, map[string]any{"Event": "CoreShowChannelsComplete", "EventList": "Complete", "ListItems": fmt.Sprint(len(out) - 1), "ActionID": "amid-2"})
	default:
		out = append(out, map[string]any{"Response": "Error", "Message": "Invalid/unknown command"})
	}
	writeJSON(w, 200, out)
}

func (f *fakeWazo) originate(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Source struct {
			User string `json:"user"`
		} `json:"source"`
		Destination struct {
			Extension string `json:"extension"`
			Context   string `json:"context"`
			Priority  int    `json:"priority"`
		} `json:"destination"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Source.User == "" || req.Destination.Extension == "" || req.Destination.Context == "" || req.Destination.Priority < 1 {
		writeJSON(w, 400, map[string]any{"message": "Invalid request", "error_id": "invalid-data"})
		return
	}
	f.mu.Lock()
	f.originated++
	id := fmt.Sprintf("1795400000.%d", f.originated)
	f.mu.Unlock()
	writeJSON(w, 201, map[string]any{"call_id": id, "user_uuid": req.Source.User, "status": "Down", "caller_id_number": "", "talking_to": map[string]string{}})
}

// websocket is wazo-websocketd's session.
func (f *fakeWazo) websocket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.dials = append(f.dials, time.Now())
	refuse := f.refuseWS > 0
	if refuse {
		f.refuseWS--
	}
	f.mu.Unlock()
	f.notify()
	if refuse {
		http.Error(w, "websocketd is restarting", 503)
		return
	}
	up := websocket.Upgrader{}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	tok := r.URL.Query().Get("token")
	if tok == "" {
		tok = r.Header.Get("X-Auth-Token")
	}
	version := r.URL.Query().Get("version")
	fc := &fakeConn{c: c, token: tok, subs: map[string]bool{}}
	closeWith := func(code int, why string) {
		fc.wmu.Lock()
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, why), time.Now().Add(time.Second))
		fc.wmu.Unlock()
		c.Close()
	}
	f.mu.Lock()
	ok := f.live(tok)
	f.mu.Unlock()
	switch {
	case tok == "":
		closeWith(4001, "no token")
		return
	case !ok:
		closeWith(4002, "authentication failed")
		return
	case version != "2":
		closeWith(4004, "")
		return
	}
	f.mu.Lock()
	f.conns[fc] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.conns, fc)
		f.mu.Unlock()
		c.Close()
	}()
	fc.write(map[string]any{"op": "init", "code": 0, "data": map[string]int{"version": 2}})
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		var m struct {
			Op   string          `json:"op"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			closeWith(4004, "")
			return
		}
		var d map[string]string
		json.Unmarshal(m.Data, &d)
		switch m.Op {
		case "subscribe":
			if d["event_name"] == "" {
				closeWith(4004, "")
				return
			}
			f.mu.Lock()
			fc.subs[d["event_name"]] = true
			f.mu.Unlock()
			fc.write(map[string]any{"op": "subscribe", "code": 0, "data": nil})
		case "start":
			f.mu.Lock()
			fc.started = true
			f.mu.Unlock()
			fc.write(map[string]any{"op": "start", "code": 0, "data": nil})
		case "token":
			f.mu.Lock()
			ok := f.live(d["token"])
			if ok {
				fc.token = d["token"]
				f.tokenOps++
			}
			f.mu.Unlock()
			if !ok {
				closeWith(4002, "authentication failed")
				return
			}
			f.notify()
			fc.write(map[string]any{"op": "token", "code": 0, "data": nil})
		case "ping":
			fc.write(map[string]any{"op": "pong", "code": 0, "data": map[string]string{"payload": d["payload"]}})
		default:
			closeWith(4004, "")
			return
		}
	}
}

func (fc *fakeConn) write(v any) {
	b, _ := json.Marshal(v)
	fc.writeRaw(b)
}

func (fc *fakeConn) writeRaw(b []byte) {
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	fc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fc.c.WriteMessage(websocket.TextMessage, b)
}

// expire closes, with 4003, the connections whose token expired, as
// websocketd's auth check does.
func (f *fakeWazo) expire() {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		f.mu.Lock()
		if f.srv == nil {
			f.mu.Unlock()
			continue
		}
		var dead []*fakeConn
		for fc := range f.conns {
			if !f.live(fc.token) {
				dead = append(dead, fc)
			}
		}
		f.mu.Unlock()
		for _, fc := range dead {
			fc.wmu.Lock()
			fc.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4003, "authentication expired"), time.Now().Add(time.Second))
			fc.wmu.Unlock()
			fc.c.Close()
		}
		if f.t.Context().Err() != nil {
			return
		}
	}
}

// dropSockets cuts every websocket without a close frame, as a network
// failure would.
func (f *fakeWazo) dropSockets() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for fc := range f.conns {
		fc.c.NetConn().Close()
	}
}

// publish sends a bus message to the started sessions subscribed to it.
func (f *fakeWazo) publish(name, acl string, data any) {
	b, _ := json.Marshal(map[string]any{"op": "event", "code": 0, "data": map[string]any{
		"name": name, "origin_uuid": originUUID, "required_acl": acl, "required_access": "event." + name,
		"timestamp": time.Now().Format("2006-01-02T15:04:05.999999"), "data": data,
	}})
	f.publishRaw(name, b)
}

func (f *fakeWazo) publishRaw(name string, frame []byte) {
	f.mu.Lock()
	var to []*fakeConn
	for fc := range f.conns {
		if fc.started && (fc.subs[name] || fc.subs["*"]) {
			to = append(to, fc)
		}
	}
	f.mu.Unlock()
	for _, fc := range to {
		fc.writeRaw(frame)
	}
}

// publishAMI relays an Asterisk event as wazo-amid does: its headers,
// Event first among them, under its AMI name; required_acl
// events.ami.<name> (wazo-bus's default for AMIEvent).
func (f *fakeWazo) publishAMI(name string, headers map[string]any) {
	data := map[string]any{"Event": name}
	for k, v := range headers {
		data[k] = v
	}
	f.publish(name, "events.ami."+name, data)
}

func (f *fakeWazo) publishCall(name string, data map[string]any) {
	f.publish(name, "events.calls.None", data)
}

func callerHeaders(uid, number, name string) map[string]any {
	return map[string]any{"Privilege": "agent,all", "Channel": trunkChannel(uid), "ChannelState": "6", "ChannelStateDesc": "Up",
		"CallerIDNum": number, "CallerIDName": name, "ConnectedLineNum": "<unknown>", "ConnectedLineName": "<unknown>",
		"Language": "fr_FR", "AccountCode": "", "Context": "queue", "Exten": "s", "Priority": "2", "Uniqueid": uid, "Linkedid": uid,
		"ChanVariable": map[string]string{"WAZO_TENANT_UUID": "master", "WAZO_ENTRY_EXTEN": "0140000000"}}
}

func with(m map[string]any, kv ...string) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// join: a caller reaches the queue: calld's call_created for the trunk
// channel, then Asterisk's QueueCallerJoin relayed.
func (f *fakeWazo) join(uid, number, name, queue string) {
	f.mu.Lock()
	f.calls[uid] = &fakeCall{uid: uid, number: number, name: name, queue: queue, joined: time.Now()}
	f.order = append(f.order, uid)
	n := len(f.calls)
	f.mu.Unlock()
	f.publishCall("call_created", map[string]any{"call_id": uid, "conversation_id": uid, "caller_id_number": number, "caller_id_name": name,
		"status": "Ring", "direction": "inbound", "user_uuid": nil, "talking_to": map[string]string{}, "dialed_extension": "0140000000"})
	f.publishAMI("QueueCallerJoin", with(callerHeaders(uid, number, name), "Queue", queue, "Position", fmt.Sprint(n), "Count", fmt.Sprint(n)))
}

func (f *fakeWazo) agent(id int) *fakeAgent {
	for _, a := range f.agents {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func agentHeaders(h map[string]any, a *fakeAgent, uid, leg, queue string) map[string]any {
	return with(h, "DestChannel", fmt.Sprintf("Local/id-%d@agentcallback-0000000a;1", a.ID), "DestUniqueid", leg, "DestLinkedid", uid,
		"Queue", queue, "Interface", fmt.Sprintf("Local/id-%d@agentcallback", a.ID), "MemberName", "Agent/"+a.Number)
}

// ring: the queue rings an agent (AgentCalled).
func (f *fakeWazo) ring(uid string, agentID int) {
	f.mu.Lock()
	c, a := f.calls[uid], f.agent(agentID)
	f.mu.Unlock()
	f.publishAMI("AgentCalled", agentHeaders(callerHeaders(uid, c.number, c.name), a, uid, fmt.Sprintf("%s%d", uid, agentID), c.queue))
}

// connect: the agent answers: DialEnd ANSWER, QueueCallerLeave,
// AgentConnect (Asterisk's order), the agent's phone's call_answered.
func (f *fakeWazo) connect(uid string, agentID int) {
	f.mu.Lock()
	c, a := f.calls[uid], f.agent(agentID)
	c.agent, c.connected = a, time.Now()
	hold := int(c.connected.Sub(c.joined) / time.Second)
	f.mu.Unlock()
	leg := fmt.Sprintf("%s%d", uid, agentID)
	h := callerHeaders(uid, c.number, c.name)
	f.publishAMI("DialEnd", with(agentHeaders(h, a, uid, leg, c.queue), "DialStatus", "ANSWER", "Privilege", "call,all"))
	f.publishAMI("QueueCallerLeave", with(callerHeaders(uid, c.number, c.name), "Queue", c.queue, "Position", "1", "Count", "0"))
	f.publishAMI("AgentConnect", with(agentHeaders(callerHeaders(uid, c.number, c.name), a, uid, leg, c.queue), "HoldTime", fmt.Sprint(hold), "RingTime", "2"))
	f.publishCall("call_answered", map[string]any{"call_id": fmt.Sprintf("17954.%d", agentID), "user_uuid": "u-agent", "status": "Up"})
	f.publishAMI("QueueMemberStatus", f.memberEvent(a, c.queue))
}

// hangup: the caller hangs up after talking: AgentComplete, Hangup,
// calld's call_ended.
func (f *fakeWazo) hangup(uid string) {
	f.mu.Lock()
	c := f.calls[uid]
	delete(f.calls, uid)
	f.mu.Unlock()
	if c.agent != nil {
		talk := int(time.Since(c.connected) / time.Second)
		f.publishAMI("AgentComplete", with(agentHeaders(callerHeaders(uid, c.number, c.name), c.agent, uid, uid+"1", c.queue),
			"HoldTime", "3", "TalkTime", fmt.Sprint(talk), "Reason", "caller"))
	}
	f.publishAMI("Hangup", with(callerHeaders(uid, c.number, c.name), "Cause", "16", "Cause-txt", "Normal Clearing", "Privilege", "call,all"))
	f.publishCall("call_ended", map[string]any{"call_id": uid, "reason_code": 16, "hangup_time": time.Now().Format(time.RFC3339)})
	if c.agent != nil {
		f.publishAMI("QueueMemberStatus", f.memberEvent(c.agent, c.queue))
	}
}

// abandon: the caller gives up while waiting.
func (f *fakeWazo) abandon(uid string) {
	f.mu.Lock()
	c := f.calls[uid]
	delete(f.calls, uid)
	hold := int(time.Since(c.joined) / time.Second)
	f.mu.Unlock()
	f.publishAMI("QueueCallerAbandon", with(callerHeaders(uid, c.number, c.name), "Queue", c.queue, "Position", "1", "OriginalPosition", "1", "HoldTime", fmt.Sprint(hold)))
	f.publishAMI("Hangup", with(callerHeaders(uid, c.number, c.name), "Cause", "16", "Cause-txt", "Normal Clearing"))
	f.publishCall("call_ended", map[string]any{"call_id": uid, "reason_code": 16})
}

// vanish removes a call without telling anyone: it ended while the
// adapter was away.
func (f *fakeWazo) vanish(uid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.calls, uid)
}

// arrive adds a call without telling anyone: it came while the adapter
// was away.
func (f *fakeWazo) arrive(uid, number, queue string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[uid] = &fakeCall{uid: uid, number: number, queue: queue, joined: time.Now()}
	f.order = append(f.order, uid)
}

// present returns the calls present, by id, "waiting" or "connected <agent number>".
func (f *fakeWazo) present() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for uid, c := range f.calls {
		if c.agent != nil {
			out[uid] = "connected " + c.agent.Number
		} else {
			out[uid] = "waiting"
		}
	}
	return out
}

// started reports how many sessions have started their event stream.
func (f *fakeWazo) started() int {
	n := 0
	for fc := range f.conns {
		if fc.started {
			n++
		}
	}
	return n
}
