package console_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/auth"
	"guichet/internal/axe"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// The supervision page lists the open requests whose implicit decision
// comes within the days the supervisor chooses (7 by default): reference,
// kind, service, receipt, decision day, regime, and the citizen's name —
// only for the sectors the supervisor sees (here état civil, as the agent
// bob their account is), never in the live stream every supervisor gets.
func TestSupervisionListsTheImplicitDecisionsDueWithinTheDaysChosen(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{Config: crmConfig, OpenHours: true})
	s.AddAccount("ana", auth.RoleAgent, "ana")
	s.AddAccount("sup", auth.RoleSupervisor, "bob") // bob serves E: état civil
	ana := s.SignIn("ana", sitetest.Password)
	st, b, _ := ana.Do("POST", "/api/v1/citizens", `{"family_name":"LEFEBVRE","first_names":"Anne","birth_date":"1980-04-12"}`)
	var c struct{ Citizen struct{ ID string } }
	if st != 201 || json.Unmarshal(b, &c) != nil {
		t.Fatalf("create the citizen: %d %s", st, b)
	}
	paris, err := time.LoadLocation("Europe/Paris") // the site's zone: its days
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(paris)
	open := func(kind string, received time.Time) string {
		t.Helper()
		st, b, _ := ana.Do("POST", "/api/v1/citizens/"+c.Citizen.ID+"/requests",
			fmt.Sprintf(`{"kind":%q,"channel":"courrier","received_at":%q}`, kind, received.Format(time.RFC3339)))
		var r struct{ ID string }
		if st != 201 || json.Unmarshal(b, &r) != nil {
			t.Fatalf("open a request %s: %d %s", kind, st, b)
		}
		return r.ID
	}
	soon := open("acte_etat_civil", now.AddDate(0, -2, 3))       // acceptance in 2 months: in 3 days
	later := open("attestation_accueil", now.AddDate(0, -1, 20)) // rejection in 1 month: in 20 days
	hidden := open("reclamation", now.AddDate(0, -2, 2))         // accueil: not a sector of the supervisor's
	ctx := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/supervision"))
	signIn(t, ctx, "sup")
	// Nothing read before the supervisor asks: the names are personal data,
	// each read audited, on a page often left open.
	browsertest.WaitText(t, ctx, "#due", "Afficher", 10*time.Second)
	if n := auditCount(t, s, "requests.due"); n != 0 {
		t.Fatalf("the page read the requests due %d time(s) before it was asked", n)
	}
	browsertest.Do(t, ctx, 5*time.Second, chromedp.Click(`#due-form button[type=submit]`))
	browsertest.WaitText(t, ctx, "#due", soon, 10*time.Second)
	row := text(t, ctx, "#due tr")
	for _, want := range []string{"Demande d'acte d'état civil", "Service de l'état civil", now.AddDate(0, -2, 3).Format("02/01/2006"),
		now.AddDate(0, 0, 3).Format("02/01/2006"), "acceptation", "Anne LEFEBVRE"} {
		if !strings.Contains(row, want) {
			t.Errorf("the row of %s says %q, not %q", soon, row, want)
		}
	}
	if n := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("#due tr").length`)); n != 1 {
		t.Errorf("%d requests due within 7 days, want 1: %s", n, text(t, ctx, "#due"))
	}

	// Within 30 days: the later one too, soonest first; never the other sector's.
	browsertest.Do(t, ctx, 5*time.Second, chromedp.SetValue("#due-days", "30"), chromedp.Click(`#due-form button[type=submit]`))
	browsertest.WaitText(t, ctx, "#due", later, 5*time.Second)
	rows := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#due tr th")].map((th) => th.textContent)`))
	if len(rows) != 2 || rows[0] != soon || rows[1] != later {
		t.Errorf("within 30 days: %q, want [%s %s]", rows, soon, later)
	}
	if strings.Contains(text(t, ctx, "#due"), hidden) {
		t.Errorf("the request of a sector the supervisor does not see is listed")
	}
	if !strings.Contains(text(t, ctx, "#due"), "rejet") {
		t.Errorf("the rejection regime is not said: %s", text(t, ctx, "#due"))
	}
	axe.Serious(t, ctx, "supervision with the implicit decisions")
	browsertest.Screenshot(t, ctx, "console-supervision-due-1920x1080")

	// The live stream carries no name.
	sup := s.SignIn("sup", sitetest.Password)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.HTTPURL+"/supervision/events", nil)
	res, err := sup.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "data: ") {
			if strings.Contains(l, "LEFEBVRE") || strings.Contains(l, soon) {
				t.Errorf("the supervision's stream carries the citizen file: %s", l)
			}
			break
		}
	}
}
