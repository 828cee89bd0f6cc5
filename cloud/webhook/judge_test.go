package webhook_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/internal/sitetest"
	"guichet/internal/stdwebhook"
)

// judge is a receiver built on the Standard Webhooks reference library
// (judge/receiver.js, npm "standardwebhooks"), in its own process.
type judge struct {
	url   string
	mu    sync.Mutex
	lines []map[string]any
	cmd   *exec.Cmd
}

func startJudge(t *testing.T, secret stdwebhook.Secret) *judge {
	t.Helper()
	dir, _ := filepath.Abs("judge")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		t.Fatalf("the reference library is not installed: run scripts/test-deps.sh (%v)", err)
	}
	port := sitetest.FreePort(t)
	j := &judge{url: fmt.Sprintf("http://127.0.0.1:%d/hook", port)}
	j.cmd = exec.Command("node", filepath.Join(dir, "receiver.js"), fmt.Sprint(port))
	j.cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret.String())
	out, err := j.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	j.cmd.Stderr = os.Stderr
	if err := j.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.cmd.Process.Kill(); j.cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "listening" {
				close(ready)
				continue
			}
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				j.mu.Lock()
				j.lines = append(j.lines, m)
				j.mu.Unlock()
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the reference receiver did not start")
	}
	return j
}

func (j *judge) results() []map[string]any {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]map[string]any(nil), j.lines...)
}

// A receiver built on the specification's reference library accepts the
// hub's events, structured and batched; the same request with its body
// changed by one byte is refused.
func TestSignatureAcceptedByTheStandardWebhooksLibrary(t *testing.T) {
	for _, mode := range []string{"structured", "batched"} {
		t.Run(mode, func(t *testing.T) {
			secret := stdwebhook.NewSecret()
			j := startJudge(t, secret)
			// A recorder in front of the judge keeps the last request, to change it.
			var mu sync.Mutex
			var last *http.Request
			var lastBody []byte
			r := sitetest.NewReceiver(t)
			r.Secret = secret
			r.Behave(func(w http.ResponseWriter, req *http.Request, n int) bool {
				body, _ := io.ReadAll(req.Body)
				fwd, _ := http.NewRequest("POST", j.url, bytes.NewReader(body))
				fwd.Header = req.Header.Clone()
				res, err := http.DefaultClient.Do(fwd)
				if err != nil {
					http.Error(w, err.Error(), 502)
					return true
				}
				res.Body.Close()
				mu.Lock()
				last, lastBody = fwd, body
				mu.Unlock()
				w.WriteHeader(res.StatusCode)
				return true
			})
			r.Start()
			s := site(t, r, dest(r, ", mode: "+mode))
			for range 3 {
				s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
			}
			ids, _ := sitetest.CloudEventIDs(t, s.HTTPURL, s.Token, 0)
			sitetest.Eventually(t, 10*time.Second, "the judge took every event", func() bool {
				got := map[string]bool{}
				for _, l := range j.results() {
					if l["ok"] != true {
						t.Fatalf("the reference library refused our signature: %v", l)
					}
					for _, id := range l["events"].([]any) {
						got[id.(string)] = true
					}
				}
				for _, id := range ids {
					if !got[id] {
						return false
					}
				}
				return true
			})
			mu.Lock()
			body := bytes.Clone(lastBody)
			h := last.Header.Clone()
			mu.Unlock()
			i := bytes.Index(body, []byte(`"ticket.issued"`))
			body[i+1] = 'T' // one byte
			req, _ := http.NewRequest("POST", j.url, bytes.NewReader(body))
			req.Header = h
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 400 {
				t.Fatalf("a body changed by one byte: %d", res.StatusCode)
			}
			sitetest.Eventually(t, 5*time.Second, "the judge saying why it refused the changed body", func() bool {
				for _, l := range j.results() {
					if l["ok"] == false && l["id"] == h.Get("webhook-id") && strings.Contains(fmt.Sprint(l["error"]), "signature") {
						return true
					}
				}
				return false
			})
		})
	}
}
