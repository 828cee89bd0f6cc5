//go:build !device

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"guichet/internal/browsertest"
	"guichet/internal/qrscan"
	"guichet/internal/sitetest"
)

// startDemo runs guichet demo and returns its home URL.
func startDemo(t *testing.T, data string, extra ...string) string {
	t.Helper()
	args := []string{"demo", "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0"}
	if data != "" {
		args = append(args, "--data", data)
	}
	cmd := exec.Command(binary, append(args, extra...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "TZ=UTC") // the site's zone (Paris) must not come from the machine's
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	home := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		re := regexp.MustCompile(`Accueil\s+(http://\S+)/`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				home <- m[1]
			}
		}
	}()
	select {
	case u := <-home:
		return u
	case <-time.After(20 * time.Second):
		t.Fatal("the demo printed no URL")
	}
	return ""
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestDemoKioskPrintsATicketWhoseQRCodeOpensItsPage is the kiosk issue's
// "done when", as a new user runs it.
func TestDemoKioskPrintsATicketWhoseQRCodeOpensItsPage(t *testing.T) {
	data := t.TempDir()
	home := startDemo(t, data)
	if st, body := get(t, home+"/kiosk/"); st != 200 || !strings.Contains(body, "Choisissez votre démarche") {
		t.Fatalf("kiosk page: %d", st)
	}
	qr := demoTicketQR(t, home, data)
	if !strings.HasPrefix(qr, home+"/t/") {
		t.Fatalf("QR code %q", qr)
	}
	if st, body := get(t, qr); st != 200 || !strings.Contains(body, "E001") || !strings.Contains(body, "Votre numéro") {
		t.Fatalf("the ticket page: %d", st)
	}
}

// The QR codes give the address --public-url says (a hub behind a proxy,
// a name on the town's network).
func TestDemoQRCodesGiveThePublicURL(t *testing.T) {
	data := t.TempDir()
	home := startDemo(t, data, "--public-url", "https://accueil.mairie.example")
	qr := demoTicketQR(t, home, data)
	path, ok := strings.CutPrefix(qr, "https://accueil.mairie.example/t/")
	if !ok {
		t.Fatalf("QR code %q", qr)
	}
	if st, body := get(t, home+"/t/"+path); st != 200 || !strings.Contains(body, "E001") {
		t.Fatalf("the ticket page: %d", st)
	}
}

