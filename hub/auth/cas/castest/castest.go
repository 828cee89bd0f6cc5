// Package castest is a CAS server for tests, written to the CAS Protocol
// 3.0 Specification (Apereo): /login as credential requestor and acceptor
// (2.1, 2.2), /logout with single logout (2.3, Appendix C), and
// /p3/serviceValidate (2.8, by way of 2.5) with the person's attributes,
// in either of the two ways servers write them. Its service tickets follow
// 3.1.1 and 3.7. It listens on loopback, at an address of its own choice
// (127.0.0.2 by default) so that its single logout requests come from an
// address that is not the test's.
package castest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// User is a person the server knows.
type User struct {
	Username, Password string
	// Attributes by name, each with its values: {"memberOf": {"accueil"},
	// "displayName": {"Ana Martin"}}.
	Attributes map[string][]string
}

// Form is how the server writes attributes in <cas:attributes>.
type Form int

const (
	// Elements writes each attribute as its own element, repeated for
	// each value (section 2.5.7), after the protocol's own attributes
	// (authenticationDate, longTermAuthenticationRequestTokenUsed,
	// isFromNewLogin: Appendix A).
	Elements Form = iota
	// NameValue writes <cas:attribute name="…" value="…"/>, one per value.
	NameValue
)

// Options configures a server.
type Options struct {
	Users []User
	// Addr is where it listens ("127.0.0.2:0"); its single logout requests
	// leave from the same address.
	Addr string
	Form Form
	// TicketTTL is how long a service ticket waits for its validation:
	// five minutes, as 3.1.1 recommends at most.
	TicketTTL time.Duration
}

// Server is a running CAS server.
type Server struct {
	URL string // http://127.0.0.2:port/cas

	o   Options
	srv *httptest.Server
	out *http.Client // its single logout requests

	mu      sync.Mutex
	skew    time.Duration       // Advance's
	tickets map[string]*ticket  // unvalidated service tickets
	tgts    map[string]*session // single sign-on sessions, by ticket-granting cookie
	auto    string              // signs in as this username without the form
	logouts []string            // the services it sent a logout request to, and their answers
}

// Logouts returns the single logout requests it sent: each service URL
// and the status it answered.
func (s *Server) Logouts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logouts...)
}

type ticket struct {
	service, user, tgt string
	at                 time.Time
}

// session is a single sign-on session: its user and the service tickets
// validated for it (for single logout, 2.3.3).
type session struct {
	user    string
	granted []granted
}

type granted struct{ service, ticket string }

const cookie = "TGC-castest"

// Start starts a CAS server; it stops with the test.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.2:0"
	}
	if o.TicketTTL == 0 {
		o.TicketTTL = 5 * time.Minute
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	s := &Server{o: o, tickets: map[string]*ticket{}, tgts: map[string]*session{},
		out: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(host)}}).DialContext}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cas/login", s.login)
	mux.HandleFunc("POST /cas/login", s.login)
	mux.HandleFunc("GET /cas/logout", s.logout)
	mux.HandleFunc("GET /cas/p3/serviceValidate", s.validate)
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Listener.Close()
	s.srv.Listener = ln
	s.srv.Start()
	s.URL = "http://" + ln.Addr().String() + "/cas"
	t.Cleanup(s.srv.Close)
	return s
}

// Advance moves the server's clock on (tickets age).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skew += d
}

func (s *Server) now() time.Time { return time.Now().Add(s.skew) }

// AutoSignIn makes /login sign in as username at once ("" for the form).
func (s *Server) AutoSignIn(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auto = username
}

// newTicket draws a ticket of prefix: 3.1.1 "adequate secure random
// data", 3.7's characters.
func newTicket(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b)
	return prefix + strings.NewReplacer("_", "0", "-", "1").Replace(base64.RawURLEncoding.EncodeToString(b))
}

func (s *Server) user(name, password string) *User {
	for i := range s.o.Users {
		if u := &s.o.Users[i]; u.Username == name && u.Password == password {
			return u
		}
	}
	return nil
}

