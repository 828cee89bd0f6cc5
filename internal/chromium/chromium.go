// Package chromium starts Debian's Chromium, headless, through chromedp: for
// the browser tests and for the benchmarks that measure pages in a real
// browser.
package chromium

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// ErrMissing says no Chromium was found on the PATH.
var ErrMissing = errors.New("chromium is not installed: run make test, or apt-get install -y chromium")

// find returns the path of the Chromium (or Chrome) on the PATH.
func find() (string, error) {
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if found, err := exec.LookPath(p); err == nil {
			return found, nil
		}
	}
	return "", ErrMissing
}

// Start starts a headless browser with a window of width×height and its
// profile in userDir (a temporary directory, removed when it stops, if
// empty), and returns a tab's context; stop closes the browser. The page
// language is French, as on the town hall's devices.
func Start(width, height int, userDir string) (tab context.Context, stop func(), err error) {
	path, err := find()
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {}
	if userDir == "" {
		if userDir, err = os.MkdirTemp("", "guichet-chromium-"); err != nil {
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(userDir) }
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"), // a French phone; ?lang=en for English
		chromedp.WindowSize(width, height),
		chromedp.UserDataDir(userDir),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	stop = func() { cancel(); cancelAlloc(); cleanup() }
	if err := chromedp.Do(ctx); err != nil { // starts the browser, without a timeout
		stop()
		return nil, nil, fmt.Errorf("start chromium: %w", err)
	}
	// The window's size is not the page's (headless Chromium keeps room for
	// a browser frame): the page gets exactly width×height, as on the device.
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(width), Height: int64(height), DeviceScaleFactor: 1}); err != nil {
		stop()
		return nil, nil, fmt.Errorf("chromium viewport: %w", err)
	}
	return ctx, stop, nil
}
