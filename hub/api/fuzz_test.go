package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// bodyTypes are the types an HTTP body is decoded into: each op's
// arguments, an appointment, and nothing (an op that takes no argument).
var bodyTypes = []func() any{
	func() any { return &IssueArgs{} },
	func() any { return &CheckinArgs{} },
	func() any { return &CancelArgs{} },
	func() any { return &TransferArgs{} },
	func() any { return &PauseArgs{} },
	func() any { return &OpenArgs{} },
	func() any { return &AppointmentArgs{} },
	func() any { return &struct{}{} },
}

// FuzzDecodeBody: an HTTP body decoded into any operation's type is
// refused with a code of the request's, or accepted as valid text that
// encodes again and decodes back the same; an issue request's transport
// checks refuse with a code too.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{
		`{"service":"E","channel":"phone","priority":"appointment","appointment_at":"2026-11-17T09:30:00+01:00","lang":"fr"}`,
		`{"service":"E","citizen":"c-12","force":true}`,
		`{"service":"E","offline_number":901,"issued_at":"2026-11-17T09:00:00+01:00"}`,
		`{"code":"ANTS-4821","lang":"zh-Hant-TW"}`,
		`{"ticket":"0193","reason":"parti"}`,
		`{"service":"P"}`,
		`{"reason":"d\u00e9jeuner"}`,
		`{"reason":"\ud800"}`,
		"{\"reason\":\"caf\xe9\"}",
		`{"agent":"ana"}`,
		`{"code":"R1","service":"E","at":"9999-12-31T23:59:59-23:59","citizen":"c"}`,
		`{"code":"R1","service":"E","at":"0000-01-01T00:00:00+14:00"}`,
		`{"service":"E","appointment_at":"2026-13-45T99:00:00Z"}`,
		`{"service":1}`, `{"service":null}`, `{"service":"E","x":1}`, `{"service":"E"} {}`, `[`, ` `, `"E"`,
	} {
		for i := range bodyTypes {
			f.Add(uint8(i), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		newV := bodyTypes[int(which)%len(bodyTypes)]
		v := newV()
		if err := Decode(body, v); err != nil {
			if !bodyCodes[err.Code] || err.Message == "" {
				t.Fatalf("refusal %+v", err)
			}
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q, which does not encode: %v", body, err)
		}
		if CheckText(b) != nil {
			t.Fatalf("accepted invalid text: %s", b)
		}
		back := newV()
		if err := Decode(b, back); err != nil {
			t.Fatalf("accepted %q, refused it re-encoded %s: %+v", body, b, err)
		}
		if b2, _ := json.Marshal(back); string(b2) != string(b) {
			t.Fatalf("changed on the way back: %s then %s", b, b2)
		}
		if ia, ok := v.(*IssueArgs); ok {
			for _, e := range []*Error{ia.CheckHTTP(), ia.CheckMQTT()} {
				if e != nil && !bodyCodes[e.Code] {
					t.Fatalf("transport check refused with %+v", e)
				}
			}
		}
	})
}

// bodyCodes are the codes a body is refused with.
var bodyCodes = map[string]bool{CodeBadRequest: true, CodeUnknownField: true, CodeInvalid: true}

