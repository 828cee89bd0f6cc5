package server_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/hub/api"
)

// propOp is one kind of operation of the property test, drawn with its
// weight.
type propOp struct {
	name   string
	weight int
	run    func(p *propertyRun)
}

var propOps = []propOp{
	{"http issue", 14, (*propertyRun).httpIssue},
	{"http counter", 24, (*propertyRun).httpCounter},
	{"http cancel", 3, (*propertyRun).httpCancel},
	{"http appointment", 3, (*propertyRun).httpAppointment},
	{"http bad body", 8, (*propertyRun).httpBadBody},
	{"http bad path", 3, (*propertyRun).httpBadPath},
	{"mqtt issue", 10, (*propertyRun).mqttIssue},
	{"mqtt replay", 2, (*propertyRun).mqttReplay},
	{"mqtt offline", 5, (*propertyRun).mqttOffline},
	{"mqtt desk", 8, (*propertyRun).mqttDesk},
	{"mqtt fifty presses", 1, (*propertyRun).mqttFiftyPresses},
	{"mqtt bad command", 4, (*propertyRun).mqttBadCommand},
	{"mqtt foreign topic", 2, (*propertyRun).mqttForeign},
	{"mqtt forged retained", 2, (*propertyRun).mqttForgeRetained},
	{"mqtt will", 1, (*propertyRun).mqttWill},
	{"mqtt state flood", 1, (*propertyRun).mqttStateFlood},
	{"mqtt screen command", 1, (*propertyRun).mqttScreenCommand},
}

func (p *propertyRun) pick() propOp {
	total := 0
	for _, o := range propOps {
		total += o.weight
	}
	n := p.r.IntN(total)
	for _, o := range propOps {
		if n -= o.weight; n < 0 {
			p.counts[o.name]++
			return o
		}
	}
	panic("unreachable")
}

// issueBody is a valid ticket request, or nearly.
func (p *propertyRun) issueBody() map[string]any {
	svc := p.anyOf(propServices)
	b := map[string]any{"service": svc}
	if svc == "A" && p.r.IntN(3) == 0 {
		b["channel"] = "phone"
	}
	switch p.r.IntN(6) {
	case 0:
		b["priority"] = "priority"
	case 1:
		b["priority"] = "appointment"
		b["appointment_at"] = time.Now().Add(time.Duration(p.r.IntN(120)-60) * time.Minute).Truncate(5 * time.Minute)
	}
	if p.r.IntN(4) == 0 {
		b["lang"] = p.anyOf([]string{"fr", "en", "pt-BR", "zh-Hant-TW"})
	}
	return b
}

func (p *propertyRun) httpIssue() {
	b := p.issueBody()
	if p.r.IntN(3) == 0 {
		b["citizen"] = fmt.Sprintf("c-%06d", p.r.IntN(1e6))
	}
	body, _ := json.Marshal(b)
	p.call("POST", "/api/v1/tickets", string(body))
}

var counterVerbs = []string{"open", "open", "next", "next", "next", "recall", "start", "finish", "finish", "noshow", "transfer", "pause", "resume", "close"}

func (p *propertyRun) httpCounter() {
	c, verb := p.anyOf(propCounters), p.anyOf(counterVerbs)
	body := ""
	switch verb {
	case "open":
		body = fmt.Sprintf(`{"agent":%q}`, p.anyOf(propAgents))
	case "transfer":
		body = fmt.Sprintf(`{"service":%q}`, p.anyOf(propServices))
	case "pause":
		body = fmt.Sprintf(`{"reason":%q}`, p.anyOf([]string{"déjeuner", "", "réunion", strings.Repeat("r", 200)}))
	}
	p.call("POST", "/api/v1/counters/"+url.PathEscape(c)+"/"+verb, body)
}

func (p *propertyRun) httpCancel() {
	id := p.anyTicket()
	p.call("POST", "/api/v1/tickets/"+url.PathEscape(id)+"/cancel", p.anyOf([]string{``, `{"reason":"parti"}`, `{"ticket":"other"}`}))
}

