package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"guichet/internal/stdwebhook"
)

// FuzzMessage: whatever a provider posts, signed right, the adapter answers
// JSON — applied, ignored, or refused with a code and the status of its
// kind — never logs a caller's number or name, and keeps its promise to
// the hub: a call ends once per time it was announced, and is announced
// again only once ended.
func FuzzMessage(f *testing.F) {
	for _, seed := range []string{
		`{"type":"call.waiting","data":{"call_id":"c1","number":"+33 6 12 34 56 78","name":"Jeanne Martin","queue":"accueil"}}`,
		`{"type":"call.offered","data":{"call_id":"c1","agent":"agent-101"}}`,
		`{"type":"call.connected","data":{"call_id":"c1","agent":"agent-101"}}`,
		`{"type":"call.ended","data":{"call_id":"c1","by":"caller"}}`,
		`{"type":"call.abandoned","data":{"call_id":"c2","reason":"hung_up"}}`,
		`{"type":"agent.state","data":{"agent":"agent-102","logged_in":true,"paused":true,"reason":"pause"}}`,
		`{"type":"snapshot","data":{"calls":[{"call_id":"c3","number":"0612345678","queue":"etat-civil","state":"connected","agent":"agent-102"}],"agents":[]}}`,
		`{"type":"call.originate_result","data":{"ref":"r1","ok":false,"reason":"busy"}}`,
		`{"type":"call.waiting","timestamp":"9999-12-31T23:59:59Z","data":{"call_id":"c4","queue":"accueil"}}`,
		`{"type":"call.waiting","data":{"call_id":"c5","number":"06\u0000","queue":"accueil","joined_at":"0000-01-01T00:00:00+14:00"}}`,
		"{\"type\":\"call.waiting\",\"data\":{\"call_id\":\"\xff\",\"queue\":\"accueil\"}}",
		`{"type":"call.waiting","data":null}`, `{"type":"x"}`, `[]`, ``,
	} {
		f.Add([]byte(seed))
	}
	r := newRig(f, nil)
	secret, _ := stdwebhook.ParseSecret(testSecret)
	digits := regexp.MustCompile(`[0-9][0-9 .()-]{6,}[0-9]`)
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		n++
		r.now.Add(50 * time.Millisecond) // message ids expire from the replay window as they would
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		secret.Sign(req.Header, fmt.Sprintf("msg-%d", n), r.now.Now(), body)
		logged := len(r.log.String())
		rec := httptest.NewRecorder()
		r.a.ServeHTTP(rec, req)
		var answer struct {
			OK    bool
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("answer %d not JSON: %q", rec.Code, rec.Body.Bytes())
		}
		switch {
		case rec.Code == 200 && answer.OK:
		case rec.Code >= 400 && rec.Code < 500 || rec.Code == 503:
			if answer.OK || answer.Error.Code == "" {
				t.Fatalf("refusal %d: %s", rec.Code, rec.Body.Bytes())
			}
		default:
			t.Fatalf("answered %d: %s", rec.Code, rec.Body.Bytes())
		}
		var m struct {
			Data struct{ Number, Name string }
		}
		json.Unmarshal(body, &m)
		lines := r.log.String()[logged:]
		for _, personal := range append(digits.FindAllString(m.Data.Number, -1), strings.TrimSpace(m.Data.Name)) {
			if len(personal) >= 6 && strings.Contains(lines, personal) {
				t.Fatalf("logged %q: %s", personal, lines)
			}
		}
		r.cons.mu.Lock()
		defer r.cons.mu.Unlock()
		for id, ends := range r.cons.ended {
			if ends > r.cons.announced[id] || ends+1 < r.cons.announced[id] {
				t.Fatalf("call %s announced %d times, ended %d times", id, r.cons.announced[id], ends)
			}
		}
	})
}
