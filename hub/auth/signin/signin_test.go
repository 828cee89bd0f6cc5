package signin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"guichet/hub/auth"
	"guichet/internal/axe"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// typeKeys types text into the focused element, as a keyboard does.
func typeKeys(text string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(text) }

// The sign-in page, in Chromium, with the keyboard alone: a protected page
// leads to it; a wrong password says so; a temporary password leads to the
// password change page, then to the page asked for. axe-core finds
// no serious violation on either page, in French or English, on a desk's
// screen or a phone's.
func TestSignInWithTheKeyboardAlone(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	tmp, err := s.Auth.SetPassword(context.Background(), auth.By{Actor: "test"}, "ana", "", true)
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.Browser(t, 1366, 768)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/account/password"))
	browsertest.WaitText(t, ctx, "h1", "Connexion à Guichet", 5*time.Second)
	if got := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`location.pathname + location.search`)); got != "/login?next=%2Faccount%2Fpassword" {
		t.Fatalf("a protected page led to %q", got)
	}
	axe.Serious(t, ctx, "sign-in page")
	browsertest.Screenshot(t, ctx, "signin-1366x768")
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/login?next=/display/"))
	browsertest.WaitText(t, ctx, "h1", "Connexion à Guichet", 5*time.Second)

	// Wrong password, typed: the focus starts in the login field.
	browsertest.Do(t, ctx, 10*time.Second, typeKeys("ana"), typeKeys(kb.Tab), typeKeys("not the password at all"), typeKeys(kb.Enter))
	browsertest.WaitText(t, ctx, "[role=alert]", "Identifiant ou mot de passe incorrect", 5*time.Second)
	axe.Serious(t, ctx, "sign-in page with an error")
	browsertest.Screenshot(t, ctx, "signin-error")

	// The login was kept; the focus is in the password field.
	browsertest.Do(t, ctx, 10*time.Second, typeKeys(tmp), typeKeys(kb.Enter))
	browsertest.WaitText(t, ctx, "h1", "Changer de mot de passe", 5*time.Second)
	browsertest.WaitText(t, ctx, "[role=status]", "mot de passe est provisoire", time.Second)
	axe.Serious(t, ctx, "password change page")
	browsertest.Screenshot(t, ctx, "password-change")
	const mine = "Velo rouge sous la pluie 17"
	browsertest.Do(t, ctx, 10*time.Second, typeKeys(tmp), typeKeys(kb.Tab), typeKeys(mine), typeKeys(kb.Tab), typeKeys(mine), typeKeys(kb.Enter))
	browsertest.WaitText(t, ctx, "#services", "Accueil", 5*time.Second) // the page first asked for
	if n := strings.Count(accountEvents(t, s), "account.password_changed"); n != 1 {
		t.Fatalf("%d password changes logged", n)
	}
}

func accountEvents(t *testing.T, s *sitetest.Site) string {
	_, b := s.Call("GET", "/api/v1/events?limit=1000", "")
	return string(b)
}

// The sign-in page in English, on a phone.
func TestSignInPageInEnglishOnAPhone(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	ctx := browsertest.Browser(t, 390, 844)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/login?lang=en"))
	browsertest.WaitText(t, ctx, "h1", "Sign in to Guichet", 5*time.Second)
	browsertest.WaitText(t, ctx, "label[for=password]", "Password", time.Second)
	if lang := browsertest.Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "en" {
		t.Fatalf("lang %q", lang)
	}
	axe.Serious(t, ctx, "sign-in page (en, phone)")
	browsertest.Screenshot(t, ctx, "signin-390x844-en")
	fr := browsertest.Browser(t, 390, 844)
	browsertest.Do(t, fr, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/login"))
	browsertest.WaitText(t, fr, "h1", "Connexion", 5*time.Second)
	browsertest.Screenshot(t, fr, "signin-390x844")
}
