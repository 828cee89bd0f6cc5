package suitecrm_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCRM is a server that answers as SuiteCRM's V8 API is documented
// (docs.suitecrm.com, "JSON API"; the Api/V8 sources): OAuth2 client
// credentials at /Api/access_token (league/oauth2-server's answers and
// errors), JSON:API resources at /Api/V8/module/{module}, filters
// filter[field][op] with the operators eq, neq, gt, gte, lt, lte and
// filter[operator] and|or (an unknown field or operator is a 400), errors
// as {"errors": {"status", "title", "detail"}}, a token that fails to
// verify as a 401 "access_denied".
type fakeCRM struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	clients map[string]string // id → secret
	tokens  map[string]time.Time
	issued  int
	records map[string][]record                              // module → records
	refuse  func(module string, attrs map[string]any) string // a 422's detail, or ""
	rels    []string                                         // "Contacts/{id}/Calls/{id}"
}

type record struct {
	ID    string         `json:"id"`
	Type  string         `json:"type"`
	Attrs map[string]any `json:"attributes"`
}

var fields = map[string][]string{
	"Contacts": {"first_name", "last_name", "phone_mobile", "phone_work", "phone_home", "phone_other", "email1", "lead_source", "deleted"},
	"Calls": {"name", "description", "direction", "status", "date_start", "duration_hours", "duration_minutes", "parent_type",
		"parent_id", "deleted"},
	"Notes": {"name", "description", "parent_type", "parent_id", "contact_id", "deleted"},
}