// demoTicketQR presses service E on the demo's kiosk page and returns the
// text of the QR code on the first ticket printed.
func demoTicketQR(t *testing.T, home, data string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", home+"/kiosk/press", strings.NewReader(url.Values{"service": {"E"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var res *http.Response
	var err error
	for i := 0; i < 50; i++ { // the demo kiosk connects in a moment
		if res, err = http.DefaultClient.Do(req); err == nil && res.StatusCode == 200 {
			break
		}
		time.Sleep(100 * time.Millisecond)
		req.Body = io.NopCloser(strings.NewReader(url.Values{"service": {"E"}}.Encode()))
	}
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("press: %v %v", res, err)
	}
	f, err := os.Open(filepath.Join(data, "tickets", "000001.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	text, err := qrscan.Scan(img)
	if err != nil {
		t.Fatalf("the ticket: %v", err)
	}
	return text
}

// The demo's counter terminals: a click on "Suivant" presses the virtual
// button; the call reaches the display device's page and the desk display.
func TestDemoDeskButtonCallsToTheScreen(t *testing.T) {
	data := t.TempDir()
	home := startDemo(t, data)
	for _, p := range []string{"/screen/", "/display/", "/desks/"} {
		if st, _ := get(t, home+p); st != 200 {
			t.Fatalf("%s: %d", p, st)
		}
	}
	tok, _ := os.ReadFile(filepath.Join(data, "admin-token"))
	req, _ := http.NewRequest("POST", home+"/api/v1/tickets", strings.NewReader(`{"service":"E"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("issue: %v %v", res, err)
	}

	screen := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, screen, 10*time.Second, chromedp.Navigate(home+"/screen/"))
	browsertest.WaitText(t, screen, "#services", "État civil", 5*time.Second)
	desks := browsertest.Browser(t, 1400, 900)
	browsertest.Do(t, desks, 10*time.Second, chromedp.Navigate(home+"/desks/"))
	browsertest.WaitText(t, desks, "#desk-1 .name", "Guichet 1", 5*time.Second)
	// Counter 1 opened for its agent by its terminal: "Libre" on its display.
	sitetest.Eventually(t, 10*time.Second, "counter 1 open", func() bool {
		return browsertest.Get(t, desks, 5*time.Second, chromedp.Evaluate[bool](`document.querySelector("#desk-1 .oled").alt === "—"`))
	})
	browsertest.Do(t, desks, 5*time.Second, chromedp.Click(chromedp.CSS(`#desk-1 button[data-button="next"]`)))
	browsertest.WaitText(t, screen, "#calls li:first-child", "E001", 2*time.Second)
	browsertest.WaitText(t, screen, "#calls li:first-child", "Guichet 1", time.Second)
	sitetest.Eventually(t, 3*time.Second, "E001 on the desk display, LED lit", func() bool {
		return browsertest.Get(t, desks, 5*time.Second, chromedp.Evaluate[bool](
			`document.querySelector("#desk-1 .oled").alt === "E001" && document.querySelector("#desk-1 .led").classList.contains("on")`))
	})
	browsertest.Screenshot(t, desks, "demo-desks")
	browsertest.Screenshot(t, screen, "demo-screen")
	// The display announced it: a WAVE file in <data>/announcements.
	var files []string
	sitetest.Eventually(t, 20*time.Second, "the announcement written", func() bool {
		files, _ = filepath.Glob(filepath.Join(data, "announcements", "*.wav"))
		return len(files) == 1
	})
	// Named by the site's time (Paris), the demo running in UTC.
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Now().In(paris)
	name := filepath.Base(files[0])
	if !strings.HasPrefix(name, now.Format("20060102-15")) && !strings.HasPrefix(name, now.Add(-time.Hour).Format("20060102-15")) {
		t.Fatalf("announcement %s is not named by the site's time (%s)", name, now.Format("20060102-1504"))
	}
}

// guichet demo --simulate: citizens take tickets at the virtual kiosk (PNG
// files), agents call and serve them, the screen moves.
func TestDemoSimulatesADay(t *testing.T) {
	data := t.TempDir()
	home := startDemo(t, data, "--simulate", "--speed", "300", "--seed", "7")
	var q struct {
		Services []struct {
			Service string
			Waiting int
		}
	}
	sitetest.Eventually(t, 60*time.Second, "tickets printed, calls made, visits served", func() bool {
		pngs, _ := filepath.Glob(filepath.Join(data, "tickets", "*.png"))
		_, board := get(t, home+"/api/v1/board")
		_, body := get(t, home+"/api/v1/queue")
		json.Unmarshal([]byte(body), &q)
		return len(pngs) >= 20 && strings.Count(board, `"ticket"`) >= 5 && served(t, home, data) >= 5
	})
	if len(q.Services) != 6 {
		t.Fatalf("queue: %+v", q)
	}
	// Its calls come through the simulated telephony's signed webhooks:
	// phone tickets linked to a call, answered at the phone position; and
	// agents attach visits to the citizens of its file.
	sitetest.Eventually(t, 60*time.Second, "calls through the telephony, visits attached to citizens", func() bool {
		calls, attached := 0, 0
		for _, e := range events(t, home, data) {
			if e.Type == "ticket.issued" && e.Call != "" {
				calls++
			}
			if e.Type == "ticket.citizen_attached" {
				attached++
			}
		}
		return calls >= 3 && attached >= 1
	})
	screen := browsertest.Browser(t, 1920, 1080)
	browsertest.Do(t, screen, 10*time.Second, chromedp.Navigate(home+"/screen/"))
	first := browsertest.Text(t, screen, "#calls li:first-child .ticket")
	sitetest.Eventually(t, 30*time.Second, "the screen moves", func() bool {
		return browsertest.Text(t, screen, "#calls li:first-child .ticket") != first
	})
	browsertest.Screenshot(t, screen, "demo-simulated-screen")

	// The screen's clock shows the simulated time of day: at ×300, three
	// seconds are fifteen minutes of the day, within opening hours.
	minutes := func() int {
		var h, m int
		if _, err := fmt.Sscanf(browsertest.Text(t, screen, "#clock"), "%d:%d", &h, &m); err != nil {
			t.Fatalf("clock %q: %v", browsertest.Text(t, screen, "#clock"), err)
		}
		return h*60 + m
	}
	before := minutes()
	time.Sleep(3 * time.Second) // three real seconds: what the clock must show is what passed
	after := minutes()
	if d := (after - before + 24*60) % (24 * 60); d < 10 || d > 25 || before < 8*60+30 || before > 17*60+30 {
		t.Fatalf("screen clock %d:%02d then %d:%02d three seconds later: not the simulated day at ×300", before/60, before%60, after/60, after%60)
	}
}

// loggedEvent is what the tests read of an event of the hub's log.
type loggedEvent struct {
	Type string
	Call string
}

// events returns the hub's first thousand events.
func events(t *testing.T, home, data string) []loggedEvent {
	tok, _ := os.ReadFile(filepath.Join(data, "admin-token"))
	req, _ := http.NewRequest("GET", home+"/api/v1/events?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct{ Events []loggedEvent }
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	return page.Events
}

// served counts the visits served so far, from the hub's event log.
func served(t *testing.T, home, data string) int {
	tok, _ := os.ReadFile(filepath.Join(data, "admin-token"))
	req, _ := http.NewRequest("GET", home+"/api/v1/events?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct{ Events []struct{ Type string } }
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range page.Events {
		if e.Type == "ticket.served" {
			n++
		}
	}
	return n
}

// A demo on every interface gives phones the machine's address on the
// local network; on one address, its own.
func TestDemoQRCodesGiveAnAddressPhonesReach(t *testing.T) {
	nets := func(cidrs ...string) []net.Addr {
		var out []net.Addr
		for _, c := range cidrs {
			ip, n, err := net.ParseCIDR(c)
			if err != nil {
				t.Fatal(err)
			}
			n.IP = ip
			out = append(out, n)
		}
		return out
	}
	lan := nets("127.0.0.1/8", "::1/128", "fe80::1/64", "203.0.113.7/24", "192.168.1.20/24")
	for _, c := range []struct {
		listen string
		addrs  []net.Addr
		want   string
	}{
		{":8080", lan, "http://192.168.1.20:8080"},
		{"0.0.0.0:8080", lan, "http://192.168.1.20:8080"},
		{"[::]:8080", nets("127.0.0.1/8", "10.0.0.5/8"), "http://10.0.0.5:8080"},
		{":8080", nets("127.0.0.1/8", "203.0.113.7/24"), "http://203.0.113.7:8080"}, // no private network
		{":8080", nets("127.0.0.1/8", "::1/128"), "http://localhost:8080"},          // no network at all
		{"127.0.0.1:8080", lan, "http://localhost:8080"},                            // chosen to be local
		{"192.168.1.20:8080", lan, "http://localhost:8080"},
	} {
		if got := phoneURL(c.listen, "http://localhost:8080", c.addrs); got != c.want {
			t.Errorf("listening on %s: %s, want %s", c.listen, got, c.want)
		}
	}
}

// A simulated day starts from an empty queue: the previous run's tickets
// do not wait in it.
func TestDemoSimulationStartsAFreshDay(t *testing.T) {
	dir := t.TempDir()
	run := func() string {
		cmd := exec.Command(binary, "demo", "--simulate", "--speed", "300", "--seed", "3", "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0")
		cmd.Dir = dir
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
		sc := bufio.NewScanner(out)
		re := regexp.MustCompile(`Accueil\s+(http://\S+)/`)
		var said strings.Builder
		for sc.Scan() {
			said.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				sitetest.Eventually(t, 30*time.Second, "tickets printed", func() bool {
					pngs, _ := filepath.Glob(filepath.Join(dir, "data-simulation", "tickets", "*.png"))
					return len(pngs) > 0
				})
				return said.String()
			}
		}
		t.Fatalf("the demo printed no URL:\n%s", said.String())
		return ""
	}
	said := run()
	if !strings.Contains(said, "data-simulation") {
		t.Fatalf("the demo does not say where the simulated day's data is:\n%s", said)
	}
	leftover := filepath.Join(dir, "data-simulation", "leftover")
	if err := os.WriteFile(leftover, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	run()
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatalf("the second simulated day kept the first one's data directory (%v)", err)
	}
}