var form = template.Must(template.New("").Parse(`<!doctype html><html lang="fr"><meta charset="utf-8"><title>CAS de test</title>
<main><h1>Service central d'authentification</h1>{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/cas/login"><input type="hidden" name="service" value="{{.Service}}"><input type="hidden" name="lt" value="{{.LT}}">
<label for="username">Identifiant</label><input id="username" name="username" autofocus>
<label for="password">Mot de passe</label><input id="password" name="password" type="password">
<button type="submit">Se connecter</button></form></main></html>`))

// login is /login. As credential requestor (2.1): with a single sign-on
// session (the ticket-granting cookie, 3.6), it issues a service ticket at
// once (2.1.5); otherwise it shows a form with "username", "password" and
// "lt", and service (2.1.3). As credential acceptor (2.2): it checks them
// and "redirect[s] the client to the URL specified by the service
// parameter … The request MUST include a valid service ticket, passed as
// the HTTP request parameter, ticket" (2.2.4).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	service := r.FormValue("service")
	s.mu.Lock()
	defer s.mu.Unlock()
	var who *User
	tgt := ""
	if c, err := r.Cookie(cookie); err == nil && s.tgts[c.Value] != nil && r.FormValue("renew") == "" {
		tgt = c.Value
		for i := range s.o.Users {
			if s.o.Users[i].Username == s.tgts[tgt].user {
				who = &s.o.Users[i]
			}
		}
	}
	switch {
	case who != nil:
	case r.Method == http.MethodPost:
		if who = s.user(r.PostFormValue("username"), r.PostFormValue("password")); who == nil {
			w.WriteHeader(http.StatusUnauthorized)
			form.Execute(w, map[string]string{"Service": service, "LT": newTicket("LT-"), "Error": "Identifiant ou mot de passe incorrect."})
			return
		}
	case s.auto != "":
		for i := range s.o.Users {
			if s.o.Users[i].Username == s.auto {
				who = &s.o.Users[i]
			}
		}
	}
	if who == nil {
		form.Execute(w, map[string]string{"Service": service, "LT": newTicket("LT-")})
		return
	}
	if tgt == "" {
		tgt = newTicket("TGT-")
		s.tgts[tgt] = &session{user: who.Username}
		http.SetCookie(w, &http.Cookie{Name: cookie, Value: tgt, Path: "/cas", HttpOnly: true})
	}
	if service == "" {
		fmt.Fprintln(w, "Vous êtes connecté au service central d'authentification.")
		return
	}
	st := newTicket("ST-")
	s.tickets[st] = &ticket{service: service, user: who.Username, tgt: tgt, at: s.now()}
	to, err := url.Parse(service)
	if err != nil {
		http.Error(w, "bad service", http.StatusBadRequest)
		return
	}
	q := to.Query()
	q.Set("ticket", st)
	to.RawQuery = q.Encode()
	http.Redirect(w, r, to.String(), http.StatusSeeOther)
}

