package config

import (
	"net/url"
	"path"
	"regexp"
	"time"
)

// DestinationConf is one entry of the site file's destinations: where the
// hub delivers its events (docs/integrations.md). Secrets are never
// written in the file: each is read from an environment variable (…_env)
// or a file (…_file) when the hub starts.
type DestinationConf struct {
	Name string `yaml:"name"` // unique; the API and the logs name it so
	Type string `yaml:"type"` // webhook, bridge, suitecrm or lutece
	URL  string `yaml:"url"`
	// Types are the event types delivered, as patterns: "ticket.*",
	// "citizen.erased"; all if absent.
	Types []string `yaml:"types,omitempty"`
	// CRM: the destination is the town's CRM, and may receive the free-text
	// citizen field (never a QR token or an appointment code). SuiteCRM and
	// Lutece destinations are CRM ones.
	CRM             bool      `yaml:"crm,omitempty"`
	DeadLetterAfter *Duration `yaml:"dead_letter_after,omitempty"` // 72h if absent
	MaxBackoff      *Duration `yaml:"max_backoff,omitempty"`       // 5m if absent
	Timeout         *Duration `yaml:"timeout,omitempty"`           // a request's; 10s if absent
	CAFile          string    `yaml:"ca_file,omitempty"`           // trusted instead of the system's store

	// webhook: the Standard Webhooks secret ("whsec_…"); structured (one
	// event a request, the default) or batched mode, and the batch's size.
	SecretEnv  string `yaml:"secret_env,omitempty"`
	SecretFile string `yaml:"secret_file,omitempty"`
	Mode       string `yaml:"mode,omitempty"`
	Batch      int    `yaml:"batch,omitempty"`

	// bridge: the hub's account on the central broker; what is put before
	// the site's topics there.
	Username     string `yaml:"username,omitempty"`
	PasswordEnv  string `yaml:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	TopicPrefix  string `yaml:"topic_prefix,omitempty"`

	// suitecrm: the OAuth2 client-credentials client; what a served
	// ticket becomes (call or note); whether a contact not found is made.
	ClientID         string `yaml:"client_id,omitempty"`
	ClientSecretEnv  string `yaml:"client_secret_env,omitempty"`
	ClientSecretFile string `yaml:"client_secret_file,omitempty"`
	Record           string `yaml:"record,omitempty"`
	CreateContacts   bool   `yaml:"create_contacts,omitempty"`

	// lutece: the demand type of the hub's visits in the GRU; the token
	// the notificationstore asks (optional).
	DemandType string `yaml:"demand_type,omitempty"`
	TokenEnv   string `yaml:"token_env,omitempty"`
	TokenFile  string `yaml:"token_file,omitempty"`
}

// Destination types.
const (
	DestWebhook  = "webhook"
	DestBridge   = "bridge"
	DestSuiteCRM = "suitecrm"
	DestLutece   = "lutece"
)

var destNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// Or returns d, or def when absent.
func (d *Duration) Or(def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return time.Duration(*d)
}

// checkDestinations checks the destinations section: unique names, known
// types, URLs of their scheme, secrets named (not written), patterns that
// parse.
func (c *Config) checkDestinations(l *locator) error {
	seen := map[string]bool{"mqtt": true} // the bus's own
	for i, d := range c.Destinations {
		at := func(f ...any) []any { return append([]any{"destinations", i}, f...) }
		if !destNameRe.MatchString(d.Name) || seen[d.Name] {
			return l.errf(at("name"), "a name of lower-case letters, digits and '-', unique (and not mqtt) is required")
		}
		seen[d.Name] = true
		u, err := url.Parse(d.URL)
		schemes := map[string][]string{DestWebhook: {"http", "https"}, DestSuiteCRM: {"http", "https"}, DestLutece: {"http", "https"},
			DestBridge: {"tcp", "ssl", "mqtt", "mqtts", "tls"}}
		ok, known := false, schemes[d.Type] != nil
		if !known {
			return l.errf(at("type"), "%q: webhook, bridge, suitecrm or lutece", d.Type)
		}
		for _, s := range schemes[d.Type] {
			ok = ok || err == nil && u.Scheme == s && u.Host != ""
		}
		if !ok {
			return l.errf(at("url"), "a %s needs a URL %v://host…", d.Type, schemes[d.Type])
		}
		for j, p := range d.Types {
			if _, err := path.Match(p, "x"); err != nil || p == "" {
				return l.errf(at("types", j), "%q is not a pattern such as ticket.* or citizen.erased", p)
			}
		}
		secret := func(env, file, field string) error {
			if (env == "") == (file == "") {
				return l.errf(at(field+"_env"), "a %s needs its %s from an environment variable (%s_env) or a file (%s_file), one of them", d.Type, field, field, field)
			}
			return nil
		}
		switch d.Type {
		case DestWebhook:
			if err := secret(d.SecretEnv, d.SecretFile, "secret"); err != nil {
				return err
			}
			if d.Mode != "" && d.Mode != "structured" && d.Mode != "batched" {
				return l.errf(at("mode"), "%q: structured or batched", d.Mode)
			}
			if d.Batch < 0 || d.Batch > 1000 {
				return l.errf(at("batch"), "from 1 to 1000 events")
			}
		case DestBridge:
			if d.Username != "" {
				if err := secret(d.PasswordEnv, d.PasswordFile, "password"); err != nil {
					return err
				}
			}
		case DestSuiteCRM:
			if d.ClientID == "" {
				return l.errf(at("client_id"), "the OAuth2 client's id is required")
			}
			if err := secret(d.ClientSecretEnv, d.ClientSecretFile, "client_secret"); err != nil {
				return err
			}
			if d.Record != "" && d.Record != "call" && d.Record != "note" {
				return l.errf(at("record"), "%q: call or note", d.Record)
			}
		case DestLutece:
			if d.DemandType == "" {
				return l.errf(at("demand_type"), "the GRU's demand type id for the hub's visits is required")
			}
			if d.TokenEnv != "" && d.TokenFile != "" {
				return l.errf(at("token_env"), "token_env or token_file, not both")
			}
		}
	}
	return nil
}