func (p *propertyRun) httpAppointment() {
	code := fmt.Sprintf("RDV-%04d", p.r.IntN(30))
	if p.r.IntN(2) == 0 {
		at := time.Now().Add(time.Duration(p.r.IntN(60)-10) * time.Minute).Truncate(5 * time.Minute)
		if p.r.IntN(6) == 0 {
			at = time.Date(9999, 12, 31, 23, 30, 0, 0, time.UTC)
		}
		b, _ := json.Marshal(map[string]any{"code": code, "service": p.anyOf(propServices), "at": at})
		p.call("POST", "/api/v1/appointments", string(b))
		return
	}
	p.call("POST", "/api/v1/appointments/"+code+"/checkin", `{"lang":"fr"}`)
}

var postRoutes = []string{"/api/v1/tickets", "/api/v1/counters/1/open", "/api/v1/counters/1/transfer", "/api/v1/counters/1/pause",
	"/api/v1/appointments", "/api/v1/counters/2/next", "/api/v1/tickets/x/cancel", "/api/v1/devices"}

func (p *propertyRun) httpBadBody() {
	p.call("POST", p.anyOf(postRoutes), p.anyOf(badBodies))
}

func (p *propertyRun) httpBadPath() {
	for _, path := range []string{
		"/api/v1/tickets/" + url.PathEscape(p.anyOf([]string{"\xff", strings.Repeat("t", 5000), "..%2F..%2Fetc"})),
		"/api/v1/counters/" + url.PathEscape(p.anyOf(propCounters)) + "/explain",
		"/api/v1/tickets?state=" + url.QueryEscape(p.anyOf([]string{"waiting", "gone", "\xff"})) + "&service=" + url.QueryEscape(p.anyOf(propServices)),
		"/api/v1/events?after=" + p.anyOf([]string{"-1", "x", "99999999999999999999", "0"}) + "&limit=" + p.anyOf([]string{"0", "5000", "10"}),
		"/t/" + url.PathEscape(p.anyOf([]string{"nope", "\xff", strings.Repeat("A", 22)})) + "/state",
	} {
		p.call("GET", path, "")
	}
}

// mqttIssue: the kiosk issues a ticket online; the test notes it as the
// kiosk's last online ticket.
func (p *propertyRun) mqttIssue() {
	b := p.issueBody()
	delete(b, "lang")
	id := p.command(p.kiosk, api.OpIssueTicket, b)
	if r := p.await(p.kiosk, id); r.OK {
		var tk api.Ticket
		if err := json.Unmarshal(r.Result, &tk); err != nil {
			p.fail("the reply to an issue: %v: %s", err, r.Result)
		}
		p.lastOnline = &tk
	}
}

// mqttReplay: a command sent again with the same id gets the same reply
// and does nothing more.
func (p *propertyRun) mqttReplay() {
	id := p.command(p.kiosk, api.OpIssueTicket, map[string]any{"service": "E"})
	first := p.await(p.kiosk, id)
	p.kiosk.mu.Lock()
	delete(p.kiosk.replies, id)
	p.kiosk.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"id": id, "op": api.OpIssueTicket, "args": map[string]any{"service": "E"}})
	p.kiosk.publish(p.s.Topics.Cmd("kiosk-p"), false, b)
	again := p.await(p.kiosk, id)
	if first.OK != again.OK || string(first.Result) != string(again.Result) {
		p.fail("command %s sent again: %+v, first %+v", id, again, first)
	}
	if first.OK {
		var tk api.Ticket
		json.Unmarshal(first.Result, &tk)
		p.lastOnline = &tk
	}
}

