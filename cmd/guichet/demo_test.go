package main

import (
	"bufio"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// startDemo runs guichet demo and returns its home URL.
func startDemo(t *testing.T, data string, extra ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"demo", "--data", data, "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0"}, extra...)...)
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
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	qr, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the ticket's QR code does not scan: %v", err)
	}
	if !strings.HasPrefix(qr.GetText(), home+"/t/") {
		t.Fatalf("QR code %q", qr.GetText())
	}
	if st, body := get(t, qr.GetText()); st != 200 || !strings.Contains(body, "E001") || !strings.Contains(body, "Votre numéro") {
		t.Fatalf("the ticket page: %d", st)
	}
}
