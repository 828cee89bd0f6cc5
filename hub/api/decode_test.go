package api

import (
	"encoding/json"
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
// without panicking, and what it accepts is valid text that encodes again.
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{
		`{"id":"0193-a","op":"issue_ticket","args":{"service":"E","priority":"priority"}}`,
		`{"id":"k1","op":"issue_ticket","args":{"service":"E","offline_number":901,"issued_at":"2026-11-17T09:00:00+01:00","token":"AAAAAAAAAAAAAAAAAAAAAA","replaces":"k0"}}`,
		`{"id":"x","op":"call_next"}`,
		`{"id":"p","op":"pause","args":{"reason":"caf\ud800"}}`,
		`{"id":"c","op":"checkin","args":{"code":"ANTS-4821","lang":"fr"}}`,
		`{"id":"t","op":"transfer","args":{"service":"P"}}`,
		"{\"id\":\"a8\",\"op\":\"\xff\"}",
		`{"id":"a","op":"issue_ticket","args":{"service":"E","appointment_at":"9999-12-31T23:30:00Z","priority":"appointment"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, args, err := ParseCommand(payload)
		if err != nil {
			if err.Code == "" || err.Message == "" || (err.ID != "" && !ValidCommandID(err.ID)) {
				t.Fatalf("refusal %+v", err)
			}
			return
		}
		if !ValidCommandID(c.ID) {
			t.Fatalf("accepted id %q", c.ID)
		}
		b, merr := json.Marshal(args)
		if merr != nil {
			t.Fatalf("accepted args that do not encode: %v", merr)
		}
		if !utf8.Valid(b) || CheckText(b) != nil {
			t.Fatalf("accepted args with invalid text: %s", b)
		}
	})
}