// mqttOffline: the kiosk brings a ticket it printed from its lease while
// the hub did not answer, claiming to have printed it up to three hours
// ago (or 25 hours, which is refused). The hub places it no earlier than
// the kiosk's last online ticket.
func (p *propertyRun) mqttOffline() {
	l, err := api.ParseLeases(p.kiosk.get(p.s.Topics.Lease("kiosk-p")), "kiosk-p")
	if err != nil {
		p.fail("the kiosk's retained lease: %v", err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Now()
	today := now.In(paris).Format(time.DateOnly)
	for _, b := range l.Blocks {
		if b.Day != today {
			continue
		}
		for n := b.From; n <= b.To; n++ {
			key := fmt.Sprintf("%s %s %d", b.Service, b.Day, n)
			if p.offlineUsed[key] {
				continue
			}
			p.offlineUsed[key] = true
			printed := now.Add(-time.Duration(p.r.IntN(3*3600)) * time.Second)
			if p.r.IntN(8) == 0 {
				printed = now.Add(-25 * time.Hour)
			}
			if printed.In(paris).Format(time.DateOnly) != today {
				printed = now // the number is today's
			}
			before := p.lastOnline
			id := p.command(p.kiosk, api.OpIssueTicket, map[string]any{"service": b.Service, "offline_number": n,
				"issued_at": printed, "token": newToken()})
			r := p.await(p.kiosk, id)
			if !r.OK {
				if r.Error == nil || r.Error.Code != api.CodeInvalid && r.Error.Code != api.CodeLease {
					p.fail("an offline ticket refused with %+v", r.Error)
				}
				return
			}
			var tk api.Ticket
			json.Unmarshal(r.Result, &tk)
			if tk.IssuedAt.After(time.Now()) {
				p.fail("offline ticket %s placed in the future: %s", tk.Number, tk.IssuedAt)
			}
			if before != nil && tk.IssuedAt.Before(before.IssuedAt) && p.stillCounts(before.ID) {
				p.fail("offline ticket %s claiming %s placed at %s, before the kiosk's last online ticket %s of %s",
					tk.Number, printed.UTC().Format(time.TimeOnly), tk.IssuedAt.UTC().Format(time.TimeOnly), before.Number, before.IssuedAt.UTC().Format(time.TimeOnly))
			}
			return
		}
	}
}

// stillCounts reports whether a ticket still bounds a kiosk's claims: it
// is not cancelled.
func (p *propertyRun) stillCounts(id string) bool {
	var tk api.Ticket
	status, b := p.call("GET", "/api/v1/tickets/"+id, "")
	return status == 200 && json.Unmarshal(b, &tk) == nil && tk.State != "cancelled"
}

var deskOps = []string{api.OpOpen, api.OpCallNext, api.OpCallNext, api.OpRecall, api.OpStart, api.OpFinish, api.OpFinish, api.OpNoShow,
	api.OpTransfer, api.OpPause, api.OpResume, api.OpClose}

func (p *propertyRun) mqttDesk() {
	op := p.anyOf(deskOps)
	var args any
	switch op {
	case api.OpOpen:
		args = map[string]any{"agent": p.anyOf(propAgents)}
	case api.OpTransfer:
		args = map[string]any{"service": p.anyOf(propServices)}
	case api.OpPause:
		args = map[string]any{"reason": "pause"}
	}
	p.await(p.desk, p.command(p.desk, op, args))
}

// mqttFiftyPresses: call next pressed fifty times in a row at the desk:
// either a device that sends its command again and again (one id: one
// call at most, fifty times the same reply), or fifty commands (each
// answered, each call that was made in the log).
func (p *propertyRun) mqttFiftyPresses() {
	before := p.s.Store.LastSeq()
	var ids []string
	same := p.r.IntN(2) == 0
	if same {
		id := p.command(p.desk, api.OpCallNext, nil)
		b, _ := json.Marshal(map[string]any{"id": id, "op": api.OpCallNext})
		for range 49 {
			p.desk.publish(p.s.Topics.Cmd("desk-1"), false, b)
		}
		ids = append(ids, id)
	} else {
		for range 50 {
			ids = append(ids, p.command(p.desk, api.OpCallNext, nil))
		}
	}
	ok := 0
	for _, id := range ids {
		if p.await(p.desk, id).OK {
			ok++
		}
	}
	p.settle()
	called := 0
	for _, ev := range p.eventsAfter(before) {
		if ev.Type == "ticket.called" && ev.Actor == "desk-1" {
			called++
		}
	}
	if called != ok {
		p.fail("%d presses of call next (same id: %v) answered %d calls, the log holds %d", 50, same, ok, called)
	}
}

func (p *propertyRun) mqttBadCommand() {
	payload := p.anyOf(badCommands)
	p.kiosk.publish(p.s.Topics.Cmd("kiosk-p"), false, []byte(payload))
	var probe struct{ ID string }
	if json.Unmarshal([]byte(payload), &probe) == nil && api.ValidCommandID(probe.ID) {
		if r := p.await(p.kiosk, probe.ID); r.OK || r.Error == nil || r.Error.Code == "" {
			p.fail("bad command %.80q answered %+v", payload, r)
		}
		p.kiosk.mu.Lock()
		delete(p.kiosk.replies, probe.ID)
		p.kiosk.mu.Unlock()
	}
}

// mqttForeign: the kiosk publishes a command on the counter's topic.
func (p *propertyRun) mqttForeign() {
	p.nextID++
	id := fmt.Sprintf("foreign-%d", p.nextID)
	b, _ := json.Marshal(map[string]any{"id": id, "op": api.OpCallNext})
	p.kiosk.publish(p.s.Topics.Cmd("desk-1"), false, b)
	if _, ok := p.desk.reply(id); ok {
		p.fail("the desk got a reply to the kiosk's command on its topic")
	}
}

// mqttForgeRetained: the kiosk publishes, retained, a board, a
// configuration, a lease or a counter state of its own making.
func (p *propertyRun) mqttForgeRetained() {
	t := p.s.Topics
	topic := p.anyOf([]string{t.Board(), t.Config(), t.Queue(), t.Lease("kiosk-p"), t.Counter("1"), t.DeviceState("desk-1")})
	forged := map[string]string{
		t.Board():               `{"calls":[{"ticket":"Z999","service":"Z","counter":"1","counter_name":"Faux","at":"2026-01-01T10:00:00+01:00"}]}`,
		t.Config():              `{"site":{"name":"Faux","public_url":"http://evil.example"},"services":[]}`,
		t.Queue():               `{"services":[{"service":"A","waiting":0,"estimated_wait_s":1}]}`,
		t.Lease("kiosk-p"):      `{"device":"kiosk-p","blocks":[{"service":"E","day":"2026-01-01","from":1,"to":99999}]}`,
		t.Counter("1"):          `{"id":"1","open":false}`,
		t.DeviceState("desk-1"): `{"online":false}`,
	}[topic]
	p.kiosk.publish(topic, true, []byte(forged))
}

// mqttWill: a screen connects with a last will on the board, then its
// connection drops.
func (p *propertyRun) mqttWill() {
	p.nextID++
	cid := fmt.Sprintf("screen-w@will%d", p.nextID)
	o := paho.NewClientOptions().AddBroker(p.s.MQTTURL).SetClientID(cid).SetUsername("screen-w").SetPassword(p.secrets["screen-w"]).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(3*time.Second).
		SetBinaryWill(p.s.Topics.Board(), []byte(`{"calls":[{"ticket":"W001","service":"W","counter":"1","at":"2026-01-01T10:00:00Z"}]}`), 1, true)
	c := paho.NewClient(o)
	if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		// Mosquitto takes the connection and will not publish the will;
		// close it without DISCONNECT so that a broker would.
		c.Disconnect(0)
	}
}

// mqttStateFlood: the kiosk publishes many states, some far too large.
func (p *propertyRun) mqttStateFlood() {
	for i := range 20 {
		st := fmt.Sprintf(`{"online":true,"version":"%d"}`, i)
		if i%3 == 0 {
			st = `{"online":true,"extra":{"x":"` + strings.Repeat("x", 8<<10) + `"}}`
		}
		p.kiosk.publish(p.s.Topics.DeviceState("kiosk-p"), true, []byte(st))
	}
}

// mqttScreenCommand: a screen asks for a ticket.
func (p *propertyRun) mqttScreenCommand() {
	r := p.await(p.screen, p.command(p.screen, api.OpIssueTicket, map[string]any{"service": "E"}))
	if r.OK || r.Error == nil || r.Error.Code != api.CodeForbidden {
		p.fail("a screen's ticket request answered %+v", r)
	}
}
