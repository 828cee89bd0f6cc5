// Package suitecrm records the hub's served tickets — visits and phone
// calls — in SuiteCRM (7.10+ and 8, through its V8 JSON:API) as a Call or a
// Note on the Contact they concern, found by phone number (however the
// CRM's users wrote it) or e-mail, and made when missing if the town wants.
//
// It authenticates with OAuth2 client credentials (POST /Api/access_token);
// a token refused before it expired (401) is renewed and the request sent
// again once. What SuiteCRM refuses for good (a 4xx JSON:API error: 400,
// 404, 422) goes to the dead letters with its title and detail; anything
// else is tried again. A record is named with the event's id, and looked
// for before it is made: an event sent twice makes one record.
//
// It is a CRM destination: the free-text citizen field is what it finds
// the contact by. It logs no name, number or address.
package suitecrm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"guichet/cloud"
	"guichet/cloud/who"
	"guichet/hub/api"
)

// Options configures the connector.
type Options struct {
	// URL is where SuiteCRM's API lives: https://crm.mairie.fr/legacy for
	// SuiteCRM 8, https://crm.mairie.fr for 7.x (the folder holding Api/).
	URL          string
	ClientID     string
	ClientSecret string
	Record       string // "call" (the default) or "note"
	// CreateContacts makes a Contact when none has the phone or e-mail.
	CreateContacts bool
	Timeout        time.Duration // a request's; 10 s if zero
	RootCAs        *x509.CertPool
	Client         *http.Client // tests
}

// SuiteCRM is one CRM.
type SuiteCRM struct {
	o      Options
	base   string
	host   string
	client *http.Client

	mu    sync.Mutex
	token string
	until time.Time
}

// New returns the connector.
func New(o Options) (*SuiteCRM, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("suitecrm: the URL must be http:// or https:// with a host")
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		return nil, errors.New("suitecrm: the OAuth2 client's id and secret are needed")
	}
	if o.Record == "" {
		o.Record = "call"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	c := &SuiteCRM{o: o, base: strings.TrimRight(o.URL, "/"), host: u.Host, client: o.Client}
	if c.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
		c.client = &http.Client{Timeout: o.Timeout, Transport: tr}
	}
	return c, nil
}

