package admin_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"guichet/hub/auth"
	"guichet/internal/qrscan"
	"guichet/internal/sitetest"
)

var (
	codeRe = regexp.MustCompile(`<code id="code">([^<]+)</code>`)
	cmdRe  = regexp.MustCompile(`<code id="enroll-cmd" class="wrap">([^<]+)</code>`)
	qrRe   = regexp.MustCompile(`<img id="qr" src="data:image/png;base64,([^"]+)"`)
)

// The devices page gives a device a one-time enrollment code: shown with
// the command to type on the device and its QR code (which reads as the
// same command), not cached; the code enrolls the device once.
func TestTheDevicesPageGivesAnEnrollmentCodeAndItsQRCode(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	s.AddAccount("dsi", auth.RoleAdmin, "")
	s.AddDevice("kiosk-1", "kiosk", "")
	admin := s.SignIn("dsi", sitetest.Password)
	if _, page, _ := admin.Do("GET", "/admin/devices", ""); !strings.Contains(string(page), `action="/admin/devices/kiosk-1/enrollment"`) {
		t.Fatal("no enrollment button on the devices page")
	}
	st, page, h := admin.Form("POST", "/admin/devices/kiosk-1/enrollment", url.Values{})
	code, cmd, qr := codeRe.FindSubmatch(page), cmdRe.FindSubmatch(page), qrRe.FindSubmatch(page)
	if st != 200 || code == nil || cmd == nil || qr == nil || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("enrollment page: %d %q\n%s", st, h.Get("Cache-Control"), page)
	}
	want := "sudo guichet enroll " + s.HTTPURL + " " + string(code[1])
	if got := html.UnescapeString(string(cmd[1])); got != want {
		t.Fatalf("command %q, want %q", got, want)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(string(qr[1])))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := qrscan.Scan(img); err != nil || got != want {
		t.Fatalf("the QR code reads %q (%v), want %q", got, err, want)
	}
	for i, want := range []int{http.StatusOK, http.StatusNotFound} {
		res, err := http.Post(s.HTTPURL+"/api/v1/enroll", "application/json", strings.NewReader(`{"code":"`+string(code[1])+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ ID string }
		json.NewDecoder(res.Body).Decode(&e)
		res.Body.Close()
		if res.StatusCode != want || (i == 0 && e.ID != "kiosk-1") {
			t.Fatalf("use %d of the code: %d %+v, want %d", i+1, res.StatusCode, e, want)
		}
	}
}
