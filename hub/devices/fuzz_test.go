package devices

import (
	"encoding/json"
	"errors"
	"testing"

	"guichet/hub/api"
)

// FuzzParseState: a device's state (or last will) is refused as too large
// or not a state, or accepted as a JSON object of at most MaxState bytes of
// valid text, which encodes again into a state read back the same; a will
// is accepted only on the device's own state topic, saying it is offline.
func FuzzParseState(f *testing.F) {
	for _, seed := range []string{
		`{"online":true,"role":"kiosk","version":"1.2","since":"2026-03-02T10:00:00+01:00","printer":{"ok":false,"paper_low":true},"outbox":3,"extra":{"temp":41.5,"ip":["10.0.0.2"]}}`,
		`{"online":false}`, `{}`, `{"online":"yes"}`, `["online"]`, `null`, ` {"online":true} `, `{"online":true}{}`,
		`{"since":"0000-01-01T00:00:00+23:59"}`, `{"since":"9999-12-31T23:59:59-23:59"}`, `{"extra":{"a":1e308,"b":[[[[[]]]]]}}`,
		"{\"version\":\"\xff\"}", `{"version":"\ud800"}`, `{"outbox":-1}`,
	} {
		f.Add([]byte(seed))
	}
	t := api.Topics{Site: "s"}
	d := &Device{ID: "k1", Role: api.RoleKiosk}
	f.Fuzz(func(tt *testing.T, p []byte) {
		st, err := ParseState(p)
		willErr := CheckWill(t, d, t.DeviceState("k1"), p)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNotAState) {
				tt.Fatalf("refused with %v", err)
			}
			if willErr == nil {
				tt.Fatalf("a will of %q accepted, not a state", p)
			}
			return
		}
		if len(p) > MaxState || api.CheckText(p) != nil {
			tt.Fatalf("accepted %d bytes: %q", len(p), p)
		}
		if (willErr == nil) == st.Online {
			tt.Fatalf("will %q: online %v, refusal %v", p, st.Online, willErr)
		}
		if CheckWill(t, d, t.DeviceState("k2"), p) == nil || CheckWill(t, d, t.Board(), p) == nil {
			tt.Fatal("a will accepted on another topic")
		}
		b, err := json.Marshal(st)
		if err != nil {
			tt.Fatalf("accepted %q, which does not encode: %v", p, err)
		}
		if len(b) <= MaxState {
			back, err := ParseState(b)
			if err != nil {
				tt.Fatalf("accepted %q, refused re-encoded %s: %v", p, b, err)
			}
			if b2, _ := json.Marshal(back); string(b2) != string(b) {
				tt.Fatalf("changed on the way back: %s then %s", b, b2)
			}
		}
		if _, err := json.Marshal(api.Device{ID: d.ID, State: &st}); err != nil {
			tt.Fatalf("the device view of state %q does not encode: %v", p, err)
		}
	})
}
