package display_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/display"
	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/internal/boardpage"
	"guichet/internal/browsertest"
	"guichet/internal/sitetest"
)

// said records what the display announced, in a real WAV read by sox.
type said struct {
	mu    sync.Mutex
	texts []string
}

func (s *said) Speak(ctx context.Context, text, lang string) (display.PCM, error) {
	s.mu.Lock()
	s.texts = append(s.texts, text)
	s.mu.Unlock()
	return display.Espeak{}.Speak(ctx, text, lang)
}

func (s *said) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.texts, " | ")
}

func TestDisplayShowsCallsAtOnceAndWhenTheLinkIsDown(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("screen-hall", api.RoleDisplay, "")
	dir := t.TempDir()
	l, err := link.Open(s.LinkOptions("screen-hall", secret, api.RoleDisplay, dir))
	if err != nil {
		t.Fatal(err)
	}
	voice := &said{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ann := display.NewAnnouncer(voice, display.Command{Args: []string{"sox", "-q", "{}", "-n"}}, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ann.Run(ctx)
	d := display.New(display.Options{Link: l, Announcer: ann, Log: log})
	srv := httptest.NewServer(boardpage.Handler(d, log))
	t.Cleanup(srv.Close)

	b := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, b, 10*time.Second, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitText(t, b, "#site", "Mairie de Test", 5*time.Second)

	s.Must("POST", "/api/v1/tickets", `{"service":"A"}`, 201, nil)
	s.Must("POST", "/api/v1/tickets", `{"service":"E"}`, 201, nil)
	s.Must("POST", "/api/v1/counters/1/open", `{"agent":"ana"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/2/open", `{"agent":"bob"}`, 200, nil)
	s.Must("POST", "/api/v1/counters/1/next", ``, 200, nil)
	browsertest.WaitText(t, b, "#calls li:first-child", "A001", time.Second)
	s.Must("POST", "/api/v1/counters/2/next", ``, 200, nil)
	browsertest.WaitText(t, b, "#calls li:first-child", "E001", time.Second)
	browsertest.WaitText(t, b, "#calls li:first-child", "Guichet 2", time.Second)
	// The newest call is first, highlighted and blinking; the one before is below.
	if !browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[bool](`document.querySelector("#calls li:first-child").classList.contains("fresh")`)) {
		t.Fatal("the newest call does not blink")
	}
	browsertest.WaitText(t, b, "#calls li:nth-child(2)", "A001", time.Second)
	browsertest.WaitText(t, b, "#services", "État civil", time.Second)
	browsertest.Screenshot(t, b, "display-landscape")
	sitetest.Eventually(t, 10*time.Second, "both calls announced", func() bool {
		return voice.all() == "Ticket A 1, guichet 1 | Ticket E 1, guichet 2"
	})

	// A recall is announced again.
	s.Must("POST", "/api/v1/counters/2/recall", ``, 200, nil)
	browsertest.WaitText(t, b, "#calls li:first-child", "RAPPEL", time.Second)
	if n := browsertest.Get(t, b, 5*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("#calls li").length`)); n != 2 {
		t.Fatalf("%d lines on the board for two tickets", n)
	}
	sitetest.Eventually(t, 10*time.Second, "the recall announced", func() bool {
		return strings.HasSuffix(voice.all(), "| Rappel. Ticket E 1, guichet 2")
	})

	// The broker stops: a discreet notice, the last calls stay.
	if browsertest.Visible(t, b, "#offline") {
		t.Fatal("link-down notice while connected")
	}
	s.Stop()
	browsertest.WaitText(t, b, "#offline", "Connexion perdue", 10*time.Second)
	browsertest.WaitText(t, b, "#calls li:first-child", "E001", time.Second)
	browsertest.Screenshot(t, b, "display-link-down")
	s.Restart()
	sitetest.Eventually(t, 15*time.Second, "the notice gone", func() bool { return !browsertest.Visible(t, b, "#offline") })

	// Portrait.
	p := browsertest.Browser(t, 1080, 1920)
	browsertest.Do(t, p, 10*time.Second, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitText(t, p, "#calls li:first-child", "E001", 5*time.Second)
	browsertest.Screenshot(t, p, "display-portrait")

	// Rebooted with the hub gone, the screen shows the last calls at once.
	l.Close()
	s.Stop()
	l2, err := link.Open(s.LinkOptions("screen-hall", secret, api.RoleDisplay, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	d2 := display.New(display.Options{Link: l2, Log: log})
	v := d2.View("fr")
	if len(v.Calls) == 0 || v.Calls[0].Ticket != "E001" || v.Online {
		t.Fatalf("after a reboot without the hub: %+v", v)
	}
}
