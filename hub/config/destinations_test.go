package config

import (
	"strings"
	"testing"
)

const destSite = `
site: { id: t, name: T, timezone: Europe/Paris }
services: [ { id: A, name: Accueil, sla: 10m, service_time: 4m } ]
counters: [ { id: "1", name: "Guichet 1" } ]
destinations:
`

// Each mistake in the destinations section is named with its line and
// field; a secret is never written in the file.
func TestDestinationsAreChecked(t *testing.T) {
	ok := `  - { name: crm, type: webhook, url: "https://crm.example/hook", secret_env: S, mode: batched, types: ["ticket.*"] }
  - { name: central, type: bridge, url: "ssl://mqtt.example:8883", username: u, password_file: /etc/p }
  - { name: suite, type: suitecrm, url: "https://crm.example/legacy", client_id: g, client_secret_env: C }
  - { name: gru, type: lutece, url: "https://gru.example/lutece", demand_type: "104" }
`
	c, _, err := Parse("site.yaml", []byte(destSite+ok))
	if err != nil || len(c.Destinations) != 4 {
		t.Fatalf("a valid section: %v", err)
	}
	for _, bad := range []struct{ yaml, want string }{
		{`  - { name: crm, type: webhook, url: "https://crm.example/hook" }`, "destinations[0].secret_env"},
		{`  - { name: crm, type: webhook, url: "https://crm.example/hook", secret: "whsec_abc" }`, `unknown field "secret"`},
		{`  - { name: crm, type: ftp, url: "ftp://x" }`, "destinations[0].type"},
		{`  - { name: crm, type: webhook, url: "tcp://x:1", secret_env: S }`, "destinations[0].url"},
		{`  - { name: mqtt, type: webhook, url: "https://x", secret_env: S }`, "destinations[0].name"},
		{"  - { name: a, type: webhook, url: \"https://x\", secret_env: S }\n  - { name: a, type: webhook, url: \"https://y\", secret_env: S }", "destinations[1].name"},
		{`  - { name: crm, type: webhook, url: "https://x", secret_env: S, types: ["ticket.["] }`, "destinations[0].types[0]"},
		{`  - { name: crm, type: webhook, url: "https://x", secret_env: S, mode: fast }`, "destinations[0].mode"},
		{`  - { name: s, type: suitecrm, url: "https://x", client_secret_env: C }`, "destinations[0].client_id"},
		{`  - { name: g, type: lutece, url: "https://x" }`, "destinations[0].demand_type"},
	} {
		_, _, err := Parse("site.yaml", []byte(destSite+bad.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "site.yaml:") {
			t.Errorf("%s: %v, want an error naming %s", bad.yaml, err, bad.want)
		}
	}
}
