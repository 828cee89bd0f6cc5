// Package cas signs people in to the hub through a CAS server (Apereo
// CAS, LemonLDAP::NG's CAS side…), protocol 3.0: an auth.Provider that
// sends the browser to the server's /login with the hub's service URL,
// validates the service ticket it brings back at /p3/serviceValidate (the
// person's attributes with it), and ends the sessions a single logout
// names, when the logout request comes from the server.
//
// It never logs a ticket: the sessions keep a hash of it, which is what a
// single logout is matched against.
package cas

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"guichet/hub/auth"
)

// Options configures a provider.
type Options struct {
	Name  string
	Label map[string]string
	// URL is the server's base, https://cas.ville.fr/cas: its /login and
	// /p3/serviceValidate are under it.
	URL string
	// ServiceURL is the service the hub names to the server; empty: the
	// callback the hub builds from the browser's address.
	ServiceURL string
	// LoginAttribute names the account (empty: the CAS user);
	// NameAttribute its display name (default displayName); AgentAttribute
	// the site agent the person is (optional).
	LoginAttribute, NameAttribute, AgentAttribute string
	Roles                                         auth.RoleMap
	// LogoutFrom are the addresses a single logout may come from; empty:
	// the addresses URL's host resolves to, looked up at each request.
	LogoutFrom []netip.Prefix
	// Lookup resolves a host (net.DefaultResolver's if nil).
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	Client *http.Client // nil: one with a 10 s timeout
	Log    *slog.Logger
}

// Provider is a CAS server, as an auth.Provider and auth.SingleLogout.
type Provider struct{ o Options }

// New returns a provider.
func New(o Options) (*Provider, error) {
	u, err := url.Parse(o.URL)
	if o.Name == "" || err != nil || u.Host == "" {
		return nil, fmt.Errorf("cas: a provider needs a name and the server's URL (got %q)", o.URL)
	}
	o.URL = strings.TrimSuffix(o.URL, "/")
	if o.NameAttribute == "" {
		o.NameAttribute = "displayName"
	}
	if o.Lookup == nil {
		o.Lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Provider{o: o}, nil
}

// Name implements auth.Provider.
func (p *Provider) Name() string { return p.o.Name }

// Label implements auth.Provider.
func (p *Provider) Label(lang string) string {
	for _, l := range []string{lang, "fr"} {
		if v := p.o.Label[l]; v != "" {
			return v
		}
	}
	return p.o.Name
}

// Start implements auth.Provider: "/login as credential requestor"
// (section 2.1) with the hub's service URL, which the hub keeps to
// validate the ticket for that same service.
func (p *Provider) Start(_ *http.Request, callback string) (auth.Start, error) {
	service := callback
	if p.o.ServiceURL != "" {
		service = p.o.ServiceURL
	}
	return auth.Start{Redirect: p.o.URL + "/login?service=" + url.QueryEscape(service), State: service}, nil
}

// Errors of Finish that tests tell apart.
var (
	ErrTicket   = errors.New("the callback carries no well-formed service ticket")
	ErrRefused  = errors.New("the CAS server refused the ticket")
	ErrResponse = errors.New("the CAS server's answer cannot be read")
)

// ticketRE is a service ticket as section 3 has it: "Service tickets MUST
// begin with the characters, ST-" (3.1.1); "all CAS tickets … MUST contain
// only characters from the set {A-Z, a-z, 0-9}, and the hyphen character"
// (3.7); we take up to the 256 characters "it is RECOMMENDED that services
// support". A proxy ticket (PT-) is no sign-in.
var ticketRE = regexp.MustCompile(`^ST-[A-Za-z0-9-]{1,253}$`)

// Finish implements auth.Provider: it validates the ticket at
// /p3/serviceValidate for the service the sign-in named (section 2.8:
// "the same validation tasks as /serviceValidate and additionally return
// user attributes"). The server answers each ticket once (3.1.1), for the
// service it was issued to only (2.5.3, INVALID_SERVICE).
func (p *Provider) Finish(r *http.Request, _ string, service string) (auth.Identity, error) {
	ticket := r.URL.Query().Get("ticket")
	if !ticketRE.MatchString(ticket) {
		return auth.Identity{}, ErrTicket
	}
	v := url.Values{"service": {service}, "ticket": {ticket}}
	req, err := http.NewRequestWithContext(r.Context(), "GET", p.o.URL+"/p3/serviceValidate?"+v.Encode(), nil)
	if err != nil {
		return auth.Identity{}, err
	}
	res, err := p.o.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL carries the ticket
		}
		return auth.Identity{}, fmt.Errorf("cas: validate the ticket at %s/p3/serviceValidate: %w", p.o.URL, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return auth.Identity{}, fmt.Errorf("%w: %s/p3/serviceValidate answered %s", ErrResponse, p.o.URL, res.Status)
	}
	sr, err := parseResponse(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return auth.Identity{}, err
	}
	if f := sr.Failure; f != nil {
		return auth.Identity{}, fmt.Errorf("%w: %.40s", ErrRefused, strings.TrimSpace(f.Code))
	}
	return p.identity(sr.Success, ticket)
}

