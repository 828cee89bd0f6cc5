package lutece_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// notificationstore answers as Lutece's notificationstore plugin: it takes
// a notification at /lutece/rest/notificationstore/v3/notification, needs
// its demand's id and type_id, its date in milliseconds, knows the demand
// types it was given, and answers {"status": "success"} or an error with
// an errorCode.
type notificationstore struct {
	mu    sync.Mutex
	types map[string]bool
	got   []map[string]any
	token string
}

func (n *notificationstore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(st int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorCode": code, "message": msg})
	}
	if r.Method != "POST" || r.URL.Path != "/lutece/rest/notificationstore/v3/notification" {
		fail(404, "NOT_FOUND", "no such resource")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+n.token {
		fail(401, "UNAUTHORIZED", "bad token")
		return
	}
	var body struct {
		Date   json.Number `json:"date"`
		Demand *struct {
			ID       *string `json:"id"`
			TypeID   *string `json:"type_id"`
			StatusID *int    `json:"status_id"`
		} `json:"demand"`
	}
	var raw map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		fail(400, "BAD_JSON", err.Error())
		return
	}
	b, _ := json.Marshal(raw)
	json.Unmarshal(b, &body)
	if _, err := body.Date.Int64(); err != nil || body.Demand == nil || body.Demand.ID == nil || body.Demand.TypeID == nil || body.Demand.StatusID == nil {
		fail(400, "MISSING_FIELD", "demand id, type_id, status_id and date are required")
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.types[*body.Demand.TypeID] {
		fail(422, "UNKNOWN_DEMAND_TYPE", "demand type "+*body.Demand.TypeID+" does not exist")
		return
	}
	n.got = append(n.got, raw)
	json.NewEncoder(w).Encode(map[string]string{"status": "success", "result": "notification stored"})
}

func (n *notificationstore) all() []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]map[string]any(nil), n.got...)
}

func site(t *testing.T, url, demandType string) *sitetest.Site {
	t.Setenv("TEST_LUTECE_TOKEN", "lutece-api-manager-token-0123456789")
	cfg := sitetest.Config + fmt.Sprintf("destinations:\n  - { name: gru, type: lutece, url: %q, demand_type: %q, token_env: TEST_LUTECE_TOKEN, max_backoff: 100ms }\n", url, demandType)
	return sitetest.Start(t, sitetest.Options{Config: cfg, OpenHours: true})
}

// A served ticket and a no-show become notifications in the GRU, with the
// demand's id, type, reference, status and steps, and the citizen as its
// customer.
func TestServedTicketBecomesAGRUNotification(t *testing.T) {
	n := &notificationstore{types: map[string]bool{"104": true}, token: "lutece-api-manager-token-0123456789"}
	srv := httptest.NewServer(n)
	defer srv.Close()
	s := site(t, srv.URL+"/lutece", "104")
	var tk api.Ticket
	s.Must("POST", "/api/v1/tickets", `{"service":"E","citizen":"Jean Dupont jean.dupont@example.fr"}`, 201, &tk)
	s.Must("POST", "/api/v1/counters/2/open", `{"agent":"bob"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/2/next", ``, 200, nil)
	s.Must("POST", "/api/v1/counters/2/start", ``, 200, nil)
	s.Must("POST", "/api/v1/counters/2/finish", ``, 200, nil)
	sitetest.Eventually(t, 10*time.Second, "a notification", func() bool { return len(n.all()) == 1 })
	got := n.all()[0]
	d := got["demand"].(map[string]any)
	c := d["customer"].(map[string]any)
	if d["id"] != tk.ID || d["type_id"] != "104" || !strings.HasPrefix(fmt.Sprint(d["reference"]), tk.Number+" du ") ||
		fmt.Sprint(d["status_id"]) != "15" || fmt.Sprint(d["current_step"]) != "3" || fmt.Sprint(d["max_step"]) != "3" ||
		c["email"] != "jean.dupont@example.fr" || c["lastname"] != "Dupont" {
		t.Fatalf("notification: %v", got)
	}
	if !strings.Contains(fmt.Sprint(got["mydashboard"]), "État civil") {
		t.Fatalf("dashboard: %v", got["mydashboard"])
	}
}

// A demand type the GRU does not know is refused for good: a dead letter
// with the GRU's error code.
func TestRefusedNotificationGoesToDeadLetters(t *testing.T) {
	n := &notificationstore{types: map[string]bool{}, token: "lutece-api-manager-token-0123456789"}
	srv := httptest.NewServer(n)
	defer srv.Close()
	s := site(t, srv.URL+"/lutece", "999")
	s.Must("POST", "/api/v1/tickets", `{"service":"E"}`, 201, nil)
	s.Must("POST", "/api/v1/counters/2/open", `{"agent":"bob"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/2/next", ``, 200, nil)
	s.Must("POST", "/api/v1/counters/2/noshow", ``, 200, nil)
	var dl struct {
		DeadLetters []api.DeadLetter `json:"dead_letters"`
	}
	sitetest.Eventually(t, 10*time.Second, "a dead letter", func() bool {
		s.Must("GET", "/api/v1/destinations/gru/dead-letters", "", 200, &dl)
		return len(dl.DeadLetters) == 1
	})
	if r := dl.DeadLetters[0]; r.Type != "ticket.noshow" || !strings.Contains(r.Reason, "UNKNOWN_DEMAND_TYPE") {
		t.Fatalf("dead letter: %+v", r)
	}
}
