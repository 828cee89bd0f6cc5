package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"guichet/hub/crm"
)

const telephonyAMI = `
telephony:
  adapter: ami
  ami:
    addr: pbx.mairie.local:5038
    username: guichet
    secret_env: GUICHET_AMI_SECRET
    originate_context: from-internal
  queues:
    accueil: A
    etat-civil: E
  members:
    PJSIP/108: efournier
    PJSIP/101: mlefebvre
  callback_after: 2m
`

func TestTheTelephonyAndCRMSectionsAreRead(t *testing.T) {
	c, site, err := Parse("cfg.yaml", append(append([]byte(nil), Sample...), telephonyAMI...))
	if err != nil {
		t.Fatal(err)
	}
	tel := c.Telephony
	if tel.Adapter != "ami" || tel.AMI.Addr != "pbx.mairie.local:5038" || tel.Queues["etat-civil"] != "E" ||
		tel.Members["PJSIP/108"] != "efournier" || tel.CallbackThreshold() != 2*time.Minute || tel.BlendingRule() != BlendingPolicy {
		t.Fatalf("telephony %+v", tel)
	}
	sectors := c.SectorOf(&site)
	if sectors["S"] != crm.SectorSocial || sectors["P"] != crm.SectorEtatCivil || len(sectors) != 6 {
		t.Fatalf("sectors %v", sectors)
	}
	cs := c.CRMSite(&site)
	if cs.Town != "Mairie de Villeneuve" || cs.Retention.Sectors[crm.SectorSocial] != 5*365*crm.Day ||
		cs.Retention.TicketLink != 30*crm.Day || cs.Offices[crm.SectorEtatCivil].Phone != "01 00 00 00 00" {
		t.Fatalf("crm site %+v", cs)
	}
	if h, m := c.PurgeTime(); h != 3 || m != 0 {
		t.Fatalf("purge at %d:%d", h, m)
	}
	if d := c.DPOAccounts(); len(d) != 1 || d[0] != "dpo" {
		t.Fatalf("the DPO's accounts %v", d)
	}
	if w := c.TelephonyWarnings(&site); len(w) != 0 {
		t.Fatalf("warnings %v", w)
	}
}

// A mistake in either section is reported at its line and field, as
// everywhere in the site file; a secret written in the file is refused.
func TestTelephonyAndCRMMistakesNameTheirLine(t *testing.T) {
	base := string(Sample) + telephonyAMI
	cases := []struct {
		name, from, to, want string
	}{
		{"secret in the file", "    secret_env: GUICHET_AMI_SECRET", "    secret: hunter2", `telephony.ami.secret: unknown field "secret"`},
		{"no secret", "    secret_env: GUICHET_AMI_SECRET\n", "", "telephony.ami: the secret is read from an environment variable"},
		{"unknown adapter", "adapter: ami\n  ami:", "adapter: sip\n  ami:", `telephony.adapter: adapter must be ami, wazo or webhook`},
		{"queue of a visit-only service", "    etat-civil: E", "    etat-civil: P", `telephony.queues.etat-civil: service P does not take phone calls`},
		{"queue of no service", "    etat-civil: E", "    etat-civil: Z", `telephony.queues.etat-civil: unknown service "Z"`},
		{"member of no agent", "    PJSIP/101: mlefebvre", "    PJSIP/101: nobody", `telephony.members.PJSIP/101: unknown agent "nobody"`},
		{"agent twice", "    PJSIP/101: mlefebvre", "    PJSIP/101: efournier", `telephony.members.PJSIP/108: agent efournier is already member`},
		{"member not an interface", "    PJSIP/101: mlefebvre", "    101: mlefebvre", `telephony.members.101: an AMI member is an Asterisk interface`},
		{"bad address", "addr: pbx.mairie.local:5038\n    username: guichet\n    secret_env", "addr: pbx.mairie.local\n    username: guichet\n    secret_env", `telephony.ami.addr: the AMI address is host:port`},
		{"bad blending", "  callback_after: 2m", "  blending: sometimes", `telephony.blending: blending must be policy or pbx`},
		{"service without a sector", "A: accueil, E: etat_civil,", "E: etat_civil,", `crm.sectors: service A belongs to no sector`},
		{"unknown sector", "A: accueil, E: etat_civil,", "A: fanfare, E: etat_civil,", `crm.sectors.A: unknown sector "fanfare"`},
		{"bad period", "ticket_link: 30d", "ticket_link: un mois", `crm.retention.ticket_link: "un mois" is not a period`},
		{"bad purge time", `purge_at: "03:00"`, `purge_at: "25:00"`, `crm.purge_at: "25:00" is not a time of day`},
		{"bad DPO login", `dpo: [dpo]`, `dpo: [dpo, "Jeanne Martin"]`, `crm.dpo[1]: "Jeanne Martin" is not an account's login`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(base, c.from) {
				t.Fatalf("no %q", c.from)
			}
			_, _, err := Parse("cfg.yaml", []byte(strings.Replace(base, c.from, c.to, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "cfg.yaml:") || strings.HasPrefix(err.Error(), "cfg.yaml: ") {
				t.Fatalf("error %q names no line", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatal("the error repeats the secret")
			}
		})
	}
}

func TestAWebhookWithoutActionsCannotBlendByPolicy(t *testing.T) {
	web := `
telephony:
  adapter: webhook
  webhook:
    secret_file: /etc/guichet/webhook.secret
  queues: { accueil: A }
  members: { agent-8: efournier }
`
	_, _, err := Parse("cfg.yaml", []byte(string(Sample)+web))
	if err == nil || !strings.Contains(err.Error(), "give its action_url, or set telephony.blending: pbx") {
		t.Fatalf("error = %v", err)
	}
	c, site, err := Parse("cfg.yaml", []byte(string(Sample)+web+"  blending: pbx\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.TelephonyWarnings(&site); len(w) != 0 {
		t.Fatalf("warnings %v", w)
	}
}

func TestSecretsAreReadFromTheEnvironmentOrAFile(t *testing.T) {
	t.Setenv("GUICHET_TEST_SECRET", "  s3cret\n")
	if v, err := ReadSecret("ami secret", "GUICHET_TEST_SECRET", ""); err != nil || v != "s3cret" {
		t.Fatalf("%q %v", v, err)
	}
	if _, err := ReadSecret("ami secret", "GUICHET_TEST_UNSET", ""); err == nil || !strings.Contains(err.Error(), "GUICHET_TEST_UNSET is empty or not set") {
		t.Fatalf("unset: %v", err)
	}
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := ReadSecret("ami secret", "", p); err != nil || v != "from-a-file" {
		t.Fatalf("%q %v", v, err)
	}
	if _, err := ReadSecret("ami secret", "", p+".missing"); err == nil || strings.Contains(err.Error(), "from-a-file") {
		t.Fatalf("missing file: %v", err)
	}
}
