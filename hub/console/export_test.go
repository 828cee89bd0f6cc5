package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/auth"
	"guichet/internal/axe"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// The DPO's readable export, in Chromium: cat, the data protection
// officer and an agent of the site, opens Anne's file at the counter and
// follows "Données détenues…" to the printable page: her identity, her
// request with its kind and dates, the note ana wrote, and who read the
// file when (ana's reads, cat's export). axe-core clean. An agent who is
// not the DPO gets no link, and the page answers them 404.
func TestTheDPOReadsACitizensExportFromTheConsole(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Config: crmConfig + "  dpo: [cat]\n", OpenHours: true})
	accounts(s)
	s.AddAccount("cat", auth.RoleAgent, "")
	id := newCitizen(t, s)
	ana := s.SignIn("ana", sitetest.Password)
	if st, b, _ := ana.Do("POST", "/api/v1/citizens/"+id+"/notes", `{"sector":"etat_civil","text":"Pièce d'identité vue au guichet."}`); st != 201 {
		t.Fatalf("note: %d %s", st, b)
	}
	if st, b, _ := ana.Do("GET", "/api/v1/citizens/"+id, ""); st != 200 {
		t.Fatalf("ana reads the file: %d %s", st, b)
	}
	if st, b, _ := ana.Do("GET", "/agent", ""); st != 200 || strings.Contains(string(b), "citizen-export") {
		t.Fatalf("ana's console (%d) offers the DPO's export", st)
	}
	if st, b, _ := ana.Do("GET", "/api/v1/citizens/"+id+"/export?format=html", ""); st != 404 || strings.Contains(string(b), "LEFEBVRE") {
		t.Fatalf("ana reads the export page: %d", st)
	}

	cat := s.SignIn("cat", sitetest.Password)
	if st, b, _ := cat.Do("GET", "/api/v1/citizens/"+id+"/export", ""); st != 200 || !strings.Contains(string(b), `"accesses"`) || !strings.Contains(string(b), `"action":"citizen.read"`) {
		t.Fatalf("the JSON export (%d) lacks who read the file: %.300s", st, b)
	}
	if st, _, _ := cat.Do("GET", "/api/v1/citizens/"+id+"/export?format=xml", ""); st != 400 {
		t.Fatalf("an export as xml: %d", st)
	}

	ctx := browsertest.Browser(t, 1366, 768)
	openAt(t, ctx, s, "cat", "#choices-visit", "Guichet 1")
	browsertest.WaitText(t, ctx, "#where", "Guichet 1", 5*time.Second)
	openCitizen(t, ctx, "Lefebvre", "Anne LEFEBVRE")
	browsertest.WaitText(t, ctx, "#citizen-export", "Données détenues sur cette personne", 5*time.Second)
	href := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.querySelector("#citizen-export").href`))
	if !strings.HasSuffix(href, "/api/v1/citizens/"+id+"/export?format=html") {
		t.Fatalf("the export link is %s", href)
	}
	axe.Serious(t, ctx, "agent console: the DPO's file")

	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(href))
	browsertest.WaitText(t, ctx, "h1", "Données personnelles détenues par", 10*time.Second)
	for sel, wants := range map[string][]string{
		"#identite + table":   {"LEFEBVRE", "Anne", "12/04/1980", "+33612345678", "anne.lefebvre@example.fr"},
		"#demandes + table":   {"Demande d'acte d'état civil", "« Copie intégrale d'acte de naissance »", "État civil", "au guichet", "reçue", "acceptation implicite à l'issue du"},
		"#historique + table": {"Pièce d'identité vue au guichet.", "Note", "ana"},
		"#acces ~ table":      {"ana (agent)", "citizen.read", "cat (délégué à la protection des données)", "citizen.export", "request.open"},
	} {
		for _, w := range wants {
			browsertest.WaitText(t, ctx, sel, w, 5*time.Second)
		}
	}
	browsertest.WaitText(t, ctx, "section[aria-labelledby=appels]", "Aucun appel.", 5*time.Second)
	if lang := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "fr" {
		t.Fatalf("the page's language is %q", lang)
	}
	axe.Serious(t, ctx, "the DPO's readable export")
	browsertest.Screenshot(t, ctx, "citizen-export-page-1366x768")
}