// validate is /p3/serviceValidate (2.8, with 2.5's tasks). 3.1.1: a
// ticket is valid "for one ticket validation attempt. Whether or not
// validation was successful, CAS MUST then invalidate the ticket"; an
// expired one gets "a validation failure response". 2.5.3: INVALID_REQUEST
// without both parameters; INVALID_TICKET_SPEC for a proxy ticket (2.5:
// "MUST NOT return a successful authentication if it receives a proxy
// ticket"); INVALID_SERVICE when "the service specified did not match the
// service associated with the ticket".
func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	service, st := r.FormValue("service"), r.FormValue("ticket")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	if service == "" || st == "" {
		fail(w, "INVALID_REQUEST", "'service' and 'ticket' parameters are both required")
		return
	}
	if strings.HasPrefix(st, "PT-") {
		fail(w, "INVALID_TICKET_SPEC", "a proxy ticket cannot be validated at /p3/serviceValidate")
		return
	}
	s.mu.Lock()
	t, ok := s.tickets[st]
	delete(s.tickets, st)
	now := s.now()
	var u *User
	if ok {
		for i := range s.o.Users {
			if s.o.Users[i].Username == t.user {
				u = &s.o.Users[i]
			}
		}
	}
	switch {
	case !ok:
		s.mu.Unlock()
		fail(w, "INVALID_TICKET", "Ticket "+st+" not recognized")
		return
	case now.Sub(t.at) > s.o.TicketTTL:
		s.mu.Unlock()
		fail(w, "INVALID_TICKET", "Ticket "+st+" expired")
		return
	case t.service != service:
		s.mu.Unlock()
		fail(w, "INVALID_SERVICE", "Ticket "+st+" was issued for another service")
		return
	}
	if se := s.tgts[t.tgt]; se != nil {
		se.granted = append(se.granted, granted{service: service, ticket: st})
	}
	s.mu.Unlock()
	var b bytes.Buffer
	b.WriteString(`<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">` + "\n <cas:authenticationSuccess>\n  <cas:user>")
	xml.EscapeText(&b, []byte(u.Username))
	b.WriteString("</cas:user>\n  <cas:attributes>\n")
	switch s.o.Form {
	case NameValue:
		for name, values := range u.Attributes {
			for _, v := range values {
				fmt.Fprintf(&b, "   <cas:attribute name=%q value=\"", name)
				xml.EscapeText(&b, []byte(v))
				b.WriteString("\"/>\n")
			}
		}
	default:
		fmt.Fprintf(&b, "   <cas:authenticationDate>%s</cas:authenticationDate>\n", now.UTC().Format(time.RFC3339))
		b.WriteString("   <cas:longTermAuthenticationRequestTokenUsed>false</cas:longTermAuthenticationRequestTokenUsed>\n")
		b.WriteString("   <cas:isFromNewLogin>true</cas:isFromNewLogin>\n")
		for name, values := range u.Attributes {
			for _, v := range values {
				fmt.Fprintf(&b, "   <cas:%s>", name)
				xml.EscapeText(&b, []byte(v))
				fmt.Fprintf(&b, "</cas:%s>\n", name)
			}
		}
	}
	b.WriteString("  </cas:attributes>\n </cas:authenticationSuccess>\n</cas:serviceResponse>\n")
	w.Write(b.Bytes())
}

func fail(w http.ResponseWriter, code, msg string) {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(msg))
	fmt.Fprintf(w, "<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">\n <cas:authenticationFailure code=%q>\n  %s\n </cas:authenticationFailure>\n</cas:serviceResponse>\n", code, b.String())
}

// logout is /logout (2.3): it destroys the single sign-on session and,
// as 2.3.3 says, sends "a HTTP POST request containing a logout XML
// document (see Appendix C) to all service URLs provided to CAS during
// this CAS session", ignoring their errors (2.3.3.1). It sends them
// before it answers, so that a test sees their effect at once.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	var grants []granted
	if c, err := r.Cookie(cookie); err == nil {
		s.mu.Lock()
		if se := s.tgts[c.Value]; se != nil {
			grants = se.granted
			delete(s.tgts, c.Value)
		}
		s.mu.Unlock()
	}
	for _, g := range grants {
		doc := fmt.Sprintf(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="%s" Version="2.0" IssueInstant="%s">`+
			`<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">@NOT_USED@</saml:NameID>`+
			`<samlp:SessionIndex>%s</samlp:SessionIndex></samlp:LogoutRequest>`, newTicket("LR-"), s.now().UTC().Format(time.RFC3339), g.ticket)
		status := "error"
		if res, err := s.out.PostForm(g.service, url.Values{"logoutRequest": {doc}}); err == nil {
			status = res.Status
			res.Body.Close()
		}
		s.mu.Lock()
		s.logouts = append(s.logouts, g.service+" "+status)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookie, Path: "/cas", MaxAge: -1})
	fmt.Fprintln(w, "Vous êtes déconnecté du service central d'authentification.")
}

// LogoutRequest is the logout XML document of Appendix C for ticket, to
// forge one in a test.
func LogoutRequest(ticket string) string {
	return `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="LR-1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">` +
		`<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">@NOT_USED@</saml:NameID>` +
		`<samlp:SessionIndex>` + ticket + `</samlp:SessionIndex></samlp:LogoutRequest>`
}