// FuzzRetained: a retained payload a device reads is refused with
// ErrRetained, or accepted within the bounds the device computes with,
// encoding again into a payload read back the same.
func FuzzRetained(f *testing.F) {
	for _, seed := range []string{
		`{"site":{"id":"v","name":"Mairie","timezone":"Europe/Paris","clock":{"real":"2026-01-01T00:00:00Z","sim":"2026-01-01T09:00:00Z","speed":60}},"services":[{"id":"A","name":{"fr":"Accueil"},"sla_s":600,"channels":["visit"],"open":true,"full":false,"service_time_s":240}],"counters":[{"id":"1","name":"Guichet 1","channels":["visit"]}],"languages":["fr","en"]}`,
		`{"at":"2026-03-02T10:00:00+01:00","services":[{"service":"A","waiting":3,"waiting_phone":1,"longest_wait_s":120,"ahead":2,"estimated_wait_s":600,"ahead_phone":0,"estimated_wait_phone_s":null,"agents":1.5,"open":true}]}`,
		`{"calls":[{"ticket":"A042","service":"A","counter":"3","counter_name":"Guichet 3","at":"2026-03-02T10:00:00+01:00","recall":true}]}`,
		`{"id":"3","name":"Guichet 3","channels":["visit"],"open":true,"agent":"ana","agent_state":"serving","ticket":{"id":"0193","number":"A042","service":"A","state":"called","issued_at":"2026-03-02T09:00:00+01:00"}}`,
		`{"device":"k1","blocks":[{"service":"A","day":"2026-03-02","from":901,"to":950,"used":[901,902]}]}`,
		`{"device":"k1","blocks":[{"service":"A","day":"2026-03-02","from":1,"to":9223372036854775807}]}`,
		`{"services":[{"service":"A","estimated_wait_s":-1}]}`,
		`{"calls":[{"ticket":"A0042","counter":"1"}]}`,
		`{"site":{"clock":{"speed":0}}}`,
		`{"services":[{"id":"AA"}]}`,
		"{\"calls\":[{\"ticket\":\"A042\",\"counter\":\"\xff\"}]}",
		`null`, ``, `[]`,
	} {
		for k := range 5 {
			f.Add(uint8(k), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, p []byte) {
		var v any
		var err error
		var again func([]byte) (any, error)
		switch kind % 5 {
		case 0:
			again = func(p []byte) (any, error) { return ParseConfig(p) }
		case 1:
			again = func(p []byte) (any, error) { return ParseQueue(p) }
		case 2:
			again = func(p []byte) (any, error) { return ParseBoard(p) }
		case 3:
			again = func(p []byte) (any, error) { return ParseCounter(p, "3") }
		default:
			again = func(p []byte) (any, error) { return ParseLeases(p, "k1") }
		}
		if v, err = again(p); err != nil {
			if !errors.Is(err, ErrRetained) {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		checkRetainedBounds(t, v)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted %q, which does not encode: %v", p, err)
		}
		back, err := again(b)
		if err != nil {
			t.Fatalf("accepted %q, refused it re-encoded %s: %v", p, b, err)
		}
		if b2, _ := json.Marshal(back); string(b2) != string(b) {
			t.Fatalf("changed on the way back: %s then %s", b, b2)
		}
	})
}

// checkRetainedBounds checks, apart from the parsers, the bounds a device
// relies on.
func checkRetainedBounds(t *testing.T, v any) {
	t.Helper()
	switch x := v.(type) {
	case SiteConfig:
		if len(x.Services) > MaxServices || x.Site.Clock != nil && !(x.Site.Clock.Speed > 0) {
			t.Fatalf("config accepted: %d services, clock %+v", len(x.Services), x.Site.Clock)
		}
	case Queue:
		for _, s := range x.Services {
			if s.EstimatedWait != nil && (*s.EstimatedWait < 0 || *s.EstimatedWait > MaxWait) || s.Waiting < 0 || s.Ahead < 0 {
				t.Fatalf("queue accepted: %+v", s)
			}
		}
	case Board:
		if len(x.Calls) > MaxBoardCalls {
			t.Fatalf("board of %d calls accepted", len(x.Calls))
		}
		for _, c := range x.Calls {
			if len(c.Ticket) > 6 || strings.ContainsAny(c.Ticket, " ,.") {
				t.Fatalf("call of %q accepted", c.Ticket)
			}
		}
	case Counter:
		if x.ID != "3" {
			t.Fatalf("counter %q accepted for 3", x.ID)
		}
	case Leases:
		numbers := 0
		for _, b := range x.Blocks {
			if b.From < 1 || b.To > MaxNumber || b.To < b.From {
				t.Fatalf("block %+v accepted", b)
			}
			numbers += b.To - b.From + 1
		}
		if x.Device != "k1" || numbers > MaxLeases*MaxLeaseSize {
			t.Fatalf("lease of %q with %d numbers accepted", x.Device, numbers)
		}
	}
}
