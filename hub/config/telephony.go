package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
	"unicode"

	"guichet/hub/queue"
)

// TelephonyConf is the site file's telephony section: which telephone
// system the hub connects to and how, which of its queues feed which
// service, which of its members is which agent, the callback threshold and
// the blending rule (docs/telephony.md). Secrets are never written in the
// file: each is read from an environment variable (…_env) or a file
// (…_file) when the hub starts.
type TelephonyConf struct {
	Adapter string       `yaml:"adapter"` // ami, wazo or webhook
	AMI     *AMIConf     `yaml:"ami,omitempty"`
	Wazo    *WazoConf    `yaml:"wazo,omitempty"`
	Webhook *WebhookConf `yaml:"webhook,omitempty"`
	// Queues: the telephone system's queue → service id (a service that
	// takes phone calls).
	Queues map[string]string `yaml:"queues"`
	// Members: the telephone system's member (AMI: its interface,
	// "PJSIP/101"; Wazo: the agent number; webhook: the provider's agent
	// id) → agent id.
	Members map[string]string `yaml:"members"`
	// CallbackAfter: a caller who hangs up after waiting this long gets a
	// callback ticket; 1m if absent, 0s for none.
	CallbackAfter *Duration `yaml:"callback_after,omitempty"`
	// Blending: "policy" (the default: the hub's call next gives each call
	// to an agent, whose line alone is opened for it) or "pbx" (the
	// telephone system distributes its calls itself; the hub mirrors
	// them and never pauses a member).
	Blending string `yaml:"blending,omitempty"`
}

// AMIConf is how to reach an Asterisk-based PBX (Asterisk, FreePBX,
// Issabel) through its Manager Interface.
type AMIConf struct {
	Addr              string `yaml:"addr"` // host:5038
	Username          string `yaml:"username"`
	SecretEnv         string `yaml:"secret_env,omitempty"`
	SecretFile        string `yaml:"secret_file,omitempty"`
	OriginateContext  string `yaml:"originate_context,omitempty"`  // where an agent's answered phone dials the citizen; click-to-call is off without it
	OriginateCallerID string `yaml:"originate_callerid,omitempty"` // `"Mairie" <0140000000>`
}

// WazoConf is how to reach Wazo Platform through its APIs.
type WazoConf struct {
	URL              string            `yaml:"url"` // https://wazo.mairie.local
	Username         string            `yaml:"username"`
	PasswordEnv      string            `yaml:"password_env,omitempty"`
	PasswordFile     string            `yaml:"password_file,omitempty"`
	OriginateContext string            `yaml:"originate_context,omitempty"`
	Users            map[string]string `yaml:"users,omitempty"` // agent id → Wazo user UUID, for click-to-call
}

// WebhookConf is a telephony that posts signed webhooks to the hub, at
// WebhookPath.
type WebhookConf struct {
	SecretEnv          string `yaml:"secret_env,omitempty"`
	SecretFile         string `yaml:"secret_file,omitempty"`
	PreviousSecretEnv  string `yaml:"previous_secret_env,omitempty"`
	PreviousSecretFile string `yaml:"previous_secret_file,omitempty"`
	// ActionURL is where the hub posts pause, unpause and click-to-call;
	// blending "policy" needs it.
	ActionURL string `yaml:"action_url,omitempty"`
}

// WebhookPath is where the hub takes a telephony's signed webhooks.
const WebhookPath = "/api/v1/telephony/webhook"

// Blending rules.
const (
	BlendingPolicy = "policy"
	BlendingPBX    = "pbx"
)

// DefaultCallbackAfter is the wait past which an abandoned call gets a
// callback when the site file does not say.
const DefaultCallbackAfter = time.Minute

// CallbackThreshold returns the wait past which an abandoned call gets a
// callback ticket; 0 for none.
func (t *TelephonyConf) CallbackThreshold() time.Duration {
	if t.CallbackAfter == nil {
		return DefaultCallbackAfter
	}
	return time.Duration(*t.CallbackAfter)
}

// BlendingRule returns the blending rule, "policy" when absent.
func (t *TelephonyConf) BlendingRule() string {
	if t.Blending == "" {
		return BlendingPolicy
	}
	return t.Blending
}