func newFakeCRM(t *testing.T) *fakeCRM {
	f := &fakeCRM{t: t, clients: map[string]string{"guichet": "client-secret-of-guichet-0123456789"},
		tokens: map[string]time.Time{}, records: map[string][]record{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /legacy/Api/access_token", f.token)
	mux.HandleFunc("GET /legacy/Api/V8/module/{module}", f.auth(f.list))
	mux.HandleFunc("POST /legacy/Api/V8/module", f.auth(f.create))
	mux.HandleFunc("POST /legacy/Api/V8/module/{module}/{id}/relationships", f.auth(f.relate))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCRM) url() string { return f.srv.URL + "/legacy" }

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func jsonAPI(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/vnd.api+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, title, detail string) {
	jsonAPI(w, status, map[string]any{"errors": map[string]any{"status": status, "title": title, "detail": detail}})
}

// token: grant_type=client_credentials with client_id and client_secret,
// in a form or JSON body.
func (f *fakeCRM) token(w http.ResponseWriter, r *http.Request) {
	var p struct{ GrantType, ClientID, ClientSecret string }
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.ParseForm()
		p.GrantType, p.ClientID, p.ClientSecret = r.PostForm.Get("grant_type"), r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else {
		var j map[string]string
		json.NewDecoder(r.Body).Decode(&j)
		p.GrantType, p.ClientID, p.ClientSecret = j["grant_type"], j["client_id"], j["client_secret"]
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.GrantType != "client_credentials" {
		jsonAPI(w, 400, map[string]string{"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported by the authorization server.",
			"message": "The authorization grant type is not supported by the authorization server."})
		return
	}
	if s, ok := f.clients[p.ClientID]; !ok || s != p.ClientSecret {
		jsonAPI(w, 401, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed", "message": "Client authentication failed"})
		return
	}
	tok := newID()
	f.tokens[tok] = time.Now().Add(time.Hour)
	f.issued++
	jsonAPI(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": tok})
}

// expireTokens makes every token fail to verify, as when SuiteCRM's keys
// change or a token is revoked before its expiry.
func (f *fakeCRM) expireTokens() {
	f.mu.Lock()
	clear(f.tokens)
	f.mu.Unlock()
}

func (f *fakeCRM) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		exp, ok := f.tokens[tok]
		f.mu.Unlock()
		if !ok || time.Now().After(exp) {
			jsonAPI(w, 401, map[string]string{"error": "access_denied", "error_description": "The resource owner or authorization server denied the request.",
				"hint": "Access token could not be verified", "message": "The resource owner or authorization server denied the request."})
			return
		}
		h(w, r)
	}
}

var filterRe = regexp.MustCompile(`^filter\[([a-z0-9_]+)\]\[([a-z]+)\]$`)

func (f *fakeCRM) list(w http.ResponseWriter, r *http.Request) {
	module := r.PathValue("module")
	allowed := fields[module]
	if allowed == nil {
		apiError(w, 400, "Bad Request", fmt.Sprintf("Module %s does not exist", module))
		return
	}
	or := strings.EqualFold(r.URL.Query().Get("filter[operator]"), "or")
	type cond struct{ field, value string }
	var conds []cond
	for k, vs := range r.URL.Query() {
		if k == "filter[operator]" || strings.HasPrefix(k, "page[") {
			continue
		}
		m := filterRe.FindStringSubmatch(k)
		if m == nil {
			apiError(w, 400, "Bad Request", fmt.Sprintf("Filter field %s must be an array", k))
			return
		}
		if !contains(allowed, m[1]) {
			apiError(w, 400, "Bad Request", fmt.Sprintf("Filter field %s in %s module is not found", m[1], module))
			return
		}
		if m[2] != "eq" {
			apiError(w, 400, "Bad Request", fmt.Sprintf("Filter operator %s is invalid", m[2]))
			return
		}
		conds = append(conds, cond{m[1], vs[0]})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []record{}
	for _, rec := range f.records[module] {
		match := !or
		for _, c := range conds {
			eq := fmt.Sprint(rec.Attrs[c.field]) == c.value
			if or {
				match = match || eq
			} else {
				match = match && eq
			}
		}
		if match {
			out = append(out, rec)
		}
	}
	jsonAPI(w, 200, map[string]any{"data": out, "meta": map[string]any{"total-pages": 1}})
}

func (f *fakeCRM) create(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var doc struct {
		Data struct {
			Type       string         `json:"type"`
			Attributes map[string]any `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Data.Type == "" {
		apiError(w, 400, "Bad Request", "The data member must contain a type")
		return
	}
	allowed := fields[doc.Data.Type]
	if allowed == nil {
		apiError(w, 400, "Bad Request", fmt.Sprintf("Module %s does not exist", doc.Data.Type))
		return
	}
	for k := range doc.Data.Attributes {
		if !contains(allowed, k) {
			apiError(w, 400, "Bad Request", fmt.Sprintf("Property %s in %s module is invalid", k, doc.Data.Type))
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		if why := f.refuse(doc.Data.Type, doc.Data.Attributes); why != "" {
			apiError(w, 422, "Unprocessable Entity", why)
			return
		}
	}
	rec := record{ID: newID(), Type: doc.Data.Type, Attrs: doc.Data.Attributes}
	f.records[rec.Type] = append(f.records[rec.Type], rec)
	jsonAPI(w, 201, map[string]any{"data": rec})
}

func (f *fakeCRM) relate(w http.ResponseWriter, r *http.Request) {
	var doc struct {
		Data struct{ Type, ID string } `json:"data"`
	}
	json.NewDecoder(r.Body).Decode(&doc)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rels = append(f.rels, r.PathValue("module")+"/"+r.PathValue("id")+"/"+doc.Data.Type+"/"+doc.Data.ID)
	jsonAPI(w, 201, map[string]any{"meta": map[string]string{"message": fmt.Sprintf("%s with id %s has been added to %s with id %s",
		doc.Data.Type, doc.Data.ID, r.PathValue("module"), r.PathValue("id"))}})
}

func (f *fakeCRM) add(module string, attrs map[string]any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := record{ID: newID(), Type: module, Attrs: attrs}
	f.records[module] = append(f.records[module], rec)
	return rec.ID
}

func (f *fakeCRM) all(module string) []record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]record(nil), f.records[module]...)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