// Send records each served ticket; other events are passed.
func (c *SuiteCRM) Send(ctx context.Context, evs []cloud.Event) error {
	for _, ev := range evs {
		if ev.Type != "ticket.served" {
			continue
		}
		if err := c.record(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// record makes ev's Call or Note, on its contact.
func (c *SuiteCRM) record(ctx context.Context, ev cloud.Event) error {
	d := ev.Data
	module := map[string]string{"call": "Calls", "note": "Notes"}[c.o.Record]
	name := recordName(d, ev.ID)
	if found, err := c.find(ctx, module, url.Values{"filter[name][eq]": {name}}); err != nil {
		return err
	} else if len(found) > 0 {
		return nil // made by an earlier delivery
	}
	contact, err := c.contact(ctx, who.Parse(d.Citizen))
	if err != nil {
		return err
	}
	attrs := map[string]any{"name": name, "description": description(d)}
	start := d.At
	if d.IssuedAt != nil {
		start = *d.IssuedAt
	}
	if module == "Calls" {
		dur := d.At.Sub(start)
		dir := "Inbound"
		attrs["direction"], attrs["status"] = dir, "Held"
		attrs["date_start"] = start.UTC().Format("2006-01-02 15:04:05")
		attrs["duration_hours"], attrs["duration_minutes"] = int(dur.Hours()), int(dur.Minutes())%60
	}
	if contact != "" {
		attrs["parent_type"], attrs["parent_id"] = "Contacts", contact
		if module == "Notes" {
			attrs["contact_id"] = contact
		}
	}
	var made struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := c.do(ctx, "POST", "/Api/V8/module", map[string]any{"data": map[string]any{"type": module, "attributes": attrs}}, &made); err != nil {
		return err
	}
	if contact != "" && module == "Calls" && made.Data.ID != "" {
		rel := map[string]any{"data": map[string]any{"type": "Calls", "id": made.Data.ID}}
		if err := c.do(ctx, "POST", "/Api/V8/module/Contacts/"+contact+"/relationships", rel, nil); err != nil {
			return err
		}
	}
	return nil
}

// recordName names a record so that it can be found again: the service,
// the number, the channel and the event's id.
func recordName(d api.EventData, id string) string {
	what := "Accueil"
	if d.Channel == "phone" {
		what = "Appel"
	}
	return fmt.Sprintf("%s %s %s [%s]", what, d.Number, d.ServiceName, id)
}

func description(d api.EventData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Ticket %s, service %s (%s), canal %s.\n", d.Number, d.ServiceName, d.Service, d.Channel)
	if d.IssuedAt != nil {
		fmt.Fprintf(&b, "Pris à %s, ", d.IssuedAt.Format("15:04"))
	}
	fmt.Fprintf(&b, "servi jusqu'à %s", d.At.Format("15:04 le 02/01/2006"))
	if d.CounterName != "" {
		fmt.Fprintf(&b, " au %s", d.CounterName)
	}
	if d.AgentName != "" {
		fmt.Fprintf(&b, " par %s", d.AgentName)
	}
	b.WriteString(".")
	return b.String()
}

// contact finds the Contact of p, by phone then e-mail; makes it if the
// town wants and none is found. "" if there is none.
func (c *SuiteCRM) contact(ctx context.Context, p who.Who) (string, error) {
	if p.Phone != "" {
		for _, w := range who.PhoneWritings(p.Phone) {
			q := url.Values{"filter[operator]": {"or"}}
			for _, f := range []string{"phone_mobile", "phone_work", "phone_home", "phone_other"} {
				q.Set("filter["+f+"][eq]", w)
			}
			found, err := c.find(ctx, "Contacts", q)
			if err != nil {
				return "", err
			}
			for _, r := range found {
				for _, f := range []string{"phone_mobile", "phone_work", "phone_home", "phone_other"} {
					if s, _ := r.Attributes[f].(string); who.SamePhone(s, p.Phone) {
						return r.ID, nil
					}
				}
			}
		}
	}
	if p.Email != "" {
		found, err := c.find(ctx, "Contacts", url.Values{"filter[email1][eq]": {p.Email}})
		if err != nil {
			return "", err
		}
		if len(found) > 0 {
			return found[0].ID, nil
		}
	}
	if !c.o.CreateContacts || p.Phone == "" && p.Email == "" {
		return "", nil
	}
	attrs := map[string]any{"first_name": p.FirstName, "last_name": p.LastName, "lead_source": "Guichet"}
	if p.LastName == "" {
		attrs["last_name"] = "(inconnu)"
	}
	if p.Phone != "" {
		attrs["phone_mobile"] = p.Phone
	}
	if p.Email != "" {
		attrs["email1"] = p.Email
	}
	var made struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := c.do(ctx, "POST", "/Api/V8/module", map[string]any{"data": map[string]any{"type": "Contacts", "attributes": attrs}}, &made); err != nil {
		return "", err
	}
	return made.Data.ID, nil
}

// resource is a JSON:API resource object.
type resource struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Attributes map[string]any `json:"attributes"`
}

// find lists module's records matching the filter q (first page).
func (c *SuiteCRM) find(ctx context.Context, module string, q url.Values) ([]resource, error) {
	q.Set("page[size]", "20")
	var out struct {
		Data []resource `json:"data"`
	}
	if err := c.do(ctx, "GET", "/Api/V8/module/"+module+"?"+q.Encode(), nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// do sends a JSON:API request with the token; a 401 renews the token and
// sends it again, once.
func (c *SuiteCRM) do(ctx context.Context, method, path string, body, out any) error {
	for try := 0; ; try++ {
		tok, err := c.accessToken(ctx, try > 0)
		if err != nil {
			return err
		}
		status, b, err := c.send(ctx, method, path, body, tok)
		if err != nil {
			return err
		}
		switch {
		case status == http.StatusUnauthorized && try == 0:
			continue // expired or revoked before its time: a new one
		case status >= 200 && status < 300:
			if out != nil && len(b) > 0 {
				if err := json.Unmarshal(b, out); err != nil {
					return fmt.Errorf("suitecrm %s: %s %s: unreadable answer: %w", c.host, method, strings.SplitN(path, "?", 2)[0], err)
				}
			}
			return nil
		case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500 || status == http.StatusUnauthorized:
			return cloud.Said(fmt.Errorf("suitecrm %s: %s %s: %d", c.host, method, strings.SplitN(path, "?", 2)[0], status), apiError(b))
		default:
			return cloud.Said(cloud.Rejected("suitecrm %s: %s %s: %d", c.host, method, strings.SplitN(path, "?", 2)[0], status), apiError(b))
		}
	}
}

func (c *SuiteCRM) send(ctx context.Context, method, path string, body any, tok string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, cloud.Rejected("suitecrm: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, cloud.Rejected("suitecrm: %v", err)
	}
	req.Header.Set("Accept", "application/vnd.api+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := c.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("suitecrm %s: %s", c.host, cause(err))
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("suitecrm %s: answer cut short: %s", c.host, cause(err))
	}
	return res.StatusCode, b, nil
}

// accessToken returns the token, asking for one if there is none, it
// expires within a minute, or renew.
func (c *SuiteCRM) accessToken(ctx context.Context, renew bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !renew && c.token != "" && time.Until(c.until) > time.Minute {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.o.ClientID}, "client_secret": {c.o.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/Api/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", cloud.Rejected("suitecrm: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("suitecrm %s: access token: %s", c.host, cause(err))
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Message     string `json:"message"`
	}
	json.Unmarshal(b, &t)
	if res.StatusCode != 200 || t.AccessToken == "" {
		// A wrong client is the town's configuration to fix: the events
		// wait in the log meanwhile (tried again, not dead letters).
		return "", fmt.Errorf("suitecrm %s: access token refused: %d %s %s", c.host, res.StatusCode, t.Error, t.Message)
	}
	c.token, c.until = t.AccessToken, time.Now().Add(time.Duration(t.ExpiresIn)*time.Second)
	return c.token, nil
}

// apiError reads a JSON:API error document ({"errors": {...}} as SuiteCRM
// writes it, or a list), or an OAuth2 error.
func apiError(b []byte) string {
	type e struct {
		Status any    `json:"status"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	var one struct {
		Errors  json.RawMessage `json:"errors"`
		Message string          `json:"message"`
		Hint    string          `json:"hint"`
	}
	if json.Unmarshal(b, &one) != nil {
		return ""
	}
	var list []e
	var single e
	if json.Unmarshal(one.Errors, &single) == nil && (single.Title != "" || single.Detail != "") {
		list = []e{single}
	} else {
		json.Unmarshal(one.Errors, &list)
	}
	var parts []string
	for _, x := range list {
		parts = append(parts, strings.TrimSpace(x.Title+": "+x.Detail))
	}
	if one.Message != "" {
		parts = append(parts, strings.TrimSpace(one.Message+" "+one.Hint))
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, "; ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func cause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