// serviceResponse is section 2.5.2's answer, by the schema of Appendix A.
type serviceResponse struct {
	XMLName xml.Name `xml:"http://www.yale.edu/tp/cas serviceResponse"`
	Success *success `xml:"authenticationSuccess"`
	Failure *struct {
		Code string `xml:"code,attr"`
	} `xml:"authenticationFailure"`
}

type success struct {
	User       string `xml:"user"`
	Attributes struct {
		Items []attribute `xml:",any"`
	} `xml:"attributes"`
}

// attribute is one element of <cas:attributes>. Section 2.5.7 and
// Appendix A write each attribute as its own element,
// <cas:affiliation>staff</cas:affiliation>, repeated for each value of a
// multi-valued one; some servers write <cas:attribute name="affiliation"
// value="staff"/> instead. Both are read.
type attribute struct {
	XMLName xml.Name
	Name    string `xml:"name,attr"`
	Value   string `xml:"value,attr"`
	Text    string `xml:",chardata"`
}

func parseResponse(r io.Reader) (*serviceResponse, error) {
	var sr serviceResponse
	if err := xml.NewDecoder(r).Decode(&sr); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrResponse, err)
	}
	if sr.Success == nil && sr.Failure == nil {
		return nil, fmt.Errorf("%w: neither authenticationSuccess nor authenticationFailure", ErrResponse)
	}
	return &sr, nil
}

// Attributes returns a validation's attributes by name.
func (s *success) attributes() map[string][]string {
	out := map[string][]string{}
	for _, a := range s.Attributes.Items {
		name, value := a.XMLName.Local, strings.TrimSpace(a.Text)
		if name == "attribute" && a.Name != "" {
			name, value = a.Name, a.Value
		}
		out[name] = append(out[name], value)
	}
	return out
}

func (p *Provider) identity(s *success, ticket string) (auth.Identity, error) {
	attrs := s.attributes()
	one := func(name string) string {
		if v := attrs[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	id := auth.Identity{Login: strings.TrimSpace(s.User), Name: one(p.o.NameAttribute), Claims: attrs, SessionRef: Ref(ticket)}
	if p.o.LoginAttribute != "" {
		id.Login = one(p.o.LoginAttribute)
	}
	if p.o.AgentAttribute != "" {
		id.Agent = one(p.o.AgentAttribute)
	}
	if id.Login == "" {
		return auth.Identity{}, fmt.Errorf("%w: no user (or no %q attribute) in the answer", ErrResponse, p.o.LoginAttribute)
	}
	return id, nil
}

// Ref is what a session keeps of the ticket that opened it: its SHA-256,
// which a single logout's SessionIndex is matched against.
func Ref(ticket string) string {
	h := sha256.Sum256([]byte(ticket))
	return "st-" + hex.EncodeToString(h[:])
}

// Role implements auth.Provider.
func (p *Provider) Role(id auth.Identity) (auth.Role, error) { return p.o.Roles.Role(id.Claims) }

// logoutRequest is Appendix C's logout XML document.
type logoutRequest struct {
	XMLName      xml.Name `xml:"urn:oasis:names:tc:SAML:2.0:protocol LogoutRequest"`
	SessionIndex string   `xml:"urn:oasis:names:tc:SAML:2.0:protocol SessionIndex"`
}

// ErrNotFromServer refuses a logout request that does not come from the
// CAS server's address.
var ErrNotFromServer = errors.New("the logout request does not come from the CAS server's address")

// Logout implements auth.SingleLogout. Section 2.3.3: "the CAS Server
// MUST send a HTTP POST request containing a logout XML document (see
// Appendix C) to all service URLs provided to CAS during this CAS
// session"; 2.3.3.2: "It is RECOMMENDED to logout the user from the
// application identified by the service ticket id sent in the SLO POST
// request." The request is unsigned: it is believed only from the
// server's address (Options.LogoutFrom, or its host's addresses).
func (p *Provider) Logout(r *http.Request, from netip.Addr) ([]string, error) {
	allowed := p.o.LogoutFrom
	if len(allowed) == 0 {
		u, _ := url.Parse(p.o.URL)
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		addrs, err := p.o.Lookup(ctx, u.Hostname())
		cancel()
		if err != nil {
			return nil, fmt.Errorf("cas: resolve the server %s to check a logout request: %w", u.Hostname(), err)
		}
		for _, a := range addrs {
			allowed = append(allowed, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	ok := false
	for _, pr := range allowed {
		ok = ok || pr.Contains(from.Unmap())
	}
	if !ok {
		return nil, fmt.Errorf("%w (%s)", ErrNotFromServer, from)
	}
	doc := r.PostFormValue("logoutRequest")
	if doc == "" {
		return nil, errors.New("cas: a POST without logoutRequest")
	}
	var lr logoutRequest
	if err := xml.Unmarshal([]byte(doc), &lr); err != nil {
		return nil, fmt.Errorf("cas: logoutRequest: %w", err)
	}
	ticket := strings.TrimSpace(lr.SessionIndex)
	if !ticketRE.MatchString(ticket) {
		return nil, errors.New("cas: logoutRequest names no service ticket")
	}
	return []string{Ref(ticket)}, nil
}
