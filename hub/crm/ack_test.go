package crm

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pdfText extracts a PDF's text with poppler's pdftotext, blanks collapsed.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed: run scripts/test-deps.sh (poppler-utils)")
	}
	p := filepath.Join(t.TempDir(), "ack.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", p, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func htmlText(t *testing.T, a Ack) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteAckHTML(&b, a); err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`).Replace(b.String())
	return strings.Join(strings.Fields(s), " ")
}

func TestAcknowledgementShowsEveryRequiredMention(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.clock.set(time.Date(2027, 1, 31, 15, 0, 0, 0, time.UTC))
	c := f.citizen(t, Citizen{FamilyName: "Łukasiewicz", FirstNames: "Zoé", Address: "12 rue des Écoles\n94300 Saint-Exemple"})
	for _, tc := range []struct {
		name     string
		viewer   Viewer
		kind     string
		missing  string
		mentions []string
	}{
		{name: "rejection regime, documents missing", viewer: ccas, kind: "aide_sociale_facultative", missing: "avis d'imposition 2026",
			mentions: []string{
				"a été reçue le 31 janvier 2027",                               // R112-5 1°: receipt date
				"Centre communal d'action sociale (CCAS)",                      // R112-5 2°: the service
				"2 place de la Mairie, 94300 Saint-Exemple",                    // its postal address
				"téléphone 01 43 98 65 00",                                     // its phone
				"courriel ccas@saint-exemple.fr",                               // its e-mail
				"susceptible de donner lieu à une décision implicite de rejet", // the regime
				"réputée rejetée à l'issue du 28 avril 2027",                   // the date (31 March + 28 days suspended, provisional)
				"Délais et voies de recours",                                   // rejection: appeals
				"tribunal administratif dans un délai de deux mois",
				"Pièces et informations manquantes : avis d'imposition 2026", // R112-5 3° / L114-5
				"au plus tard le 28 février 2027",
				"est suspendu pendant le délai imparti pour produire ces pièces",
				"Łukasiewicz", "12 rue des Écoles",
				"L. 112-3 et R. 112-5",
			}},
		{name: "acceptance regime", viewer: urba, kind: "certificat_urbanisme_operationnel",
			mentions: []string{
				"a été reçue le 31 janvier 2027",
				"Service de l'urbanisme", "5 rue de l'Hôtel de Ville, 94300 Saint-Exemple", "téléphone 01 43 98 66 00", "courriel urbanisme@saint-exemple.fr",
				"susceptible de donner lieu à une décision implicite d'acceptation",
				"réputée acceptée à l'issue du 31 mars 2027",
				"attestation prévue à l'article L. 232-3",
			}},
		{name: "acceptance regime, documents missing", viewer: urba, kind: "declaration_prealable", missing: "plan de situation",
			mentions: []string{
				"a été reçue le 31 janvier 2027",
				"Service de l'urbanisme",
				"ne court qu'à compter de la réception des pièces manquantes",
				"Pièces et informations manquantes : plan de situation",
				"attestation prévue à l'article L. 232-3",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.s.OpenRequest(ctx, tc.viewer, c.ID, NewRequest{Kind: tc.kind, Channel: ChannelLetter})
			if err != nil {
				t.Fatal(err)
			}
			if tc.missing != "" {
				if _, err := f.s.AskDocuments(ctx, tc.viewer, r.ID, tc.missing, time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC)); err != nil {
					t.Fatal(err)
				}
			}
			a, err := f.s.Acknowledge(ctx, tc.viewer, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			var pdf bytes.Buffer
			if err := WriteAckPDF(&pdf, a); err != nil {
				t.Fatal(err)
			}
			page, text := htmlText(t, a), pdfText(t, pdf.Bytes())
			for _, m := range append(tc.mentions, r.ID) {
				if !strings.Contains(page, m) {
					t.Errorf("the page lacks %q", m)
				}
				if !strings.Contains(text, m) {
					t.Errorf("the PDF lacks %q\n%s", m, text)
				}
			}
		})
	}
	// Another sector's agent cannot have it printed.
	r, _ := f.s.OpenRequest(ctx, ccas, c.ID, NewRequest{Kind: "aide_sociale_facultative", Channel: ChannelCounter})
	if _, err := f.s.Acknowledge(ctx, urba, r.ID); err == nil {
		t.Fatal("an urbanisme agent printed a CCAS acknowledgement")
	}
}

func TestAcknowledgementPDFWithoutDejaVuKeepsFrenchRight(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.citizen(t, Citizen{FamilyName: "Łukasiewicz", FirstNames: "Zoé"})
	r, err := f.s.OpenRequest(ctx, ccas, c.ID, NewRequest{Kind: "aide_sociale_facultative", Channel: ChannelLetter})
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.s.Acknowledge(ctx, ccas, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	saved := fontDirs
	fontDirs = []string{t.TempDir()}
	defer func() { fontDirs = saved }()
	var pdf bytes.Buffer
	if err := WriteAckPDF(&pdf, a); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf.Bytes())
	for _, m := range []string{"Accusé de réception", "a été reçue le 31 janvier 2027", "réputée rejetée à l'issue du 31 mars 2027",
		"Délais et voies de recours", "Zoé", ".ukasiewicz"} {
		if !strings.Contains(text, m) {
			t.Errorf("the PDF without DejaVu lacks %q\n%s", m, text)
		}
	}
	if bytes.Contains(pdf.Bytes(), []byte("DejaVu")) {
		t.Error("DejaVu embedded though not found")
	}
}
