package api

import (
	"strings"
	"testing"
)

func TestTopicsRoundTrip(t *testing.T) {
	tp := Topics{Site: "villeneuve"}
	cases := []struct {
		topic, kind, id string
	}{
		{tp.Cmd("kiosk-hall"), KindCmd, "kiosk-hall"},
		{tp.Reply("k1"), KindReply, "k1"},
		{tp.Board(), KindBoard, ""},
		{tp.Queue(), KindQueue, ""},
		{tp.Config(), KindConfig, ""},
		{tp.Counter("3"), KindCounter, "3"},
		{tp.Lease("k1"), KindLease, "k1"},
		{tp.DeviceState("k1"), KindDeviceState, "k1"},
		{"guichet/v1/villeneuve/device/k1/printer", KindDevice, "k1"},
		{tp.Event("ticket.called"), KindEvent, "ticket.called"},
	}
	for _, c := range cases {
		kind, id, ok := tp.Parse(c.topic)
		if !ok || kind != c.kind || id != c.id {
			t.Errorf("Parse(%q) = %q %q %v, want %q %q", c.topic, kind, id, ok, c.kind, c.id)
		}
	}
	if tp.Cmd("k1") != "guichet/v1/villeneuve/cmd/k1" || tp.DeviceState("k1") != "guichet/v1/villeneuve/device/k1/state" {
		t.Fatal(tp.Cmd("k1"), tp.DeviceState("k1"))
	}
	for _, bad := range []string{"guichet/v1/other/board", "guichet/v1/villeneuve/cmd/", "guichet/v1/villeneuve/nope", "board"} {
		if _, _, ok := tp.Parse(bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestValidDeviceID(t *testing.T) {
	for _, ok := range []string{"kiosk-hall", "k1", "counter-3.a_b"} {
		if !ValidDeviceID(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", "Kiosk", "a/b", "a+b", "#", "-x", strings.Repeat("a", 65), "é"} {
		if ValidDeviceID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseCommand(t *testing.T) {
	c, args, err := ParseCommand([]byte(`{"id":"0193-a","op":"issue_ticket","args":{"service":"E","priority":"priority"}}`))
	if err != nil || c.ID != "0193-a" || args.(*IssueArgs).Service != "E" {
		t.Fatalf("%+v %+v %v", c, args, err)
	}
	if _, args, err := ParseCommand([]byte(`{"id":"x","op":"call_next"}`)); err != nil || args != nil {
		t.Fatalf("call_next: %v %v", args, err)
	}
	cases := []struct {
		name, payload, code, id string
	}{
		{"not JSON", `hello`, "bad_request", ""},
		{"wrong type of id", `{"id":5,"op":"call_next"}`, "bad_request", ""},
		{"wrong type of args", `{"id":"a1","op":"issue_ticket","args":{"service":5}}`, "bad_request", "a1"},
		{"unknown op", `{"id":"a2","op":"reboot"}`, "unknown_op", "a2"},
		{"unknown field", `{"id":"a3","op":"issue_ticket","args":{"service":"E","vip":1}}`, "unknown_field", "a3"},
		{"unknown top-level field", `{"id":"a4","op":"call_next","extra":1}`, "bad_request", "a4"},
		{"args where none", `{"id":"a5","op":"call_next","args":{"x":1}}`, "bad_request", "a5"},
		{"empty id", `{"id":"","op":"call_next"}`, "bad_request", ""},
		{"id with spaces", `{"id":"a b","op":"call_next"}`, "bad_request", ""},
		{"two objects", `{"id":"a6","op":"call_next"}{}`, "bad_request", "a6"},
		{"too large", `{"id":"a7","op":"issue_ticket","args":{"service":"` + strings.Repeat("E", 1<<20) + `"}}`, "too_large", ""},
		{"not UTF-8", "{\"id\":\"a8\",\"op\":\"\xff\"}", "invalid_argument", "a8"},
		{"lone surrogate in args", `{"id":"a9","op":"pause","args":{"reason":"caf\ud800"}}`, "invalid_argument", "a9"},
		{"lone low surrogate in args", `{"id":"a10","op":"pause","args":{"reason":"\udc00"}}`, "invalid_argument", "a10"},
		{"reversed pair", `{"id":"a11","op":"pause","args":{"reason":"\udc00\ud800"}}`, "invalid_argument", "a11"},
		{"number too large", `{"id":"a12","op":"issue_ticket","args":{"service":"E","offline_number":1e400}}`, "bad_request", "a12"},
		{"citizen over MQTT", `{"id":"a13","op":"issue_ticket","args":{"service":"E","citizen":"c1"}}`, "unknown_field", "a13"},
		{"force over MQTT", `{"id":"a14","op":"issue_ticket","args":{"service":"E","force":true}}`, "unknown_field", "a14"},
		{"short token", `{"id":"a15","op":"issue_ticket","args":{"service":"E","offline_number":901,"token":"abc"}}`, "invalid_argument", "a15"},
		{"replaces not an id", `{"id":"a16","op":"issue_ticket","args":{"service":"E","offline_number":901,"replaces":"a b"}}`, "invalid_argument", "a16"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ParseCommand([]byte(c.payload))
			if err == nil || err.Code != c.code || err.ID != c.id || err.Message == "" {
				t.Fatalf("got %+v, want code %s id %q", err, c.code, c.id)
			}
		})
	}
}

func TestShortCounterName(t *testing.T) {
	for in, want := range map[string]string{"Guichet 7 — Titres": "Guichet 7", "Bureau 5 - Social": "Bureau 5", "Guichet 3": "Guichet 3", "": ""} {
		if got := ShortCounterName(in); got != want {
			t.Errorf("ShortCounterName(%q) = %q, want %q", in, got, want)
		}
	}
}
