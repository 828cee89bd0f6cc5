package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/devices"
	"guichet/internal/sitetest"
)

// clock is a test clock the enrollment codes read.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type enrollmentCode struct {
	Device    string    `json:"device"`
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

// issueCode asks the hub, as an admin, for a device's enrollment code.
func issueCode(t *testing.T, s *sitetest.Site, id string) enrollmentCode {
	t.Helper()
	var c enrollmentCode
	s.Must("POST", "/api/v1/devices/"+id+"/enrollment", "", 201, &c)
	return c
}

// enroll posts a code to the public enrollment route, with no account.
func enroll(t *testing.T, s *sitetest.Site, code string) (int, []byte, http.Header) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"code": code})
	res, err := http.Post(s.HTTPURL+"/api/v1/enroll", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// A code is 16 base32 letters without I, L, O, U (80 bits) in groups of
// four; it expires after 24 h; an expired, a reused and a forged code get
// the same refusal, with a log line and no code in the logs or events.
func TestExpiredReusedAndForgedEnrollmentCodesAreRefusedAlike(t *testing.T) {
	c := &clock{now: time.Now()}
	s := sitetest.Start(t, sitetest.Options{AuthClock: c.Now})
	s.AddDevice("kiosk-1", "kiosk", "")
	s.AddDevice("kiosk-2", "kiosk", "")

	code := issueCode(t, s, "kiosk-1")
	if len(code.Code) != 19 || strings.ContainsAny(code.Code, "ILOU") || code.ExpiresAt.Sub(c.Now()) != 24*time.Hour {
		t.Fatalf("code %q expiring %v: want XXXX-XXXX-XXXX-XXXX in Crockford's base32, 24 h", code.Code, code.ExpiresAt)
	}
	// Expired: one second past its 24 hours.
	c.Add(24*time.Hour + time.Second)
	stExpired, expired, _ := enroll(t, s, code.Code)
	c.Add(-(24*time.Hour + time.Second))

	// Used once, typed the way a person does (lower case, spaces), then again.
	code2 := issueCode(t, s, "kiosk-2")
	typed := strings.ToLower(strings.ReplaceAll(code2.Code, "-", " "))
	st, b, h := enroll(t, s, typed)
	var e api.Enrollment
	if st != 200 || json.Unmarshal(b, &e) != nil || e.ID != "kiosk-2" || e.Role != "kiosk" || e.Site != s.Topics.Site || e.Secret == "" ||
		len(e.MQTTURLs) == 0 || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("a good code: %d %s", st, b)
	}
	stReused, reused, _ := enroll(t, s, code2.Code)

	// Forged: well formed, never issued.
	stForged, forged, _ := enroll(t, s, devices.NewEnrollmentCode())

	for name, r := range map[string]struct {
		st   int
		body []byte
	}{"expired": {stExpired, expired}, "reused": {stReused, reused}, "forged": {stForged, forged}} {
		if r.st != http.StatusNotFound || !bytes.Equal(r.body, forged) {
			t.Errorf("%s code: %d %s; want 404 and the same answer as the others", name, r.st, r.body)
		}
	}
	logs := s.Logs.String()
	if n := strings.Count(logs, "enrollment code refused"); n != 3 {
		t.Errorf("%d log lines of refused codes, want 3", n)
	}
	var res struct{ Events []map[string]any }
	s.Must("GET", "/api/v1/events?limit=1000", "", 200, &res)
	evs, _ := json.Marshal(res.Events)
	for _, want := range []string{`"device.enrollment_issued"`, `"device.enrolled"`} {
		if !strings.Contains(string(evs), want) {
			t.Errorf("no %s event:\n%s", want, evs)
		}
	}
	for _, secret := range []string{code.Code, code2.Code, strings.ReplaceAll(code2.Code, "-", ""), e.Secret} {
		if strings.Contains(logs, secret) || strings.Contains(string(evs), secret) {
			t.Errorf("a code or a secret is in the logs or the events")
		}
	}
}

// The secret a device had before its enrollment stops working: a leaked
// earlier secret is useless once the device is enrolled.
func TestEnrollmentGivesTheDeviceANewSecret(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	old := s.AddDevice("kiosk-1", "kiosk", "")
	st, b, _ := enroll(t, s, issueCode(t, s, "kiosk-1").Code)
	var e api.Enrollment
	if st != 200 || json.Unmarshal(b, &e) != nil {
		t.Fatalf("enroll: %d %s", st, b)
	}
	if e.Secret == old {
		t.Fatal("the enrolled device kept its secret")
	}
	if _, err := s.Devices.Authenticate("kiosk-1", old); err == nil {
		t.Fatal("the old secret still authenticates")
	}
	if _, err := s.Devices.Authenticate("kiosk-1", e.Secret); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
}

// Ten wrong codes from one address, and the eleventh try is refused before
// the code is looked at — a right code too — with Retry-After.
func TestWrongEnrollmentCodesAreRateLimited(t *testing.T) {
	now := time.Now()
	s := sitetest.Start(t, sitetest.Options{AuthClock: func() time.Time { return now }})
	s.AddDevice("kiosk-1", "kiosk", "")
	good := issueCode(t, s, "kiosk-1")
	for i := 0; i < 10; i++ {
		if st, b, _ := enroll(t, s, devices.NewEnrollmentCode()); st != http.StatusNotFound {
			t.Fatalf("wrong code %d: %d %s", i+1, st, b)
		}
	}
	st, b, h := enroll(t, s, good.Code)
	if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("the right code after ten wrong ones: %d %s, Retry-After %q; want 429", st, b, h.Get("Retry-After"))
	}
	if n := strings.Count(s.Logs.String(), "enrollment: client locked out"); n != 1 {
		t.Errorf("%d lockout log lines, want 1", n)
	}
}

// With the MQTT listener on TLS, the enrollment gives the ssl:// broker and
// the certificate a device trusts it with.
func TestEnrollmentGivesTheTLSBrokerAndItsCA(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{TLS: true})
	s.AddDevice("kiosk-1", "kiosk", "")
	st, b, _ := enroll(t, s, issueCode(t, s, "kiosk-1").Code)
	var e api.Enrollment
	if st != 200 || json.Unmarshal(b, &e) != nil {
		t.Fatalf("enroll: %d %s", st, b)
	}
	if len(e.MQTTURLs) != 2 || e.MQTTURLs[0] != s.TLSURL || !strings.HasPrefix(e.CAPEM, "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("brokers %v, CA %.40q; want %s first and a PEM certificate", e.MQTTURLs, e.CAPEM, s.TLSURL)
	}
}

// Two devices racing with the same code: one is enrolled, the other
// refused.
func TestACodeUsedTwiceAtOnceEnrollsOneDevice(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddDevice("kiosk-1", "kiosk", "")
	code := issueCode(t, s, "kiosk-1").Code
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, _ := enroll(t, s, code)
			statuses <- st
		}()
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusNotFound:
		default:
			t.Errorf("status %d", st)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d racing requests enrolled the device, want 1", ok, n)
	}
}
