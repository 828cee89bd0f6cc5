// Package lutece posts the hub's visits to a Lutece GRU (Gestion de la
// Relation Usager, the City of Paris's) through its notificationstore
// plugin: POST …/rest/notificationstore/v3/notification, one notification
// per ticket that reaches an end — served, no-show, cancelled — with the
// demand's id (the ticket's), type (the town's demand type for visits),
// reference (the number as displayed and its day), status and steps, and
// what the citizen's dashboard and the back office show.
//
// The notification's shape is hub/crm's, the one the import reads
// (crm.LuteceNotification). It is a CRM destination: the citizen's name,
// phone and e-mail, read from the free-text citizen field, go in the
// demand's customer. What the notificationstore refuses (4xx, or a 2xx
// whose body says "error") goes to the dead letters; anything else is
// tried again. It logs no personal data.
package lutece

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
	"strconv"
	"strings"
	"time"

	"guichet/cloud"
	"guichet/cloud/who"
	"guichet/hub/api"
	"guichet/hub/crm"
)

// Path is where the notificationstore takes notifications, under the
// Lutece site's URL.
const Path = "/rest/notificationstore/v3/notification"

// Options configures the connector.
type Options struct {
	// URL is the notificationstore's: the Lutece site
	// (https://gru.mairie.fr/lutece) or the whole endpoint ending in Path.
	URL        string
	DemandType string // the GRU's demand type id for the hub's visits
	Token      string // a bearer token the API manager asks, if any
	Timeout    time.Duration
	RootCAs    *x509.CertPool
	Client     *http.Client // tests
}

// Lutece is one GRU.
type Lutece struct {
	o      Options
	url    string
	host   string
	client *http.Client
}

// New returns the connector.
func New(o Options) (*Lutece, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("lutece: the URL must be http:// or https:// with a host")
	}
	if o.DemandType == "" {
		return nil, errors.New("lutece: the demand type is needed")
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	l := &Lutece{o: o, url: strings.TrimRight(o.URL, "/"), host: u.Host, client: o.Client}
	if !strings.HasSuffix(l.url, Path) {
		l.url += Path
	}
	if l.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
		l.client = &http.Client{Timeout: o.Timeout, Transport: tr}
	}
	return l, nil
}

// Types are the events the connector takes.
var Types = []string{"ticket.served", "ticket.noshow", "ticket.cancelled", "request.registered", "request.status_changed"}

// Send posts a notification for each ticket's end and each change of a
// request of the citizen file.
func (l *Lutece) Send(ctx context.Context, evs []cloud.Event) error {
	for _, ev := range evs {
		n, ok := Notification(ev.Data, l.o.DemandType)
		if !ok {
			continue
		}
		if err := l.post(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// Notification maps a ticket's end, or a request's change, to its GRU
// notification; false for other events, and for a request's change that
// came from a Lutece GRU (sent back, it would loop).
func Notification(d api.EventData, demandType string) (crm.LuteceNotification, bool) {
	if d.Request != nil {
		return requestNotification(d)
	}
	status, text, step := 0, "", 0
	switch d.Type {
	case "ticket.served":
		status, text, step = crm.LuteceDone, "Reçu(e) à l'accueil", 3
		if d.CounterName != "" {
			text += " — " + d.CounterName
		}
	case "ticket.noshow":
		status, text, step = crm.LuteceCancelled, "Absent(e) à l'appel", 2
	case "ticket.cancelled":
		status, text, step = crm.LuteceCancelled, "Ticket annulé", 1
	default:
		return crm.LuteceNotification{}, false
	}
	id, _ := json.Marshal(d.Ticket)
	typ, _ := json.Marshal(demandType)
	ref := d.Number
	if d.Day != "" {
		ref += " du " + d.Day
	}
	what := "Passage à l'accueil"
	if d.Channel == "phone" {
		what = "Appel à l'accueil téléphonique"
	}
	subject := fmt.Sprintf("%s : %s (%s)", what, d.ServiceName, d.Number)
	n := crm.LuteceNotification{
		Date:       json.Number(strconv.FormatInt(d.At.UnixMilli(), 10)),
		Demand:     &crm.LuteceDemand{ID: id, TypeID: typ, Reference: ref, StatusID: &status, MaxStep: 3, CurrentStep: step},
		Backoffice: &crm.LuteceBackoffice{Message: subject, StatusText: text},
		Dashboard:  &crm.LuteceDashboard{StatusID: &status, StatusText: text, Subject: subject},
	}
	if p := who.Parse(d.Citizen); p != (who.Who{}) {
		n.Demand.Customer = &crm.LuteceCustomer{Firstname: p.FirstName, Lastname: p.LastName, Email: p.Email, MobilePhone: p.Phone}
	}
	return n, true
}

func (l *Lutece) post(ctx context.Context, n crm.LuteceNotification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return cloud.Rejected("lutece: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", l.url, bytes.NewReader(body))
	if err != nil {
		return cloud.Rejected("lutece: %v", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	if l.o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+l.o.Token)
	}
	res, err := l.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("lutece %s: %v", l.host, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("lutece %s: answer cut short: %v", l.host, err)
	}
	var ans struct {
		Status    string `json:"status"`
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	json.Unmarshal(b, &ans)
	// The error code is Lutece's vocabulary (UNKNOWN_DEMAND_TYPE); its
	// message may echo the notification: the dead letters' only (cloud.Said).
	code := ans.ErrorCode
	if len(code) > 64 || strings.ContainsFunc(code, func(r rune) bool { return !(r == '_' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
		code = ""
	}
	message := strings.TrimSpace(ans.Message)
	if len(message) > 300 {
		message = message[:300] + "…"
	}
	switch st := res.StatusCode; {
	case st >= 200 && st < 300 && !strings.EqualFold(ans.Status, "error"):
		return nil
	case st >= 200 && st < 300:
		return cloud.Said(cloud.Rejected("lutece %s: refused: %s", l.host, code), message)
	case st == http.StatusRequestTimeout || st == http.StatusTooManyRequests || st >= 500 || st == http.StatusUnauthorized:
		return cloud.Said(fmt.Errorf("lutece %s: %d %s", l.host, st, code), message)
	default:
		return cloud.Said(cloud.Rejected("lutece %s: %d %s", l.host, st, code), message)
	}
}
