package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// encoding/json turns these into U+FFFD without a word; Decode refuses them.
func TestDecodeRefusesTextEncodingJSONWouldReplace(t *testing.T) {
	for name, doc := range map[string]string{
		"raw invalid byte":       "{\"reason\":\"caf\xe9\"}",
		"truncated sequence":     "{\"reason\":\"\xe2\x82\"}",
		"lone high surrogate":    `{"reason":"\ud800"}`,
		"high surrogate at end":  `{"reason":"x\uDBFF"}`,
		"lone low surrogate":     `{"reason":"\udc00"}`,
		"high then non-low":      `{"reason":"\ud800\u0041"}`,
		"high then plain text":   `{"reason":"\ud800abcdef"}`,
		"surrogate in a key":     `{"\ud800":1}`,
		"encoded surrogate byte": "{\"reason\":\"\xed\xa0\x80\"}", // U+D800 written as UTF-8: not UTF-8
	} {
		t.Run(name, func(t *testing.T) {
			var probe map[string]any
			if !strings.Contains(name, "byte") && !strings.Contains(name, "sequence") {
				// The point: the standard decoder takes it.
				if err := json.Unmarshal([]byte(doc), &probe); err != nil {
					t.Fatalf("encoding/json refuses it already: %v", err)
				}
			}
			var v PauseArgs
			err := Decode([]byte(doc), &v)
			if err == nil || err.Code != CodeInvalid {
				t.Fatalf("Decode(%q) = %+v, want %s", doc, err, CodeInvalid)
			}
		})
	}
}

func TestDecodeKeepsValidText(t *testing.T) {
	for doc, want := range map[string]string{
		`{"reason":"déjeuner"}`:        "déjeuner",
		`{"reason":"\ud83d\ude00 ok"}`: "😀 ok",
		`{"reason":"\\ud800"}`:         `\ud800`, // an escaped backslash, then text
		`{"reason":"\u00e9\u20ac"}`:    "é€",
		`{"reason":"\uFFFD"}`:          "\uFFFD", // the replacement character itself is text
	} {
		var v PauseArgs
		if err := Decode([]byte(doc), &v); err != nil || v.Reason != want {
			t.Errorf("Decode(%s) = %q, %+v; want %q", doc, v.Reason, err, want)
		}
	}
}

func TestDecodeNamesWhatIsWrong(t *testing.T) {
	for doc, code := range map[string]string{
		`{"reason":`:            CodeBadRequest,
		`{"reason":"a"}{}`:      CodeBadRequest,
		`{"reason":5}`:          CodeBadRequest,
		`{"reason":"a","x":1}`:  CodeUnknownField,
		`{"reason":"a\ud800b"}`: CodeInvalid,
		"{\"reason\":\"\xff\"}": CodeInvalid,
	} {
		var v PauseArgs
		if err := Decode([]byte(doc), &v); err == nil || err.Code != code || err.Message == "" {
			t.Errorf("Decode(%q) = %+v, want %s", doc, err, code)
		}
	}
}

func TestIssueArgsFieldsOfOneTransportAreRefusedOnTheOther(t *testing.T) {
	a := IssueArgs{Service: "E", Citizen: "c1"}
	if err := a.CheckMQTT(); err == nil || err.Code != CodeUnknownField {
		t.Fatalf("citizen over MQTT: %+v", err)
	}
	if err := a.CheckHTTP(); err != nil {
		t.Fatalf("citizen over HTTP: %+v", err)
	}
	b := IssueArgs{Service: "E", OfflineNumber: 901}
	if err := b.CheckHTTP(); err == nil || err.Code != CodeUnknownField || !strings.Contains(err.Message, "offline_number") {
		t.Fatalf("offline_number over HTTP: %+v", err)
	}
	if err := b.CheckMQTT(); err != nil {
		t.Fatalf("offline_number over MQTT: %+v", err)
	}
}

