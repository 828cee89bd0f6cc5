// Package browsertest runs pages in a real headless Chromium (Debian's,
// through chromedp) for tests, and keeps screenshots of them as test
// artifacts to look at. A missing Chromium fails the test: make test
// installs it.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"guichet/internal/chromium"
)

// Browser returns a browser tab's context; it closes with the test.
func Browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	ctx, stop, err := chromium.Start(width, height, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return ctx
}

// Do runs steps with a timeout.
func Do(t testing.TB, ctx context.Context, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatal(err)
	}
}

// Get runs an action that returns a value, with a timeout.
func Get[T any](t testing.TB, ctx context.Context, timeout time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Artifacts is where screenshots go: $GUICHET_ARTIFACTS, or
// testdata-out/ at the top of the repository.
func Artifacts(t testing.TB) string {
	dir := os.Getenv("GUICHET_ARTIFACTS")
	if dir == "" {
		wd, _ := os.Getwd()
		for d := wd; d != "/"; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "testdata-out")
				break
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot saves the page as <artifacts>/<name>.png and returns its path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png := Get(t, ctx, 10*time.Second, chromedp.FullScreenshot(100)) // quality 100: PNG
	path := filepath.Join(Artifacts(t), strings.ReplaceAll(name, "/", "-")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// WaitText waits until the first element matching the CSS selector sel is
// rendered and its text contains want. (innerText gives the text of an
// element that is not rendered too: hidden text must not count.)
func WaitText(t testing.TB, ctx context.Context, sel, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e && e.getClientRects().length ? e.innerText : ""; })()`, sel)
	var got string
	var err error
	for {
		c, cancel := context.WithTimeout(ctx, time.Second)
		got, err = chromedp.Run(c, chromedp.Evaluate[string](js))
		cancel()
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q (last: %q, %v)", sel, want, got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Text returns the text of the first element matching sel ("" if none).
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	return Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](fmt.Sprintf(
		`(() => { const e = document.querySelector(%q); return e ? e.innerText : ""; })()`, sel)))
}

// Visible reports whether the first element matching sel is rendered.
func Visible(t testing.TB, ctx context.Context, sel string) bool {
	t.Helper()
	return Get(t, ctx, 5*time.Second, chromedp.Evaluate[bool](fmt.Sprintf(
		`(() => { const e = document.querySelector(%q); return !!e && e.getClientRects().length > 0; })()`, sel)))
}

// JSON evaluates js, which returns a JSON string, and decodes it into v.
func JSON(t testing.TB, ctx context.Context, js string, v any) {
	t.Helper()
	s := Get(t, ctx, 5*time.Second, chromedp.Evaluate[string](js))
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
}

// WaitAnyText waits until the first element matching sel shows one of wants.
func WaitAnyText(t testing.TB, ctx context.Context, sel string, wants []string, timeout time.Duration) {
	t.Helper()
	var got string
	poll(t, timeout, func() bool {
		got = Text(t, ctx, sel)
		return slices.ContainsFunc(wants, func(w string) bool { return strings.Contains(got, w) })
	}, func() string { return fmt.Sprintf("%s never showed one of %q (last: %q)", sel, wants, got) })
}

// WaitTextChange waits until the text of the first element matching sel is
// no longer was.
func WaitTextChange(t testing.TB, ctx context.Context, sel, was string, timeout time.Duration) {
	t.Helper()
	poll(t, timeout, func() bool { return Text(t, ctx, sel) != was },
		func() string { return fmt.Sprintf("%s still shows %q", sel, was) })
}

func poll(t testing.TB, timeout time.Duration, done func() bool, why func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal(why())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TimeZone makes the page's clock run in the IANA zone tz, whatever the
// machine's: a page must not show the browser's time where the site's is
// meant.
func TimeZone(t testing.TB, ctx context.Context, tz string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: tz}); err != nil {
		t.Fatalf("time zone %s: %v", tz, err)
	}
}
