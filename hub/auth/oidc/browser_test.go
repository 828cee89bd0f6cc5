package oidc_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/hub/auth/oidc/oidctest"
	"guichet/internal/axe"
	"guichet/internal/browsertest"
)

// A full sign-in in Chromium: the hub's sign-in page offers the
// directory's button (axe-core finds no serious violation with it); the
// button leads to the provider's own sign-in form; once signed in there,
// the browser is back at the hub, on the page first asked for, signed in
// with the role the directory's groups give.
func TestSignInThroughTheDirectoryInChromium(t *testing.T) {
	s, _ := start(t, oidctest.Options{}, "")
	ctx := browsertest.Browser(t, 1366, 768)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/login?next=/display/"))
	browsertest.WaitText(t, ctx, "a.button", "Se connecter avec l'annuaire de test", 5*time.Second)
	axe.Serious(t, ctx, "sign-in page with a provider's button")
	browsertest.Screenshot(t, ctx, "signin-sso-1366x768")
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Click(chromedp.CSS("a.button")))
	browsertest.WaitText(t, ctx, "h1", "Annuaire de test", 5*time.Second)
	browsertest.Do(t, ctx, 10*time.Second,
		chromedp.SendKeys(chromedp.CSS("#username"), "m.durand"),
		chromedp.SendKeys(chromedp.CSS("#password"), "mot de passe de Marie"),
		chromedp.Submit(chromedp.CSS("#password")))
	browsertest.WaitText(t, ctx, "#services", "Accueil", 10*time.Second) // the page first asked for
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Navigate(s.HTTPURL+"/api/v1/session"))
	browsertest.WaitText(t, ctx, "body", `"account":"m.durand"`, 5*time.Second)
	browsertest.WaitText(t, ctx, "body", `"role":"supervisor"`, time.Second)
	browsertest.WaitText(t, ctx, "body", `"provider":"annuaire"`, time.Second)
}