// FuzzParseCommand: whatever a device publishes, ParseCommand answers
// without panicking; a refusal carries a code of the request's and an id
// fit to echo (or none); what it accepts is a known op with arguments of
// its type, valid text, which encode again and read back the same.
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{
		`{"id":"0193-a","op":"issue_ticket","args":{"service":"E","priority":"priority"}}`,
		`{"id":"k1","op":"issue_ticket","args":{"service":"E","offline_number":901,"issued_at":"2026-11-17T09:00:00+01:00","token":"AAAAAAAAAAAAAAAAAAAAAA","replaces":"k0"}}`,
		`{"id":"x","op":"call_next"}`,
		`{"id":"x","op":"call_next","args":null}`,
		`{"id":"x","op":"call_next","args":{"counter":"2"}}`,
		`{"id":"p","op":"pause","args":{"reason":"caf\ud800"}}`,
		`{"id":"p","op":"pause","args":{"reason":"d\u00e9jeuner \ud83d\ude00"}}`,
		`{"id":"c","op":"checkin","args":{"code":"ANTS-4821","lang":"fr"}}`,
		`{"id":"t","op":"transfer","args":{"service":"P"}}`,
		`{"id":"o","op":"open","args":{"agent":"ana"}}`,
		`{"id":"v","op":"cancel","args":{"ticket":"0193","reason":"imprimante"}}`,
		"{\"id\":\"a8\",\"op\":\"\xff\"}",
		`{"id":"a","op":"issue_ticket","args":{"service":"E","appointment_at":"9999-12-31T23:30:00Z","priority":"appointment"}}`,
		`{"id":"a","op":"issue_ticket","args":{"service":"E","issued_at":"0000-01-01T00:00:00+01:00","offline_number":901}}`,
		`{"id":"a","op":"issue_ticket","args":{"service":"E","citizen":"c-1"}}`,
		`{"id":"a","op":"issue_ticket","args":{"service":"E","force":true}}`,
		`{"id":"a","op":"issue_ticket","args":{"service":"E","token":"short"}}`,
		`{"id":"a","op":"issue_ticket","args":{"service":"E","offline_number":1e400}}`,
		`{"id":"a","op":"issue_ticket","args":{"service":["E"]}}`,
		`{"id":"a","op":"issue_ticket","args":{"service":"E"}}{"id":"b"}`,
		`{"id":"a","op":"issue_ticket","args":"E"}`,
		`{"id":"` + strings.Repeat("x", 65) + `","op":"call_next"}`,
		`{"id":"a b","op":"call_next"}`,
		`{"id":1,"op":"call_next"}`,
		`{"ID":"a","OP":"call_next"}`,
		`{"id":"a","op":"call_next","extra":1}`,
		`{"id":"a","op":"launch"}`,
		`[]`, `null`, ``, `{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, args, err := ParseCommand(payload)
		if err != nil {
			if !commandCodes[err.Code] || err.Message == "" || (err.ID != "" && !ValidCommandID(err.ID)) {
				t.Fatalf("refusal %+v", err)
			}
			return
		}
		if len(payload) > MaxCommandSize || !ValidCommandID(c.ID) {
			t.Fatalf("accepted %d bytes, id %q", len(payload), c.ID)
		}
		want, known := NewArgs(c.Op)
		if !known || (want == nil) != (args == nil) || (args != nil && reflect.TypeOf(args) != reflect.TypeOf(want)) {
			t.Fatalf("op %q accepted with arguments %T", c.Op, args)
		}
		if args == nil {
			return
		}
		b, merr := json.Marshal(args)
		if merr != nil {
			t.Fatalf("accepted args that do not encode: %v", merr)
		}
		if !utf8.Valid(b) || CheckText(b) != nil {
			t.Fatalf("accepted args with invalid text: %s", b)
		}
		// What was accepted reads back the same, sent again.
		again, _ := json.Marshal(Command{ID: c.ID, Op: c.Op, Args: b})
		c2, args2, err2 := ParseCommand(again)
		if err2 != nil || c2.ID != c.ID || c2.Op != c.Op {
			t.Fatalf("accepted %s, refused it re-encoded %s: %+v", payload, again, err2)
		}
		if b2, _ := json.Marshal(args2); string(b2) != string(b) {
			t.Fatalf("arguments changed on the way back: %s then %s", b, b2)
		}
	})
}

// commandCodes are the codes ParseCommand refuses with: the request's own.
var commandCodes = map[string]bool{CodeBadRequest: true, CodeUnknownOp: true, CodeUnknownField: true,
	CodeTooLarge: true, CodeInvalid: true}

// A command over the size limit is refused, as the answer to its id: a
// device keeps a command until it is answered, and resent it at every
// connection.
func TestATooLargeCommandIsAnsweredWithItsID(t *testing.T) {
	payload := `{"id":"big-1","op":"issue_ticket","args":{"service":"` + strings.Repeat("E", MaxCommandSize) + `"}}`
	_, _, err := ParseCommand([]byte(payload))
	if err == nil || err.Code != CodeTooLarge || err.ID != "big-1" {
		t.Fatalf("ParseCommand = %+v", err)
	}
}