// checkTelephony checks the telephony section against the site: one
// adapter and its settings, queues of services that take phone calls,
// members of known agents, secrets named but not written.
func (c *Config) checkTelephony(l *locator, site *queue.Site) error {
	t := c.Telephony
	if t == nil {
		return nil
	}
	at := func(f ...any) []any { return append([]any{"telephony"}, f...) }
	sections := map[string]bool{"ami": t.AMI != nil, "wazo": t.Wazo != nil, "webhook": t.Webhook != nil}
	switch t.Adapter {
	case "ami", "wazo", "webhook":
	default:
		return l.errf(at("adapter"), "adapter must be ami, wazo or webhook (got %q)", t.Adapter)
	}
	if !sections[t.Adapter] {
		return l.errf(at("adapter"), "adapter %s needs its section, telephony.%s", t.Adapter, t.Adapter)
	}
	for _, name := range []string{"ami", "wazo", "webhook"} {
		if sections[name] && name != t.Adapter {
			return l.errf(at(name), "section %s is not the adapter's (%s): remove it", name, t.Adapter)
		}
	}
	switch t.Adapter {
	case "ami":
		a := t.AMI
		if _, port, err := net.SplitHostPort(a.Addr); err != nil || port == "" {
			return l.errf(at("ami", "addr"), "the AMI address is host:port, as pbx.mairie.local:5038 (got %q)", a.Addr)
		}
		if err := name(a.Username); err != nil {
			return l.errf(at("ami", "username"), "%v", err)
		}
		if err := secretSource(a.SecretEnv, a.SecretFile, "secret", true); err != nil {
			return l.errf(at("ami"), "%v", err)
		}
		for _, f := range []struct{ key, v string }{{"originate_context", a.OriginateContext}, {"originate_callerid", a.OriginateCallerID}} {
			if strings.ContainsAny(f.v, "\r\n") {
				return l.errf(at("ami", f.key), "holds a line break")
			}
		}
		for _, m := range sortedKeys(t.Members) {
			if tech, res, ok := strings.Cut(m, "/"); !ok || tech == "" || res == "" {
				return l.errf(at("members", m), "an AMI member is an Asterisk interface such as PJSIP/101 or Local/101@agents/n")
			}
		}
	case "wazo":
		w := t.Wazo
		if u, err := url.Parse(w.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			return l.errf(at("wazo", "url"), "Wazo's address is an https:// URL, as https://wazo.mairie.local (got %q)", w.URL)
		}
		if err := name(w.Username); err != nil {
			return l.errf(at("wazo", "username"), "%v", err)
		}
		if err := secretSource(w.PasswordEnv, w.PasswordFile, "password", true); err != nil {
			return l.errf(at("wazo"), "%v", err)
		}
		for _, a := range sortedKeys(w.Users) {
			if !hasAgent(site, a) {
				return l.errf(at("wazo", "users", a), "unknown agent %q", a)
			}
		}
	case "webhook":
		w := t.Webhook
		if err := secretSource(w.SecretEnv, w.SecretFile, "secret", true); err != nil {
			return l.errf(at("webhook"), "%v", err)
		}
		if err := secretSource(w.PreviousSecretEnv, w.PreviousSecretFile, "previous_secret", false); err != nil {
			return l.errf(at("webhook"), "%v", err)
		}
		if w.ActionURL != "" {
			if u, err := url.Parse(w.ActionURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return l.errf(at("webhook", "action_url"), "an http:// or https:// URL is required (got %q)", w.ActionURL)
			}
		}
		if w.ActionURL == "" && t.BlendingRule() == BlendingPolicy {
			return l.errf(at("webhook"), "blending %q opens and closes agents' lines at the telephony: give its action_url, or set telephony.blending: pbx", BlendingPolicy)
		}
	}
	if len(t.Queues) == 0 {
		return l.errf(at("queues"), "map at least one of the telephone system's queues to a service")
	}
	for _, q := range sortedKeys(t.Queues) {
		if err := name(q); err != nil {
			return l.errf(at("queues", q), "queue %v", err)
		}
		s := site.Service(t.Queues[q])
		switch {
		case s == nil:
			return l.errf(at("queues", q), "unknown service %q", t.Queues[q])
		case !s.Takes(queue.Phone):
			return l.errf(at("queues", q), "service %s does not take phone calls (add phone to its channels)", s.ID)
		}
	}
	byAgent := map[string]string{}
	for _, m := range sortedKeys(t.Members) {
		a := t.Members[m]
		if err := name(m); err != nil {
			return l.errf(at("members", m), "member %v", err)
		}
		if !hasAgent(site, a) {
			return l.errf(at("members", m), "unknown agent %q", a)
		}
		if other, dup := byAgent[a]; dup {
			return l.errf(at("members", m), "agent %s is already member %q: one member per agent", a, other)
		}
		byAgent[a] = m
	}
	if t.CallbackAfter != nil && time.Duration(*t.CallbackAfter) > MaxDuration {
		return l.errf(at("callback_after"), "must be 0 (no callbacks) to %s", MaxDuration)
	}
	switch t.BlendingRule() {
	case BlendingPolicy, BlendingPBX:
	default:
		return l.errf(at("blending"), "blending must be %s or %s (got %q)", BlendingPolicy, BlendingPBX, t.Blending)
	}
	return nil
}

// TelephonyWarnings names what the telephony section allows but a town
// would regret: a mapped service no counter with a mapped agent can take
// by phone, a blended counter under blending "pbx".
func (c *Config) TelephonyWarnings(site *queue.Site) []string {
	t := c.Telephony
	if t == nil {
		return nil
	}
	var out []string
	if t.BlendingRule() == BlendingPBX {
		for _, ct := range site.Counters {
			if ct.Takes(queue.Visit) && ct.Takes(queue.Phone) {
				out = append(out, fmt.Sprintf("counter %s takes visits and calls, but with blending pbx the telephone system may offer its agent a call while they serve a visitor", ct.ID))
			}
		}
	}
	mapped := map[string]bool{}
	for _, a := range t.Members {
		mapped[a] = true
	}
	for _, q := range sortedKeys(t.Queues) {
		svc := t.Queues[q]
		ok := false
		for _, ct := range site.Counters {
			if !ct.Takes(queue.Phone) || !ct.Serves(svc) {
				continue
			}
			for _, a := range site.Agents {
				if mapped[a.ID] && a.Skills[svc] > 0 {
					ok = true
				}
			}
		}
		if !ok {
			out = append(out, fmt.Sprintf("the calls of queue %q (service %s) can reach no agent: no counter takes its phone calls with an agent who is a member", q, svc))
		}
	}
	return out
}

// ReadSecret reads a secret from the environment variable env, or else
// from file; what names the setting in errors. The secret itself is never
// in an error.
func ReadSecret(what, env, file string) (string, error) {
	if env != "" {
		v := strings.TrimSpace(os.Getenv(env))
		if v == "" {
			return "", fmt.Errorf("%s: the environment variable %s is empty or not set", what, env)
		}
		return v, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: read %s: %w", what, file, errors.Unwrap(err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s: %s is empty", what, file)
	}
	return v, nil
}

// secretSource checks that a secret is named once: by an environment
// variable or a file.
func secretSource(env, file, key string, required bool) error {
	switch {
	case env != "" && file != "":
		return fmt.Errorf("give %s_env or %s_file, not both", key, key)
	case env == "" && file == "" && required:
		return fmt.Errorf("the %s is read from an environment variable (%s_env) or a file (%s_file), never written in the site file", key, key, key)
	case env != "" && !envName(env):
		return fmt.Errorf("%s_env %q is not an environment variable's name", key, env)
	}
	return nil
}

func envName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// name checks a name the telephone system uses: not empty, no spaces
// around it, no control character (a line break would inject a header
// into the PBX's protocol).
func name(s string) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%q starts or ends with a space", s)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%q holds a control character", s)
	}
	return nil
}

func hasAgent(site *queue.Site, id string) bool {
	for _, a := range site.Agents {
		if a.ID == id {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
